"""Labelled data for the answer selector: SweQUAD-MC's answer spans and the gold set's training split.

A training example is one question with its candidate units (the units of the passages it is asked over)
and a label per unit: 1 for a unit that holds the answer, 0 otherwise; SweQUAD-MC's distractor spans mark
hard negatives (kept as a flag, used for reporting). Unit vectors for the dense feature are embedded once
with the index's embedder and cached on disk (`EmbeddingCache`), never in git.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.sentences import sentence_spans

logger = logging.getLogger(__name__)

SWEQUAD_QA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "swequad_mc_qa"
"""SweQUAD-MC's own files (training.json, dev.json), beside the repository when it is checked out in /work."""


@dataclass(frozen=True)
class SpanUnit:
    """A unit of a plain text: a sentence or a line, as a character span."""

    text: str
    start: int
    end: int
    ordinal: int


@dataclass
class Example:
    """One question, the units it is asked over (one passage for SweQUAD-MC), and which units answer it."""

    qid: str
    group: str
    """The document or text the question is about: cross-validation keeps a group in one fold."""
    question: str
    units: list[SpanUnit]
    labels: list[int]
    hard: list[int] = field(default_factory=list)
    answer: str = ""
    """The answer span (SweQUAD-MC) or the first key fact (gold), for measuring composed answers."""
    context: str = ""
    """The whole text the units come from (SweQUAD-MC)."""


def text_units(text: str) -> list[SpanUnit]:
    """The units of a plain text (the Swedish sentence splitter's spans)."""
    return [SpanUnit(text[s:e], s, e, i) for i, (s, e) in enumerate(sentence_spans(text))]


def _overlaps(unit: SpanUnit, start: int, end: int) -> bool:
    return unit.start < end and start < unit.end


def load_swequad(split: str, folder: Path | None = None) -> list[Example]:
    """SweQUAD-MC questions ("training" or "dev") as examples; the unit holding the correct span is positive."""
    path = (folder or SWEQUAD_QA) / f"{split}.json"
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out: list[Example] = []
    for i, item in enumerate(data):
        context = item["context"]
        units = text_units(context)
        correct = [c for c in item["choices"] if c["type"] == "Correct answer"]
        distractors = [c for c in item["choices"] if c["type"] != "Correct answer"]
        if not correct or not units:
            continue
        c = correct[0]
        labels = [int(_overlaps(u, c["start"], c["end"])) for u in units]
        hard = [int(any(_overlaps(u, d["start"], d["end"]) for d in distractors)) for u in units]
        group = hashlib.sha1(context.encode()).hexdigest()[:12]
        out.append(Example(f"{split}-{i}", group, item["question"], units, labels, hard, c["text"], context))
    return out


class EmbeddingCache:
    """Vectors by text, kept in one .npz file; texts not yet there are embedded in batches and saved."""

    def __init__(self, path: Path, model_id: str) -> None:
        self.path = path
        self.model_id = model_id
        self._vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                if str(data["model"]) == model_id:
                    self._vectors = dict(zip((str(k) for k in data["keys"]), data["vectors"], strict=True))

    @staticmethod
    def key(kind: str, text: str) -> str:
        return kind + ":" + hashlib.sha1(text.encode()).hexdigest()

    def get(self, kind: str, text: str) -> np.ndarray | None:
        return self._vectors.get(self.key(kind, text))

    def fill(self, kind: str, texts: Iterable[str], embed: Callable[[Sequence[str]], list[list[float]]]) -> None:
        todo = list(dict.fromkeys(t for t in texts if self.key(kind, t) not in self._vectors))
        step = 256
        for i in range(0, len(todo), step):
            batch = todo[i : i + step]
            for text, vec in zip(batch, embed(batch), strict=True):
                self._vectors[self.key(kind, text)] = np.asarray(vec, dtype=np.float32)
            logger.info("embedded %d/%d %s texts", min(i + step, len(todo)), len(todo), kind)
            self.save()

    def save(self) -> None:
        if not self._vectors:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self._vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, model=np.array(self.model_id), keys=np.array(keys), vectors=np.stack([self._vectors[k] for k in keys]))
        tmp.replace(self.path)
