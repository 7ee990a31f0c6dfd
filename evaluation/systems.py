"""The systems an evaluation compares, each with its own search and ask, fitted per fold.

- `current`: this checkout's Assistant, in-process.
- `naive`: a plain baseline over the same index: reciprocal rank fusion (k 60) of plain BM25 (bm25s, no
  stemming) and dense search over the chunks, and as the answer the first sentence of the top hit, citing it.
  It never declines unless nothing at all is found. Run without `current`, it gets an index of its own
  from the current indexer without vectors for answer units, which it does not use.
- a release, e.g. `v0.1.0`: that tag checked out in a git worktree under the evaluation cache, run in a
  subprocess with this virtualenv (evaluation/harness.py), with an index of its own.

A `SystemFactory` is fitted to training cases and gives a `System`: `fit(train_cases) -> system`. Cross-
validation fits once per fold, so that a learned component (a reranker, an answer selector, a threshold)
is fitted on the fold's training cases and never on the cases it is scored on. A system with nothing to
fit returns the same system for every fold, and the runner then asks each question once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from evaluation.baselines import Bm25PlainConfig, StoreConfig, assistant_filters, search_filter_for
from evaluation.dataset import EvalCase, EvalFilters
from evaluation.errors import EvaluationError
from evaluation.harness import prepare_index
from evaluation.relevance import Passage, heading_of, passage_from_chunk
from indexer.store import RRF_K

logger = logging.getLogger(__name__)

HARNESS = Path(__file__).resolve().parent / "harness.py"
REPO = Path(__file__).resolve().parents[1]
NAIVE_POOL = 50
"""Candidates each of BM25 and dense ranks before the naive baseline fuses them."""
RELEASE_PREFIX = "v"
"""A system name that starts so (v0.1.0) names a release tag."""
RELEASES = {"v0.1.0": "69c066ac367b147d770e382f76c6f5eb41fb7bf4"}
"""The commit of each release, for a clone that was made without its tags (a tag found in the repository wins)."""


@dataclass(frozen=True)
class Searched:
    passages: tuple[Passage, ...]
    ms: float


@dataclass(frozen=True)
class Asked:
    status: str
    text: str
    citations: tuple[Passage, ...]
    ms: float
    query: str = ""


class System(Protocol):
    name: str

    def search(self, query: str, k: int, filters: EvalFilters | None) -> Searched: ...

    def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> Asked: ...


class SystemFactory(Protocol):
    name: str

    def fit(self, train: Sequence[EvalCase]) -> System: ...


# --- current ------------------------------------------------------------------------------------------------


class AssistantSystem:
    """An Assistant (assistant.service) called in-process."""

    def __init__(self, name: str, assistant: Any) -> None:
        self.name = name
        self._assistant = assistant

    def search(self, query: str, k: int, filters: EvalFilters | None) -> Searched:
        started = time.perf_counter()
        hits = self._assistant.search(query, k, assistant_filters(filters))
        ms = (time.perf_counter() - started) * 1000
        return Searched(tuple(passage_from_chunk(h.chunk) for h in hits), ms)

    def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> Asked:
        started = time.perf_counter()
        answer = self._assistant.ask(question, list(history), assistant_filters(filters))
        ms = (time.perf_counter() - started) * 1000
        cited = tuple(passage_from_chunk(c.hit.chunk) for c in answer.citations)
        return Asked(str(answer.status), answer.text, cited, ms, getattr(answer, "query", ""))


class CurrentFactory:
    """This checkout's assistant, with the models that ship in the package. Those were trained (`arkiv train`)
    on the gold set's whole training split, so every fold gets the same system and its cross-validated row is
    in-sample (the report says so); the test split is never used by training."""

    def __init__(self, assistant: Any, name: str = "current") -> None:
        self.name = name
        self._system = AssistantSystem(name, assistant)

    def fit(self, train: Sequence[EvalCase]) -> System:
        return self._system


# --- naive --------------------------------------------------------------------------------------------------


class NaiveSystem:
    """RRF of plain BM25 and dense; the first sentence of the top hit as the answer."""

    name = "naive"

    def __init__(self, store: Any, embedder: Any, sparse: Any) -> None:
        def allowed(filters: EvalFilters) -> list[str]:
            return [c.chunk_id for c in store.scroll(search_filter_for(filters), limit=10_000_000)]

        self._bm25 = Bm25PlainConfig(store.scroll(limit=10_000_000), allowed=allowed)
        self._dense = StoreConfig("dense", store, embedder, sparse)

    def _search(self, query: str, k: int, filters: EvalFilters | None) -> list[Passage]:
        fused: dict[str, float] = {}
        found: dict[str, Passage] = {}
        for ranking in (self._bm25.search(query, NAIVE_POOL, filters), self._dense.search(query, NAIVE_POOL, filters)):
            for rank, p in enumerate(ranking, start=1):
                fused[p.key] = fused.get(p.key, 0.0) + 1.0 / (RRF_K + rank)
                found[p.key] = p
        order = sorted(fused, key=lambda key: (-round(fused[key], 9), key))
        return [found[key] for key in order[:k]]

    def search(self, query: str, k: int, filters: EvalFilters | None) -> Searched:
        started = time.perf_counter()
        passages = self._search(query, k, filters)
        return Searched(tuple(passages), (time.perf_counter() - started) * 1000)

    def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> Asked:
        started = time.perf_counter()
        query = " ".join([c for r, c in history if r == "user"] + [question])
        passages = self._search(query, 1, filters)
        if not passages:
            return Asked("not_found", "", (), (time.perf_counter() - started) * 1000, query)
        top = passages[0]
        text = f"{first_sentence(top.text)} [1]"
        return Asked("answered", text, (top,), (time.perf_counter() - started) * 1000, query)

    def fit(self, train: Sequence[EvalCase]) -> System:
        return self


def first_sentence(text: str) -> str:
    """The first sentence of a passage, as the indexer's Swedish splitter cuts it."""
    from indexer.sentences import split_sentences

    sentences = [s for s in split_sentences(text) if s.strip()]
    return sentences[0].strip() if sentences else text.strip()


# --- a release in a worktree --------------------------------------------------------------------------------


def ensure_release(tag: str, cache: Path, repo: Path = REPO) -> Path:
    """A git worktree of `tag` (or, without the tag, its commit in `RELEASES`) under the cache (created once,
    detached, left alone afterwards)."""
    target = cache / "releases" / tag
    try:
        want = _git(repo, "rev-parse", f"{tag}^{{commit}}")
    except EvaluationError as ex:
        if tag not in RELEASES:
            raise EvaluationError(f"no release {tag!r} in {repo}: {ex}") from ex
        try:
            want = _git(repo, "rev-parse", f"{RELEASES[tag]}^{{commit}}")
        except EvaluationError as missing:
            raise EvaluationError(f"release {tag!r} ({RELEASES[tag][:12]}) is not in {repo}: {missing}") from missing
    if target.is_dir():
        have = _git(target, "rev-parse", "HEAD")
        if have != want:
            raise EvaluationError(f"{target} holds {have[:12]}, not {tag} ({want[:12]}): remove it")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _git(repo, "worktree", "prune")
    _git(repo, "worktree", "add", "--detach", str(target), want)
    return target


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as ex:
        raise EvaluationError(f"git {' '.join(args)}: {ex}") from ex
    if done.returncode != 0:
        raise EvaluationError(f"git {' '.join(args)}: {done.stderr.strip()[:300]}")
    return done.stdout.strip()


def _passage(item: dict[str, Any]) -> Passage:
    return Passage(
        key=str(item["key"]),
        doc_id=str(item["doc_id"]),
        source=str(item["source"]),
        page_start=int(item["page_start"]),
        page_end=int(item["page_end"]),
        text=str(item["text"]),
        heading=heading_of(item.get("paragraph"), item.get("section")),
    )


class WorkerSystem:
    """Another checkout of Arkiv in a subprocess (evaluation/harness.py), indexing its own copy of the inputs.

    Timings are taken in the worker around the assistant's call, as they are in-process.
    """

    def __init__(self, name: str, root: Path, label: str, inputs: Sequence[Path], cache: Path, ocr_cache: Path) -> None:
        self.name = name
        env = dict(os.environ, PYTHONPATH=str(root))
        cmd = [sys.executable, str(HARNESS), "--root", str(root), "--label", label, "--cache", str(cache)]
        cmd += ["--ocr-cache", str(ocr_cache)]
        for path in inputs:
            cmd += ["--path", str(path)]
        self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8", cwd=root, env=env
        )
        self.chunks = 0

    def wait_ready(self) -> WorkerSystem:
        """Wait until the worker has indexed its inputs (it starts indexing as soon as it is spawned)."""
        ready = self._read()
        self.chunks = int(ready.get("chunks", 0))
        logger.info("%s ready: %d chunks after %.0f s", self.name, self.chunks, float(ready.get("seconds", 0.0)))
        return self

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait()
            raise EvaluationError(f"{self.name}: the worker stopped (exit {code}); see its log above")
        data: dict[str, Any] = json.loads(line)
        if not data.get("ok"):
            raise EvaluationError(f"{self.name}: {data.get('error')}")
        return data

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        self._proc.stdin.flush()
        return self._read()

    @staticmethod
    def _filters(filters: EvalFilters | None) -> dict[str, Any] | None:
        f = assistant_filters(filters)
        return f.to_dict() if f is not None and not f.is_empty() else None

    def search(self, query: str, k: int, filters: EvalFilters | None) -> Searched:
        got = self._call({"op": "search", "query": query, "k": k, "filters": self._filters(filters)})
        return Searched(tuple(_passage(p) for p in got["passages"]), float(got["ms"]))

    def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> Asked:
        request = {"op": "ask", "question": question, "history": list(history), "filters": self._filters(filters)}
        got = self._call(request)
        cited = tuple(_passage(p) for p in got["citations"])
        return Asked(str(got["status"]), str(got["text"]), cited, float(got["ms"]), str(got.get("query") or ""))

    def fit(self, train: Sequence[EvalCase]) -> System:
        return self

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


# --- opening the systems over one corpus --------------------------------------------------------------------


class OpenSystems:
    """The named systems over one set of inputs, each with its index; close() releases them."""

    def __init__(
        self, names: Sequence[str], label: str, inputs: Sequence[Path], cache: Path, ocr_cache: Path | None = None
    ) -> None:
        from evaluation.dataset import OCR_CACHE_DIR

        ocr_cache = ocr_cache or OCR_CACHE_DIR
        self.factories: list[SystemFactory] = []
        self.chunks: dict[str, int] = {}
        self._closers: list[Any] = []
        try:
            workers: list[WorkerSystem] = []
            for name in names:  # spawned first: they index while this process indexes for current and naive
                if name.startswith(RELEASE_PREFIX):
                    root = ensure_release(name, cache)
                    worker = WorkerSystem(name, root, f"{name}-{label}", inputs, cache, ocr_cache)
                    self._closers.append(worker.close)
                    workers.append(worker)
                elif name not in ("current", "naive"):
                    raise EvaluationError(f"unknown system {name!r}: current, naive or a release tag (v0.1.0)")
            if any(n in ("current", "naive") for n in names):
                self._open_current(names, label, inputs, cache, ocr_cache)
            for worker in workers:
                self.chunks[worker.name] = worker.wait_ready().chunks
                self.factories.append(worker)
        except BaseException:
            self.close()
            raise
        order = {n: i for i, n in enumerate(names)}
        self.factories.sort(key=lambda f: order[f.name])

    def _open_current(
        self, names: Sequence[str], label: str, inputs: Sequence[Path], cache: Path, ocr_cache: Path
    ) -> None:
        from assistant.service import build_assistant
        from assistant.settings import AssistantSettings
        from indexer.cli import build_indexer

        def chunks_only(settings: Any) -> Any:
            """The naive baseline alone searches chunks only: no vectors for answer units (a cheaper index)."""
            indexer = build_indexer(settings)
            if hasattr(indexer.options, "unit_dense"):
                indexer.options = dataclasses.replace(indexer.options, unit_dense=False)
            return indexer

        alone = "current" not in names
        settings, indexer, raw = prepare_index(
            f"{'naive' if alone else 'current'}-{label}",
            REPO,
            inputs,
            cache,
            ocr_cache=ocr_cache,
            settings_cls=AssistantSettings,
            build_indexer=chunks_only if alone else build_indexer,
        )
        self._closers.append(indexer.store.close)
        chunks = indexer.store.count()
        if "current" in names:
            assistant = build_assistant(settings, store=indexer.store, embedder=raw)
            self.factories.append(CurrentFactory(assistant))
            self.chunks["current"] = chunks
        if "naive" in names:
            self.factories.append(NaiveSystem(indexer.store, raw, indexer.sparse))
            self.chunks["naive"] = chunks

    def close(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            try:
                closer()
            except Exception as ex:  # noqa: BLE001 - closing the rest matters more; logged
                logger.warning("closing an evaluation system failed: %s", ex)
