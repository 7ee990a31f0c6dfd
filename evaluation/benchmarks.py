"""Public Swedish retrieval benchmarks (BEIR layout) run through the same configurations as the gold set.

Each set in evaluation/benchmarks/<name>/ holds `corpus.jsonl` (`_id`, `title`, `text`), `queries.jsonl`
(`_id`, `text`) and `qrels.tsv` (query-id, corpus-id, score, with a header). Passages are indexed as
documents by Arkiv's own indexer (so a long passage becomes several chunks, as any document would); a
configuration's chunk ranking becomes a passage ranking by each passage's best chunk. Measures are the
BEIR ones: nDCG@10, recall@k and MRR@10 over the passages the qrels grade.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from evaluation.baselines import (
    ArkivConfig,
    Bm25PlainConfig,
    LlamaIndexConfig,
    SearchConfig,
    Searcher,
    SourceDocument,
    StoreConfig,
)
from evaluation.dataset import EvalFilters
from evaluation.errors import BenchmarkError
from evaluation.metrics import mean, ndcg_at_k, recall_at_k, reciprocal_rank, single
from evaluation.relevance import Passage
from indexer.catalog import Catalog
from indexer.embed import Embedder
from indexer.pipeline import Indexer, IndexOptions
from indexer.schema import Chunk, Document, DocumentMeta, Page
from indexer.sparse import SparseEncoder
from indexer.store import EdgeStore, Manifest, Store

logger = logging.getLogger(__name__)

BENCHMARK_DIR = Path(__file__).resolve().parent / "benchmarks"
SETS = (
    "swefaq_sl2_test_pooled",
    "swefaq_sl2_dev_pooled",
    "swequad_mc_test",
    "swequad_mc_dev",
    "swequad_mc_all",
)
"""The sets shipped in evaluation/benchmarks/, smallest first within each source."""
DEFAULT_SETS = ("swefaq_sl2_test_pooled", "swefaq_sl2_dev_pooled", "swequad_mc_test", "swequad_mc_all")
CHUNK_POOL = 50
"""Chunks each configuration returns per query; their passages, each once, make the ranking."""
K = 10


@dataclass(frozen=True)
class BeirPassage:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class BeirQuery:
    id: str
    text: str


@dataclass(frozen=True)
class BeirSet:
    name: str
    passages: tuple[BeirPassage, ...]
    queries: tuple[BeirQuery, ...]
    qrels: Mapping[str, Mapping[str, float]]
    """query id -> passage id -> grade."""

    def judged_queries(self) -> tuple[BeirQuery, ...]:
        """The queries with at least one relevant passage (BEIR scores only these)."""
        return tuple(q for q in self.queries if any(g > 0 for g in self.qrels.get(q.id, {}).values()))


def _jsonl(path: Path) -> Iterator[dict[str, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as ex:
        raise BenchmarkError(f"{path}: cannot read: {ex}") from ex
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as ex:
                raise BenchmarkError(f"{path}:{n}: not JSON: {ex}") from ex


def load_beir(folder: Path | str, name: str | None = None) -> BeirSet:
    """Read a BEIR folder. Raises BenchmarkError when a file is missing or malformed."""
    root = Path(folder)
    if not root.is_dir():
        raise BenchmarkError(f"{root}: no such benchmark folder")
    try:
        passages = tuple(
            BeirPassage(str(r["_id"]), r.get("title") or "", r["text"]) for r in _jsonl(root / "corpus.jsonl")
        )
        queries = tuple(BeirQuery(str(r["_id"]), r["text"]) for r in _jsonl(root / "queries.jsonl"))
    except KeyError as ex:
        raise BenchmarkError(f"{root}: a record lacks {ex}") from ex
    qrels: dict[str, dict[str, float]] = {}
    try:
        rows = (root / "qrels.tsv").read_text(encoding="utf-8").splitlines()
    except OSError as ex:
        raise BenchmarkError(f"{root / 'qrels.tsv'}: cannot read: {ex}") from ex
    for n, row in enumerate(rows, 1):
        cols = row.split("\t")
        if n == 1 and cols[0] == "query-id":
            continue
        if len(cols) != 3:
            raise BenchmarkError(f"{root / 'qrels.tsv'}:{n}: want 3 tab-separated columns")
        try:
            qrels.setdefault(cols[0], {})[cols[1]] = float(cols[2])
        except ValueError as ex:
            raise BenchmarkError(f"{root / 'qrels.tsv'}:{n}: score is not a number") from ex
    known = {p.id for p in passages}
    missing = {pid for judged in qrels.values() for pid in judged} - known
    if missing:
        raise BenchmarkError(f"{root}: qrels name {len(missing)} passages not in the corpus")
    return BeirSet(name or root.name, passages, queries, qrels)


def load_set(name: str, folder: Path | None = None) -> BeirSet:
    """A shipped set by name (see SETS)."""
    return load_beir((folder or BENCHMARK_DIR) / name, name)


# --- indexing a set -----------------------------------------------------------------------------------------


def passage_document(p: BeirPassage) -> Document:
    """A passage as a one-page document, as the indexer would read it."""
    text = f"{p.title}\n\n{p.text}" if p.title else p.text
    return Document(
        doc_id=p.id,
        source=p.id,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        pages=(Page(1, text, "text", 1.0),),
        meta=DocumentMeta(title=p.title),
    )


def passage_chunks(bset: BeirSet) -> list[Chunk]:
    """Each passage whole, as one chunk (for the reference BM25 on whole passages)."""
    return [
        Chunk(
            doc_id=p.id, ordinal=0, text=p.text, page_start=1, page_end=1, meta=DocumentMeta(title=p.title), source=p.id
        )
        for p in bset.passages
    ]


def index_set(bset: BeirSet, store: Store, embedder: Embedder, sparse: SparseEncoder, options: IndexOptions) -> int:
    """Index every passage of a set into an open store with Arkiv's chunking. Returns the chunk count."""
    with tempfile.TemporaryDirectory(prefix="arkiv-bench-catalog-") as tmp:
        indexer = Indexer(
            store=store, embedder=embedder, sparse=sparse, catalog=Catalog(Path(tmp)), ocr=None, options=options
        )
        started = time.perf_counter()
        total = 0
        for n, p in enumerate(bset.passages, 1):
            total += indexer.index_document(passage_document(p))
            if n % 100 == 0:
                logger.info("%s: indexed %d/%d passages", bset.name, n, len(bset.passages))
    logger.info(
        "%s: %d passages, %d chunks in %.1f s", bset.name, len(bset.passages), total, time.perf_counter() - started
    )
    return total


@contextmanager
def open_set_store(embedder: Embedder, workdir: Path | None = None) -> Iterator[EdgeStore]:
    """A fresh embedded store in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="arkiv-bench-", dir=workdir) as tmp:
        store = EdgeStore(Path(tmp) / "store")
        store.open(Manifest(embedder.model_id, embedder.dimension))
        try:
            yield store
        finally:
            store.close()


# --- running ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchRow:
    """One configuration's scores on one set."""

    config: str
    ndcg_at_10: float
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    ms_per_query: float


@dataclass(frozen=True)
class BenchResult:
    set_name: str
    queries: int
    passages: int
    chunks: int
    rows: tuple[BenchRow, ...]

    def row(self, config: str) -> BenchRow | None:
        return next((r for r in self.rows if r.config == config), None)


def passage_ranking(found: Sequence[Passage], k: int = K) -> list[str]:
    """Passage ids in order of their best chunk, each once, at most k."""
    out: list[str] = []
    for p in found:
        if p.doc_id not in out:
            out.append(p.doc_id)
            if len(out) == k:
                break
    return out


def score_config(bset: BeirSet, config: SearchConfig, pool: int = CHUNK_POOL) -> BenchRow:
    """Run every judged query of a set through one configuration."""
    ndcg, r1, r5, r10, rr = [], [], [], [], []
    started = time.perf_counter()
    queries = bset.judged_queries()
    for q in queries:
        ranked = single(passage_ranking(config.search(q.text, pool)))
        qrels = bset.qrels[q.id]
        ndcg.append(ndcg_at_k(ranked, qrels, K))
        r1.append(recall_at_k(ranked, qrels, 1))
        r5.append(recall_at_k(ranked, qrels, 5))
        r10.append(recall_at_k(ranked, qrels, 10))
        rr.append(reciprocal_rank(ranked, qrels, K))
    ms = (time.perf_counter() - started) * 1000 / max(len(queries), 1)
    return BenchRow(config.name, mean(ndcg), mean(r1), mean(r5), mean(r10), mean(rr), ms)


ArkivFactory = Callable[[Store, Embedder, SparseEncoder], Searcher]


def run_set(
    bset: BeirSet,
    configs: Sequence[str],
    *,
    embedder: Embedder,
    sparse: SparseEncoder,
    options: IndexOptions,
    arkiv: ArkivFactory | None = None,
    workdir: Path | None = None,
) -> BenchResult:
    """Index a set once and score each named configuration on it."""
    rows: list[BenchRow] = []
    with open_set_store(embedder, workdir) as store:
        chunks = index_set(bset, store, embedder, sparse, options) if _needs_store(configs) else 0
        for name in configs:
            config = _make_config(name, bset, store, embedder, sparse, options, arkiv)
            row = score_config(bset, config)
            logger.info("%s %s: nDCG@10 %.4f", bset.name, name, row.ndcg_at_10)
            rows.append(row)
    return BenchResult(bset.name, len(bset.judged_queries()), len(bset.passages), chunks, tuple(rows))


BENCH_CONFIGS = ("bm25-passages", "bm25-plain", "dense", "sparse", "hybrid", "arkiv", "llamaindex")
"""What `arkiv bench` can run; `bm25-passages` is plain BM25 on whole passages, the published reference."""


def _needs_store(configs: Sequence[str]) -> bool:
    return any(c in ("bm25-plain", "dense", "sparse", "hybrid", "arkiv") for c in configs)


def _make_config(
    name: str,
    bset: BeirSet,
    store: Store,
    embedder: Embedder,
    sparse: SparseEncoder,
    options: IndexOptions,
    arkiv: ArkivFactory | None,
) -> SearchConfig:
    if name == "bm25-passages":
        return _Renamed("bm25-passages", Bm25PlainConfig(passage_chunks(bset), text=lambda c: c.text))
    if name == "bm25-plain":
        return Bm25PlainConfig(store.scroll(limit=10_000_000))
    if name in ("dense", "sparse", "hybrid"):
        return StoreConfig(name, store, embedder, sparse)  # type: ignore[arg-type]
    if name == "arkiv":
        if arkiv is None:
            raise BenchmarkError("the arkiv configuration needs the assistant (assistant.service)")
        return ArkivConfig(arkiv(store, embedder, sparse))
    if name == "llamaindex":
        docs = [
            SourceDocument(p.id, p.id, p.title, ((1, f"{p.title}\n\n{p.text}" if p.title else p.text),))
            for p in bset.passages
        ]
        return LlamaIndexConfig(docs, embedder, chunk_size=options.chunk_tokens, chunk_overlap=options.chunk_overlap)
    raise BenchmarkError(f"unknown configuration {name!r}; choose from {', '.join(BENCH_CONFIGS)}")


class _Renamed:
    def __init__(self, name: str, inner: SearchConfig) -> None:
        self.name = name
        self._inner = inner

    def search(self, query: str, k: int, filters: EvalFilters | None = None) -> list[Passage]:
        return self._inner.search(query, k, filters)
