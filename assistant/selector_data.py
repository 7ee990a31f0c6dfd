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

from assistant.types import Hit
from indexer.schema import Chunk, DocumentMeta
from indexer.units import split_units

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
    """The answer span (SweQUAD-MC), for measuring composed answers."""
    facts: tuple[str, ...] = ()
    """The key facts a composed answer must hold (the gold set's archive questions)."""
    context: str = ""
    """The whole text the units come from (SweQUAD-MC)."""


def text_units(text: str) -> list[SpanUnit]:
    """The answer units of a plain text, as the index makes them (indexer/units.py)."""
    chunk = Chunk(doc_id="text", ordinal=0, text=text, page_start=1, page_end=1, meta=DocumentMeta(title=""), source="")
    return [SpanUnit(u.text, u.start, u.end, u.ordinal) for u in split_units(chunk)]


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
        np.savez(
            tmp, model=np.array(self.model_id), keys=np.array(keys), vectors=np.stack([self._vectors[k] for k in keys])
        )
        tmp.replace(self.path)


# -- the archive: gold training cases and negatives, over the corpus's own chunks ----------------------------

REPO = Path(__file__).resolve().parents[1]
GOLD_FILE = REPO / "evaluation" / "gold" / "gold.yaml"
PDF_GOLD_FILE = REPO / "evaluation" / "gold" / "real_pdfs.yaml"
"""The gold set over the real PDFs (../shared/real-pdfs), asked of an index of those PDFs."""
NEGATIVES_FILE = REPO / "evaluation" / "gold" / "swefaq_negatives.yaml"
BENCHMARKS = REPO / "evaluation" / "benchmarks"
ARCHIVE_HITS = 6
"""Passages per question, as the assistant's top_k."""


@dataclass
class ArchiveExample:
    """A question over passages of the archive: the hits a search returns, ranked."""

    qid: str
    group: str
    question: str
    hits: list[Hit]
    quotes: list[str]
    answerable: bool
    facts: tuple[str, ...] = ()
    """The key facts an answer must hold (the gold case's `must_contain`)."""


def corpus_chunks(corpus_dir: Path, count_tokens: Callable[[str], int]) -> list[Chunk]:
    """The chunks the indexer makes of a folder's documents (loading, structure, tables), without embedding."""
    from indexer.chunk import chunk_blocks
    from indexer.pipeline import Indexer, IndexOptions, iter_files
    from indexer.structure import segment
    from indexer.tables import FlatTableReport, flat_table_blocks

    loader = Indexer(store=None, embedder=None, sparse=None, catalog=None, ocr=None, options=IndexOptions())  # type: ignore[arg-type]
    out: list[Chunk] = []
    for path in iter_files(corpus_dir):
        try:
            doc = loader.load(path, corpus_dir)
        except Exception as ex:  # noqa: BLE001 - a file the indexer would skip is skipped here too (logged)
            logger.warning("skipped %s: %s", path, ex)
            continue
        blocks = [*segment(doc.pages, doc.meta.doc_type), *flat_table_blocks(doc.pages, FlatTableReport())]
        out.extend(chunk_blocks(doc, blocks, count_tokens))
    return out


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


def quote_overlaps(unit: str, quote: str) -> bool:
    """Whether a unit holds (part of) an evidence quote: one inside the other, or half the quote's words."""
    u, q = _squash(unit), _squash(quote)
    if not u or not q:
        return False
    if q in u or (len(u) >= 20 and u in q):
        return True
    qw, uw = set(q.split()), set(u.split())
    return len(qw & uw) >= 0.6 * len(qw)


def lexical_hits(
    question: str, chunks: Sequence[Chunk], lemma_sets: Sequence[set[str]], k: int = ARCHIVE_HITS
) -> list[Hit]:
    """The k chunks sharing the most (rarity-weighted) question lemmas, as hits scored 1/rank."""
    import math

    from assistant.select import content_lemmas

    q = content_lemmas(question, english=True)
    n = len(chunks)
    idf = {w: math.log(1 + n / (1 + sum(1 for s in lemma_sets if w in s))) for w in q}
    scores = [sum(idf[w] for w in q if w in s) for s in lemma_sets]
    order = sorted(range(n), key=lambda i: (-scores[i], i))[:k]
    return [Hit(chunks[i], 1.0 / (r + 1), r + 1) for r, i in enumerate(order) if scores[i] > 0]


Search = Callable[[str], list[Hit]]
"""A question's passages, best first: the assistant's own retrieval, or `lexical_search` without an index."""


def lexical_search(corpus_dir: Path, count_tokens: Callable[[str], int]) -> Search:
    """Search by rarity-weighted shared lemmas over the chunks the indexer makes of `corpus_dir` (no index)."""
    from assistant.select import _unit_lemmas

    chunks = corpus_chunks(corpus_dir, count_tokens)
    lemma_sets = [_unit_lemmas(c.embed_text) for c in chunks]
    return lambda question: lexical_hits(question, chunks, lemma_sets)


def load_archive_examples(
    search: Search, split: str = "train", gold_file: Path = GOLD_FILE, *, negatives: bool = True
) -> list[ArchiveExample]:
    """The `split` cases of a gold file (default: over corpus/; evidence quotes mark the answering units;
    unanswerable cases and, with `negatives`, SweFAQ questions the archive does not answer are negatives), each
    over the passages `search` finds."""
    import yaml

    out: list[ArchiveExample] = []
    cases = yaml.safe_load(gold_file.read_text(encoding="utf-8"))["cases"]
    for case in cases:
        if case.get("split") != split or case.get("follow_up_of"):
            continue
        quotes = [str(e["quote"]) for e in case.get("evidence") or []]
        group = str(case.get("group") or (case.get("evidence") or [{}])[0].get("document") or case["id"])
        question = str(case["question"])
        facts = tuple(str(f) for f in case.get("must_contain") or ())
        answerable = bool(case.get("answerable", True))
        out.append(
            ArchiveExample(str(case["id"]), "gold:" + group, question, search(question), quotes, answerable, facts)
        )
    if negatives and NEGATIVES_FILE.exists():
        spec = yaml.safe_load(NEGATIVES_FILE.read_text(encoding="utf-8"))
        for entry in spec.get("negatives", []):
            if entry.get("split") != split:
                continue
            dropped = {d["id"] for d in entry.get("dropped") or []}
            path = BENCHMARKS / entry["benchmark"] / "queries.jsonl"
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                if str(row["_id"]) in dropped:
                    continue
                text = str(row["text"])
                out.append(
                    ArchiveExample(f"swefaq:{row['_id']}", f"swefaq:{row['_id']}", text, search(text), [], False)
                )
    return out
