"""Copy an index from one Qdrant engine to another (`arkiv migrate`), e.g. the embedded index to a server.

Every point, chunk and unit, is copied with its vectors and payload as stored: nothing is read or embedded
again. The copy is then verified: the same number of chunks and units on both sides, and for a seeded sample of
chunks the same search results (each chunk's own dense and sparse vectors as the query, top hits and their
scores compared) and the same scores for its answer units.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from indexer.errors import IndexerError
from indexer.store import RawPoint, SearchMode, Store

SEARCH_MODES: tuple[SearchMode, ...] = ("dense", "sparse", "hybrid")
TOP_K = 5
SCORE_TOLERANCE = 1e-3
"""Relative and absolute. Engines differ in the last digits of a score: float32 sums in another order, and IDF
statistics for sparse scores (measured on corpus/: up to 0.04% apart)."""


class MigrationError(IndexerError):
    """The destination cannot take the index, or the copy does not match its source."""


@dataclass(frozen=True)
class MigrationReport:
    chunks: int
    units: int
    seconds: float
    searches: int
    """Searches compared between source and destination (sampled chunks × modes, plus unit scorings)."""
    mismatches: tuple[str, ...] = field(default=())

    @property
    def verified(self) -> bool:
        return not self.mismatches


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=SCORE_TOLERANCE, abs_tol=SCORE_TOLERANCE)


def _same(a: Sequence[tuple[str, float]], b: Sequence[tuple[str, float]]) -> bool:
    """Two result lists agree when their scores agree rank by rank and the points differ only among equal scores
    (engines may order exact ties differently)."""
    if len(a) != len(b) or not all(_close(x[1], y[1]) for x, y in zip(a, b, strict=True)):
        return False
    if not a:
        return True
    last = min(x[1] for x in a)
    return {i for i, s in a if not _close(s, last)} <= {i for i, _ in b}


def _compare(source: Store, dest: Store, point: RawPoint) -> list[str]:
    """What differs between the two stores' answers to searches made of one chunk's own vectors."""
    out = []
    chunk_id = str(point.payload.get("chunk_id"))
    for mode in SEARCH_MODES:
        if mode != "dense" and not point.sparse.indices:
            continue
        results = [
            [
                (h.chunk.chunk_id, h.score)
                for h in store.search(dense=point.dense, sparse=point.sparse, k=TOP_K, mode=mode)
            ]
            for store in (source, dest)
        ]
        if not _same(*results):
            out.append(f"{mode} search for {chunk_id}: {results[0]} in the source, {results[1]} in the copy")
    units = [
        {
            s.unit.unit_id: (s.dense, s.sparse)
            for s in store.score(dense=point.dense, sparse=point.sparse, chunk_ids=[chunk_id], level="unit")
            if s.unit is not None
        }
        for store in (source, dest)
    ]
    if units[0].keys() != units[1].keys() or not all(
        _close(a, b) for u, scores in units[0].items() for a, b in zip(scores, units[1][u], strict=True)
    ):
        out.append(f"unit scores of {chunk_id}: {units[0]} in the source, {units[1]} in the copy")
    return out


def migrate(
    source: Store,
    dest: Store,
    *,
    sample: int = 20,
    batch: int = 256,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> MigrationReport:
    """Copy every point of `source` into `dest` (opened with the source's manifest) and verify the copy.

    `dest` must be empty: a copy is never merged into another index. `progress` is told how many points have
    been written so far.
    """
    manifest = source.manifest()
    if manifest is None:
        raise MigrationError("the source holds no index: run `arkiv index` first")
    dest.open(manifest)
    if dest.count(level=None):
        raise MigrationError("the destination collection is not empty (use --replace to overwrite it)")
    started = time.perf_counter()
    rng = random.Random(seed)
    picked: list[RawPoint] = []
    seen = written = 0
    for points in source.export(batch):
        dest.put(points)
        written += len(points)
        for p in points:
            if p.level != "chunk":
                continue
            seen += 1  # reservoir sampling: every chunk equally likely, one pass
            if len(picked) < sample:
                picked.append(p)
            elif (j := rng.randrange(seen)) < sample:
                picked[j] = p
        if progress is not None:
            progress(written)
    dest.flush()
    seconds = time.perf_counter() - started
    counts = {level: (source.count(level=level), dest.count(level=level)) for level in ("chunk", "unit")}
    mismatches = [f"{level}s: {a} in the source, {b} in the copy" for level, (a, b) in counts.items() if a != b]
    searches = 0
    for p in picked:
        mismatches += _compare(source, dest, p)
        searches += len(SEARCH_MODES) + 1
    return MigrationReport(counts["chunk"][1], counts["unit"][1], seconds, searches, tuple(mismatches))
