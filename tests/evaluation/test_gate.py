"""The CI gate: `arkiv eval --fast` end to end (the fast subset of the corpus gold set, the naive baseline
and the current code, offline default, a real index of corpus/), with pinned floors.

A change that lowers a measure below its floor fails. Floors sit a little below what was measured; raise a
floor in the same commit that earns it (and say so in the commit message with the new figures). The gate
pools the fast subset's cases of both splits: it guards against regressions and tunes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evaluation.metrics import applicable_mean
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow
"""Slow for now: the gate indexes all of corpus/ with answer units, longer than the default run can afford,
and its floors (carried over) are not yet re-measured for the learned answer path."""

FLOORS = {
    "current recall@5": 0.60,
    "current key facts": 0.40,
    "current abstention": 0.66,
}
"""Carried over from the previous gate (measured 2026-11-22 on that fast subset: the assistant's recall@5 0.673,
key-fact accuracy 0.463, abstention 1.0); to be re-measured on this gate's subset."""
CEILINGS = {
    "current false not-found": 0.31,
}
"""Carried over likewise (measured 0.231)."""


@pytest.fixture(scope="session")
def gate_dir(eval_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`arkiv eval --fast` with the offline default settings."""
    from indexer.cli import main

    out = tmp_path_factory.mktemp("gate")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(("ARKIV_", "SLACK_")) and name != "ARKIV_TEST_INDEX_DIR":
                mp.delenv(name)
        mp.setenv("ARKIV_CORPUS_DIR", str(CORPUS))
        mp.chdir(out)  # no .env here
        args = ["eval", "--fast", "--cache", str(eval_cache), "--ocr-cache", str(eval_cache / "ocr")]
        result = CliRunner().invoke(main, [*args, "--reps", "200", "--out", str(out / "report")])
    assert result.exit_code == 0, result.output
    yield out / "report"


@pytest.fixture(scope="session")
def gate(gate_dir: Path) -> dict[str, Any]:
    run: dict[str, Any] = json.loads((gate_dir / "suite.json").read_text(encoding="utf-8"))
    return run


def pooled(run: dict[str, Any], system: str, metric: str) -> float | None:
    """A measure over every case of the subset (the test split's and the cross-validated outcomes)."""
    (corpus,) = [s for s in run["sets"] if s["name"] == "corpus"]
    (result,) = [s for s in corpus["systems"] if s["system"] == system]
    return applicable_mean([o[metric] for o in result["outcomes"]])


def measured(run: dict[str, Any]) -> dict[str, float | None]:
    return {
        "current recall@5": pooled(run, "current", "recall_at_5"),
        "current facts@10": pooled(run, "current", "facts_at_10"),
        "current key facts": pooled(run, "current", "key_facts"),
        "current abstention": pooled(run, "current", "abstention"),
        "current false not-found": pooled(run, "current", "false_not_found"),
        "naive recall@5": pooled(run, "naive", "recall_at_5"),
    }


def test_the_fast_subset_covers_every_category_and_both_splits(gate: dict[str, Any]) -> None:
    (corpus,) = [s for s in gate["sets"] if s["name"] == "corpus"]
    outcomes = corpus["systems"][0]["outcomes"]
    assert {"fact", "decision", "list", "table", "ocr", "follow_up", "unanswerable"} <= {
        o["category"] for o in outcomes
    }
    assert {o["split"] for o in outcomes} == {"train", "test"}
    assert corpus["cases"] >= 20 and not any(o["error"] for s in corpus["systems"] for o in s["outcomes"])


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_floor(gate: dict[str, Any], name: str) -> None:
    got = measured(gate)[name]
    assert got is not None and got >= FLOORS[name], f"{name} {got} fell below its floor {FLOORS[name]:.3f}"


@pytest.mark.parametrize("name", sorted(CEILINGS))
def test_ceiling(gate: dict[str, Any], name: str) -> None:
    got = measured(gate)[name]
    assert got is not None and got <= CEILINGS[name], f"{name} {got} rose above its ceiling {CEILINGS[name]:.3f}"


def test_the_summary_shows_both_systems_with_intervals(gate_dir: Path) -> None:
    summary = (gate_dir / "summary.md").read_text(encoding="utf-8")
    assert "| naive |" in summary and "| current |" in summary
    assert "Korsvalidering" in summary and "[" in summary
