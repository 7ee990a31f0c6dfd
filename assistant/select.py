"""The answer selector: which units of the retrieved passages answer the question.

Candidates are the answer units (sentences, list items, table rows, decision items) of the reranked
passages. Each gets a feature vector (`FEATURES`: lemma overlap with the question, question–unit dense
similarity from the stored unit vectors, answer-type fit, shared numbers, the passage's score
and rank, § decision section...) and a learned model scores it for "answers this question". The model is
a standardised logistic regression kept as plain numbers in `assistant/models/selector.json` (rebuilt by
`arkiv train selector`, see assistant/train.py); `Selector.calibrated` turns the best unit's score into a
probability that it answers the question (Platt scaling fitted on cross-validated scores) and the file
holds the not-found threshold chosen by cross-validation.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answerable import GATE_FEATURES, gate_features
from assistant.glossary import phrase_equivalents, swedish_equivalents
from assistant.qtype import QuestionType, question_type
from assistant.types import Hit
from indexer.swedish.amounts import has_amount
from indexer.swedish.dates import MONTHS, MONTHS_EN
from indexer.swedish.frequency import asks_frequency, has_frequency
from indexer.swedish.lemmas import lemmatize
from indexer.swedish.reference import opens_with_reference
from indexer.swedish.stopwords import SWEDISH_STOP_WORDS
from indexer.units import split_units

__all__ = [
    "DENSE_FEATURES",
    "FEATURES",
    "Candidate",
    "Question",
    "Ranking",
    "Scored",
    "Selector",
    "candidates_from_hits",
    "candidates_from_text",
    "featurize",
    "load_selector",
]

FEATURES: tuple[str, ...] = (
    "lemma_weighted",
    "lemma_plain",
    "lemma_gap",
    "lemma_rank",
    "prefix_share",
    "bigram_share",
    "prev_lemma",
    "next_lemma",
    "continues_prev",
    "leads_next",
    "passage_coverage",
    "dense",
    "dense_gap",
    "dense_rank",
    "has_number",
    "fit_amount",
    "fit_date",
    "fit_who",
    "fit_case",
    "shared_numbers",
    "missing_numbers",
    "log_length",
    "is_heading",
    "passage_score",
    "passage_rank",
    "neighbour",
    "fit_decision",
    "fit_list",
    "fit_frequency",
)
DENSE_FEATURES = ("dense", "dense_gap", "dense_rank")

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NUMBER = re.compile(r"\d[\d \u00a0\u202f]*(?:[.,]\d+)?")
_YEAR = re.compile(r"(?:19|20)\d\d")
_MONTHS = "|".join({**MONTHS, **MONTHS_EN})
_DATE = re.compile(
    rf"\b(?:19|20)\d\d-\d\d-\d\d\b|\b\d{{1,2}} (?:{_MONTHS})\b|\b(?:{_MONTHS})\b|\b(?:19|20)\d\d\b", re.I
)
_CASE = re.compile(r"\b[A-ZÅÄÖ]{1,6}\s?\d{4}\s?[/:-]\s?\d+|\bdnr\b|\bdiarienummer\b", re.I)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÅÄÖ][a-zåäöé]+(?:\s[A-ZÅÄÖ][a-zåäöé]+)*")
_ROLE = re.compile(
    r"\b(?:nämnd\w*|styrelse\w*|direktion\w*|ordförande|presidi\w*|förvaltning\w*|chef\w*|ansvarig\w*|utskott\w*|"
    r"fullmäktige|kommunstyrelse\w*|myndighet\w*|regering\w*|verket|inspektion\w*|kommun\w*|region\w*)\b",
    re.I,
)
_DECISION = re.compile(
    r"\b(?:beslut\w*|beslöt|beviljar|bevilja\w*|avslå\w*|avslog|återremitt\w*|godkänn\w*|"
    r"fastställ\w*|anta[rg]?\w*|föreslå\w*|föreslog|uppdra\w*)\b",
    re.I,
)
_CASE_QUESTION = re.compile(r"\bdiarie\w*|\bdnr\b|\bärendenummer|\bcase number|\breference number", re.I)
_STOP = (
    SWEDISH_STOP_WORDS
    | frozenset("få får fick ska skall finns fanns många också samt enligt hos".split())
    | frozenset(
        """
        the of and to in is are was were what who which when where why how much many did does do has have
        had for on with by from about this that these those be been a an it its their there any all
        """.split()
    )
)
"""Words a question shares with any passage: the Snowball list, question fillers and English function words."""


@dataclass(frozen=True)
class Candidate:
    """A unit that might answer: its text, and where it sits (passage index, position, part, passage score)."""

    text: str
    hit_index: int
    """0-based index into the hits the candidates came from (the [n] marker is hit_index + 1)."""
    ordinal: int
    n_units: int
    kind: str = "sentence"
    part: str | None = None
    passage_score: float = 1.0
    passage_rank: int = 1
    neighbour: bool = False
    dense: float | None = None
    start: int = 0
    end: int = 0
    dated: str = ""
    """What dates the unit's passage: its document's title, date and year, its section and its § date."""


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    """The model's margin (log-odds) that the unit answers the question."""


def lemma(word: str) -> str:
    """A Swedish word's base form (simplemma, through indexer.swedish), lower-cased."""
    return lemmatize(word)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def content_lemmas(text: str, *, english: bool = False) -> list[str]:
    """Base forms of the content words; English words also stand for their Swedish equivalents."""
    out: list[str] = []
    for w in words(text):
        if w in _STOP or len(w) < 2:
            continue
        if english and (sv := swedish_equivalents(w)):
            out.extend(lemma(s) for s in sv)
        out.append(lemma(w))
    if english:
        out.extend(lemma(s) for s in phrase_equivalents(text))
    return list(dict.fromkeys(out))


def numbers(text: str) -> set[str]:
    return {re.sub(r"[\s\u00a0\u202f]", "", m.group()).rstrip(".,") for m in _NUMBER.finditer(text)}


@dataclass(frozen=True)
class Question:
    """What the features need from the question, computed once."""

    text: str
    lemmas: tuple[str, ...]
    prefixes: tuple[str, ...]
    bigrams: frozenset[tuple[str, str]]
    numbers: frozenset[str]
    qtype: QuestionType
    asks_case: bool
    english: bool = False
    asks_frequency: bool = False

    @classmethod
    def of(cls, text: str, english: bool = False) -> Question:
        lem = content_lemmas(text, english=english)
        seq = [lemma(w) for w in words(text) if w not in _STOP]
        return cls(
            text=text,
            lemmas=tuple(lem),
            prefixes=tuple(dict.fromkeys(w[:5] for w in lem if len(w) >= 5)),
            bigrams=frozenset(zip(seq, seq[1:], strict=False)),
            numbers=frozenset(n for n in numbers(text) if len(n) >= 1),
            qtype=question_type(text),
            asks_case=bool(_CASE_QUESTION.search(text)),
            english=english,
            asks_frequency=asks_frequency(text),
        )


def _unit_lemmas(text: str) -> set[str]:
    return {lemma(w) for w in words(text) if w not in _STOP}


def featurize(question: Question, cands: Sequence[Candidate], passages: Sequence[str] = ()) -> np.ndarray:
    """One row of `FEATURES` per candidate. `passages[i]` is the text around hit i (title, § title, passage)."""
    n = len(cands)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    col = {name: i for i, name in enumerate(FEATURES)}
    qset = question.lemmas
    lemma_sets = [_unit_lemmas(c.text) for c in cands]
    # rarity of each question lemma among the candidates: a word every unit has says little
    df = {q: sum(1 for s in lemma_sets if q in s) for q in qset}
    idf = {q: math.log(1.0 + n / (1.0 + df[q])) for q in qset}
    total_idf = sum(idf.values()) or 1.0

    def weighted(s: set[str]) -> float:
        return sum(idf[q] for q in qset if q in s) / total_idf

    lw = np.array([weighted(s) for s in lemma_sets])
    plain = np.array([sum(1 for q in qset if q in s) / max(1, len(qset)) for s in lemma_sets])
    out[:, col["lemma_weighted"]] = lw
    out[:, col["lemma_plain"]] = plain
    out[:, col["lemma_gap"]] = lw - lw.max()
    out[:, col["lemma_rank"]] = _recip_rank(lw)
    by_pos = {(c.hit_index, c.ordinal): i for i, c in enumerate(cands)}
    points_back = [opens_with_reference(c.text) for c in cands]
    passage_sets: dict[int, set[str]] = {}
    passage_numbers: dict[int, set[str]] = {}
    for i, c in enumerate(cands):
        text = c.text
        lower = text.lower()
        uwords = words(text)
        if question.prefixes:
            out[i, col["prefix_share"]] = sum(1 for p in question.prefixes if p in lower) / len(question.prefixes)
        if question.bigrams:
            seq = [lemma(w) for w in uwords if w not in _STOP]
            out[i, col["bigram_share"]] = len(question.bigrams & set(zip(seq, seq[1:], strict=False))) / len(
                question.bigrams
            )
        prev = by_pos.get((c.hit_index, c.ordinal - 1))
        nxt = by_pos.get((c.hit_index, c.ordinal + 1))
        out[i, col["prev_lemma"]] = lw[prev] if prev is not None else 0.0
        out[i, col["next_lemma"]] = lw[nxt] if nxt is not None else 0.0
        # a sentence that points back ("Det innebär att …") answers what the one before it names
        if prev is not None and points_back[i]:
            out[i, col["continues_prev"]] = lw[prev]
        if nxt is not None and points_back[nxt]:
            out[i, col["leads_next"]] = lw[nxt]
        if c.hit_index not in passage_sets:
            extra = _unit_lemmas(passages[c.hit_index]) if c.hit_index < len(passages) else set()
            passage_sets[c.hit_index] = extra | set().union(
                *(s for s, d in zip(lemma_sets, cands, strict=True) if d.hit_index == c.hit_index)
            )
        ps = passage_sets[c.hit_index]
        out[i, col["passage_coverage"]] = sum(1 for q in qset if q in ps) / max(1, len(qset))
        unit_numbers = numbers(text)
        has_number = bool(unit_numbers)
        amount = has_amount(text)
        count = any(not _YEAR.fullmatch(n) for n in unit_numbers)
        has_date = bool(_DATE.search(text))
        out[i, col["has_number"]] = float(has_number)
        qt = question.qtype
        out[i, col["fit_amount"]] = float(
            (qt is QuestionType.AMOUNT and amount) or (qt is QuestionType.COUNT and (amount or count))
        )
        out[i, col["fit_date"]] = float(qt is QuestionType.DATE and has_date)
        out[i, col["fit_who"]] = float(qt is QuestionType.WHO and bool(_NAME.search(text) or _ROLE.search(text)))
        out[i, col["fit_case"]] = float(question.asks_case and bool(_CASE.search(text)))
        shared = question.numbers & unit_numbers
        out[i, col["shared_numbers"]] = float(bool(shared))
        # a number the passage's title, date or § states (a year filter) is not missing from the unit
        around = passage_numbers.setdefault(
            c.hit_index, numbers(passages[c.hit_index]) if c.hit_index < len(passages) else set()
        )
        out[i, col["missing_numbers"]] = float(bool(question.numbers - around) and not shared)
        out[i, col["log_length"]] = math.log1p(len(text))
        out[i, col["is_heading"]] = float(len(text) < 70 and not re.search(r"[.!?:;]\s*$", text))
        out[i, col["passage_score"]] = c.passage_score
        out[i, col["passage_rank"]] = 1.0 / max(1, c.passage_rank)
        out[i, col["neighbour"]] = float(c.neighbour)
        decision_unit = (
            c.kind == "decision_item" or (c.part or "").lower().startswith("beslut") or bool(_DECISION.search(text))
        )
        out[i, col["fit_decision"]] = float(qt is QuestionType.DECISION and decision_unit)
        out[i, col["fit_list"]] = float(
            qt is QuestionType.LIST and c.kind in ("list_item", "decision_item", "table_row")
        )
        out[i, col["fit_frequency"]] = float(question.asks_frequency and has_frequency(text))
    dense = np.array([c.dense if c.dense is not None else 0.0 for c in cands])
    if any(c.dense is not None for c in cands):
        out[:, col["dense"]] = dense
        out[:, col["dense_gap"]] = dense - dense.max()
        out[:, col["dense_rank"]] = _recip_rank(dense)
    return out


def question_gate_features(
    question: Question, cands: Sequence[Candidate], x: np.ndarray, margins: np.ndarray, passages: Sequence[str]
) -> np.ndarray:
    """The gate's features (assistant/answerable.py) for a question with candidate features `x` and margins."""
    units = [(c.text, c.hit_index, c.dated) for c in cands]
    return gate_features(
        question.text, question.english, len(question.lemmas), question.prefixes, x, margins, FEATURES, passages, units
    )


def _recip_rank(values: np.ndarray) -> np.ndarray:
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    return 1.0 / ranks


# -- candidates -----------------------------------------------------------------------------------------------


def candidates_from_text(text: str, dense: Sequence[float] | None = None) -> list[Candidate]:
    """The units of one plain text handed over as the only passage (SweQUAD-MC's setting)."""
    from assistant.selector_data import text_units

    units = text_units(text)
    return [
        Candidate(
            u.text, 0, u.ordinal, len(units), dense=None if dense is None else float(dense[i]), start=u.start, end=u.end
        )
        for i, u in enumerate(units)
    ]


def candidates_from_hits(hits: Sequence[Hit]) -> list[Candidate]:
    """The answer units of the hits, in hit order, with the unit scores retrieval stored (if any)."""
    out: list[Candidate] = []
    for index, hit in enumerate(hits):
        dated = passage_dating(hit)
        for unit, dense in hit_units(hit):
            out.append(
                Candidate(
                    text=unit[0],
                    hit_index=index,
                    ordinal=unit[3],
                    n_units=unit[4],
                    kind=unit[5],
                    part=hit.chunk.part,
                    passage_score=float(hit.score),
                    passage_rank=hit.rank,
                    neighbour=hit.reason == "neighbour",
                    dense=dense,
                    start=unit[1],
                    end=unit[2],
                    dated=dated,
                )
            )
    return out


def hit_units(hit: Hit) -> list[tuple[tuple[str, int, int, int, int, str], float | None]]:
    """(text, start, end, ordinal, count, kind) of each unit of a hit's passage, with its stored dense score."""
    if hit.units:
        stored = sorted(hit.units, key=lambda u: u.unit.ordinal)
        n = stored[-1].unit.ordinal + 1
        return [
            ((u.unit.text, u.unit.start, u.unit.end, u.unit.ordinal, n, u.unit.kind), float(u.dense)) for u in stored
        ]
    units = split_units(hit.chunk)
    n = len(units)
    return [((u.text, u.start, u.end, u.ordinal, n, u.kind), None) for u in units]


def passage_dating(hit: Hit) -> str:
    """The words that date a hit's passage: its document's title, date and year, its section and § date."""
    title, section, _, date, doc_date, year = _passage_head(hit)
    return " ".join(x for x in (title, section, date, doc_date, year) if x)


def passage_context(hit: Hit) -> str:
    """The words around a hit's units that say what it is about: title, section, § and dates, and the passage."""
    return " ".join(x for x in (*_passage_head(hit), hit.chunk.text) if x)


def _passage_head(hit: Hit) -> tuple[str, str, str, str, str, str]:
    """Title, section, §, the passage's date, the document's date and year ("" where a passage has none)."""
    c = hit.chunk
    paragraph = f"§ {c.paragraph}" if c.paragraph else ""
    year = str(c.meta.year) if c.meta.year else ""
    return c.meta.title, c.section or "", paragraph, c.date or "", c.meta.date or "", year


# -- the model ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearModel:
    """A standardised logistic regression over some of `FEATURES`, with its calibration and threshold."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    platt: tuple[float, float] = (1.0, 0.0)
    """(a, b): P(best unit answers) = 1 / (1 + exp(-(a * margin + b))), fitted on cross-validated margins."""
    threshold: float = 0.5
    """Least calibrated probability for an answer, chosen by cross-validation (assistant/calibrate.py)."""
    space: tuple[str, ...] = FEATURES
    """The names of the columns of the feature matrices it scores (`FEATURES`, or the gate's `GATE_FEATURES`)."""

    def margin(self, x: np.ndarray) -> np.ndarray:
        idx = [self.space.index(f) for f in self.features]
        z = (x[:, idx] - self.mean) / self.scale
        return np.asarray(z @ self.coef + self.intercept)

    def probability(self, margin: float) -> float:
        a, b = self.platt
        return 1.0 / (1.0 + math.exp(-(a * margin + b)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 8) for v in self.mean],
            "scale": [round(float(v), 8) for v in self.scale],
            "coef": [round(float(v), 8) for v in self.coef],
            "intercept": round(float(self.intercept), 8),
            "platt": [round(float(v), 8) for v in self.platt],
            "threshold": round(float(self.threshold), 6),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], space: tuple[str, ...] = FEATURES) -> LinearModel:
        return cls(
            tuple(d["features"]),
            np.array(d["mean"]),
            np.array(d["scale"]),
            np.array(d["coef"]),
            float(d["intercept"]),
            (float(d["platt"][0]), float(d["platt"][1])),
            float(d["threshold"]),
            space,
        )


@dataclass(frozen=True)
class Ranking:
    """The candidates, best first, and the model that scored them."""

    scored: list[Scored]
    model: LinearModel
    gate: LinearModel | None = None
    gate_margin: float = 0.0
    """The gate's log-odds that what was found answers the question (assistant/answerable.py)."""

    @property
    def probability(self) -> float:
        """Calibrated probability that the archive answers: the gate's, or else the best unit's (0 without
        candidates)."""
        if not self.scored:
            return 0.0
        if self.gate is not None:
            return self.gate.probability(self.gate_margin)
        return self.model.probability(self.scored[0].score)

    @property
    def answers(self) -> bool:
        """Whether the probability clears the learned not-found threshold."""
        threshold = self.gate.threshold if self.gate is not None else self.model.threshold
        return bool(self.scored) and self.probability >= threshold


@dataclass(frozen=True)
class Selector:
    """Scores candidates with the dense model when every unit has a stored vector score, else the lexical one."""

    dense_model: LinearModel
    plain_model: LinearModel
    compose: dict[str, float]
    """Composition parameters chosen on the training data (see assistant/compose.py)."""
    meta: dict[str, Any]
    gate: LinearModel | None = None
    """Whether what was found answers at all (assistant/answerable.py), over the lexical model's margins."""

    def rank(self, question: Question, cands: Sequence[Candidate], passages: Sequence[str] = ()) -> Ranking:
        use_dense = bool(cands) and all(c.dense is not None for c in cands)
        model = self.dense_model if use_dense else self.plain_model
        if not cands:
            return Ranking([], model, self.gate, -10.0)
        x = featurize(question, cands, passages)
        margins = model.margin(x)
        order = np.argsort(-margins, kind="stable")
        gate_margin = 0.0
        if self.gate is not None:
            plain = margins if model is self.plain_model else self.plain_model.margin(x)
            gate_margin = float(
                self.gate.margin(question_gate_features(question, cands, x, plain, passages)[None, :])[0]
            )
        return Ranking([Scored(cands[i], float(margins[i])) for i in order], model, self.gate, gate_margin)

    def score(self, question: Question, cands: Sequence[Candidate], passages: Sequence[str] = ()) -> list[Scored]:
        """The candidates, best first, each with its margin."""
        return self.rank(question, cands, passages).scored

    def to_json(self) -> str:
        data = {
            "format": 1,
            "features": list(FEATURES),
            "dense_model": self.dense_model.to_dict(),
            "plain_model": self.plain_model.to_dict(),
            "compose": {k: round(v, 6) for k, v in self.compose.items()},
            "meta": self.meta,
        }
        if self.gate is not None:
            data["gate"] = self.gate.to_dict()
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Selector:
        d = json.loads(text)
        return cls(
            LinearModel.from_dict(d["dense_model"]),
            LinearModel.from_dict(d["plain_model"]),
            {k: float(v) for k, v in d["compose"].items()},
            d.get("meta", {}),
            LinearModel.from_dict(d["gate"], GATE_FEATURES) if "gate" in d else None,
        )


MODEL_FILE = "selector.json"


def model_path() -> Path:
    return Path(str(resources.files("assistant") / "models" / MODEL_FILE))


@lru_cache(maxsize=4)
def load_selector(path: Path | None = None) -> Selector:
    """The selector in the package (or at `path`)."""
    return Selector.from_json((path or model_path()).read_text(encoding="utf-8"))
