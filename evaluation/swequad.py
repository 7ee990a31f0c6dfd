"""`arkiv eval swequad`: an external check of the answers on SweQUAD-MC, texts the project never wrote.

SweQUAD-MC (../shared/benchmarks/swequad_mc_qa/<split>.json, CC BY 4.0) has, per question, a text from a
Swedish authority's web page, the correct answer as a span of that text and two or more distractors: spans of
the same text that a careless reader might take for the answer. Here the split's texts are indexed as a small
archive of their own (one .txt document per text) and every question goes through each system's ask. An
answer is scored by whether it

- holds the correct span (`contains_fact`: case, spacing and number formats folded);
- holds a distractor instead (a distractor and not the correct span);
- cites the right text (a citation from the question's text);
- how long it is, in words ([n] markers left out); and whether it declined.

Two anchors run in the same report, without retrieval: the right text handed over whole, and the right
text's 1 and 3 sentences with most question words in common (distinct lower-cased words; ties to the earlier
sentence; the three in text order). Intervals are 95% bootstrap intervals drawing whole texts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from evaluation.dataset import REPO_ROOT, contains_fact
from evaluation.errors import BenchmarkError
from evaluation.metrics import answer_words, applicable_mean, bootstrap_intervals, percentile
from evaluation.suite import Figure, figure_text, machine, now

logger = logging.getLogger(__name__)

QA_DIR = Path(os.environ.get("ARKIV_SWEQUAD_QA_DIR") or REPO_ROOT.parent / "shared" / "benchmarks" / "swequad_mc_qa")
SPLITS = ("dev", "training")
SEED = 20261206
MEASURES = ("holds_correct", "holds_distractor", "cites_text", "declined")
LABELS = {
    "holds_correct": "rätt svar",
    "holds_distractor": "distraktor i stället",
    "cites_text": "citerar rätt text",
    "declined": "avböjer",
}
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class QAText:
    id: str
    text: str

    @property
    def file_name(self) -> str:
        return f"{self.id}.txt"


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    text_id: str
    correct: tuple[str, ...]
    distractors: tuple[str, ...]


def load_swequad(split: str = "dev", folder: Path | None = None) -> tuple[list[QAText], list[QAItem]]:
    """The split's texts (each once, in first-use order) and questions. Raises BenchmarkError."""
    if split not in SPLITS:
        raise BenchmarkError(f"unknown SweQUAD-MC split {split!r}; choose from {', '.join(SPLITS)}")
    path = (folder or QA_DIR) / f"{split}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as ex:
        raise BenchmarkError(f"{path}: cannot read SweQUAD-MC: {ex}") from ex
    texts: dict[str, QAText] = {}
    items: list[QAItem] = []
    for n, row in enumerate(data):
        try:
            context = str(row["context"]).replace("\r\n", "\n")
            tid = "t" + hashlib.sha256(context.encode("utf-8")).hexdigest()[:12]
            texts.setdefault(tid, QAText(tid, context))
            choices = row["choices"]
            correct = tuple(str(c["text"]) for c in choices if c["type"] == "Correct answer")
            distractors = tuple(str(c["text"]) for c in choices if c["type"] == "Distractor")
            items.append(QAItem(f"{split}:{n}", str(row["question"]), tid, correct, distractors))
        except (KeyError, TypeError) as ex:
            raise BenchmarkError(f"{path}: item {n} lacks {ex}") from ex
    return list(texts.values()), items


def write_texts(texts: Sequence[QAText], cache: Path, split: str) -> Path:
    """The texts as .txt files in a folder keyed by their content (written once)."""
    digest = hashlib.sha256("\0".join(t.id for t in texts).encode()).hexdigest()[:12]
    folder = cache / "swequad" / f"{split}-{digest}"
    if not (folder / ".complete").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for t in texts:
            (folder / t.file_name).write_text(t.text + "\n", encoding="utf-8")
        (folder / ".complete").write_text("", encoding="utf-8")
    return folder


# --- anchors ------------------------------------------------------------------------------------------------


def words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


def overlap_sentences(question: str, text: str, n: int) -> str:
    """The n sentences of the text with most distinct question words in common, in text order."""
    from indexer.sentences import split_sentences

    sentences = [s.strip() for s in split_sentences(text) if s.strip()]
    asked = words(question)
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(asked & words(sentences[i])), i))
    return " ".join(sentences[i] for i in sorted(ranked[:n]))


# --- scoring ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QAOutcome:
    id: str
    text_id: str
    status: str
    holds_correct: float
    holds_distractor: float
    cites_text: float
    declined: float
    words: int | None
    ms: float | None
    answer: str = ""


def score(item: QAItem, status: str, text: str, cited_sources: Sequence[str], ms: float | None) -> QAOutcome:
    answered = status == "answered"
    correct = answered and any(contains_fact(text, c) for c in item.correct)
    distractor = answered and not correct and any(contains_fact(text, d) for d in item.distractors)
    cites = any(Path(s).name == f"{item.text_id}.txt" for s in cited_sources)
    return QAOutcome(
        item.id,
        item.text_id,
        status,
        float(correct),
        float(distractor),
        float(cites),
        float(status == "not_found"),
        answer_words(text) if answered else None,
        round(ms, 2) if ms is not None else None,
        text[:400],
    )


@dataclass(frozen=True)
class QARow:
    name: str
    kind: str
    """system or anchor"""
    items: int
    figures: dict[str, Figure]
    words_p50: float | None
    words_p90: float | None
    ask_ms_p50: float | None
    ask_ms_p95: float | None
    outcomes: tuple[QAOutcome, ...] = ()


def summarise(name: str, kind: str, outcomes: Sequence[QAOutcome], reps: int = 1000) -> QARow:
    columns: dict[str, list[float | None]] = {m: [getattr(o, m) for o in outcomes] for m in MEASURES}
    cis = bootstrap_intervals(columns, [o.text_id for o in outcomes], reps=reps, seed=SEED)
    figures = {}
    for m in MEASURES:
        ci = cis.get(m)
        figures[m] = Figure(applicable_mean(columns[m]), ci.low if ci else None, ci.high if ci else None, len(outcomes))
    lengths = [float(o.words) for o in outcomes if o.words is not None]
    ms = [o.ms for o in outcomes if o.ms is not None]
    return QARow(
        name,
        kind,
        len(outcomes),
        figures,
        round(percentile(lengths, 50), 1) if lengths else None,
        round(percentile(lengths, 90), 1) if lengths else None,
        round(percentile(ms, 50), 1) if ms else None,
        round(percentile(ms, 95), 1) if ms else None,
        tuple(outcomes),
    )


def anchor_rows(texts: Sequence[QAText], items: Sequence[QAItem], reps: int = 1000) -> list[QARow]:
    """The right text whole, and its 1 and 3 sentences with most question words in common."""
    by_id = {t.id: t for t in texts}
    rows = []
    for name, pick in (
        ("rätt text, hela", lambda q, t: t),
        ("rätt text, 1 mening (ordöverlapp)", lambda q, t: overlap_sentences(q, t, 1)),
        ("rätt text, 3 meningar (ordöverlapp)", lambda q, t: overlap_sentences(q, t, 3)),
    ):
        outcomes = [
            score(i, "answered", pick(i.question, by_id[i.text_id].text), [f"{i.text_id}.txt"], None) for i in items
        ]
        rows.append(summarise(name, "anchor", outcomes, reps))
    return rows


@dataclass(frozen=True)
class SwequadRun:
    created: str
    machine: str
    split: str
    texts: int
    questions: int
    seconds: float
    rows: tuple[QARow, ...]
    chunks: dict[str, int]
    format: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)


def run_swequad(
    systems: Sequence[str],
    cache: Path,
    *,
    split: str = "dev",
    folder: Path | None = None,
    reps: int = 1000,
    progress: Callable[[str], None] | None = None,
) -> SwequadRun:
    """Index the split's texts for each system, ask every question, score; the anchors beside them."""
    from evaluation.systems import OpenSystems

    started = time.perf_counter()
    host = machine()
    texts, items = load_swequad(split, folder)
    inputs = write_texts(texts, cache, split)
    rows: list[QARow] = []
    chunks: dict[str, int] = {}
    if systems:
        if progress:
            progress(f"swequad {split}: {len(texts)} texter, {len(items)} frågor; index för {', '.join(systems)}")
        opened = OpenSystems(systems, f"swequad-{split}", (inputs,), cache)
        try:
            chunks = dict(opened.chunks)
            for factory in opened.factories:
                if progress:
                    progress(f"swequad {split}: {factory.name}")
                system = factory.fit(())
                outcomes = []
                for item in items:
                    asked = system.ask(item.question, [], None)
                    outcomes.append(
                        score(item, asked.status, asked.text, [p.source for p in asked.citations], asked.ms)
                    )
                rows.append(summarise(factory.name, "system", outcomes, reps))
        finally:
            opened.close()
    rows += anchor_rows(texts, items, reps)
    return SwequadRun(
        now(), host, split, len(texts), len(items), round(time.perf_counter() - started, 1), tuple(rows), chunks
    )


def markdown(run: SwequadRun) -> str:
    head = ["svarare", "frågor"] + [LABELS[m] for m in MEASURES] + ["ord p50/p90", "fråga ms p50/p95"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for row in run.rows:
        cells = [row.name, str(row.items)] + [figure_text(row.figures[m]) for m in MEASURES]
        cells.append(f"{_n(row.words_p50)} / {_n(row.words_p90)}")
        cells.append(f"{_n(row.ask_ms_p50)} / {_n(row.ask_ms_p95)}" if row.kind == "system" else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return (
        f"# SweQUAD-MC {run.split}\n\n{run.created} · {run.machine} · {run.seconds / 60:.1f} min · "
        f"{run.texts} texter, {run.questions} frågor\n\n" + "\n".join(lines) + "\n"
    )


def _n(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"
