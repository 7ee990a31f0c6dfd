"""Session fixtures for the evaluation: one evaluation cache (indexes, vectors, OCR) per session.

Set ARKIV_TEST_INDEX_DIR to keep it between sessions: indexes are keyed by the indexing code, corpus/ and
the settings, and vectors by text, so a later session re-embeds only what changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def eval_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for `arkiv eval --cache` (and its OCR cache)."""
    kept = os.environ.get("ARKIV_TEST_INDEX_DIR")
    return Path(kept) if kept else tmp_path_factory.mktemp("eval-cache")
