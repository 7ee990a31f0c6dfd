"""Retrieval: exact payload matches first, then dense and Swedish-sparse candidates fused, then a second stage.

1. A case number or a § in the question finds its chunks by payload match.
2. Dense (e5) and sparse (Swedish BM25) candidates are searched separately and fused with reciprocal rank
   fusion, keeping each side's raw score: the dense cosine and the sparse coverage make the relevance that
   decides between an answer and "not found".
3. Second stage: a CrossEncoder when the operator provides one; otherwise measured boosts for chunks that
   match the question's years, case numbers, § and numbers.
4. Context: the neighbouring chunks of the same § or section, the rest of a table; list questions gather one
   chunk per matching § instead of stopping at top-k.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.qtype import detect_language, swedish_equivalents
from assistant.query import ParsedQuestion
from assistant.types import Filters, Hit, search_filter
from indexer.embed import Embedder
from indexer.schema import Chunk
from indexer.sparse import SparseEncoder
from indexer.store import SearchFilter, Store

logger = logging.getLogger(__name__)

RRF_K = 60
DENSE_WEIGHT = 1.0
SPARSE_WEIGHT = 1.0
DENSE_FLOOR = 0.78
"""e5 cosines of unrelated Swedish passages sit around 0.72-0.78; related ones 0.82-0.90."""
DENSE_SPAN = 0.10
_NUMBER = re.compile(r"\d[\d  ]*\d|\d")


@dataclass(frozen=True)
class Candidate:
    chunk: Chunk
    fused: float
    cosine: float
    coverage: float
    reason: str

    @property
    def relevance(self) -> float:
        """0..1: how well the chunk matches the query, from meaning (cosine) and words (coverage)."""
        dense = min(max((self.cosine - DENSE_FLOOR) / DENSE_SPAN, 0.0), 1.0)
        return round(0.5 * dense + 0.5 * self.coverage, 4)


class Reranker:
    """A sentence-transformers CrossEncoder as the second stage (only when ARKIV_RERANKER_MODEL is set)."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(model, device="cpu", local_files_only=True)

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        return [float(s) for s in self._model.predict([(query, t) for t in texts])]


class Retriever:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        sparse: SparseEncoder,
        *,
        prefetch: int = 50,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.prefetch = prefetch
        self.reranker = reranker

    # -- candidates ------------------------------------------------------------------------------------------

    def candidates(self, query: str, filt: SearchFilter, parsed: ParsedQuestion | None = None) -> list[Candidate]:
        dense = self.store.search(
            dense=self.embedder.embed_query(query), sparse=None, k=self.prefetch, filt=filt, mode="dense"
        )
        q_sparse = self.sparse.encode_query(lexical_query(query))
        sparse = self.store.search(dense=None, sparse=q_sparse, k=self.prefetch, filt=filt, mode="sparse")
        fused: dict[str, float] = {}
        chunks: dict[str, Chunk] = {}
        cosine: dict[str, float] = {}
        for weight, hits in ((DENSE_WEIGHT, dense), (SPARSE_WEIGHT, sparse)):
            for rank, h in enumerate(hits):
                cid = h.chunk.chunk_id
                fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank + 1)
                chunks[cid] = h.chunk
        for h in dense:
            cosine[h.chunk.chunk_id] = h.score
        # a chunk outside the dense top-k scores at most the lowest cosine that made it in
        floor = min(cosine.values(), default=0.0)
        terms = set(q_sparse.indices)
        present = {cid: terms.intersection(self.sparse.encode_query(c.embed_text).indices) for cid, c in chunks.items()}
        idf = self._term_weights(terms, list(present.values()))
        total = sum(idf.values())
        out = []
        for cid, chunk in chunks.items():
            coverage = sum(idf[t] for t in present[cid]) / total if total else 0.0
            out.append(Candidate(chunk, fused[cid], cosine.get(cid, floor), coverage, "hybrid"))
        return out

    @staticmethod
    def _term_weights(terms: set[int], present: Sequence[set[int]]) -> dict[int, float]:
        """Within-candidates IDF of the query's terms: rare terms say more about relevance."""
        n = max(len(present), 1)
        df = dict.fromkeys(terms, 0)
        for found in present:
            for t in found:
                df[t] += 1
        return {t: math.log(1 + (n + 1) / (df[t] + 1)) for t in terms}

    # -- the whole pipeline -----------------------------------------------------------------------------------

    def retrieve(
        self,
        query: str,
        filters: Filters,
        k: int,
        parsed: ParsedQuestion | None = None,
        *,
        gather_list: bool = False,
    ) -> list[Hit]:
        filt = search_filter(filters)
        exact = self._exact(filters, parsed)
        # a case number or § already restricts the filter; semantic search runs within it when it holds chunks
        cands = self.candidates(query, filt, parsed)
        ranked = self._second_stage(query, cands, parsed)
        hits: list[Hit] = []
        seen: set[str] = set()
        for c in exact:
            if c.chunk_id not in seen:
                match = next((r for r in ranked if r.chunk.chunk_id == c.chunk_id), None)
                score = match.relevance if match else 1.0
                hits.append(Hit(c, max(score, 0.9), len(hits) + 1, "exact"))
                seen.add(c.chunk_id)
        limit = max(k, 12) if gather_list else k
        per_paragraph: set[tuple[str, str]] = set()
        for cand in ranked:
            if len(hits) >= limit + len(exact):
                break
            cid = cand.chunk.chunk_id
            if cid in seen:
                continue
            if gather_list and cand.chunk.paragraph:
                key = (cand.chunk.doc_id, cand.chunk.paragraph)
                if key in per_paragraph:
                    continue
                per_paragraph.add(key)
            hits.append(Hit(cand.chunk, cand.relevance, len(hits) + 1, cand.reason))
            seen.add(cid)
        return hits

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

    def _second_stage(self, query: str, cands: list[Candidate], parsed: ParsedQuestion | None) -> list[Candidate]:
        if not cands:
            return []
        if self.reranker is not None:
            scores = self.reranker.scores(query, [c.chunk.embed_text for c in cands])
            order = sorted(zip(scores, cands, strict=True), key=lambda t: -t[0])
            return [c for _, c in order]
        numbers = {_norm_number(n) for n in _NUMBER.findall(query) if len(_norm_number(n)) >= 2}
        years = set(parsed.years) if parsed else set()

        def boosted(c: Candidate) -> float:
            score = c.fused + 0.004 * c.relevance
            text = c.chunk.embed_text
            if years and (c.chunk.meta.year in years or any(str(y) in text for y in years)):
                score += 0.004
            if numbers and any(n in _norm_number(text) for n in numbers):
                score += 0.003
            if parsed and parsed.paragraphs and c.chunk.paragraph in parsed.paragraphs:
                score += 0.006
            return score

        return sorted(cands, key=boosted, reverse=True)

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


def lexical_query(query: str) -> str:
    """The query for the Swedish sparse index: an English question gets the Swedish words for its terms added."""
    if detect_language(query) != "en":
        return query
    extra = [sv for word in re.findall(r"[A-Za-z]+", query) for sv in swedish_equivalents(word)]
    return " ".join([query, *extra])


def _norm_number(s: str) -> str:
    return re.sub(r"[\s  ]", "", s)
