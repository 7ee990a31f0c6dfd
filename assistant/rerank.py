"""The learned reranker: orders the hybrid search's candidates by the probability that they hold the answer.

Each candidate chunk gets a feature vector (`FEATURES`): its dense and sparse scores and those of its best
answer unit (all from stored vectors), its rank in Qdrant's fused list, how much of the question's terms it and
its title carry, whether its year, case number, § and numbers agree with the question's, whether it holds the
kind of thing the question asks for (an amount for "hur mycket", a date for "när", a diarienummer for "vilket
diarienummer"), its document type and whether it is a table. A logistic regression over standardised features,
trained by `arkiv train reranker` (assistant/rerank_train.py), gives the probability; it ships as a small JSON
file (assistant/models/reranker.json) with the hash of the data it was trained on. No weight here is set by
hand: where the model file leaves a feature out, it was not worth its place in cross-validation.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from indexer.casenumbers import find_case_numbers
from indexer.schema import DOC_TYPES, Chunk, Unit
from indexer.swedish.amounts import has_amount
from indexer.swedish.dates import has_date

__all__ = [
    "FEATURES",
    "FEATURE_GROUPS",
    "MODEL_PATH",
    "CandidateScores",
    "QuestionFacts",
    "RerankModel",
    "candidate_features",
    "load_model",
]

MODEL_PATH = Path(__file__).with_name("models") / "reranker.json"

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "fusion": ("rrf_rank_log",),
    "chunk_dense": ("dense", "dense_gap"),
    "chunk_sparse": ("sparse_rel", "sparse_log"),
    "unit_dense": ("unit_dense", "unit_dense_gap"),
    "unit_sparse": ("unit_sparse_rel", "unit_sparse_log"),
    "coverage": ("coverage", "title_match"),
    "agreement": ("year_match", "case_match", "paragraph_match", "number_match"),
    "answer_type": ("amount_fit", "date_fit", "case_fit"),
    "document": (*(f"type_{t}" for t in DOC_TYPES), "is_table"),
}
FEATURES: tuple[str, ...] = tuple(name for names in FEATURE_GROUPS.values() for name in names)

_NUMBER = re.compile(r"\d[\d \u00a0]*\d|\d")
_YEAR = re.compile(r"(?<![\d/:,.])((?:19|20)\d{2})(?![\d/:]|,\d)")
_ASKS_CASE_NUMBER = re.compile(r"diarie|ärendenummer|\bdnr\b|case number|reference number", re.IGNORECASE)
_AMOUNT_Q = re.compile(
    r"\bhur (?:mycket|stor|stora|högt|höga|mycket pengar)|\bvilket belopp|\bkostnad|\bbelopp|\bbudget|\bhur många"
    r"|\bhow (?:much|many|large)|\bwhat (?:amount|was the cost)",
    re.IGNORECASE,
)
_DATE_Q = re.compile(r"\bnär\b|\bvilket datum|\bvilken dag|\bwhen\b|\bwhat date", re.IGNORECASE)


@dataclass(frozen=True)
class QuestionFacts:
    """What the features need from the question, computed once per question."""

    terms: frozenset[int]
    """The question's sparse term indices."""
    years: frozenset[int]
    case_numbers: frozenset[str]
    paragraphs: frozenset[str]
    numbers: frozenset[str]
    """Numbers of two digits or more that are not years, without spaces."""
    wants_amount: bool
    wants_date: bool
    wants_case_number: bool

    @classmethod
    def of(cls, question: str, terms: Sequence[int], paragraphs: Sequence[str] = ()) -> QuestionFacts:
        years = {int(y) for y in _YEAR.findall(question)}
        numbers = {re.sub(r"\s", "", n) for n in _NUMBER.findall(question)}
        numbers = {n for n in numbers if len(n) >= 2 and not (len(n) == 4 and int(n) in years)}
        return cls(
            terms=frozenset(terms),
            years=frozenset(years),
            case_numbers=frozenset(find_case_numbers(question)),
            paragraphs=frozenset(paragraphs),
            numbers=frozenset(numbers),
            wants_amount=bool(_AMOUNT_Q.search(question)),
            wants_date=bool(_DATE_Q.search(question)),
            wants_case_number=bool(_ASKS_CASE_NUMBER.search(question)),
        )


@dataclass(frozen=True)
class CandidateScores:
    """One candidate chunk as the search found it, before reranking."""

    chunk: Chunk
    rank: int
    """0-based rank in Qdrant's fused (RRF) list."""
    dense: float
    sparse: float
    units: tuple[tuple[int, float, float], ...] = ()
    """(ordinal, dense, sparse) for each of the chunk's answer units, in text order."""
    best_unit: Unit | None = None
    """The unit `best_unit_score` picks: its text is read for the answer-type features."""
    chunk_terms: frozenset[int] = field(default_factory=frozenset)
    title_terms: frozenset[int] = field(default_factory=frozenset)


def _agreement(wanted: frozenset[Any], present: set[Any]) -> float:
    """1 when the chunk names what the question names, -1 when it names only other values, else 0."""
    if not wanted or not present:
        return 0.0
    return 1.0 if wanted & present else -1.0


def _chunk_years(chunk: Chunk) -> set[int]:
    years = {int(y) for y in _YEAR.findall(chunk.text)}
    if chunk.date:
        years.add(int(chunk.date[:4]))
    if chunk.meta.year:
        years.add(chunk.meta.year)
    return years


def candidate_features(q: QuestionFacts, cands: Sequence[CandidateScores]) -> list[list[float]]:
    """The feature rows of a question's candidates, in `FEATURES` order (some are relative to the best candidate)."""
    if not cands:
        return []
    best_unit = [_best_unit(c) for c in cands]
    max_dense = max(c.dense for c in cands)
    max_sparse = max(c.sparse for c in cands)
    max_udense = max(u[1] for u in best_unit)
    max_usparse = max(u[2] for u in best_unit)
    n_terms = len(q.terms)
    rows = []
    for c, (unit_text, udense, usparse) in zip(cands, best_unit, strict=True):
        chunk = c.chunk
        text = chunk.embed_text
        # Reading case numbers out of the text is the costliest feature; only two features use it.
        wants_cases = bool(q.case_numbers) or q.wants_case_number
        case_keys = (set(chunk.case_numbers) | set(find_case_numbers(text))) if wants_cases else set()
        flat = re.sub(r"\s", "", text)
        values: dict[str, float] = {
            "rrf_rank_log": math.log1p(c.rank),
            "dense": c.dense,
            "dense_gap": c.dense - max_dense,
            "sparse_rel": c.sparse / max_sparse if max_sparse > 0 else 0.0,
            "sparse_log": math.log1p(max(c.sparse, 0.0)),
            "unit_dense": udense,
            "unit_dense_gap": udense - max_udense,
            "unit_sparse_rel": usparse / max_usparse if max_usparse > 0 else 0.0,
            "unit_sparse_log": math.log1p(max(usparse, 0.0)),
            "coverage": len(q.terms & c.chunk_terms) / n_terms if n_terms else 0.0,
            "title_match": len(q.terms & c.title_terms) / n_terms if n_terms else 0.0,
            "year_match": _agreement(q.years, _chunk_years(chunk)),
            "case_match": _agreement(q.case_numbers, case_keys),
            "paragraph_match": _agreement(q.paragraphs, {chunk.paragraph} if chunk.paragraph else set()),
            "number_match": (sum(n in flat for n in q.numbers) / len(q.numbers)) if q.numbers else 0.0,
            "amount_fit": float(q.wants_amount and has_amount(unit_text or text)),
            "date_fit": float(q.wants_date and (has_date(unit_text or text))),
            "case_fit": float(q.wants_case_number and bool(case_keys)),
            "is_table": float(chunk.kind == "table_row"),
        }
        for t in DOC_TYPES:
            values[f"type_{t}"] = float(chunk.meta.doc_type == t)
        rows.append([values[name] for name in FEATURES])
    return rows


def best_unit_score(units: Sequence[tuple[int, float, float]]) -> tuple[int, float, float]:
    """The (ordinal, dense, sparse) of the unit that matches best: highest dense, then sparse, then first."""
    return max(units, key=lambda u: (u[1], u[2]))


def _best_unit(c: CandidateScores) -> tuple[str, float, float]:
    """The text, dense and sparse score of the unit that matches best, with the best sparse score of any unit;
    or the chunk's scores."""
    if not c.units:
        return ("", c.dense, c.sparse)
    best = best_unit_score(c.units)
    return (c.best_unit.text if c.best_unit else "", best[1], max(u[2] for u in c.units))


@dataclass(frozen=True)
class RerankModel:
    """A logistic regression over standardised features, as trained and written by assistant/rerank_train.py."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    def score_rows(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """Probabilities (0..1) for feature rows in `FEATURES` order."""
        index = [FEATURES.index(f) for f in self.features]
        out = []
        for row in rows:
            z = self.intercept
            for i, m, s, w in zip(index, self.mean, self.scale, self.coef, strict=True):
                z += w * (row[i] - m) / s
            out.append(1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0))))
        return out

    def to_json(self) -> str:
        data = {
            "format": 1,
            "kind": "logistic_regression",
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "info": self.info,
        }
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RerankModel:
        data = json.loads(text)
        unknown = [f for f in data["features"] if f not in FEATURES]
        if unknown:
            raise ValueError(f"the reranker model uses features this code does not compute: {unknown}")
        return cls(
            features=tuple(data["features"]),
            mean=tuple(float(x) for x in data["mean"]),
            scale=tuple(float(x) for x in data["scale"]),
            coef=tuple(float(x) for x in data["coef"]),
            intercept=float(data["intercept"]),
            info=dict(data.get("info") or {}),
        )


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> RerankModel | None:
    """The shipped model, or None when there is none (the search then keeps Qdrant's fused order)."""
    if not path.exists():
        return None
    return RerankModel.from_json(path.read_text(encoding="utf-8"))
