"""The CI gate: the fast subset of the gold set, offline default, real corpus/ index, pinned floors.

`arkiv eval --fast` runs here end to end (indexing is done once per session by `corpus_data_dir`). A change
that lowers a measure below its floor fails. Floors sit a little below what was measured; raise a floor in
the same commit that earns it (and say so in the commit message with the new figures).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from evaluation.report import load_run
from evaluation.run import EvalRun
from tests.conftest import CORPUS

FLOORS = {
    "arkiv recall@5": 0.60,
    "hybrid recall@5": 0.62,
    "key-fact accuracy": 0.40,
    "abstention": 0.66,
}
"""Measured 2026-11-22 on the fast subset (29 cases, 26 with evidence, 3 unanswerable): arkiv recall@5 0.673,
hybrid 0.692, key-fact accuracy 0.463, abstention 1.0 (3 of 3). Each floor allows about two cases to slip
(one for abstention)."""
CEILINGS = {
    "false not-found": 0.31,
}
"""Measured 0.231 (6 of 26 answerable cases answered "not found")."""


@pytest.fixture(scope="session")
def gate_dir(corpus_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`arkiv eval --fast` over the session's index, with the offline default settings."""
    from indexer.cli import main

    out = tmp_path_factory.mktemp("gate")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(("ARKIV_", "SLACK_")):
                mp.delenv(name)
        mp.setenv("ARKIV_DATA_DIR", str(corpus_data_dir))
        mp.setenv("ARKIV_CORPUS_DIR", str(CORPUS))
        mp.chdir(out)  # no .env here
        result = CliRunner().invoke(
            main, ["eval", "--fast", "--no-index", "--cached-vectors", "--out", str(out / "report")]
        )
    assert result.exit_code == 0, result.output
    yield out / "report"


@pytest.fixture(scope="session")
def gate(gate_dir: Path) -> EvalRun:
    return load_run(gate_dir / "run.json")


def measured(run: EvalRun) -> dict[str, float]:
    arkiv = run.config("arkiv")
    hybrid = run.config("hybrid")
    assert arkiv is not None and hybrid is not None and run.answers is not None
    a = run.answers
    return {
        "arkiv recall@5": arkiv.overall.recall_at_5,
        "hybrid recall@5": hybrid.overall.recall_at_5,
        "key-fact accuracy": a.key_fact_accuracy or 0.0,
        "abstention": a.abstention if a.abstention is not None else 1.0,
        "false not-found": a.false_not_found or 0.0,
    }


def test_the_fast_subset_covers_every_category(gate: EvalRun) -> None:
    categories = {c.category for c in gate.cases}
    assert {"fact", "decision", "list", "table", "ocr", "follow_up", "unanswerable"} <= categories
    assert gate.info.fast and gate.info.cases >= 20


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_floor(gate: EvalRun, name: str) -> None:
    got = measured(gate)[name]
    assert got >= FLOORS[name], f"{name} {got:.3f} fell below its floor {FLOORS[name]:.3f}"


@pytest.mark.parametrize("name", sorted(CEILINGS))
def test_ceiling(gate: EvalRun, name: str) -> None:
    got = measured(gate)[name]
    assert got <= CEILINGS[name], f"{name} {got:.3f} rose above its ceiling {CEILINGS[name]:.3f}"


def test_the_report_is_written(gate_dir: Path) -> None:
    summary = (gate_dir / "summary.md").read_text(encoding="utf-8")
    assert "| arkiv |" in summary and "| hybrid |" in summary and "| bm25-plain |" in summary
    page = (gate_dir / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 2
