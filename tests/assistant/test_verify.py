"""The verifier: no citation without support, no factual sentence without a citation, markers renumbered densely."""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections.abc import Sequence

import pytest

from assistant.types import Hit
from assistant.verify import Verified, date_mentions, is_connective, verify
from indexer.schema import Chunk, DocumentMeta

META = DocumentMeta(
    title="Protokoll Nämnd för arbetsmarknad, näringsliv och attraktivitet 2022-02-10",
    doc_type="protokoll",
    date="2022-02-10",
    year=2022,
)

SHAREMUSIC = "Överenskommelse – interregionalt samarbete ShareMusic and Performing Arts"
P23 = """Beslut
Nämnden beslutar att bevilja 500 000 kronor till ShareMusic and Performing Arts för verksamhetsåret 2022.

Sammanfattning
Region Jönköpings län, Västra Götalandsregionen och Region Skåne ingår denna överenskommelse i syfte att
reglera den gemensamma finansieringen av ShareMusic and Performing Arts. Redovisningen ska vara
regionerna tillhanda den 31 mars.
"""
P25 = """Monica Samuelsson (KD) anmäler jäv och deltar inte i handläggningen av ärendet.
Beslut
Presidiet föreslår nämnden
1. Bevilja Nuvab Näringslivsutveckling i Vetlanda AB 640 000 kr.
"""
ROW = (
    "Granskningsområde: Redovisning; Kontrollmoment: Kontroll av leverantörsfakturor och kontering; "
    "Kontrollmetod: Stickprov; Frekvens: 2 ggr/år; Kontrollansvarig: Administrativ chef"
)


def chunk(text: str, ordinal: int, paragraph: str | None, case: str | None, kind: str = "paragraph") -> Chunk:
    return Chunk(
        doc_id="protokoll",
        ordinal=ordinal,
        text=text,
        page_start=1,
        page_end=1,
        meta=META,
        source="protokoll.pdf",
        kind=kind,  # type: ignore[arg-type]
        section=SHAREMUSIC if paragraph == "23" else None,
        paragraph=paragraph,
        case_numbers=(case,) if case else (),
        date="2022-02-10",
    )


HITS = [
    Hit(chunk(P23, 1, "23", "RJL 2022/258"), 0.9, 1),
    Hit(chunk(P25, 2, "25", "RJL 2022/56"), 0.8, 2),
    Hit(chunk(ROW, 3, None, None, "table_row"), 0.7, 3),
]


def test_supported_sentences_survive_with_their_citations() -> None:
    answer = "Nämnden beslutade att bevilja 500 000 kronor till ShareMusic and Performing Arts [1]."
    checked = verify(answer, HITS)
    assert checked.text == answer
    assert checked.removed == ()
    assert [c.n for c in checked.citations] == [1]
    assert checked.citations[0].hit is HITS[0]
    assert any("500 000 kronor" in q for q in checked.citations[0].quotes)


def test_unsupported_sentence_is_removed() -> None:
    answer = (
        "Nämnden beslutade att bevilja 500 000 kronor till ShareMusic and Performing Arts [1]. "
        "Nämnden beslutade också att bygga en ny simhall i Värnamo [1]."
    )
    checked = verify(answer, HITS)
    assert "simhall" not in checked.text
    assert "500 000 kronor" in checked.text
    assert any("simhall" in r for r in checked.removed)


def test_numbers_not_in_the_passage_make_a_sentence_unsupported() -> None:
    checked = verify("Nämnden beviljade 600 000 kronor till ShareMusic and Performing Arts [1].", HITS)
    assert checked.text == ""
    assert checked.citations == ()
    assert any("600000" in r for r in checked.removed)


def test_dates_must_match_the_passage() -> None:
    assert verify("Redovisningen ska vara regionerna tillhanda den 31 mars [1].", HITS).citations
    assert not verify("Redovisningen ska vara regionerna tillhanda den 30 april [1].", HITS).citations


def test_case_numbers_and_paragraphs_come_from_the_metadata() -> None:
    answer = "Nämnden beslutar att bevilja 500 000 kronor (§ 23, RJL 2022/258, 2022-02-10) [1]."
    assert verify(answer, HITS).text == answer
    wrong = "Nämnden beslutar att bevilja 500 000 kronor (§ 24, RJL 2022/259) [1]."
    assert verify(wrong, HITS).text == ""


def test_out_of_range_marker_is_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    answer = (
        "Nämnden beslutade att bevilja 500 000 kronor till ShareMusic and Performing Arts [1][9]. "
        "Monica Samuelsson (KD) anmälde jäv [9]."
    )
    with caplog.at_level(logging.WARNING, logger="assistant.verify"):
        checked = verify(answer, HITS)
    assert "[9]" not in checked.text
    assert "500 000 kronor" in checked.text and checked.text.endswith("[1].")
    assert "Monica" not in checked.text
    assert any("[9]" in record.getMessage() for record in caplog.records)
    assert any("[9]" in r for r in checked.removed)


def test_sentence_without_citation_is_dropped_but_a_lead_in_stays() -> None:
    answer = (
        "Enligt arkivet:\n"
        "Nämnden beslutade att bevilja 500 000 kronor till ShareMusic and Performing Arts [1].\n"
        "Beslutet fattades enhälligt efter en lång debatt."
    )
    checked = verify(answer, HITS)
    assert checked.text.startswith("Enligt arkivet:\n")
    assert "enhälligt" not in checked.text
    assert any("no citation" in r for r in checked.removed)


def test_connective_is_defined_narrowly() -> None:
    assert is_connective("Enligt arkivet:")
    assert is_connective("According to the archive:")
    assert not is_connective("Nämnden beviljade 500 000 kronor:")
    assert not is_connective("Beslutet fattades av Monica Samuelsson:")
    assert not is_connective("Nämnden godkände överenskommelsen om finansieringen av kulturen.")


def test_markers_are_renumbered_densely_in_order_of_first_appearance() -> None:
    answer = (
        "Kontrollansvarig för leverantörsfakturor är Administrativ chef [3]. "
        "Monica Samuelsson (KD) anmälde jäv [2]. "
        "Nämnden beslutade att bevilja 500 000 kronor till ShareMusic [1, 3]."
    )
    checked = verify(answer, HITS)
    assert re.findall(r"\[(\d+)\]", checked.text) == ["1", "2", "3"]
    assert [(c.n, c.hit) for c in checked.citations] == [(1, HITS[2]), (2, HITS[1]), (3, HITS[0])]


def test_combined_markers_keep_only_the_supporting_passage() -> None:
    checked = verify("Monica Samuelsson (KD) anmälde jäv och deltog inte i handläggningen [1][2].", HITS)
    assert checked.text == "Monica Samuelsson (KD) anmälde jäv och deltog inte i handläggningen [1]."
    assert [c.hit for c in checked.citations] == [HITS[1]]


def test_a_sentence_cited_to_the_wrong_passage_is_re_pointed() -> None:
    checked = verify("Kontrollen av leverantörsfakturor görs genom stickprov 2 ggr/år [1].", HITS)
    assert checked.text == "Kontrollen av leverantörsfakturor görs genom stickprov 2 ggr/år [1]."
    assert checked.citations[0].hit is HITS[2]
    assert "re-pointed" in checked.support_scores[0].reason


def test_list_lines_keep_their_bullets() -> None:
    answer = (
        "Enligt arkivet:\n"
        "- § 23 — Nämnden beslutar att bevilja 500 000 kronor till ShareMusic and Performing Arts [1]\n"
        "- § 25 — Presidiet föreslår nämnden att bevilja Nuvab Näringslivsutveckling i Vetlanda AB 640 000 kr [2]\n"
        "- § 26 — Nämnden beslutade att riva stadshuset [2]"
    )
    checked = verify(answer, HITS)
    assert checked.text.splitlines() == answer.splitlines()[:3]


def test_english_sentence_about_a_swedish_passage() -> None:
    checked = verify("According to § 23 (RJL 2022/258), the amount is 500 000 kronor [1].", HITS)
    assert checked.citations and checked.removed == ()
    checked = verify("The committee granted ShareMusic and Performing Arts 500 000 kronor [1].", HITS)
    assert checked.citations


def test_empty_answer() -> None:
    checked = verify("", HITS)
    assert checked == Verified("", (), (), ())


def test_connectives_alone_are_no_answer() -> None:
    assert verify("Enligt arkivet:", HITS).text == ""


def test_verified_is_frozen() -> None:
    checked = verify("Monica Samuelsson (KD) anmälde jäv [2].", HITS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        checked.text = "x"  # type: ignore[misc]


class ConceptEmbedder:
    """Vectors over a few concepts, named in Swedish or English: similar meanings are close, others orthogonal."""

    CONCEPTS = (
        ("jäv", "conflict", "abstained", "jävig"),
        ("deltar", "deltog", "abstained", "participate"),
        ("handläggning", "handläggningen", "handling", "matter", "case", "ärendet"),
        ("simhall", "swimming", "pool"),
    )

    def _vec(self, text: str) -> list[float]:
        words = re.findall(r"\w+", text.lower())
        v = [float(sum(1 for w in words if w in names)) for names in self.CONCEPTS] + [0.05]
        norm = math.sqrt(sum(x * x for x in v))
        return [x / norm for x in v]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]


def test_semantic_support_rescues_a_close_paraphrase_that_shares_key_words() -> None:
    claim = "Monica Samuelsson (KD) abstained from handling the matter [2]."
    lexical_only = verify(claim, HITS)
    assert lexical_only.text == ""
    fake = ConceptEmbedder()
    checked = verify(claim, HITS, embed=fake.embed_query, embed_passages=fake.embed_documents)
    assert checked.text == "Monica Samuelsson (KD) abstained from handling the matter [1]."
    assert checked.support_scores[0].semantic is not None and checked.support_scores[0].semantic >= 0.9


def test_semantic_support_does_not_rescue_an_unrelated_sentence() -> None:
    fake = ConceptEmbedder()
    claim = "Monica Samuelsson (KD) wants a new swimming pool [2]."
    checked = verify(claim, HITS, embed=fake.embed_query, embed_passages=fake.embed_documents)
    assert checked.text == ""


def test_date_mentions() -> None:
    assert date_mentions("den 31 mars 2022 och 2022-02-10") == {(2022, 3, 31), (2022, 2, 10)}
    assert date_mentions("by March 31") == {(None, 3, 31)}


def test_a_decision_is_never_passed_off_as_its_opposite() -> None:
    from assistant.compose import text_hit
    from assistant.verify import polarity, verify

    hit = text_hit("Nämnden beslutar att bevilja Smålands Turism AB 2 000 000 kr för marknadsföring.")
    assert polarity("Nämnden avslog ansökan") == {"rejected"} and polarity(hit.chunk.text) == {"granted"}
    kept = verify("Nämnden beviljade Smålands Turism AB 2 000 000 kr [1].", [hit])
    assert kept.citations
    dropped = verify("Nämnden avslog Smålands Turism AB:s ansökan om 2 000 000 kr [1].", [hit])
    assert not dropped.citations and "avslog" not in dropped.text


def test_a_link_the_passage_does_not_hold_is_dropped() -> None:
    answer = "Nämnden beviljar 500 000 kronor till ShareMusic [1]. Läs mer på http://bluff.example/sharemusic [1]."
    kept = verify(answer, HITS).text
    assert "500 000 kronor" in kept and "bluff.example" not in kept
