"""`arkiv eval`'s runner: per-case measures, the test split, grouped cross-validation with a fit per fold,
conversations built from each system's own answers, intervals in the report."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import pytest

from evaluation.dataset import EvalCase, EvalFilters, Evidence, Negative, Turn
from evaluation.relevance import Passage
from evaluation.suite import (
    CaseRunner,
    SetResult,
    SuiteRun,
    evaluate_system,
    figure_text,
    markdown,
    negative_cases,
    results_table,
    run_case,
    search_query,
)
from evaluation.systems import Asked, Searched, System

DOC_A = "a.txt"
DOC_B = "b.txt"


def case(cid: str, quote: str | None, facts: tuple[str, ...] = (), *, doc: str = DOC_A, **kw: object) -> EvalCase:
    fields: dict[str, object] = dict(
        id=cid,
        question=f"Fråga {cid}?",
        language="sv",
        category="fact" if quote else "unanswerable",
        user_group="staff",
        answerable=quote is not None,
        evidence=(Evidence(doc, 1, quote),) if quote else (),
        must_contain=facts,
        reference_answer="x",
    )
    fields.update(kw)
    return EvalCase(**fields)  # type: ignore[arg-type]


def passage(key: str, text: str, doc: str = DOC_A) -> Passage:
    return Passage(key, doc.removesuffix(".txt"), doc, 1, 1, text)


NOISE = passage("noise", "Styrelsen sammanträdde fyra gånger under året.")
SUBSIDY = passage("subsidy", "Nämnden beviljar 500 000 kronor till projektet ShareMusic i Jönköping.")
DATE = passage("date", "Beslutet fattades den 10 februari 2022 som § 29 i protokollet.")

SUBSIDY_CASE = case("bidrag", "Nämnden beviljar 500 000 kronor till projektet ShareMusic", ("500 000", "§ 29"))


class Scripted:
    """Search results and answers from a script; records what it was asked and with which history."""

    def __init__(self, name: str, hits: dict[str, list[Passage]], answers: dict[str, Asked]) -> None:
        self.name = name
        self.hits = hits
        self.answers = answers
        self.asked: list[tuple[str, list[tuple[str, str]]]] = []
        self.searched: list[str] = []

    def search(self, query: str, k: int, filters: EvalFilters | None) -> Searched:
        self.searched.append(query)
        cid = query.rsplit("Fråga ", 1)[-1].rstrip("?")
        return Searched(tuple(self.hits.get(cid, [NOISE])[:k]), 12.0)

    def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> Asked:
        self.asked.append((question, list(history)))
        cid = question.removeprefix("Fråga ").rstrip("?")
        return self.answers.get(cid, Asked("not_found", "Arkivet säger inget om det.", (), 30.0))

    def fit(self, train: Sequence[EvalCase]) -> System:
        return self


def test_a_case_is_scored_on_what_retrieval_handed_over_and_what_the_answer_says() -> None:
    system = Scripted(
        "s",
        {"bidrag": [NOISE, SUBSIDY, NOISE, NOISE, NOISE, DATE]},
        {"bidrag": Asked("answered", "Nämnden beviljade 500 000 kronor [1].", (SUBSIDY,), 40.0)},
    )
    outcome, _ = run_case(system, SUBSIDY_CASE, [])
    assert outcome.recall_at_5 == 1.0 and outcome.mrr_at_10 == 0.5 and outcome.first_relevant == 2
    assert outcome.facts_at_5 == 0.0  # "§ 29" only stands in the sixth hit
    assert outcome.facts_at_10 == 1.0
    assert outcome.all_facts == 0.0 and outcome.key_facts == 0.5 and outcome.facts_missing == ("§ 29",)
    assert outcome.citation_support == 1.0 and outcome.false_not_found == 0.0 and outcome.abstention is None
    assert outcome.answer_words == 4 and outcome.search_ms == 12.0 and outcome.ask_ms == 40.0


def test_a_declined_answerable_case_is_a_false_not_found_and_an_unanswerable_one_is_not_searched() -> None:
    system = Scripted("s", {}, {})
    declined, _ = run_case(system, SUBSIDY_CASE, [])
    assert declined.false_not_found == 1.0 and declined.all_facts == 0.0 and declined.citation_support is None
    assert declined.answer_words is None
    searched = len(system.searched)
    unanswerable, _ = run_case(system, case("kungen", None), [])
    assert unanswerable.abstention == 1.0 and unanswerable.recall_at_5 is None and unanswerable.false_not_found is None
    assert len(system.searched) == searched  # no retrieval measure applies, so no search


def test_an_uncited_or_wrongly_cited_answer_has_no_citation_support() -> None:
    system = Scripted("s", {}, {"bidrag": Asked("answered", "500 000 kronor, § 29 [1].", (NOISE,), 5.0)})
    outcome, _ = run_case(system, SUBSIDY_CASE, [])
    assert outcome.all_facts == 1.0 and outcome.citation_support == 0.0


def test_a_follow_up_is_searched_with_its_conversation_and_asked_with_the_systems_own_answers() -> None:
    first = case("forsta", "Nämnden beviljar 500 000 kronor till projektet ShareMusic", ("500 000",))
    follow = case(
        "andra",
        "Beslutet fattades den 10 februari 2022",
        ("10 februari 2022",),
        category="follow_up",
        follow_up_of="forsta",
        history=(Turn("Fråga forsta?", "referens", "forsta"), Turn("Fråga fri?", None, None)),
    )
    own = Asked("answered", "Eget svar: 500 000 kronor [1].", (SUBSIDY,), 1.0)
    free = Asked("answered", "Ett fritt svar.", (), 1.0)
    system = Scripted("s", {}, {"forsta": own, "fri": free})
    runner = CaseRunner([first, follow])
    runner.outcome(system, follow)
    assert search_query(follow) == "Fråga forsta? Fråga fri? Fråga andra?"
    question, history = system.asked[-1]
    assert question == "Fråga andra?"
    assert history == [
        ("user", "Fråga forsta?"),
        ("assistant", own.text),  # the system's own answer, not the reference
        ("user", "Fråga fri?"),
        ("assistant", free.text),
    ]
    asked_before = len(system.asked)
    runner.outcome(system, first)  # already asked for the conversation: not asked again
    assert len(system.asked) == asked_before


class FoldRecorder:
    """A factory that learns: each fit makes a new system and records what it was trained on."""

    name = "learner"

    def __init__(self, answers: dict[str, Asked]) -> None:
        self.answers = answers
        self.fits: list[set[str]] = []
        self.systems: list[Scripted] = []

    def fit(self, train: Sequence[EvalCase]) -> System:
        self.fits.append({c.id for c in train})
        system = Scripted(f"fit{len(self.fits)}", {}, self.answers)
        self.systems.append(system)
        return system


def corpus_cases() -> list[EvalCase]:
    cases = []
    for doc in range(6):
        for n in range(3):
            cid = f"d{doc}q{n}"
            cases.append(
                case(
                    cid,
                    "Nämnden beviljar 500 000 kronor till projektet ShareMusic",
                    ("500 000",),
                    doc=f"doc{doc}.txt",
                    split="test" if doc == 5 else "train",
                )
            )
    cases.append(case("inget", None, split="test"))
    return cases


def test_the_test_split_is_scored_by_a_system_fitted_on_train_and_folds_never_train_on_their_cases() -> None:
    cases = corpus_cases()
    answers = {c.id: Asked("answered", "500 000 kronor [1]", (), 3.0) for c in cases if c.answerable}
    factory = FoldRecorder(answers)
    result = evaluate_system(factory, cases, CaseRunner(cases), folds=5, reps=50)
    train_ids = {c.id for c in cases if c.split == "train"}
    assert factory.fits[0] == train_ids  # the system scored on the test split saw all training cases, nothing else
    assert result.test.cases == 4 and result.cv.cases == 15 and result.cv.folds == 5
    held_out_by_fold = []
    for fitted, system in zip(factory.fits[1:], factory.systems[1:], strict=True):
        asked = {q.removeprefix("Fråga ").rstrip("?") for q, _ in system.asked}
        assert asked and not asked & fitted  # never scored on what it was fitted on
        assert fitted | asked == train_ids
        assert len({cid[:2] for cid in asked}) == 1  # one document per fold here: grouped
        held_out_by_fold.append(asked)
    assert set().union(*held_out_by_fold) == train_ids
    assert result.test.figures["all_facts"].value == 1.0 and result.test.figures["all_facts"].n == 3
    assert result.test.figures["abstention"].value == 1.0
    assert result.cv.figures["abstention"].n == 0 and result.cv.figures["abstention"].value is None


def test_a_system_with_nothing_to_fit_is_asked_each_question_once() -> None:
    cases = corpus_cases()
    system = Scripted("fixed", {}, {})
    result = evaluate_system(system, cases, CaseRunner(cases), folds=3, reps=50)
    assert len(system.asked) == len(cases)
    assert result.cv.figures["false_not_found"].value == 1.0


def test_intervals_and_categories_in_the_report() -> None:
    cases = corpus_cases()
    answers = {c.id: Asked("answered", "500 000 kronor [1]", (), 3.0) for c in cases if c.id.endswith("q0")}
    result = evaluate_system(Scripted("fixed", {}, answers), cases, CaseRunner(cases), folds=3, reps=200)
    facts = result.cv.figures["all_facts"]
    assert facts.value == pytest.approx(5 / 15)
    assert facts.low is not None and facts.high is not None and facts.low <= facts.value <= facts.high
    assert result.test.by_category["unanswerable"]["abstention"] == 1.0
    run = SuiteRun(
        "2026-12-06T04:00:00+00:00", "test", "arkiv eval", 1.0, (SetResult("corpus", "x", 19, 4, (result,)),)
    )
    text = markdown(run)
    assert "| fixed | 15 |" in text and f"{facts.value:.3f} [{facts.low:.2f}–{facts.high:.2f}]" in text
    assert json.loads(run.to_json())["sets"][0]["systems"][0]["cv"]["figures"]["all_facts"]["n"] == 15
    readme = results_table(run)
    test_facts = result.test.figures["all_facts"]
    assert readme.splitlines()[2].startswith("| corpus (4) | fixed | ") and figure_text(test_facts) in readme


def test_a_failing_case_is_recorded_and_the_run_goes_on() -> None:
    class Broken(Scripted):
        def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> Asked:
            if "bidrag" in question:
                raise RuntimeError("boom")
            return super().ask(question, history, filters)

    cases = [SUBSIDY_CASE, case("kungen", None)]
    result = evaluate_system(Broken("b", {}, {}), cases, CaseRunner(cases), folds=2, reps=20)
    errors = [o for o in result.outcomes if o.error]
    assert [o.id for o in errors] == ["bidrag"] and "boom" in errors[0].error
    assert result.cv.errors == 1 and result.cv.figures["abstention"].value == 1.0


def test_swefaq_negatives_are_unanswerable_cases_split_by_their_benchmark_set() -> None:
    got = negative_cases(
        [
            Negative("swefaq_sl2_test_pooled:q1", "Hur bokar jag vaccin?", "swefaq_sl2_test_pooled", True),
            Negative("swefaq_sl2_dev_pooled:q2", "Vad kostar ett pass?", "swefaq_sl2_dev_pooled", True),
        ]
    )
    assert [(c.split, c.answerable, c.category) for c in got] == [
        ("test", False, "unanswerable"),
        ("train", False, "unanswerable"),
    ]
    assert got[0].group != got[1].group
    assert dataclasses.replace(got[0]).question == "Hur bokar jag vaccin?"


def test_english_twins_are_compared_with_their_swedish_case() -> None:
    from evaluation.suite import twin_agreement

    sv = case("sv1", "Nämnden beviljar 500 000 kronor till projektet ShareMusic", ("500 000",))
    en = dataclasses.replace(sv, id="en1", question="Fråga en1?", language="en", english_twin_of="sv1")
    sv2 = dataclasses.replace(sv, id="sv2", question="Fråga sv2?")
    en2 = dataclasses.replace(sv, id="en2", question="Fråga en2?", language="en", english_twin_of="sv2")
    answers = {c: Asked("answered", "500 000 kronor", (), 1.0) for c in ("sv1", "en1", "sv2")}
    system = Scripted("s", {}, answers)  # en2 is declined
    runner = CaseRunner([sv, en, sv2, en2])
    outcomes = [runner.outcome(system, c) for c in (sv, en, sv2, en2)]
    assert twin_agreement(outcomes) == (1, 2)
