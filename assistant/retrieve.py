"""Retrieval: exact payload matches first, then Qdrant's hybrid search, then the learned reranker.

1. A case number or a § in the question finds its chunks by payload match; they come first.
2. Qdrant fuses a dense (e5) and a sparse (Swedish BM25) prefetch with RRF in one query over chunks.
3. The candidates' raw dense and sparse scores, and those of their answer units, come from the stored
   vectors (two more batches, filtered to the candidates; nothing is embedded but the question). Of the
   units, only each candidate's best one is read whole (its text is a reranker feature).
4. The learned reranker (assistant/rerank.py) orders the candidates by the probability that they hold the
   answer; that probability is each hit's `score`. A CrossEncoder replaces it only when the operator names
   one (ARKIV_RERANKER_MODEL).
5. Each hit carries its units ranked against the question (`Hit.units`), for the answer to quote: the units
   of the hits kept are read in one more query. Chunks found otherwise (exact matches, and the neighbours the
   service adds) get their units scored the same way (`with_units`), with the vectors the question's search
   used (`QueryVectors`, embedded once per question).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.glossary import swedish_terms
from assistant.qtype import detect_language
from assistant.query import ParsedQuestion
from assistant.rerank import (
    CandidateScores,
    QuestionFacts,
    RerankModel,
    best_unit_score,
    candidate_features,
    load_model,
)
from assistant.types import Filters, Hit, UnitHit, search_filter
from indexer.embed import Embedder
from indexer.schema import Chunk, Unit
from indexer.sparse import SparseEncoder, SparseVector
from indexer.store import SearchFilter, Store

logger = logging.getLogger(__name__)

_TERM_CACHE = 20_000


class Reranker:
    """A sentence-transformers CrossEncoder as the final order (only when ARKIV_RERANKER_MODEL is set)."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(model, device="cpu", local_files_only=True)

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        return [float(s) for s in self._model.predict([(query, t) for t in texts])]


@dataclass(frozen=True)
class QueryVectors:
    """A query's dense and sparse vectors: embedded once per question, used by every search made for it."""

    dense: list[float]
    sparse: SparseVector


@dataclass(frozen=True)
class Ranked:
    """A candidate with its features and the reranker's probability."""

    cand: CandidateScores
    features: tuple[float, ...]
    score: float


class Retriever:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        sparse: SparseEncoder,
        *,
        prefetch: int = 50,
        reranker: Reranker | None = None,
        model: RerankModel | None = None,
        use_model: bool = True,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.prefetch = prefetch
        self.reranker = reranker
        self.model = model if model is not None else (load_model() if use_model else None)
        self._terms: OrderedDict[str, frozenset[int]] = OrderedDict()

    # -- candidates ------------------------------------------------------------------------------------------

    def vectors(self, query: str) -> QueryVectors:
        """The query's vectors, for the searches and unit scores made for one question."""
        return QueryVectors(list(self.embedder.embed_query(query)), self.sparse.encode_query(lexical_query(query)))

    def candidates(
        self,
        query: str,
        filt: SearchFilter,
        parsed: ParsedQuestion | None = None,
        vectors: QueryVectors | None = None,
    ) -> tuple[QuestionFacts, list[CandidateScores]]:
        """Qdrant's fused top candidates with their raw chunk and unit scores from the stored vectors."""
        vectors = vectors or self.vectors(query)
        q_dense, q_sparse = vectors.dense, vectors.sparse
        facts = QuestionFacts.of(query, q_sparse.indices, parsed.paragraphs if parsed else ())
        fused = self.store.search(
            dense=q_dense, sparse=q_sparse, k=self.prefetch, filt=filt, mode="hybrid", prefetch=self.prefetch
        )
        if not fused:
            return facts, []
        ids = [h.chunk.chunk_id for h in fused]
        chunk_scores: dict[str, tuple[float, float]] = {}
        stored_terms: dict[str, frozenset[int]] = {}
        for s in self.store.score(dense=q_dense, sparse=q_sparse, chunk_ids=ids, level="chunk", filt=filt):
            chunk_scores[s.chunk_id] = (s.dense, s.sparse)
            if s.terms is not None:
                stored_terms[s.chunk_id] = s.terms
        units: dict[str, list[tuple[int, float, float]]] = {}
        scored = self.store.score(
            dense=q_dense, sparse=q_sparse, chunk_ids=ids, level="unit", filt=filt, with_units=False
        )
        for s in scored:  # in (chunk, ordinal) order
            if s.ordinal is not None:
                units.setdefault(s.chunk_id, []).append((s.ordinal, s.dense, s.sparse))
        best_ordinal = {cid: best_unit_score(u)[0] for cid, u in units.items()}
        best = self.store.units(best_ordinal.items(), filt)
        out = []
        for rank, h in enumerate(fused):
            cid = h.chunk.chunk_id
            dense, sparse = chunk_scores.get(cid, (0.0, 0.0))
            out.append(
                CandidateScores(
                    chunk=h.chunk,
                    rank=rank,
                    dense=dense,
                    sparse=sparse,
                    units=tuple(units.get(cid, ())),
                    best_unit=best.get((cid, best_ordinal[cid])) if cid in best_ordinal else None,
                    chunk_terms=stored_terms.get(cid) or self._chunk_terms(h.chunk),
                    title_terms=self._title_terms(h.chunk),
                )
            )
        return facts, out

    def with_units(self, vectors: QueryVectors, hits: Sequence[Hit], filt: SearchFilter) -> list[Hit]:
        """Hits found otherwise than by search (exact matches, neighbours) with their units scored against the
        query from the stored vectors, as search's own hits carry them: so the answer selector sees the same
        question–unit similarities for every passage."""
        bare = [h.chunk.chunk_id for h in hits if not h.units]
        if not bare:
            return list(hits)
        scored = self.store.score(
            dense=vectors.dense, sparse=vectors.sparse, chunk_ids=bare, level="unit", filt=filt, with_units=False
        )
        keyed = [((s.chunk_id, s.ordinal), s.dense, s.sparse) for s in scored if s.ordinal is not None]
        units = self.store.units([key for key, _, _ in keyed], filt)
        by_chunk: dict[str, list[tuple[Unit, float, float]]] = {}
        for key, dense, sparse in keyed:
            if (unit := units.get(key)) is not None:
                by_chunk.setdefault(key[0], []).append((unit, dense, sparse))
        return [
            replace(h, units=rank_units(by_chunk[h.chunk.chunk_id]))
            if not h.units and h.chunk.chunk_id in by_chunk
            else h
            for h in hits
        ]

    def _chunk_terms(self, chunk: Chunk) -> frozenset[int]:
        return self._cached(f"c|{chunk.chunk_id}|{chunk.content_hash}", chunk.embed_text)

    def _title_terms(self, chunk: Chunk) -> frozenset[int]:
        head = " ".join(x for x in (chunk.meta.title, chunk.section or "") if x)
        return self._cached(f"t|{head}", head)

    def _cached(self, key: str, text: str) -> frozenset[int]:
        found = self._terms.get(key)
        if found is None:
            found = frozenset(self.sparse.encode_query(text).indices)
            self._terms[key] = found
            if len(self._terms) > _TERM_CACHE:
                self._terms.popitem(last=False)
        return found

    def rank(self, query: str, facts: QuestionFacts, cands: Sequence[CandidateScores]) -> list[Ranked]:
        """The candidates ordered by the reranker (or a CrossEncoder, or else Qdrant's fused order)."""
        rows = candidate_features(facts, cands)
        if self.reranker is not None:
            scores = self.reranker.scores(query, [c.chunk.embed_text for c in cands])
        elif self.model is not None:
            scores = self.model.score_rows(rows)
        else:
            scores = [1.0 / (1.0 + c.rank) for c in cands]
        ranked = [Ranked(c, tuple(r), s) for c, r, s in zip(cands, rows, scores, strict=True)]
        return sorted(ranked, key=lambda r: (-r.score, r.cand.rank))

    # -- the whole pipeline -----------------------------------------------------------------------------------

    def retrieve(
        self,
        query: str,
        filters: Filters,
        k: int,
        parsed: ParsedQuestion | None = None,
        *,
        gather_list: bool = False,
        vectors: QueryVectors | None = None,
    ) -> list[Hit]:
        filt = search_filter(filters)
        vectors = vectors or self.vectors(query)
        exact = self._exact(filters, parsed)
        facts, cands = self.candidates(query, filt, parsed, vectors)
        ranked = self.rank(query, facts, cands)
        by_id = {r.cand.chunk.chunk_id: r for r in ranked}
        kept: list[tuple[Chunk, Ranked | None, str]] = []
        seen: set[str] = set()
        for c in exact:
            if c.chunk_id not in seen:
                kept.append((c, by_id.get(c.chunk_id), "exact"))
                seen.add(c.chunk_id)
        limit = max(k, 12) if gather_list else k
        per_paragraph: set[tuple[str, str]] = set()
        for r in ranked:
            if len(kept) >= limit + len(exact):
                break
            cid = r.cand.chunk.chunk_id
            if cid in seen:
                continue
            if gather_list and r.cand.chunk.paragraph:
                key = (r.cand.chunk.doc_id, r.cand.chunk.paragraph)
                if key in per_paragraph:
                    continue
                per_paragraph.add(key)
            kept.append((r.cand.chunk, r, "hybrid"))
            seen.add(cid)
        # each candidate's best unit was read for the reranker; only the kept hits' other units are read now
        units = {
            (b.chunk_id, b.ordinal): b for _, r, _ in kept if r is not None and (b := r.cand.best_unit) is not None
        }
        wanted = [(c.chunk_id, u[0]) for c, r, _ in kept if r is not None for u in r.cand.units]
        units.update(self.store.units([key for key in wanted if key not in units], filt))
        hits = [
            self._hit(r, rank, reason, units) if r is not None else Hit(c, 1.0, rank, reason)
            for rank, (c, r, reason) in enumerate(kept, start=1)
        ]
        return self.with_units(vectors, hits, filt)

    @staticmethod
    def _hit(r: Ranked, rank: int, reason: str, units: dict[tuple[str, int], Unit]) -> Hit:
        c = r.cand
        cid = c.chunk.chunk_id
        own = [(units[(cid, o)], d, s) for o, d, s in c.units if (cid, o) in units]
        return Hit(c.chunk, round(r.score, 6), rank, reason, units=rank_units(own), dense=c.dense, sparse=c.sparse)

    def _exact(self, filters: Filters, parsed: ParsedQuestion | None) -> list[Chunk]:
        """Chunks that carry the case number or § the question names, in document order (decisions first)."""
        if parsed is None or not (parsed.case_numbers or parsed.paragraphs):
            return []
        found: list[Chunk] = []
        base = replace(filters, case_number=None, paragraph=None)
        for case in parsed.case_numbers:
            found.extend(self.store.scroll(search_filter(replace(base, case_number=case)), limit=40))
        if parsed.paragraphs and not parsed.case_numbers:
            for para in parsed.paragraphs:
                found.extend(self.store.scroll(search_filter(replace(base, paragraph=para)), limit=40))
        found.sort(key=lambda c: (c.part not in ("Beslut", "Förslag till beslut"), c.doc_id, c.ordinal))
        return found[:8]

    def neighbours(self, hit: Hit, window: int = 1) -> list[Chunk]:
        """The chunks around a hit that belong to the same § or section."""
        c = hit.chunk
        near = self.store.scroll(
            SearchFilter(doc_ids=(c.doc_id,), ordinal_from=c.ordinal - window, ordinal_to=c.ordinal + window)
        )
        return [
            x
            for x in near
            if x.chunk_id != c.chunk_id and (x.paragraph == c.paragraph if c.paragraph else x.section == c.section)
        ]


def rank_units(units: Sequence[tuple[Unit, float, float]]) -> tuple[UnitHit, ...]:
    """A hit's units, best first: by the sum of their dense and sparse ranks within the hit (ties: text order)."""
    if not units:
        return ()
    by_dense = sorted(range(len(units)), key=lambda i: (-units[i][1], i))
    by_sparse = sorted(range(len(units)), key=lambda i: (-units[i][2], i))
    place = {i: by_dense.index(i) + by_sparse.index(i) for i in range(len(units))}
    order = sorted(range(len(units)), key=lambda i: (place[i], i))
    return tuple(UnitHit(units[i][0], units[i][1], units[i][2], n + 1) for n, i in enumerate(order))


def lexical_query(query: str) -> str:
    """The query for the Swedish sparse index: an English question gets the Swedish words for its terms added."""
    if detect_language(query) != "en":
        return query
    return " ".join([query, *swedish_terms(query)])
