"""Running the gold set: retrieval measures per configuration, answer measures for the assistant, latency.

Retrieval is measured on the answerable cases with evidence (evaluation/relevance.py decides what is
relevant). Every configuration gets the same query: the question, and for a follow-up the first question
followed by the follow-up, since a plain retriever has no conversation. The assistant's `ask` gets the real
conversation: a follow-up is asked with the first question and the assistant's answer to it as history.

Answer measures (None where no case applies):
- key-fact accuracy: per answerable case, the share of its `must_contain` facts the answer text states
  (`contains_fact`), averaged; `all_facts` is the share of cases stating all of them;
- citation support: of the answerable cases answered, the share whose cited passages hold an evidence quote;
- citation precision: of their citations, the share that hold an evidence quote;
- abstention: of the unanswerable cases, the share answered not_found;
- false not-found: of the answerable cases, the share answered not_found.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import pydantic

from assistant.types import Answer, Filters, Hit
from evaluation.baselines import ALL_CONFIGS, FAST_CONFIGS, SearchConfig, assistant_filters, gold_configs
from evaluation.dataset import EvalCase, EvalFilters, contains_fact, resolve_conversations
from evaluation.errors import EvaluationError, RunFileError, ServerError
from evaluation.metrics import fact_share, hit_at_k, mean, ndcg_at_k, percentile, recall_at_k, reciprocal_rank, share
from evaluation.relevance import Passage, case_qrels, heading_of, is_relevant, passage_from_chunk, ranking

if TYPE_CHECKING:
    from assistant.settings import AssistantSettings

logger = logging.getLogger(__name__)

K = 10
FAST_PER_CATEGORY = 3
RUN_FORMAT = 1


# --- what a run produces ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievalScores:
    """Retrieval measures averaged over a group of cases."""

    cases: int
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    hit_at_5: float
    mrr_at_10: float
    ndcg_at_10: float


@dataclass(frozen=True)
class CategoryRetrieval:
    category: str
    scores: RetrievalScores


@dataclass(frozen=True)
class ConfigResult:
    """One retrieval configuration on the gold set."""

    config: str
    overall: RetrievalScores
    by_category: tuple[CategoryRetrieval, ...]
    search_ms_p50: float
    search_ms_p95: float


@dataclass(frozen=True)
class AnswerScores:
    answerable: int
    unanswerable: int
    key_fact_accuracy: float | None
    all_facts: float | None
    citation_support: float | None
    citation_precision: float | None
    abstention: float | None
    false_not_found: float | None


@dataclass(frozen=True)
class CategoryAnswers:
    category: str
    scores: AnswerScores


@dataclass(frozen=True)
class Latency:
    """Wall-clock milliseconds per call of the assistant's search and ask."""

    search_ms: tuple[float, ...] = ()
    ask_ms: tuple[float, ...] = ()

    @property
    def search_p50(self) -> float:
        return percentile(self.search_ms, 50)

    @property
    def search_p95(self) -> float:
        return percentile(self.search_ms, 95)

    @property
    def ask_p50(self) -> float:
        return percentile(self.ask_ms, 50)

    @property
    def ask_p95(self) -> float:
        return percentile(self.ask_ms, 95)


@dataclass(frozen=True)
class CaseConfigResult:
    config: str
    first_relevant: int | None
    """1-based rank of the first relevant passage within the top K, or None."""
    recall_at_5: float


@dataclass(frozen=True)
class CaseResult:
    """What happened to one gold case, for reading failures one by one."""

    id: str
    category: str
    answerable: bool
    query: str
    retrieval: tuple[CaseConfigResult, ...] = ()
    status: str | None = None
    facts_missing: tuple[str, ...] = ()
    facts_total: int = 0
    citations: int = 0
    citations_relevant: int = 0
    ask_ms: float | None = None
    answer: str | None = None


@dataclass(frozen=True)
class RunInfo:
    """How the run was made."""

    created: str
    target: str
    """"in-process" or the server URL."""
    cases: int
    fast: bool
    model_id: str = ""
    chunks: int = 0
    k: int = K
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalRun:
    info: RunInfo
    configs: tuple[ConfigResult, ...]
    answers: AnswerScores | None
    answers_by_category: tuple[CategoryAnswers, ...]
    latency: Latency
    cases: tuple[CaseResult, ...]
    format: int = RUN_FORMAT

    def config(self, name: str) -> ConfigResult | None:
        return next((c for c in self.configs if c.config == name), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> EvalRun:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as ex:
            raise RunFileError(f"not JSON: {ex}") from ex
        if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
            raise RunFileError(f"not an evaluation run of format {RUN_FORMAT}")
        try:
            return _RUN.validate_python(data)
        except pydantic.ValidationError as ex:
            raise RunFileError(f"malformed evaluation run: {ex}") from ex


_RUN = pydantic.TypeAdapter(EvalRun)
"""Decodes a run from its `asdict` form, nested dataclasses, tuples and optionals included."""


# --- backends -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AskResult:
    status: str
    text: str
    citations: tuple[Passage, ...]
    query: str = ""


class AskBackend(Protocol):
    def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> AskResult: ...


class AssistantLike(Protocol):
    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]: ...

    def ask(self, question: str, history: Sequence[tuple[str, str]] = (), filters: Filters | None = None) -> Answer: ...


class InProcessAsker:
    """The assistant's ask, called directly."""

    def __init__(self, assistant: AssistantLike) -> None:
        self._assistant = assistant

    def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> AskResult:
        answer = self._assistant.ask(question, history, assistant_filters(filters))
        cited = tuple(passage_from_chunk(c.hit.chunk) for c in answer.citations)
        return AskResult(answer.status, answer.text, cited, answer.query)


class HttpAssistant:
    """A running Arkiv server: POST /api/search and /api/ask. Both a search configuration and an ask backend."""

    name = "arkiv"

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        self._url = url.rstrip("/")
        self._timeout = timeout

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self._url + path,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                data = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as ex:
            detail = ex.read().decode("utf-8", "replace")[:300]
            raise ServerError(f"{self._url}{path}: HTTP {ex.code}: {detail}") from ex
        except (urllib.error.URLError, TimeoutError, OSError) as ex:
            raise ServerError(f"{self._url}{path}: {ex}") from ex
        except json.JSONDecodeError as ex:
            raise ServerError(f"{self._url}{path}: the answer is not JSON") from ex
        if not isinstance(data, dict):
            raise ServerError(f"{self._url}{path}: unexpected answer")
        return data

    @staticmethod
    def _filters(filters: EvalFilters | None) -> dict[str, Any] | None:
        f = assistant_filters(filters)
        return f.to_dict() if f is not None and not f.is_empty() else None

    @staticmethod
    def _passage(item: dict[str, Any]) -> Passage:
        doc = item.get("document") or {}
        doc_id = str(doc.get("id") or "")
        key = str(item.get("chunk_id") or f"{doc_id}:{item.get('page_start')}:{item.get('rank', item.get('n'))}")
        return Passage(
            key=key,
            doc_id=doc_id,
            source=str(doc.get("source") or ""),
            page_start=int(item.get("page_start") or 0),
            page_end=int(item.get("page_end") or item.get("page_start") or 0),
            text=str(item.get("text") or ""),
            heading=heading_of(item.get("paragraph"), item.get("section")),
        )

    def search(self, query: str, k: int, filters: EvalFilters | None = None) -> list[Passage]:
        body: dict[str, Any] = {"query": query, "k": k}
        if (f := self._filters(filters)) is not None:
            body["filters"] = f
        hits = self._post("/api/search", body).get("hits")
        if not isinstance(hits, list):
            raise ServerError(f"{self._url}/api/search: no hits in the answer")
        return [self._passage(h) for h in hits[:k]]

    def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> AskResult:
        body: dict[str, Any] = {"question": question, "history": [{"role": r, "content": c} for r, c in history]}
        if (f := self._filters(filters)) is not None:
            body["filters"] = f
        data = self._post("/api/ask", body)
        if "status" not in data:
            raise ServerError(f"{self._url}/api/ask: no status in the answer")
        cited = tuple(self._passage(c) for c in data.get("citations") or [])
        return AskResult(str(data["status"]), str(data.get("answer") or ""), cited, str(data.get("query") or ""))


# --- choosing cases -----------------------------------------------------------------------------------------


def with_parents(chosen: Iterable[EvalCase], cases: Sequence[EvalCase]) -> list[EvalCase]:
    """The chosen cases plus the first questions their follow-ups need, in gold-set order."""
    by_id = {c.id: c for c in cases}
    keep = {c.id for c in chosen}
    for cid in list(keep):
        parent = by_id[cid].follow_up_of
        while parent is not None and parent in by_id:
            keep.add(parent)
            parent = by_id[parent].follow_up_of
    return [c for c in cases if c.id in keep]


def fast_subset(cases: Sequence[EvalCase], per_category: int = FAST_PER_CATEGORY) -> list[EvalCase]:
    """The first `per_category` cases of every category, in gold-set order, with the first questions their
    follow-ups need (so about 3 x 9 = 27 cases)."""
    taken: dict[str, int] = {}
    chosen: list[EvalCase] = []
    for c in cases:
        if taken.get(c.category, 0) < per_category:
            taken[c.category] = taken.get(c.category, 0) + 1
            chosen.append(c)
    return with_parents(chosen, cases)


# --- the run ------------------------------------------------------------------------------------------------


def conversation_so_far(case: EvalCase, answers: dict[str, str]) -> list[tuple[str, str]]:
    """Every earlier turn of the case's conversation, oldest first, each question with the answer the system
    under test gave it (a turn written into the case, not a case itself, keeps its written answer)."""
    history: list[tuple[str, str]] = []
    for turn in case.history:
        given = answers.get(turn.case_id, "") if turn.case_id else (turn.answer or "")
        history += [("user", turn.question), ("assistant", given)]
    return history


def retrieval_query(case: EvalCase) -> str:
    """The query every configuration gets for a case: a follow-up's with the questions of its conversation."""
    return " ".join([*(turn.question for turn in case.history), case.question])


def _retrieval_scores(rows: Sequence[tuple[list[frozenset[str]], dict[str, float]]]) -> RetrievalScores:
    return RetrievalScores(
        cases=len(rows),
        recall_at_1=mean(recall_at_k(r, q, 1) for r, q in rows),
        recall_at_5=mean(recall_at_k(r, q, 5) for r, q in rows),
        recall_at_10=mean(recall_at_k(r, q, 10) for r, q in rows),
        hit_at_5=mean(hit_at_k(r, q, 5) for r, q in rows),
        mrr_at_10=mean(reciprocal_rank(r, q, 10) for r, q in rows),
        ndcg_at_10=mean(ndcg_at_k(r, q, 10) for r, q in rows),
    )


def _answer_scores(results: Sequence[tuple[EvalCase, CaseResult]]) -> AnswerScores:
    answerable = [(c, r) for c, r in results if c.answerable and c.evidence]
    unanswerable = [(c, r) for c, r in results if not c.answerable]
    answered = [(c, r) for c, r in answerable if r.status == "answered"]
    return AnswerScores(
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        key_fact_accuracy=mean(
            fact_share([True] * (r.facts_total - len(r.facts_missing)) + [False] * len(r.facts_missing))
            for _, r in answerable
        )
        if answerable
        else None,
        all_facts=share(not r.facts_missing for _, r in answerable),
        citation_support=share(r.citations_relevant > 0 for _, r in answered),
        citation_precision=(
            sum(r.citations_relevant for _, r in answered) / total
            if (total := sum(r.citations for _, r in answered))
            else None
        ),
        abstention=share(r.status == "not_found" for _, r in unanswerable),
        false_not_found=share(r.status == "not_found" for _, r in answerable),
    )


def run_eval(
    cases: Sequence[EvalCase],
    configs: Sequence[SearchConfig],
    asker: AskBackend | None = None,
    *,
    info: RunInfo | None = None,
    k: int = K,
    progress: Callable[[int, int, str], None] | None = None,
) -> EvalRun:
    """Run the cases through every configuration and, with an ask backend, the assistant's ask."""
    cases = resolve_conversations(cases)
    retrievable = [c for c in cases if c.answerable and c.evidence]
    per_config: list[ConfigResult] = []
    case_rows: dict[str, list[CaseConfigResult]] = {c.id: [] for c in cases}
    search_ms: tuple[float, ...] = ()
    step, steps = 0, len(configs) + (1 if asker is not None else 0)
    for config in configs:
        step += 1
        if progress:
            progress(step, steps, config.name)
        rows: list[tuple[list[frozenset[str]], dict[str, float]]] = []
        categories: dict[str, list[tuple[list[frozenset[str]], dict[str, float]]]] = {}
        timings: list[float] = []
        for case in retrievable:
            started = time.perf_counter()
            found = config.search(retrieval_query(case), k, case.filters)
            timings.append((time.perf_counter() - started) * 1000)
            ranked = ranking(found[:k], case)
            qrels = case_qrels(case)
            rows.append((ranked, qrels))
            categories.setdefault(case.category, []).append((ranked, qrels))
            first = next((i for i, labels in enumerate(ranked, 1) if labels), None)
            case_rows[case.id].append(CaseConfigResult(config.name, first, recall_at_k(ranked, qrels, 5)))
        per_config.append(
            ConfigResult(
                config=config.name,
                overall=_retrieval_scores(rows),
                by_category=tuple(
                    CategoryRetrieval(cat, _retrieval_scores(r)) for cat, r in sorted(categories.items())
                ),
                search_ms_p50=percentile(timings, 50),
                search_ms_p95=percentile(timings, 95),
            )
        )
        if config.name == "arkiv":
            search_ms = tuple(round(t, 2) for t in timings)
        logger.info("eval %s: recall@5 %.3f", config.name, per_config[-1].overall.recall_at_5)

    results: list[tuple[EvalCase, CaseResult]] = []
    ask_ms: list[float] = []
    answers_text: dict[str, str] = {}
    if asker is not None:
        step += 1
        if progress:
            progress(step, steps, "ask")
    for case in cases:
        base = CaseResult(case.id, case.category, case.answerable, retrieval_query(case), tuple(case_rows[case.id]))
        if asker is None:
            results.append((case, base))
            continue
        history = conversation_so_far(case, answers_text)
        started = time.perf_counter()
        result = asker.ask(case.question, history, case.filters)
        elapsed = (time.perf_counter() - started) * 1000
        ask_ms.append(round(elapsed, 2))
        answers_text[case.id] = result.text
        answered = result.status == "answered"
        missing = tuple(f for f in case.must_contain if not (answered and contains_fact(result.text, f)))
        relevant = sum(1 for p in result.citations if is_relevant(p, case)) if case.evidence else 0
        results.append(
            (
                case,
                CaseResult(
                    id=case.id,
                    category=case.category,
                    answerable=case.answerable,
                    query=result.query or base.query,
                    retrieval=base.retrieval,
                    status=result.status,
                    facts_missing=missing,
                    facts_total=len(case.must_contain),
                    citations=len(result.citations),
                    citations_relevant=relevant,
                    ask_ms=round(elapsed, 2),
                    answer=result.text,
                ),
            )
        )

    answers = _answer_scores(results) if asker is not None else None
    by_cat: list[CategoryAnswers] = []
    if asker is not None:
        groups: dict[str, list[tuple[EvalCase, CaseResult]]] = {}
        for case, r in results:
            groups.setdefault(case.category, []).append((case, r))
        by_cat = [CategoryAnswers(cat, _answer_scores(g)) for cat, g in sorted(groups.items())]
    run_info = info or RunInfo(created=now(), target="in-process", cases=len(cases), fast=False)
    return EvalRun(
        info=run_info,
        configs=tuple(per_config),
        answers=answers,
        answers_by_category=tuple(by_cat),
        latency=Latency(search_ms, tuple(ask_ms)),
        cases=tuple(r for _, r in results),
    )


def machine_note() -> str:
    """The machine's load when a run starts: latencies on a busy machine are not comparable."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return f"{os.cpu_count()} kärnor."
    return f"Belastning vid start: {load:.1f} (medel 1 min) på {os.cpu_count()} kärnor."


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def evaluate_in_process(
    settings: AssistantSettings,
    cases: Sequence[EvalCase],
    names: Sequence[str] | None = None,
    *,
    ask: bool = True,
    update_index: bool = True,
    fast: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
    index_progress: Any = None,
    cached_vectors: bool = False,
) -> EvalRun:
    """Bring the index up to date with the corpus (only changes are embedded), then run the gold cases
    through the named configurations (default: all; with `fast`, those sharing the index) and the assistant.

    `cached_vectors` keeps passage vectors in ARKIV_DATA_DIR/cache, so that what the assistant embeds again
    at query time (candidates, for their cosine) is looked up: same results, much faster, but the measured
    latencies then understate production's.
    """
    from assistant.service import build_assistant
    from evaluation.harness import CachedEmbedder
    from indexer.cli import build_indexer

    indexer = build_indexer(settings)
    notes = [machine_note()]
    if cached_vectors:
        indexer.embedder = CachedEmbedder(indexer.embedder, settings.cache_dir)
        notes.append("Passagevektorer från cache: svarstiderna är lägre än i drift.")
    try:
        if update_index:
            indexer.run([settings.corpus_dir], progress=index_progress)
        chunks = indexer.store.count()
        if chunks == 0:
            raise EvaluationError(f"the index under {settings.data_dir} is empty: run `arkiv index` first")
        assistant = build_assistant(settings, store=indexer.store, embedder=indexer.embedder)
        configs = gold_configs(
            list(names or (FAST_CONFIGS if fast else ALL_CONFIGS)),
            store=indexer.store,
            embedder=indexer.embedder,
            sparse=indexer.sparse,
            catalog=indexer.catalog,
            searcher=assistant,
            cache_dir=settings.cache_dir,
            chunk_tokens=settings.chunk_tokens,
            chunk_overlap=settings.chunk_overlap,
        )
        info = RunInfo(
            created=now(),
            target="in-process",
            cases=len(cases),
            fast=fast,
            model_id=indexer.embedder.model_id,
            chunks=chunks,
            notes=tuple(notes),
        )
        return run_eval(cases, configs, InProcessAsker(assistant) if ask else None, info=info, progress=progress)
    finally:
        indexer.store.close()
