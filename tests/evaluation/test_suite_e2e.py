"""`arkiv eval`'s runner end to end over the tests' fixture index: the current assistant and the naive baseline,
real search and answers, the test split and cross-validation."""

from __future__ import annotations

from typing import Any

import pytest

from evaluation.dataset import EvalCase, Evidence, Turn
from evaluation.suite import CaseRunner, SetResult, SuiteRun, evaluate_system, markdown
from evaluation.systems import CurrentFactory, NaiveSystem, first_sentence

ARS = "arsredovisning_2012.txt"
IKP = "internkontrollplan_2023.txt"
RJL = "rjl_anna_2022-02.txt"


def make(
    cid: str, question: str, doc: str | None, page: int, quote: str, facts: tuple[str, ...], split: str, **kw: Any
) -> EvalCase:
    fields: dict[str, Any] = dict(
        id=cid,
        question=question,
        language="sv",
        category="fact",
        user_group="staff",
        answerable=doc is not None,
        evidence=(Evidence(doc, page, quote),) if doc else (),
        must_contain=facts,
        reference_answer=quote or "Arkivet säger inget om det.",
        split=split,
    )
    fields.update(kw)
    return EvalCase(**fields)


CASES = [
    make(
        "resultat",
        "Vilket resultat redovisade förbundet totalt 2012?",
        ARS,
        1,
        "Förbundet totalt redovisar ett positivt resultat på 912 tkr",
        ("912 tkr",),
        "train",
    ),
    make(
        "medlemsbidrag",
        "Hur stora var medlemsbidragen till förbundet?",
        ARS,
        2,
        "Summa medlemsbidrag till förbundet är 15 861 tkr",
        ("15 861",),
        "train",
    ),
    make(
        "handkassa",
        "Hur ofta kontrolleras handkassan?",
        IKP,
        2,
        "Handkassan ska vara korrekt Kontroll att kvitto och kontanter stämmer",
        ("2 ggr/år",),
        "train",
        category="table",
    ),
    make(
        "sharemusic",
        "Vad föreslog presidiet om ShareMusic?",
        RJL,
        2,
        "Godkänna överenskommelse interregionalt samarbete om ShareMusic",
        ("ShareMusic",),
        "test",
        category="decision",
    ),
    make(
        "sharemusic-dnr",
        "Och vilket diarienummer har ärendet?",
        RJL,
        2,
        "Diarienummer: RJL 2020/730",
        ("2020/730",),
        "test",
        category="follow_up",
        follow_up_of="sharemusic",
        history=(Turn("Vad föreslog presidiet om ShareMusic?", None, "sharemusic"),),
        group_id=RJL,
    ),
    make(
        "rymden",
        "Hur många astronauter anställde förbundet på Mars år 1850?",
        None,
        1,
        "",
        (),
        "test",
        category="unanswerable",
    ),
]


@pytest.fixture(scope="module")
def results(fixture_index: Any) -> list[Any]:
    from assistant.service import build_assistant

    settings, indexer = fixture_index
    factories = [
        NaiveSystem(indexer.store, indexer.embedder, indexer.sparse),
        CurrentFactory(build_assistant(settings, store=indexer.store, embedder=indexer.embedder)),
    ]
    runner = CaseRunner(CASES)
    return [evaluate_system(f, CASES, runner, folds=2, reps=100) for f in factories]


def test_both_systems_are_measured_on_the_test_split_and_cross_validated(results: list[Any]) -> None:
    naive, current = results
    for r in results:
        assert r.test.cases == 3 and r.cv.cases == 3 and r.cv.folds == 2
        assert not any(o.error for o in r.outcomes), [o.error for o in r.outcomes]
        assert r.test.ask_ms_p50 is not None and r.test.ask_ms_p50 > 0
    by_id = {o.id: o for o in current.outcomes}
    assert by_id["resultat"].recall_at_5 == 1.0 and by_id["resultat"].facts_at_10 == 1.0
    assert by_id["medlemsbidrag"].facts_at_10 == 1.0
    assert current.cv.figures["recall_at_5"].value is not None and current.cv.figures["recall_at_5"].value >= 2 / 3
    # the naive baseline never declines; it answers the nonsense question with some first sentence
    assert naive.test.figures["abstention"].value == 0.0
    naive_by_id = {o.id: o for o in naive.outcomes}
    assert naive_by_id["rymden"].status == "answered" and naive_by_id["rymden"].answer_words


def test_the_report_puts_the_systems_side_by_side(results: list[Any]) -> None:
    run = SuiteRun(
        "2026-12-06T04:00:00+00:00", "test", "arkiv eval", 1.0, (SetResult("fixtures", "x", 6, 3, tuple(results)),)
    )
    text = markdown(run)
    assert "| naive | 3 |" in text and "| current | 3 |" in text
    assert "Korsvalidering på träningsdelen (2 delar" in text


def test_first_sentence_keeps_abbreviations() -> None:
    assert first_sentence("Stöd ges t.ex. till föreningar. Nästa mening.") == "Stöd ges t.ex. till föreningar."
