"""The catalog: what is indexed, document by document, with each page's text and how it was read.

One JSON file per document under ARKIV_DATA_DIR/catalog, written atomically after the document's chunks are
stored. The web app's documents page and its page view read it; the indexer uses it to notice removed files.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from indexer.schema import Document, DocumentMeta, Page


@dataclass(frozen=True)
class CatalogEntry:
    doc_id: str
    source: str
    root: str
    meta: DocumentMeta
    content_hash: str
    chunks: int
    pages: tuple[Page, ...]
    indexed_at: float

    @classmethod
    def from_document(cls, doc: Document, *, root: str, chunks: int) -> CatalogEntry:
        return cls(doc.doc_id, doc.source, root, doc.meta, doc.content_hash, chunks, doc.pages, time.time())

    def page(self, number: int) -> Page | None:
        return next((p for p in self.pages if p.number == number), None)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["meta"]["access_groups"] = list(self.meta.access_groups)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CatalogEntry:
        meta = dict(data["meta"])
        meta["access_groups"] = tuple(meta.get("access_groups") or ("public",))
        return cls(
            doc_id=data["doc_id"],
            source=data["source"],
            root=data["root"],
            meta=DocumentMeta(**meta),
            content_hash=data["content_hash"],
            chunks=int(data["chunks"]),
            pages=tuple(Page(**p) for p in data["pages"]),
            indexed_at=float(data["indexed_at"]),
        )


class Catalog:
    """Catalog entries as files in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, doc_id: str) -> Path:
        return self.folder / f"{doc_id}.json"

    def put(self, entry: CatalogEntry) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entry.to_json(), fh, ensure_ascii=False)
        os.replace(tmp, self._path(entry.doc_id))

    def get(self, doc_id: str) -> CatalogEntry | None:
        path = self._path(doc_id)
        if not path.exists():
            return None
        return CatalogEntry.from_json(json.loads(path.read_text(encoding="utf-8")))

    def remove(self, doc_id: str) -> None:
        self._path(doc_id).unlink(missing_ok=True)

    def entries(self) -> Iterator[CatalogEntry]:
        if not self.folder.exists():
            return
        for path in sorted(self.folder.glob("*.json")):
            yield CatalogEntry.from_json(json.loads(path.read_text(encoding="utf-8")))
