"""The case index: each case number's steps across documents and meetings, dated, kinded and access-filtered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer.cases import CASES_FILE, CaseIndex, build_case_index
from indexer.catalog import Catalog
from indexer.pipeline import Indexer, IndexOptions
from indexer.sparse import SparseEncoder
from indexer.store import EdgeStore, Manifest
from indexer.swedish.casekinds import classify_step, is_case_course_question, is_precedent_question
from tests.conftest import FIXTURES, FakeEmbedder

# A later meeting of the committee, writing the case number the short way.
COMMITTEE = """ PROTOKOLL
Nämnd för arbetsmarknad, näringsliv och attraktivitet
Tid: 2022-02-23 kl. 09:00
§ 13
Stöd till besöksnäringen inför sommaren 2022 – Nationell marknadsföring
Dnr 2022/258
Beslut
Nämnden beslutar att bevilja Smålands Turism AB 2 000 000 kr ur anslaget för regionala utvecklingsmedel.
 § 14
Projekt - InsTrä
Dnr 2019/1998
Beslut
Ärendet återremitteras till förvaltningen för komplettering av budgeten.
"""

# A Finland-Swedish § that writes out its case's earlier treatments, each closed by a rule.
FINNISH = """ Protokoll
Personalsektionen
Sammanträdestid 28.3.2023 kl. 15.02
Ärenden 23-24
 Protokoll
Personalsektionen
23 §
28.03.2023
Sida
2
NKBY/605/01.02.00/2022

23 § Anhållan om individuellt tillägg skolsekreterare
Tidigare behandling:
Personalsektionen 11...2022, 40 §
Personalsektionen 22.10.2022, 52 §
Personalsektionen 22.11.2022, 60 §

Personalsektionen 11...2022, 40 §
Beredning: personalchef Kristina Wikblad
Anhållan inlämnad.
Stadsdirektör Martin Norrgårds förslag:
Personalsektionen antecknar anhållan för kännedom.
Personalsektionens beslut:
Ärendet antecknades för kännedom.
_____
Personalsektionen 22.10.2022, 52 §
Beredning: personalchef Kristina Wikblad
Skolsekreteraren anhåller om ett individuellt tillägg.
Stadsdirektör Martin Norrgårds förslag:
Personalsektionen beviljar tillägget.
Personalsektionens beslut:
Ärendet återremitterades för vidare utredning.
_____
Personalsektionen 22.11.2022, 60 §
Beredning: personalchef Kristina Wikblad
Utredningen visar att uppgifterna har ökat.
Stadsdirektör Martin Norrgårds förslag:
Personalsektionen beviljar ett tillägg om 150 euro i månaden.
Personalsektionens beslut:
Stadsdirektörens förslag godkändes.
_____
"""


# A Finland-Swedish § whose own treatment has no header line: it follows the last earlier treatment's decision.
COUNCIL = """ Protokoll
Rådet för funktionshindrade
Sammanträdestid 24.5.2023 kl. 17.00
Ärenden 13
 Protokoll
Rådet för funktionshindrade
13 §
24.05.2023
Sida
4
NKBY/523/00.05.00/2022

13 § Motion, Gör Kackurdunten tillgänglig för alla

Tidigare behandling:
Stadsfullmäktige 8.9.2022, 43 §

Stadsfullmäktige 8.9.2022, 43 §
Frej Strang inlämnade en motion.
Stadsfullmäktiges beslut:
Motionen överfördes till stadsstyrelsen för vidare beredning.

Stadsstyrelsen 26.9.2022, 202 §
Stadsdirektör Martin Norrgårds förslag:
Motionen överförs till rådet för funktionshindrade för vidare beredning.
Stadsstyrelsens beslut:
Stadsstyrelsens beslut i enlighet med stadsdirektörens förslag.

Gör Kackurdunten tillgänglig för alla

Beredning: Kommunikationskoordinator Johan Svenlin
Planläggningsingenjören redogör för tekniska förutsättningar.
Ordförandes förslag: Rådet diskuterar och ger utlåtande.

Beslut:
Rådet överför sitt ställningstagande till tekniska nämnden.
"""


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Indexer]:
    root = tmp_path_factory.mktemp("cases")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(FIXTURES / "corpus" / "rjl_anna_2022-02.txt", corpus / "kallelse.txt")
    shutil.copy(FIXTURES / "corpus" / "rjl_anna_2022-02.meta.yaml", corpus / "kallelse.meta.yaml")
    (corpus / "namnden.txt").write_text(COMMITTEE, encoding="utf-8")
    (corpus / "namnden.meta.yaml").write_text(
        'title: "Protokoll ANA-nämnden 2022-02-23"\ndoc_type: protokoll\ndate: "2022-02-23"\n'
        'body: "Nämnd för arbetsmarknad, näringsliv och attraktivitet"\naccess_groups: [public]\n',
        encoding="utf-8",
    )
    (corpus / "radet.txt").write_text(COUNCIL, encoding="utf-8")
    (corpus / "radet.meta.yaml").write_text(
        'title: "Protokoll Rådet för funktionshindrade 2023-05-24"\ndoc_type: protokoll\ndate: "2023-05-24"\n'
        'body: "Rådet för funktionshindrade"\naccess_groups: [public]\n',
        encoding="utf-8",
    )
    (corpus / "personal.txt").write_text(FINNISH, encoding="utf-8")
    (corpus / "personal.meta.yaml").write_text(
        'title: "Protokoll Personalsektionen 2023-03-28"\ndoc_type: protokoll\ndate: "2023-03-28"\n'
        'body: "Personalsektionen"\naccess_groups: [personal]\n',
        encoding="utf-8",
    )
    embedder = FakeEmbedder()
    store = EdgeStore(root / "data" / "store")
    store.open(Manifest(embedder.model_id, embedder.dimension))
    indexer = Indexer(
        store=store,
        embedder=embedder,
        sparse=SparseEncoder(cache_dir=root / "cache"),
        catalog=Catalog(root / "data" / "catalog"),
        ocr=None,
        options=IndexOptions(chunk_tokens=128, chunk_overlap=16),
    )
    indexer.run([corpus])
    yield root / "data", indexer
    store.close()


@pytest.fixture(scope="module")
def index(indexed: tuple[Path, Indexer]) -> CaseIndex:
    data, _ = indexed
    return CaseIndex.load(data / CASES_FILE)


def test_an_index_run_writes_the_case_index_beside_the_store(indexed: tuple[Path, Indexer]) -> None:
    data, indexer = indexed
    assert (data / CASES_FILE).is_file()
    rebuilt = build_case_index(indexer.store.scroll(None, limit=100_000))
    assert sorted(e.to_json()["position"] for e in rebuilt.entries()) == sorted(
        e.to_json()["position"] for e in CaseIndex.load(data / CASES_FILE).entries()
    )


def test_a_case_runs_from_report_to_presidium_to_committee_in_date_order(index: CaseIndex) -> None:
    steps = index.timeline("RJL 2022/258")
    assert [(e.date, e.kind) for e in steps] == [
        ("2022-02-02", "tjänsteskrivelse"),
        ("2022-02-10", "förslag"),
        ("2022-02-23", "dagordning"),
        ("2022-02-23", "beslut"),
    ]
    report, presidium, agenda, committee = steps
    assert agenda.heading == "13 Stöd till besöksnäringen inför sommaren 2022 – Nationell marknadsföring"
    assert "Smålands Turism AB 2 000 000 kr" in (report.proposal or "")
    assert presidium.paragraph == "29"
    assert presidium.body == "Presidium - Nämnd för arbetsmarknad, näringsliv och attraktivitet"
    assert (presidium.decision or "").startswith("Presidiet föreslår nämnden")
    assert committee.paragraph == "13" and "Nämnden beslutar att bevilja" in (committee.decision or "")
    assert committee.source == "namnden.txt"
    # each step points at the page that holds it
    assert all(e.page >= 1 and e.page <= e.page_end for e in steps)
    assert all(e.chunk["chunk_id"].startswith(e.doc_id + ":") for e in steps)


def test_every_written_form_finds_the_same_case(index: CaseIndex) -> None:
    for form in ("RJL 2022/258", "rjl 2022/258", "Dnr 2022/258", "2022/258", "Diarienummer: RJL 2022/258"):
        assert index.resolve(form) == "RJL 2022/258", form
    assert index.resolve("RJL 2022/999") is None
    assert index.timeline("RJL 2022/999") == []


def test_a_referral_back_is_its_own_kind(index: CaseIndex) -> None:
    steps = index.timeline("RJL 2019/1998")
    assert steps[-1].kind == "återremiss"
    assert steps[-1].date == "2022-02-23"


def test_finland_swedish_earlier_treatments_become_steps(index: CaseIndex) -> None:
    steps = index.timeline("NKBY/605/01.02.00/2022", access_groups=("personal",))
    assert [(e.date, e.paragraph, e.kind) for e in steps] == [
        (None, "40", "anmälan"),  # "11...2022": a date the text layer lost, placed by the order of the §
        ("2022-10-22", "52", "återremiss"),
        ("2022-11-22", "60", "beslut"),
    ]
    assert steps[1].body == "Personalsektionen"
    assert "150 euro" in (steps[2].proposal or "")
    assert steps[2].decision == "Stadsdirektörens förslag godkändes."


def test_the_meetings_own_treatment_follows_the_earlier_ones_without_a_header(index: CaseIndex) -> None:
    steps = index.timeline("NKBY 2022/523", access_groups=("public",))
    assert [(e.date, e.body, e.paragraph) for e in steps] == [
        ("2022-09-08", "Stadsfullmäktige", "43"),
        ("2022-09-26", "Stadsstyrelsen", "202"),
        ("2023-05-24", "Rådet för funktionshindrade", "13"),
    ]
    assert steps[1].decision == "Stadsstyrelsens beslut i enlighet med stadsdirektörens förslag."
    assert steps[2].decision == "Rådet överför sitt ställningstagande till tekniska nämnden."


def test_an_earlier_treatment_is_read_where_ocr_turned_its_section_sign_into_8_or_dollar() -> None:
    from indexer.swedish.casekinds import STEP_HEADER

    for line, number in (
        ("Stadsstyrelsen 5.9.2022, 176 8", "176"),
        ("Välfärdsnämnden 15.9.2022, 47 $", "47"),
        ("Personalsektionen 20.2.2023, 4 §", "4"),
    ):
        m = STEP_HEADER.match(line)
        assert m is not None and m.group("num") == number and m.group("date") in line
    assert STEP_HEADER.match("Stadsstyrelsen 5.9.2022, 1768") is None  # a glued 8 could be the number's own


def test_steps_of_a_restricted_document_are_hidden_from_others(index: CaseIndex) -> None:
    assert index.timeline("NKBY 2022/605") == []
    assert index.timeline("NKBY 2022/605", access_groups=("public",)) == []
    assert index.search("skolsekreterare") == []
    assert [s.case_number for s in index.search("skolsekreterare", ("personal",))] == ["NKBY 2022/605"]


def test_cases_are_found_by_words_body_and_year(index: CaseIndex) -> None:
    assert "RJL 2022/258" in [s.case_number for s in index.search("besöksnäring")]
    assert "RJL 2022/258" in [s.case_number for s in index.search("Smålands Turism 2022")]
    assert "RJL 2022/258" not in [s.case_number for s in index.search("besöksnäring 2019")]
    assert [s.case_number for s in index.search("Dnr 2022/258")] == ["RJL 2022/258"]
    summary = index.summary("RJL 2022/258")
    assert summary is not None and summary.first_date == "2022-02-02" and summary.last_date == "2022-02-23"


def test_kinds_are_read_from_the_text() -> None:
    assert classify_step(decision="Presidiet föreslår nämnden att bevilja", in_paragraph=True) == "förslag"
    assert classify_step(decision="Ärendet bordläggs till nästa sammanträde.", in_paragraph=True) == "bordläggning"
    assert classify_step(decision="Informationen läggs till handlingarna.", in_paragraph=True) == "anmälan"
    assert classify_step(decision="Nämnden beslutar att avslå ansökan.", in_paragraph=True) == "beslut"
    assert classify_step(text="TJÄNSTESKRIVELSE 1(2)\n2022-02-02 RJL 2022/258", section="Tjänsteskrivelse") == (
        "tjänsteskrivelse"
    )
    assert (
        classify_step(text="13 Stöd till besöksnäringen", section="Kallelse > Beslutsärenden", doc_type="kallelse")
        == "dagordning"
    )


def test_questions_about_a_case_course_are_recognised() -> None:
    assert is_case_course_question("Vad har hänt i ärendet RJL 2022/258?")
    assert is_case_course_question("Har nämnden beslutat om det här tidigare?")
    assert is_case_course_question("What happened to case RJL 2022/258?")
    assert not is_case_course_question("Hur mycket beviljades Smålands Turism?")
    # a case named by its number and nothing else asked: what it is about is its course
    assert is_case_course_question("Vad gäller RJL 2022/258?")
    assert is_case_course_question("Vad handlar ärendet om?")
    assert is_case_course_question("What is case RJL 2022/258 about?")
    assert not is_case_course_question("Vad gäller för ansökan 2023/24?")
    assert not is_case_course_question("Vad gäller för bidrag till föreningar?")
    assert is_precedent_question("Har vi beviljat liknande stöd förut?")
    assert not is_precedent_question("Vad beslutade presidiet om RJL 2022/258?")


def test_statute_and_report_series_are_not_cases() -> None:
    from indexer.swedish.casekinds import is_reference_series

    assert is_reference_series("MSBFS 2015/5") and is_reference_series("SOU 2021/25")
    assert not is_reference_series("RJL 2022/258") and not is_reference_series("2022/258")


def test_the_case_check_names_the_pages_a_timeline_does_not_cover(
    indexed: tuple[Path, Indexer], tmp_path: Path
) -> None:
    """`arkiv eval cases`: every case number on more than one page against its timeline."""
    from evaluation.casecheck import check_cases, markdown

    data, _ = indexed
    checks = check_cases(data)
    assert checks and all(c.complete for c in checks), markdown(checks)
    widest = next(c for c in checks if c.number == "RJL 2022/258")
    assert {s for s, _ in widest.places} == {"kallelse.txt", "namnden.txt"}  # written "RJL …" and "Dnr …"
    # The same index with the committee's steps of that case lost: the check names the committee's pages.
    lost = next(s for s, _ in widest.places if s == "namnden.txt")
    shutil.copytree(data / "catalog", tmp_path / "catalog")
    index = CaseIndex.load(data / CASES_FILE)
    kept = [e for e in index.entries() if not (index.resolve(e.case_number) == widest.case and e.source == lost)]
    CaseIndex(kept).save(tmp_path / CASES_FILE)
    again = {c.number: c for c in check_cases(tmp_path)}[widest.number]
    assert not again.complete and again.missing == tuple(p for p in widest.places if p[0] == lost)
    assert f"{lost} p." in markdown(list({c.number: c for c in check_cases(tmp_path)}.values()))
