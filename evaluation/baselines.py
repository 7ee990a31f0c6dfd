"""Retrieval configurations measured side by side, over the same chunks.

- `bm25-plain`: bm25s over the chunks' texts: lower-cased `\w+` tokens, no stemming, no stop words, Lucene
  BM25 with k1 1.2 and b 0.75, each query term once. On whole passages this reproduces the shared reference
  figures for SweFAQ and SweQUAD-MC to four decimals.
- `dense`, `sparse`, `hybrid`: the store's own searches (e5 cosine; Swedish BM25 sparse vectors; RRF of both).
- `arkiv`: the assistant's search: exact case-number and § lookup, hybrid candidates, second-stage boosts.
- `llamaindex`: a plain llama-index pipeline: SentenceSplitter over the raw page texts, an in-memory
  VectorStoreIndex with the same embedder. It chunks the documents itself.

Every configuration returns `relevance.Passage`s, so one set of measures judges them all. This module is the
adapter for bm25s and (within evaluation/) llama-index.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assistant.types import Filters, Hit
from evaluation.dataset import EvalFilters
from evaluation.harness import CachedEmbedder
from evaluation.relevance import Passage, passage_from_chunk
from indexer.catalog import Catalog
from indexer.embed import Embedder
from indexer.errors import ConfigurationError
from indexer.schema import Chunk, doc_id_for
from indexer.sparse import SparseEncoder
from indexer.store import RRF_K, SearchFilter, SearchMode, Store

logger = logging.getLogger(__name__)

STORE_CONFIGS: tuple[SearchMode, ...] = ("dense", "sparse", "hybrid")
ALL_CONFIGS = ("bm25-plain", "dense", "sparse", "hybrid", "arkiv", "llamaindex")
"""Every configuration, in the order tables show them."""
FAST_CONFIGS = ("bm25-plain", "dense", "sparse", "hybrid", "arkiv")
"""The configurations the CI gate runs: all that share the index (llamaindex embeds the corpus again)."""

FILTERED_POOL = 400
"""Candidates the llama-index pipeline ranks before it drops what a year filter excludes."""


class SearchConfig(Protocol):
    """One way of retrieving: a name and a search."""

    name: str

    def search(self, query: str, k: int, filters: EvalFilters | None = None) -> list[Passage]: ...


class Searcher(Protocol):
    """The assistant's search (assistant.service.Assistant.search)."""

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]: ...


# --- filters ------------------------------------------------------------------------------------------------


def search_filter_for(filters: EvalFilters | None) -> SearchFilter | None:
    """The store filter for a gold case's filters."""
    if filters is None:
        return None
    return SearchFilter(
        doc_ids=(doc_id_for(filters.source),) if filters.source else (),
        doc_types=(filters.doc_type,) if filters.doc_type else (),
        bodies=(filters.body,) if filters.body else (),
        year_from=filters.year,
        year_to=filters.year,
    )


def assistant_filters(filters: EvalFilters | None) -> Filters | None:
    """The assistant's filters for a gold case's filters."""
    if filters is None:
        return None
    return Filters(
        year_from=filters.year,
        year_to=filters.year,
        body=filters.body,
        doc_type=filters.doc_type,
        document=doc_id_for(filters.source) if filters.source else None,
    )


_YEAR_NAMED = re.compile(r"(?<![\d/:,.])((?:19|20)\d{2})(?![\d/:]|,\d)")


def years_named(text: str) -> set[int]:
    """Years a text names ("2022", not the "2022" of "RJL 2022/258" or of an amount)."""
    return {int(y) for y in _YEAR_NAMED.findall(text)}


# --- configurations -----------------------------------------------------------------------------------------


class StoreConfig:
    """Dense, sparse or hybrid search on the store.

    The engine orders equal scores in no fixed order (BM25 scores tie often), so two identical searches can
    rank tied chunks differently, and its fused hybrid ranking moves with them. Here ties are ordered by
    chunk id, and `hybrid` fuses the store's dense and sparse rankings with the store's reciprocal rank
    fusion (1 / (RRF_K + rank), `PREFETCH` candidates each) in that fixed order, so that a run measures the
    same ranking every time.
    """

    TIE_MARGIN = 20
    PREFETCH = 50

    def __init__(self, mode: SearchMode, store: Store, embedder: Embedder, sparse: SparseEncoder) -> None:
        self.name: str = mode
        self._mode = mode
        self._store = store
        self._embedder = embedder
        self._sparse = sparse

    def _ranked(self, mode: SearchMode, query: str, k: int, filt: SearchFilter | None) -> list[Chunk]:
        dense = self._embedder.embed_query(query) if mode == "dense" else None
        sparse = self._sparse.encode_query(query) if mode == "sparse" else None
        found = self._store.search(dense=dense, sparse=sparse, k=k + self.TIE_MARGIN, filt=filt, mode=mode)
        ordered = sorted(found, key=lambda s: (-round(s.score, 6), s.chunk.chunk_id))
        return [s.chunk for s in ordered[:k]]

    def search(self, query: str, k: int, filters: EvalFilters | None = None) -> list[Passage]:
        filt = search_filter_for(filters)
        if self._mode != "hybrid":
            return [passage_from_chunk(c) for c in self._ranked(self._mode, query, k, filt)]
        fused: dict[str, float] = {}
        chunks: dict[str, Chunk] = {}
        for mode in ("dense", "sparse"):
            for rank, chunk in enumerate(self._ranked(mode, query, self.PREFETCH, filt), start=1):
                fused[chunk.chunk_id] = fused.get(chunk.chunk_id, 0.0) + 1.0 / (RRF_K + rank)
                chunks[chunk.chunk_id] = chunk
        order = sorted(fused, key=lambda cid: (-round(fused[cid], 9), cid))
        return [passage_from_chunk(chunks[cid]) for cid in order[:k]]


BM25_K1 = 1.2
BM25_B = 0.75
BM25_TOKEN = r"(?u)\b\w+\b"


class Bm25PlainConfig:
    """bm25s over the chunks, with no stemming and no stop words."""

    name = "bm25-plain"

    def __init__(
        self,
        chunks: Sequence[Chunk],
        text: Callable[[Chunk], str] = lambda c: c.embed_text,
        *,
        allowed: Callable[[EvalFilters], Collection[str]] | None = None,
    ) -> None:
        """`allowed` gives the chunk ids a filter lets through (the store's own decision); without it,
        a filtered search is refused."""
        import bm25s

        # bm25s sets its own logger to DEBUG on import, which bypasses the level the entry point chose
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._bm25s = bm25s
        self._chunks = list(chunks)
        self._allowed = allowed
        self._allowed_cache: dict[EvalFilters, frozenset[str]] = {}
        self._model = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
        if self._chunks:
            self._model.index(self._tokenize([text(c) for c in self._chunks]), show_progress=False)

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        tokens: list[list[str]] = self._bm25s.tokenize(
            texts,
            lower=True,
            token_pattern=BM25_TOKEN,
            stopwords=None,
            stemmer=None,
            return_ids=False,
            show_progress=False,
        )
        return tokens

    def search(self, query: str, k: int, filters: EvalFilters | None = None) -> list[Passage]:
        if not self._chunks:
            return []
        words = list(dict.fromkeys(self._tokenize([query])[0]))
        if not words:
            return []
        passes: frozenset[str] | None = None
        if filters is not None:
            if self._allowed is None:
                raise ConfigurationError("bm25-plain was built without the store, so it cannot apply filters")
            if filters not in self._allowed_cache:
                self._allowed_cache[filters] = frozenset(self._allowed(filters))
            passes = self._allowed_cache[filters]
        scores = self._model.get_scores(words)
        order = sorted(range(len(self._chunks)), key=lambda i: -float(scores[i]))  # ties in corpus order
        out: list[Passage] = []
        for i in order:
            if float(scores[i]) <= 0.0 or len(out) >= k:
                break
            if passes is None or self._chunks[i].chunk_id in passes:
                out.append(passage_from_chunk(self._chunks[i]))
        return out


class ArkivConfig:
    """The assistant's own search, second stage included."""

    name = "arkiv"

    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher

    def search(self, query: str, k: int, filters: EvalFilters | None = None) -> list[Passage]:
        hits = self._searcher.search(query, k, assistant_filters(filters))
        return [passage_from_chunk(h.chunk) for h in hits[:k]]


@dataclass(frozen=True)
class SourceDocument:
    """A document as the llama-index pipeline reads it: pages of raw text and the fields filters look at."""

    doc_id: str
    source: str
    title: str
    pages: tuple[tuple[int, str], ...]
    doc_type: str = "ovrigt"
    body: str | None = None
    year: int | None = None


class LlamaIndexConfig:
    """A plain llama-index pipeline: SentenceSplitter + in-memory VectorStoreIndex, the same embedder.

    One llama-index Document per page (as its PDF reader makes them), the title as the only metadata the
    embedder sees. Chunk size and overlap are given in llama-index's own (tiktoken) tokens. Document, type
    and body filters are llama-index metadata filters; a year filter keeps the nodes whose document is from
    that year or whose text names it, as the store's year filter does for chunks.
    """

    name = "llamaindex"

    def __init__(
        self,
        documents: Iterable[SourceDocument],
        embedder: Embedder,
        *,
        chunk_size: int = 256,
        chunk_overlap: int = 32,
    ) -> None:
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        docs = []
        for d in documents:
            for number, text in d.pages:
                if not text.strip():
                    continue
                metadata = {
                    "title": d.title,
                    "doc_id": d.doc_id,
                    "source": d.source,
                    "page": number,
                    "doc_type": d.doc_type,
                    "body": d.body or "",
                    "year": d.year if d.year is not None else -1,
                }
                hidden = [key for key in metadata if key != "title"]
                docs.append(
                    Document(
                        text=text,
                        metadata=metadata,
                        excluded_embed_metadata_keys=hidden,
                        excluded_llm_metadata_keys=hidden,
                    )
                )
        splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
        nodes = splitter.get_nodes_from_documents(docs)
        self.node_count = len(nodes)
        self._index = VectorStoreIndex(nodes, embed_model=_llama_embedding(embedder))
        logger.info("llamaindex baseline: %d pages, %d nodes", len(docs), len(nodes))

    def search(self, query: str, k: int, filters: EvalFilters | None = None) -> list[Passage]:
        from llama_index.core.vector_stores import MetadataFilter, MetadataFilters

        conditions: list[MetadataFilter | MetadataFilters] = []
        if filters is not None:
            if filters.source:
                conditions.append(MetadataFilter(key="doc_id", value=doc_id_for(filters.source)))
            if filters.doc_type:
                conditions.append(MetadataFilter(key="doc_type", value=filters.doc_type))
            if filters.body:
                conditions.append(MetadataFilter(key="body", value=filters.body))
        year = filters.year if filters is not None else None
        retriever = self._index.as_retriever(
            similarity_top_k=FILTERED_POOL if year is not None else k,
            filters=MetadataFilters(filters=conditions) if conditions else None,
        )
        out = []
        for scored in retriever.retrieve(query):
            node = scored.node
            meta: Mapping[str, Any] = node.metadata
            text = node.get_content()
            if year is not None and int(meta["year"]) != year and year not in years_named(text):
                continue
            page = int(meta["page"])
            out.append(Passage(node.node_id, str(meta["doc_id"]), str(meta["source"]), page, page, text))
            if len(out) == k:
                break
        return out


def _llama_embedding(embedder: Embedder) -> Any:
    """The embedder as a llama-index BaseEmbedding (query and passage encodings kept apart)."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class ArkivEmbedding(BaseEmbedding):
        _embedder: Embedder = PrivateAttr()

        def __init__(self, inner: Embedder) -> None:
            super().__init__(model_name=inner.model_id, embed_batch_size=16)
            self._embedder = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed_query(query)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed_query(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed_documents([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed_documents(texts)

    return ArkivEmbedding(embedder)


def gold_configs(
    names: Sequence[str],
    *,
    store: Store,
    embedder: Embedder,
    sparse: SparseEncoder,
    catalog: Catalog,
    searcher: Searcher,
    cache_dir: Path,
    chunk_tokens: int = 256,
    chunk_overlap: int = 32,
) -> list[SearchConfig]:
    """The named configurations over one index: its chunks, its embedder, its catalog's page texts."""
    configs: list[SearchConfig] = []
    for name in names:
        if name == "bm25-plain":

            def allowed(filters: EvalFilters) -> list[str]:
                return [c.chunk_id for c in store.scroll(search_filter_for(filters), limit=10_000_000)]

            configs.append(Bm25PlainConfig(store.scroll(limit=10_000_000), allowed=allowed))
        elif name in STORE_CONFIGS:
            configs.append(StoreConfig(name, store, embedder, sparse))
        elif name == "arkiv":
            configs.append(ArkivConfig(searcher))
        elif name == "llamaindex":
            docs = [
                SourceDocument(
                    doc_id=e.doc_id,
                    source=e.source,
                    title=e.meta.title,
                    pages=tuple((p.number, p.text) for p in e.pages),
                    doc_type=e.meta.doc_type,
                    body=e.meta.body,
                    year=e.meta.year,
                )
                for e in catalog.entries()
            ]
            cached = CachedEmbedder(embedder, cache_dir)
            configs.append(LlamaIndexConfig(docs, cached, chunk_size=chunk_tokens, chunk_overlap=chunk_overlap))
        else:
            raise ConfigurationError(f"unknown configuration {name!r}; choose from {', '.join(ALL_CONFIGS)}")
    return configs
