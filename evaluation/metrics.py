"""Retrieval and answer measures as pure functions.

A ranking is a sequence of *label sets*: what each retrieved item stands for. On a BEIR set an item is one
passage id (`single(ids)`); on the gold set it is the evidence quotes a chunk holds (evaluation/relevance.py),
so two overlapping chunks holding one quote count once. A label counts at the first rank that holds it, and
relevance grades come from `qrels` (label -> grade > 0). With one label per item these are the textbook
definitions (as trec_eval computes them, linear gains).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence

Ranking = Sequence[Collection[str]]


def single(ids: Iterable[str]) -> list[frozenset[str]]:
    """A ranking of plain ids: each item stands for itself."""
    return [frozenset((i,)) for i in ids]


def _first_hits(ranked: Ranking, qrels: Mapping[str, float], k: int) -> list[float]:
    """Per rank (up to k), the summed grade of the relevant labels first seen there."""
    seen: set[str] = set()
    gains: list[float] = []
    for labels in ranked[:k]:
        gain = 0.0
        for label in labels:
            if label not in seen and qrels.get(label, 0.0) > 0:
                gain += qrels[label]
                seen.add(label)
        gains.append(gain)
    return gains


def _relevant(qrels: Mapping[str, float]) -> list[str]:
    return [label for label, grade in qrels.items() if grade > 0]


def recall_at_k(ranked: Ranking, qrels: Mapping[str, float], k: int) -> float:
    """Share of the relevant labels found in the top k (0.0 when nothing is relevant)."""
    relevant = _relevant(qrels)
    if not relevant:
        return 0.0
    found = len({label for labels in ranked[:k] for label in labels if qrels.get(label, 0.0) > 0})
    return found / len(relevant)


def hit_at_k(ranked: Ranking, qrels: Mapping[str, float], k: int) -> float:
    """1.0 when any relevant label is in the top k."""
    return 1.0 if any(g > 0 for g in _first_hits(ranked, qrels, k)) else 0.0


def reciprocal_rank(ranked: Ranking, qrels: Mapping[str, float], k: int = 10) -> float:
    """1/rank of the first item holding a relevant label within the top k, else 0.0 (MRR@k per query)."""
    for rank, gain in enumerate(_first_hits(ranked, qrels, k), start=1):
        if gain > 0:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Ranking, qrels: Mapping[str, float], k: int = 10) -> float:
    """nDCG@k with linear gains: sum(grade / log2(rank + 1)) over the ideal ordering's."""
    grades = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    if not grades:
        return 0.0
    dcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(_first_hits(ranked, qrels, k), start=1))
    ideal = sum(g / math.log2(rank + 1) for rank, g in enumerate(grades, start=1))
    return dcg / ideal


def mean(values: Iterable[float]) -> float:
    """The arithmetic mean; 0.0 for no values."""
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between ranks; 0.0 for no values."""
    if not 0.0 <= q <= 100.0:
        raise ValueError("q must be between 0 and 100")
    items = sorted(values)
    if not items:
        return 0.0
    pos = (len(items) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return items[lo] + (items[hi] - items[lo]) * (pos - lo)


def fact_share(found: Sequence[bool]) -> float:
    """Share of a case's key facts the answer states (1.0 when it has none to state)."""
    return sum(found) / len(found) if found else 1.0


def share(flags: Iterable[bool]) -> float | None:
    """Share of true flags, or None when there are none (a measure that does not apply)."""
    items = list(flags)
    return sum(items) / len(items) if items else None
