"""`arkiv load` runs against a live server and reports every endpoint; it drives nothing but 127.0.0.1.

This proves the tool works; it times nothing (the figures in the README come from a run by hand).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("locust") is None:  # not imported here: gevent must patch ssl before anything loads it
    pytest.skip("locust is not installed (the load extra)", allow_module_level=True)

ARKIV = [sys.executable, "-c", "from indexer.cli import main; main()"]


def arkiv(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ARKIV, *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_a_short_run_reports_every_endpoint_without_errors(live_server: Any, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = arkiv(
        "load",
        "--host",
        live_server.url,
        "--users",
        "2",
        "--seconds",
        "3",
        "--seed",
        "1",
        "--abort-share",
        "0.5",
        "--pid",
        str(os.getpid()),
        "--json",
        str(out),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "errors: none" in done.stdout
    assert "server memory (pid" in done.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    names = {e["name"] for e in report["endpoints"]}
    assert names and names <= {"/api/ask", "/api/search", "/api/health", "/api/ask/stream", "/api/ask/stream (aborted)"}
    assert all(e["errors"] == 0 and e["requests"] > 0 for e in report["endpoints"])
    for name in names:
        assert f" {name} " in done.stdout  # one line of the table per endpoint
    assert report["total"]["errors"] == 0
    assert report["total"]["requests"] == sum(e["requests"] for e in report["endpoints"])
    assert 0 < report["total"]["p50"] <= report["total"]["p95"] <= report["total"]["p99"]
    assert report["memory"]["start"] > 0 and report["memory"]["peak"] >= report["memory"]["end"]


@pytest.mark.parametrize(
    "host", ["http://example.com:8000", "http://localhost:8000", "https://127.0.0.1:8000", "http://10.0.0.1:8000"]
)
def test_only_a_server_on_127_0_0_1_is_driven(host: str) -> None:
    done = arkiv("load", "--host", host, "--seconds", "1", timeout=60)
    assert done.returncode == 2
    assert "127.0.0.1" in done.stderr


def test_runs_are_bounded() -> None:
    assert arkiv("load", "--users", "1000", timeout=60).returncode == 2
    assert arkiv("load", "--seconds", "3600", timeout=60).returncode == 2
