"""Retrieval and answer measures as pure functions.

A ranking is a sequence of *label sets*: what each retrieved item stands for. On a BEIR set an item is one
passage id (`single(ids)`); on the gold set it is the evidence quotes a chunk holds (evaluation/relevance.py),
so two overlapping chunks holding one quote count once. A label counts at the first rank that holds it, and
relevance grades come from `qrels` (label -> grade > 0). With one label per item these are the textbook
definitions (as trec_eval computes them, linear gains).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

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


# --- answers, intervals, folds --------------------------------------------------------------------------------

_MARKER = re.compile(r"\[\d+\]")
_THOUSANDS_GAP = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")
_HAS_WORD = re.compile(r"\w")


def facts_at_k(texts: Sequence[str], facts: Sequence[str], k: int, contains: Callable[[str, str], bool]) -> bool:
    """Whether every fact stands in at least one of the first k texts (what retrieval hands the answerer).

    `contains(text, fact)` decides one fact in one text (evaluation.dataset.contains_fact on the gold set).
    True when there are no facts to find.
    """
    top = texts[:k]
    return all(any(contains(text, fact) for text in top) for fact in facts)


def answer_words(text: str) -> int:
    """The length of an answer in words: whitespace-separated tokens holding a letter or digit, its [n]
    citation markers left out, a number written with thousands gaps one word ("500 000", "t.ex.", "1,5")."""
    plain = _THOUSANDS_GAP.sub("", _MARKER.sub(" ", text))
    return sum(1 for token in plain.split() if _HAS_WORD.search(token))


@dataclass(frozen=True)
class Interval:
    """A bootstrap confidence interval."""

    low: float
    high: float


def applicable_mean(values: Sequence[float | None]) -> float | None:
    """The mean of the values that apply (not None); None when none does."""
    items = [v for v in values if v is not None]
    return sum(items) / len(items) if items else None


def bootstrap_intervals(
    columns: Mapping[str, Sequence[float | None]],
    groups: Sequence[str] | None = None,
    *,
    reps: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Interval | None]:
    """Percentile bootstrap intervals of the mean of each column, resampling cases (or whole groups) with
    replacement, seeded.

    Every column holds one value per case, None where the measure does not apply to that case (an
    unanswerable case has no recall); a column's statistic is the mean of the values that apply. All
    columns are resampled together (one draw of cases per repetition). With `groups` (one label per case,
    e.g. the case's document), whole groups are drawn, so that cases which stand or fall together are not
    counted as independent evidence. A column that applies to no case gets None.
    """
    if not 0.0 < level < 1.0:
        raise ValueError("level must be between 0 and 1")
    n = len(next(iter(columns.values()), ()))
    if any(len(col) != n for col in columns.values()):
        raise ValueError("every column needs one value per case")
    labels = list(groups) if groups is not None else [str(i) for i in range(n)]
    if len(labels) != n:
        raise ValueError("groups needs one label per case")
    members: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        members.setdefault(label, []).append(i)
    clusters = list(members.values())
    # per column and cluster: the sum and count of the values that apply, so a draw costs one pass over clusters
    sums = {name: [sum(col[i] or 0.0 for i in c) for c in clusters] for name, col in columns.items()}
    counts = {name: [sum(col[i] is not None for i in c) for c in clusters] for name, col in columns.items()}
    rng = random.Random(seed)
    draws: dict[str, list[float]] = {name: [] for name in columns}
    for _ in range(reps if clusters else 0):
        chosen = [rng.randrange(len(clusters)) for _ in clusters]
        for name in columns:
            n_applicable = sum(counts[name][c] for c in chosen)
            if n_applicable:
                draws[name].append(sum(sums[name][c] for c in chosen) / n_applicable)
    tail = (1.0 - level) / 2 * 100
    return {name: Interval(percentile(d, tail), percentile(d, 100 - tail)) if d else None for name, d in draws.items()}


def grouped_folds(groups: Sequence[str], k: int, seed: int = 0) -> list[list[int]]:
    """Split cases into k folds for cross-validation, every group whole within one fold.

    Groups (e.g. the document a case is about) are shuffled with the seed, then dealt largest first to the
    fold holding the fewest cases so far (as scikit-learn's GroupKFold balances them). Returns the case
    indices of each fold, in case order; fewer than k folds when there are fewer groups.
    """
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    sizes: dict[str, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    distinct = sorted(sizes)
    random.Random(seed).shuffle(distinct)
    distinct.sort(key=lambda g: -sizes[g])  # stable: equal sizes keep the shuffled order
    folds = min(k, len(distinct))
    load = [0] * folds
    where: dict[str, int] = {}
    for g in distinct:
        target = min(range(folds), key=lambda f: (load[f], f))
        where[g] = target
        load[target] += sizes[g]
    return [[i for i, g in enumerate(groups) if where[g] == f] for f in range(folds)]
