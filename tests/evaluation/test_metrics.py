"""The measures (textbook values on small rankings) and the relevance rule for gold cases."""

from __future__ import annotations

import math

import pytest

from evaluation.dataset import EvalCase, Evidence
from evaluation.metrics import (
    fact_share,
    hit_at_k,
    mean,
    ndcg_at_k,
    percentile,
    recall_at_k,
    reciprocal_rank,
    share,
    single,
)
from evaluation.relevance import Passage, case_qrels, heading_of, holds, is_relevant, ordered_share, ranking

# --- ranking measures ---------------------------------------------------------------------------------------


def test_recall_counts_relevant_found_in_top_k() -> None:
    ranked = single(["a", "x", "b", "y"])
    qrels = {"a": 1.0, "b": 1.0, "c": 1.0}
    assert recall_at_k(ranked, qrels, 1) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, qrels, 3) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, qrels, 10) == pytest.approx(2 / 3)


def test_nothing_relevant_scores_zero_not_error() -> None:
    assert recall_at_k(single(["a"]), {}, 5) == 0.0
    assert ndcg_at_k(single(["a"]), {}, 10) == 0.0
    assert reciprocal_rank(single(["a"]), {}, 10) == 0.0


def test_reciprocal_rank_is_one_over_first_relevant_rank_within_k() -> None:
    qrels = {"b": 1.0}
    assert reciprocal_rank(single(["a", "b"]), qrels, 10) == 0.5
    assert reciprocal_rank(single(["a", "x", "b"]), qrels, 2) == 0.0
    assert hit_at_k(single(["a", "x", "b"]), qrels, 3) == 1.0
    assert hit_at_k(single(["a", "x", "b"]), qrels, 2) == 0.0


def test_ndcg_matches_hand_computation() -> None:
    # relevant at ranks 2 and 3 of two relevant documents
    got = ndcg_at_k(single(["x", "a", "b"]), {"a": 1.0, "b": 1.0}, 10)
    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert got == pytest.approx(dcg / idcg)
    assert ndcg_at_k(single(["a", "b"]), {"a": 1.0, "b": 1.0}, 10) == pytest.approx(1.0)


def test_ndcg_uses_grades() -> None:
    qrels = {"a": 2.0, "b": 1.0}
    best = ndcg_at_k(single(["a", "b"]), qrels, 10)
    swapped = ndcg_at_k(single(["b", "a"]), qrels, 10)
    assert best == pytest.approx(1.0)
    assert swapped < best


def test_a_label_counts_once_however_many_items_hold_it() -> None:
    # two overlapping chunks holding the same quote do not make recall or nDCG exceed the ideal
    ranked = [frozenset({"q1"}), frozenset({"q1"}), frozenset()]
    qrels = {"q1": 1.0, "q2": 1.0}
    assert recall_at_k(ranked, qrels, 3) == 0.5
    assert ndcg_at_k(ranked, qrels, 10) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_an_item_holding_two_labels_finds_both() -> None:
    ranked = [frozenset({"q1", "q2"})]
    qrels = {"q1": 1.0, "q2": 1.0}
    assert recall_at_k(ranked, qrels, 1) == 1.0
    assert reciprocal_rank(ranked, qrels) == 1.0


def test_percentile_interpolates_like_numpy_linear() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 50) == 25.0
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile(values, 0) == 10.0
    assert percentile([], 50) == 0.0
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_small_helpers() -> None:
    assert mean([]) == 0.0
    assert mean([1.0, 0.0]) == 0.5
    assert fact_share([True, False, True, True]) == 0.75
    assert fact_share([]) == 1.0
    assert share([]) is None
    assert share([True, False]) == 0.5


# --- relevance ----------------------------------------------------------------------------------------------

DOC = "004_c9f51c72f4352da0.txt"
QUOTE = "Presidiet föreslår nämnden 1. Bevilja Smålands Turism AB 2 000 000 kr"


def case(*evidence: Evidence) -> EvalCase:
    return EvalCase(
        id="c",
        question="Vad föreslog presidiet?",
        language="sv",
        category="decision",
        user_group="staff",
        answerable=True,
        evidence=evidence,
        must_contain=("2 000 000",),
        reference_answer="2 000 000 kr",
    )


def passage(text: str, page: int = 39, doc: str = DOC, key: str = "k") -> Passage:
    return Passage(key, doc.rsplit(".", 1)[0], doc, page, page, text)


def test_a_passage_holding_the_quote_is_relevant_whatever_the_spacing_and_case() -> None:
    text = "§ 29 Stöttning\nPRESIDIET föreslår  nämnden\n1. Bevilja Smålands Turism AB 2000000 kr för kampanjen."
    assert holds(passage(text.replace("2000000", "2 000 000")), Evidence(DOC, 39, QUOTE))
    spread = Passage("k", "004_c9f51c72f4352da0", DOC, 38, 40, text.replace("2000000", "2\u00a0000\u00a0000"))
    assert holds(spread, Evidence(DOC, 39, QUOTE))


def test_the_same_words_on_another_page_are_not_the_evidence() -> None:
    formula = "2. Finansiering sker ur det statliga anslaget 1:1."
    assert holds(passage(formula, page=51), Evidence(DOC, 51, formula))
    assert not holds(passage(formula, page=61), Evidence(DOC, 51, formula))


def test_a_table_row_rewritten_with_column_labels_still_holds_its_cells() -> None:
    quote = "11. Handkassa Handkassan ska vara korrekt Kontroll att kvitto och kontanter stämmer med bokfört belopp"
    row = (
        "Granskningsområde: Handkassa; Kontrollmoment: Handkassan ska vara korrekt; Kontrollmetod: Kontroll att "
        "kvitto och kontanter stämmer med bokfört belopp; Frekvens: 2 ggr/år; Resultat av granskning: Utan anmärkning"
    )
    other = "Granskningsområde: Representation; Kontrollmoment: Kontroll av kontering, syfte och deltagare"
    assert holds(passage(row, page=2), Evidence(DOC, 2, quote))
    assert not holds(passage(other, page=2), Evidence(DOC, 2, quote))


def test_another_document_never_counts() -> None:
    assert not holds(passage(QUOTE, doc="000_d56c434a0c8f5121.txt"), Evidence(DOC, 39, QUOTE))


def test_the_document_matches_by_source_or_by_doc_id() -> None:
    by_id = Passage("k", "004_c9f51c72f4352da0", "somewhere/else.txt", 39, 39, QUOTE)
    by_source = Passage("k", "other-id", DOC, 39, 39, QUOTE)
    assert holds(by_id, Evidence(DOC, 39, QUOTE))
    assert holds(by_source, Evidence(DOC, 39, QUOTE))


def test_a_quote_cut_by_a_chunk_boundary_counts_for_a_chunk_holding_half_of_it_unbroken() -> None:
    first_half = "text before. Presidiet föreslår nämnden 1. Bevilja Smålands Turism"
    tail = "AB 2 000 000 kr och mer text om något annat helt"
    ev = Evidence(DOC, 39, QUOTE)
    assert ordered_share(first_half, QUOTE) >= 0.5
    assert holds(passage(first_half), ev)
    assert not holds(passage(tail), ev)
    # the same part on another page is not the evidence
    assert not holds(passage(first_half, page=12), ev)


def test_scattered_common_words_on_the_page_do_not_count() -> None:
    scattered = "Nämnden 1. AB kr Bevilja Turism föreslår Smålands 000 Presidiet 2 000"
    assert ordered_share(scattered, QUOTE) < 0.5
    assert not holds(passage(scattered), Evidence(DOC, 39, QUOTE))


def test_a_quote_of_a_heading_counts_for_the_chunks_under_it() -> None:
    quote = "§ 29 Stöttning besöksnäring 2022 – nationell marknadsföring Diarienummer: RJL 2022/258"
    heading = heading_of("29", "Protokoll > Stöttning besöksnäring 2022 – nationell marknadsföring")
    assert heading == "§ 29 Stöttning besöksnäring 2022 – nationell marknadsföring"
    chunk = Passage("k", "004_c9f51c72f4352da0", DOC, 39, 39, "Diarienummer: RJL 2022/258\nBeslut\n...", heading)
    assert holds(chunk, Evidence(DOC, 39, quote))
    assert not holds(Passage("k", "x", DOC, 39, 39, "Diarienummer: RJL 2022/258"), Evidence(DOC, 39, quote))


def test_case_relevance_and_ranking_labels() -> None:
    ev1 = Evidence(DOC, 39, "§ 29 Stöttning besöksnäring 2022 – nationell marknadsföring Diarienummer: RJL 2022/258")
    ev2 = Evidence(DOC, 39, QUOTE)
    c = case(ev1, ev2)
    p_both = passage("§ 29 Stöttning besöksnäring 2022 - nationell marknadsföring Diarienummer: RJL 2022/258. " + QUOTE)
    p_none = passage("Helt annat innehåll om kollektivtrafik.", page=3)
    assert is_relevant(p_both, c)
    assert not is_relevant(p_none, c)
    assert ranking([p_none, p_both], c) == [frozenset(), frozenset({"evidence:0", "evidence:1"})]
    assert case_qrels(c) == {"evidence:0": 1.0, "evidence:1": 1.0}
    assert recall_at_k(ranking([p_none, p_both], c), case_qrels(c), 1) == 0.0
    assert recall_at_k(ranking([p_none, p_both], c), case_qrels(c), 2) == 1.0
