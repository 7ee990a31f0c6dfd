"""`arkiv eval`: systems side by side on the gold sets, on the test split and cross-validated.

For each system (evaluation/systems.py) and each case the runner records what retrieval handed over and what
the answer said (`CaseOutcome`); the measures are means over the cases each applies to:

- recall@5, MRR@10: of the answerable cases with evidence (evaluation/relevance.py decides what holds a quote);
- facts@5, facts@10: of the answerable cases with key facts, the share whose every `must_contain` fact stands
  in the top 5 or 10 hits' texts (what retrieval hands the answerer);
- all facts: the share of answerable cases whose answer states every key fact; key facts: the partial credit,
  the share of a case's facts the answer states, averaged;
- citation support: of the answerable cases answered, the share whose cited passages hold an evidence quote;
- abstention: of the unanswerable cases, the share declined ("not found");
- false not-found: of the answerable cases, the share declined;
- answer length (words, [n] markers left out) p50 and p90 over the answers given; search and ask latency p50
  and p95 in milliseconds.

Two blocks per system: the test split (`split: test` in the gold files: never used to train or tune), with
the system fitted on the training cases; and cross-validation over the training cases, grouped by document
(`EvalCase.group`) so that a question never helps score its neighbours, the system fitted once per fold and
the out-of-fold answers pooled. Each headline figure carries a 95% bootstrap interval (1000 draws, seeded,
whole documents drawn). A system with nothing to fit gives the same answers in every fold; its
cross-validated figure is then simply its figure on the training cases.

A follow-up is searched as its conversation's questions joined (a plain search has no memory), and asked with
the earlier turns as history: the earlier questions and this system's own answers to them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from evaluation.dataset import EvalCase, Negative, contains_fact
from evaluation.metrics import (
    answer_words,
    applicable_mean,
    bootstrap_intervals,
    facts_at_k,
    grouped_folds,
    percentile,
    recall_at_k,
    reciprocal_rank,
)
from evaluation.relevance import case_qrels, is_relevant, ranking
from evaluation.systems import Asked, System, SystemFactory

logger = logging.getLogger(__name__)

K = 10
FOLDS = 5
SEED = 20261206
REPS = 1000
ANSWER_CHARS = 300
"""Characters of each answer kept in the run file, for reading failures."""

HEADLINE = (
    "recall_at_5",
    "mrr_at_10",
    "facts_at_5",
    "facts_at_10",
    "all_facts",
    "key_facts",
    "citation_support",
    "abstention",
    "false_not_found",
)
"""Measures shown with an interval, in table order."""
LABELS = {
    "recall_at_5": "recall@5",
    "mrr_at_10": "MRR@10",
    "facts_at_5": "fakta@5",
    "facts_at_10": "fakta@10",
    "all_facts": "alla fakta",
    "key_facts": "nyckelfakta",
    "citation_support": "källstöd",
    "abstention": "avböjer obesvarbara",
    "false_not_found": "felaktigt ”hittades inte”",
}
LOWER_IS_BETTER = frozenset({"false_not_found"})


# --- cases --------------------------------------------------------------------------------------------------


def split_of(case: EvalCase) -> str:
    """The case's split: "test" or "train"."""
    return "test" if case.split == "test" else "train"


def search_query(case: EvalCase) -> str:
    """What every system's search gets: the conversation's questions joined (a plain search has no memory)."""
    return " ".join([t.question for t in case.history] + [case.question])


# --- one case -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseOutcome:
    """What one system did with one case; None where a measure does not apply."""

    id: str
    category: str
    split: str
    group: str
    answerable: bool
    status: str
    recall_at_5: float | None = None
    mrr_at_10: float | None = None
    facts_at_5: float | None = None
    facts_at_10: float | None = None
    all_facts: float | None = None
    key_facts: float | None = None
    citation_support: float | None = None
    abstention: float | None = None
    false_not_found: float | None = None
    answer_words: int | None = None
    search_ms: float | None = None
    ask_ms: float | None = None
    facts_missing: tuple[str, ...] = ()
    first_relevant: int | None = None
    answer: str = ""
    error: str = ""
    twin_of: str | None = None
    """For an English question, the Swedish case it translates."""
    language: str = "sv"

    def value(self, metric: str) -> float | None:
        v = getattr(self, metric)
        return None if v is None else float(v)


def _flag(value: bool) -> float:
    return 1.0 if value else 0.0


def run_case(system: System, case: EvalCase, history: Sequence[tuple[str, str]]) -> tuple[CaseOutcome, Asked]:
    """Search (for answerable cases) and ask one case, with the conversation's earlier turns as history."""
    base: dict[str, Any] = {
        "id": case.id,
        "category": case.category,
        "split": split_of(case),
        "group": case.group,
        "answerable": case.answerable,
        "twin_of": case.english_twin_of,
        "language": case.language,
    }
    measures: dict[str, Any] = {}
    if case.answerable and (case.evidence or case.must_contain):
        found = system.search(search_query(case), K, case.filters)
        passages = list(found.passages[:K])
        measures["search_ms"] = round(found.ms, 2)
        if case.evidence:
            ranked = ranking(passages, case)
            qrels = case_qrels(case)
            measures["recall_at_5"] = recall_at_k(ranked, qrels, 5)
            measures["mrr_at_10"] = reciprocal_rank(ranked, qrels, K)
            measures["first_relevant"] = next((i for i, labels in enumerate(ranked, 1) if labels), None)
        if case.must_contain:
            texts = [p.full_text for p in passages]
            measures["facts_at_5"] = _flag(facts_at_k(texts, case.must_contain, 5, contains_fact))
            measures["facts_at_10"] = _flag(facts_at_k(texts, case.must_contain, 10, contains_fact))
    asked = system.ask(case.question, history, case.filters)
    answered = asked.status == "answered"
    measures["ask_ms"] = round(asked.ms, 2)
    if answered:
        measures["answer_words"] = answer_words(asked.text)
    if case.answerable:
        measures["false_not_found"] = _flag(asked.status == "not_found")
        if case.must_contain:
            missing = tuple(f for f in case.must_contain if not (answered and contains_fact(asked.text, f)))
            measures["facts_missing"] = missing
            measures["all_facts"] = _flag(not missing)
            measures["key_facts"] = 1.0 - len(missing) / len(case.must_contain)
        if answered and case.evidence:
            measures["citation_support"] = _flag(any(is_relevant(p, case) for p in asked.citations))
    else:
        measures["abstention"] = _flag(asked.status == "not_found")
    outcome = CaseOutcome(**base, status=asked.status, answer=asked.text[:ANSWER_CHARS], **measures)
    return outcome, asked


class CaseRunner:
    """Runs cases through systems, each (system, case) once, and builds each follow-up's history from the
    same system's answers to the earlier turns (a turn that is a gold case is that case's run; any other
    earlier turn is asked as it stands)."""

    def __init__(self, cases: Sequence[EvalCase], progress: Callable[[str], None] | None = None) -> None:
        self._by_id = {c.id: c for c in cases}
        self._done: dict[tuple[int, str], tuple[CaseOutcome, Asked]] = {}
        self._turns: dict[tuple[int, tuple[tuple[str, str], ...], str], str] = {}
        self._keep: list[System] = []  # the ids in the keys stay unique while the systems live
        self._progress = progress
        self._count = 0

    def outcome(self, system: System, case: EvalCase) -> CaseOutcome:
        return self._run(system, case)[0]

    def history(self, system: System, case: EvalCase) -> list[tuple[str, str]]:
        """The earlier turns as this system would have had them: its own answers."""
        history: list[tuple[str, str]] = []
        for turn in case.history:
            earlier = self._by_id.get(turn.case_id) if turn.case_id else None
            if earlier is not None:
                answer = self._run(system, earlier)[1].text
            else:
                key = (id(system), tuple(history), turn.question)
                if key not in self._turns:
                    self._turns[key] = system.ask(turn.question, list(history), case.filters).text
                answer = self._turns[key]
            history += [("user", turn.question), ("assistant", answer)]
        return history

    def _run(self, system: System, case: EvalCase) -> tuple[CaseOutcome, Asked]:
        key = (id(system), case.id)
        if key not in self._done:
            if not any(s is system for s in self._keep):
                self._keep.append(system)
            try:
                self._done[key] = run_case(system, case, self.history(system, case))
            except Exception as ex:  # noqa: BLE001 - one failing case must not end the run; it is recorded
                logger.exception("%s failed on %s", system.name, case.id)
                outcome = CaseOutcome(
                    case.id,
                    case.category,
                    split_of(case),
                    case.group,
                    case.answerable,
                    "error",
                    error=f"{type(ex).__name__}: {ex}"[:300],
                    twin_of=case.english_twin_of,
                    language=case.language,
                )
                self._done[key] = (outcome, Asked("error", "", (), 0.0))
            self._count += 1
            if self._progress and self._count % 50 == 0:
                self._progress(f"  {self._count} fall")
        return self._done[key]


# --- aggregating --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    """Cases the measure applies to."""


@dataclass(frozen=True)
class Block:
    """One system's figures over one selection of cases (the test split, or cross-validation)."""

    cases: int
    figures: dict[str, Figure]
    by_category: dict[str, dict[str, float | None]]
    """category -> measure -> value (no intervals); "cases" gives the count."""
    answer_words_p50: float | None = None
    answer_words_p90: float | None = None
    search_ms_p50: float | None = None
    search_ms_p95: float | None = None
    ask_ms_p50: float | None = None
    ask_ms_p95: float | None = None
    folds: int = 0
    errors: int = 0


def _pct(values: Sequence[float], q: float) -> float | None:
    return round(percentile(values, q), 1) if values else None


def summarise(outcomes: Sequence[CaseOutcome], *, folds: int = 0, reps: int = REPS, seed: int = SEED) -> Block:
    """The figures of a selection of outcomes, with bootstrap intervals drawn by group."""
    columns = {m: [o.value(m) for o in outcomes] for m in HEADLINE}
    intervals = bootstrap_intervals(columns, [o.group for o in outcomes], reps=reps, seed=seed) if outcomes else {}
    figures: dict[str, Figure] = {}
    for m in HEADLINE:
        applicable = [v for v in columns[m] if v is not None]
        ci = intervals.get(m)
        figures[m] = Figure(
            applicable_mean(columns[m]),
            ci.low if ci else None,
            ci.high if ci else None,
            len(applicable),
        )
    by_category: dict[str, dict[str, float | None]] = {}
    for category in sorted({o.category for o in outcomes}):
        group = [o for o in outcomes if o.category == category]
        row: dict[str, float | None] = {"cases": float(len(group))}
        row.update({m: applicable_mean([o.value(m) for o in group]) for m in HEADLINE})
        by_category[category] = row
    words = [float(o.answer_words) for o in outcomes if o.answer_words is not None]
    search = [o.search_ms for o in outcomes if o.search_ms is not None]
    ask = [o.ask_ms for o in outcomes if o.ask_ms is not None and not o.error]
    return Block(
        cases=len(outcomes),
        figures=figures,
        by_category=by_category,
        answer_words_p50=_pct(words, 50),
        answer_words_p90=_pct(words, 90),
        search_ms_p50=_pct(search, 50),
        search_ms_p95=_pct(search, 95),
        ask_ms_p50=_pct(ask, 50),
        ask_ms_p95=_pct(ask, 95),
        folds=folds,
        errors=sum(1 for o in outcomes if o.error),
    )


@dataclass(frozen=True)
class SystemResult:
    system: str
    test: Block
    cv: Block
    outcomes: tuple[CaseOutcome, ...]
    chunks: int = 0


def evaluate_system(
    factory: SystemFactory,
    cases: Sequence[EvalCase],
    runner: CaseRunner,
    *,
    folds: int = FOLDS,
    seed: int = SEED,
    reps: int = REPS,
) -> SystemResult:
    """The test split with the system fitted on the training cases, and grouped cross-validation over them."""
    train = [c for c in cases if split_of(c) == "train"]
    test = [c for c in cases if split_of(c) == "test"]
    fitted = factory.fit(train)
    test_out = [runner.outcome(fitted, c) for c in test]
    cv_out: list[CaseOutcome] = []
    made = 0
    if len({c.group for c in train}) >= 2:
        parts = grouped_folds([c.group for c in train], folds, seed)
        made = len(parts)
        for part in parts:
            held = {train[i].id for i in part}
            system = factory.fit([c for c in train if c.id not in held])
            cv_out += [runner.outcome(system, train[i]) for i in part]
    else:
        cv_out = [runner.outcome(fitted, c) for c in train]
    order = {c.id: i for i, c in enumerate(cases)}
    cv_out.sort(key=lambda o: order[o.id])
    return SystemResult(
        system=factory.name,
        test=summarise(test_out, reps=reps, seed=seed),
        cv=summarise(cv_out, folds=made, reps=reps, seed=seed),
        outcomes=tuple(test_out + cv_out),
    )


@dataclass(frozen=True)
class SetResult:
    """Every system on one set of cases."""

    name: str
    description: str
    cases: int
    test_cases: int
    systems: tuple[SystemResult, ...]
    notes: tuple[str, ...] = ()

    def system(self, name: str) -> SystemResult | None:
        return next((s for s in self.systems if s.system == name), None)


@dataclass(frozen=True)
class SuiteRun:
    created: str
    machine: str
    command: str
    seconds: float
    sets: tuple[SetResult, ...]
    skipped: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)
    format: int = 2

    def set(self, name: str) -> SetResult | None:
        return next((s for s in self.sets if s.name == name), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)


def machine() -> str:
    """The machine in words: CPU, cores, load at start."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        load = f", belastning {os.getloadavg()[0]:.1f} vid start"
    except OSError:
        load = ""
    return f"{cpu}, {os.cpu_count()} kärnor, ingen GPU{load}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def elapsed_since(started: float) -> float:
    return round(time.perf_counter() - started, 1)


# --- Markdown -----------------------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def figure_text(f: Figure) -> str:
    """ "0.781 [0.702–0.850]"."""
    if f.value is None:
        return "–"
    if f.low is None or f.high is None:
        return _num(f.value)
    return f"{f.value:.3f} [{f.low:.2f}–{f.high:.2f}]"


def headline_table(result: SetResult, block: str) -> str:
    """Systems side by side: every headline figure with its interval, then lengths and latencies."""
    head = ["system", "fall"] + [LABELS[m] for m in HEADLINE] + ["ord p50/p90", "sök ms p50/p95", "fråga ms p50/p95"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for s in result.systems:
        b: Block = getattr(s, block)
        cells = [s.system, str(b.cases)] + [figure_text(b.figures[m]) for m in HEADLINE]
        cells += [
            f"{_num(b.answer_words_p50, 0)} / {_num(b.answer_words_p90, 0)}",
            f"{_num(b.search_ms_p50, 0)} / {_num(b.search_ms_p95, 0)}",
            f"{_num(b.ask_ms_p50, 0)} / {_num(b.ask_ms_p95, 0)}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def category_table(result: SetResult, block: str, metrics: Sequence[str] = HEADLINE) -> str:
    """Per category (rows) and system: the measures, without intervals."""
    head = ["kategori", "fall", "system"] + [LABELS[m] for m in metrics]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    categories = sorted({c for s in result.systems for c in getattr(s, block).by_category})
    for category in categories:
        for s in result.systems:
            row = getattr(s, block).by_category.get(category)
            if row is None:
                continue
            cells = [category, str(int(row["cases"] or 0)), s.system] + [_num(row.get(m)) for m in metrics]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def twin_agreement(outcomes: Sequence[CaseOutcome]) -> tuple[int, int]:
    """English twins: (pairs whose all-facts outcome equals their Swedish case's, pairs)."""
    by_id = {o.id: o for o in outcomes}
    pairs = [(o, by_id[o.twin_of]) for o in outcomes if o.twin_of and o.twin_of in by_id]
    return sum(1 for en, sv in pairs if en.all_facts == sv.all_facts and en.status == sv.status), len(pairs)


def applicable(result: SetResult) -> list[str]:
    """The headline measures that apply to some case of the set."""
    return [m for m in HEADLINE if any(getattr(s, b).figures[m].n for s in result.systems for b in ("test", "cv"))]


def markdown(run: SuiteRun) -> str:
    parts = [
        "# Utvärdering av Arkiv",
        "",
        f"{run.created} · {run.machine} · {run.seconds / 60:.1f} min",
        "",
        f"`{run.command}`",
    ]
    for result in run.sets:
        parts += ["", f"## {result.name}: {result.description}", ""]
        parts += [f"{result.cases} fall, varav {result.test_cases} i testdelen."] + [f"{n}" for n in result.notes]
        parts += ["", "### Testdelen (95 % bootstrap-intervall, dokument dragna hela)", ""]
        parts.append(headline_table(result, "test"))
        folds = max((s.cv.folds for s in result.systems), default=0)
        parts += ["", f"### Korsvalidering på träningsdelen ({folds} delar, grupperade per dokument)", ""]
        parts.append(headline_table(result, "cv"))
        if any(s.system == "current" for s in result.systems):
            parts += [
                "",
                "current: its learned models (reranker, answer selector, not-found gate) were trained on the whole "
                "training split of the corpus set, so its row here is in-sample; the test split is its "
                "out-of-sample figure (their own grouped cross-validation is in `arkiv train`'s report).",
            ]
        parts += ["", "### Per kategori, testdelen", ""]
        parts.append(category_table(result, "test", applicable(result)))
        twins = [(s.system, *twin_agreement(s.outcomes)) for s in result.systems]
        if any(n for _, _, n in twins):
            agree = ", ".join(f"{name} {same} av {n}" for name, same, n in twins)
            parts += [
                "",
                f"Engelska tvillingar som får samma utfall (svar/avböjt, alla fakta) som sin svenska fråga: {agree}.",
            ]
        errors = sum(s.test.errors + s.cv.errors for s in result.systems)
        if errors:
            parts += ["", f"{errors} fall gav fel (se run.json)."]
    if run.skipped:
        parts += ["", "## Hoppade över", ""] + [f"- {s}" for s in run.skipped]
    return "\n".join(parts) + "\n"


# --- the sets and the run -----------------------------------------------------------------------------------


def negative_cases(negatives: Sequence[Negative]) -> list[EvalCase]:
    """Benchmark questions the archive should decline, as unanswerable cases: those from a benchmark's test
    set in the test split, the rest (its dev set) in train; each question its own group."""
    return [
        EvalCase(
            id=n.id,
            question=n.question,
            language="sv",
            category="unanswerable",
            user_group="staff",
            answerable=False,
            evidence=(),
            must_contain=(),
            reference_answer="Arkivet innehåller inget om det.",
            split="test" if "_test" in n.benchmark else "train",
            group_id=n.id,
        )
        for n in negatives
    ]


@dataclass(frozen=True)
class CaseList:
    name: str
    description: str
    cases: tuple[EvalCase, ...]


@dataclass(frozen=True)
class Corpus:
    """Inputs indexed once per system, and the case lists asked against that index."""

    label: str
    inputs: tuple[Any, ...]
    lists: tuple[CaseList, ...]


def run_suite(
    corpora: Sequence[Corpus],
    systems: Sequence[str],
    cache: Any,
    *,
    ocr_cache: Any = None,
    command: str = "arkiv eval",
    skipped: Sequence[str] = (),
    folds: int = FOLDS,
    reps: int = REPS,
    progress: Callable[[str], None] | None = None,
) -> SuiteRun:
    """Index each corpus for every system, then evaluate every system on each of its case lists."""
    from evaluation.systems import OpenSystems, WorkerSystem

    started = time.perf_counter()
    host = machine()
    sets: list[SetResult] = []
    for corpus in corpora:
        if progress:
            progress(f"{corpus.label}: index för {', '.join(systems)}")
        opened = OpenSystems(systems, corpus.label, corpus.inputs, cache, ocr_cache)
        try:
            for cases in corpus.lists:
                runner = CaseRunner(cases.cases, progress)
                if progress:
                    names = ", ".join(f.name for f in opened.factories)
                    progress(f"{cases.name}: {len(cases.cases)} fall genom {names}")
                # A release works in its own process: it runs side by side with the in-process systems (which
                # run one after the other, sharing this process's store), so a run takes about as long as the
                # slowest of them; latencies are then measured while the other process works too.
                lanes: list[list[SystemFactory]] = [[]]
                for f in opened.factories:
                    if isinstance(f, WorkerSystem):
                        lanes.append([f])
                    else:
                        lanes[0].append(f)

                def lane(
                    factories: list[SystemFactory], cases: CaseList = cases, runner: CaseRunner = runner
                ) -> list[SystemResult]:
                    return [evaluate_system(f, cases.cases, runner, folds=folds, reps=reps) for f in factories]

                with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
                    done = {r.system: r for future in [pool.submit(lane, fs) for fs in lanes] for r in future.result()}
                results = [
                    dataclasses.replace(done[f.name], chunks=opened.chunks.get(f.name, 0)) for f in opened.factories
                ]
                sets.append(
                    SetResult(
                        name=cases.name,
                        description=cases.description,
                        cases=len(cases.cases),
                        test_cases=sum(1 for c in cases.cases if split_of(c) == "test"),
                        systems=tuple(results),
                        notes=(f"Index: {', '.join(f'{k} {v} chunkar' for k, v in opened.chunks.items())}.",),
                    )
                )
        finally:
            opened.close()
    return SuiteRun(
        created=now(),
        machine=host,
        command=command,
        seconds=elapsed_since(started),
        sets=tuple(sets),
        skipped=tuple(skipped),
    )


README_MEASURES = (
    "recall_at_5",
    "mrr_at_10",
    "facts_at_10",
    "all_facts",
    "key_facts",
    "citation_support",
    "abstention",
    "false_not_found",
)


def results_table(run: SuiteRun) -> str:
    """The README's table: per set, the systems side by side on the test split, with intervals."""
    head = ["set (testfall)", "system"] + [LABELS[m] for m in README_MEASURES] + ["ord p50", "fråga ms p50/p95"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for result in run.sets:
        for s in result.systems:
            b = s.test
            cells = [f"{result.name} ({b.cases})", s.system] + [figure_text(b.figures[m]) for m in README_MEASURES]
            cells += [_num(b.answer_words_p50, 0), f"{_num(b.ask_ms_p50, 0)} / {_num(b.ask_ms_p95, 0)}"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
