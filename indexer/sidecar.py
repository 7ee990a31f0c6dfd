"""Metadata sidecars: `<name>.meta.yaml` beside a corpus file states what reading the document told a person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from indexer.errors import UnreadableDocument
from indexer.schema import DOC_TYPES

SIDECAR_SUFFIX = ".meta.yaml"


class Sidecar(BaseModel):
    """The fields a sidecar may set; every one is optional, unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    publisher: str | None = None
    body: str | None = None
    doc_type: str | None = None
    date: str | None = None
    year: int | None = None
    language: str | None = None
    access_groups: list[str] | None = None
    description: str | None = None

    @field_validator("doc_type")
    @classmethod
    def _known_type(cls, v: str | None) -> str | None:
        if v is not None and v not in DOC_TYPES:
            raise ValueError(f"doc_type must be one of {', '.join(DOC_TYPES)}")
        return v

    @field_validator("date", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> str | None:
        return None if v is None else str(v)


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name.rsplit(".", 1)[0] + SIDECAR_SUFFIX)


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict[str, Any]:
    """The fields the sidecar of `path` sets (an empty dict where there is none)."""
    side = sidecar_path(path)
    if not side.exists():
        return {}
    try:
        raw = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
        data = Sidecar.model_validate(raw)
    except (yaml.YAMLError, ValidationError, UnicodeDecodeError) as ex:
        raise UnreadableDocument(str(side), f"metadata sidecar is invalid: {ex}") from ex
    fields = data.model_dump(exclude_none=True)
    fields.pop("description", None)
    if "access_groups" in fields:
        fields["access_groups"] = tuple(fields["access_groups"])
    return fields


def sidecar_bytes(path: Path) -> bytes:
    side = sidecar_path(path)
    return side.read_bytes() if side.exists() else b""
