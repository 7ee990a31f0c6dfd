"""`arkiv eval swequad`: reading SweQUAD-MC's answer spans, the word-overlap anchors, scoring answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.errors import BenchmarkError
from evaluation.swequad import QAItem, anchor_rows, load_swequad, markdown, overlap_sentences, score, write_texts
from tests.conftest import SHARED

CONTEXT = (
    "Efter beslut\r\nBeslutet skickas till ambassaden. När du ska hämta ditt beslut ska du ta med ditt pass.\r\n"
    "Kortet skickas till din adress i Sverige. Det tar upp till fyra veckor."
)


def write_split(folder: Path) -> None:
    data = {
        "data": [
            {
                "context": CONTEXT,
                "question": "Vad ska du ta med när du hämtar ditt beslut?",
                "choices": [
                    {"start": 0, "end": 1, "text": "din adress i Sverige", "type": "Distractor", "extra": None},
                    {"start": 0, "end": 1, "text": "ditt pass", "type": "Correct answer", "extra": None},
                ],
            },
            {
                "context": CONTEXT,
                "question": "Hur lång tid tar det?",
                "choices": [
                    {"start": 0, "end": 1, "text": "fyra veckor", "type": "Correct answer", "extra": {}},
                    {"start": 0, "end": 1, "text": "ambassaden", "type": "Distractor", "extra": {}},
                ],
            },
        ]
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dev.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_texts_are_read_once_with_their_spans(tmp_path: Path) -> None:
    write_split(tmp_path)
    texts, items = load_swequad("dev", tmp_path)
    assert len(texts) == 1 and len(items) == 2 and "\r" not in texts[0].text
    assert items[0].correct == ("ditt pass",) and items[0].distractors == ("din adress i Sverige",)
    assert items[0].text_id == items[1].text_id == texts[0].id
    folder = write_texts(texts, tmp_path / "cache", "dev")
    assert (folder / texts[0].file_name).read_text(encoding="utf-8").startswith("Efter beslut")
    with pytest.raises(BenchmarkError):
        load_swequad("test", tmp_path)
    with pytest.raises(BenchmarkError):
        load_swequad("training", tmp_path)


def test_overlap_sentences_pick_the_sentences_sharing_most_question_words_in_text_order() -> None:
    text = CONTEXT.replace("\r\n", "\n")
    assert overlap_sentences("Vad ska du ta med när du hämtar ditt beslut?", text, 1) == (
        "När du ska hämta ditt beslut ska du ta med ditt pass."
    )
    three = overlap_sentences("Hur lång tid tar det? Kortet skickas", text, 2)
    assert three.index("Kortet skickas") < three.index("Det tar upp")


def test_an_answer_holds_the_span_a_distractor_instead_or_neither() -> None:
    item = QAItem("dev:0", "Vad ska du ta med?", "t1", ("ditt pass",), ("din adress i Sverige",))
    right = score(item, "answered", "Du ska ta med Ditt  pass [1].", ["t1.txt"], 120.0)
    assert (right.holds_correct, right.holds_distractor, right.cites_text, right.words) == (1.0, 0.0, 1.0, 6)
    wrong = score(item, "answered", "Kortet skickas till din adress i Sverige [1].", ["t2.txt"], 80.0)
    assert (wrong.holds_correct, wrong.holds_distractor, wrong.cites_text) == (0.0, 1.0, 0.0)
    both = score(item, "answered", "Ta med ditt pass; kortet går till din adress i Sverige.", [], None)
    assert (both.holds_correct, both.holds_distractor) == (1.0, 0.0)
    declined = score(item, "not_found", "ditt pass", [], 10.0)
    assert (declined.holds_correct, declined.declined, declined.words) == (0.0, 1.0, None)


def test_anchors_report_with_intervals(tmp_path: Path) -> None:
    write_split(tmp_path)
    texts, items = load_swequad("dev", tmp_path)
    whole, one, three = anchor_rows(texts, items, reps=50)
    assert whole.figures["holds_correct"].value == 1.0 and whole.figures["cites_text"].value == 1.0
    assert one.figures["holds_correct"].value == 1.0 and one.words_p50 is not None
    assert whole.words_p50 is not None and one.words_p50 < whole.words_p50
    from evaluation.swequad import SwequadRun

    table = markdown(SwequadRun("2026-12-06", "test", "dev", 1, 2, 0.1, (whole, one, three), {}))
    assert "| rätt text, hela | 2 | 1.000 [1.00–1.00]" in table


@pytest.mark.skipif(not (SHARED / "benchmarks" / "swequad_mc_qa" / "dev.json").is_file(), reason="needs ../shared")
def test_the_shared_dev_split_reads() -> None:
    texts, items = load_swequad("dev")
    assert len(items) == 126 and len(texts) == 64
    assert all(i.correct and i.distractors for i in items)
