"""The data that flows through the indexer, as frozen dataclasses.

Path -> Document (pages kept, 1-based) -> Block (a §, a section, a table row) -> Chunk -> Qdrant point.
Only this module knows how a chunk becomes a Qdrant payload and back.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

SCHEMA_VERSION = 3
"""2: answer units (sentences, list items, table rows, decision items) are stored beside their chunks.
3: a unit's dense vector is stored under its own name, without an HNSW graph (`indexer.store`)."""

PageMethod = Literal["text", "ocr", "skipped"]
BlockKind = Literal["prose", "table_row", "paragraph"]
UnitKind = Literal["sentence", "list_item", "table_row", "decision_item"]

DOC_TYPES = (
    "protokoll",
    "kallelse",
    "tjansteskrivelse",
    "arsredovisning",
    "plan",
    "ovrigt",
)
"""Document types, in the normalised spelling used in payloads and filters.

protokoll covers protokollsutdrag; kallelse covers dagordning and föredragningslista;
tjansteskrivelse covers missiv and beslutsunderlag; arsredovisning covers verksamhetsberättelse
and bokslut; plan covers internkontrollplan, verksamhetsplan, mål och uppdrag, budgetanvisningar.
"""

_POINT_NAMESPACE = uuid.UUID("5b0f3c1e-6a51-4f0e-9d59-2a7c1f0e8a11")


@dataclass(frozen=True)
class Page:
    """One page of a source document, 1-based as a person counts them."""

    number: int
    text: str
    method: PageMethod
    quality: float
    """Share of words a Swedish dictionary knows (0..1); 0.0 for skipped pages."""
    note: str | None = None
    """Why a page was skipped, or what happened while reading it (e.g. 'text layer garbled; OCR')."""


@dataclass(frozen=True)
class DocumentMeta:
    """What a person wants to know about a document before opening it."""

    title: str
    doc_type: str = "ovrigt"
    publisher: str | None = None
    body: str | None = None
    """The body (nämnd, styrelse, presidium, direktion) that produced the document."""
    date: str | None = None
    """ISO date (YYYY-MM-DD) where the document has one."""
    year: int | None = None
    language: str = "sv"
    access_groups: tuple[str, ...] = ("public",)


@dataclass(frozen=True)
class Document:
    """A loaded source file: its pages and metadata."""

    doc_id: str
    source: str
    """Path relative to the corpus root, with forward slashes."""
    content_hash: str
    pages: tuple[Page, ...]
    meta: DocumentMeta

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages if p.text)


@dataclass(frozen=True)
class Block:
    """A structural unit of a document: one § item, a section under a heading, or one table row.

    Blocks never span two § items; chunking may split a long block but never merges two.
    """

    text: str
    page_start: int
    page_end: int
    kind: BlockKind = "prose"
    section: str | None = None
    """The nearest heading (or the § title for protocol items)."""
    paragraph: str | None = None
    """The § number as a string ("23"), for protocol items."""
    case_numbers: tuple[str, ...] = ()
    part: str | None = None
    """The part of a § item: Beslut, Beslutsunderlag, Yrkanden, Reservation, Jäv, Ärendebeskrivning..."""
    date: str | None = None
    """The meeting date of a § item (ISO), where it differs from or refines the document's date."""


@dataclass(frozen=True)
class Chunk:
    """A passage small enough to embed, with everything needed to cite it."""

    doc_id: str
    ordinal: int
    text: str
    page_start: int
    page_end: int
    meta: DocumentMeta
    source: str
    kind: BlockKind = "prose"
    section: str | None = None
    paragraph: str | None = None
    case_numbers: tuple[str, ...] = ()
    part: str | None = None
    date: str | None = None
    """The chunk's own date: the meeting date of its § or else the document's date."""
    content_hash: str = ""
    """Hash of the source document's bytes, for incremental indexing."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}:{self.ordinal}"

    @property
    def point_id(self) -> str:
        return str(uuid.uuid5(_POINT_NAMESPACE, self.chunk_id))

    @property
    def embed_text(self) -> str:
        """The text the embedder sees: title and section prepended to the passage."""
        head = [self.meta.title]
        if self.paragraph:
            head.append(f"§ {self.paragraph}")
        if self.section and self.section != self.meta.title:
            head.append(self.section)
        return " — ".join(head) + "\n" + self.text


@dataclass(frozen=True)
class Unit:
    """An answer unit of a chunk: one sentence, list item, table row or item of a § decision.

    Its text is exactly a slice of its chunk's text (``chunk.text[start:end] == text``), so a citation can
    quote it verbatim and the page view can highlight it.
    """

    chunk_id: str
    doc_id: str
    ordinal: int
    """Position among its chunk's units, 0-based."""
    kind: UnitKind
    text: str
    start: int
    end: int
    page: int
    paragraph: str | None
    case_numbers: tuple[str, ...]
    """Case numbers the unit itself names (canonical), else those of its chunk."""
    date: str | None
    """The chunk's date (the meeting date of its § or the document's date)."""

    @property
    def unit_id(self) -> str:
        return f"{self.chunk_id}/{self.ordinal}"

    @property
    def point_id(self) -> str:
        return unit_point_id(self.chunk_id, self.ordinal)


@lru_cache(maxsize=100_000)
def point_id_for(chunk_id: str) -> str:
    return str(uuid.uuid5(_POINT_NAMESPACE, chunk_id))


@lru_cache(maxsize=100_000)
def unit_point_id(chunk_id: str, ordinal: int) -> str:
    """The point id of a chunk's unit: derived from the two, so a unit's id says whose it is."""
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{chunk_id}/{ordinal}"))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def doc_id_for(source: str) -> str:
    """A stable, URL-safe id for a corpus-relative path: its path without suffix, slugged."""
    stem = source.rsplit(".", 1)[0] if "." in source.rsplit("/", 1)[-1] else source
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "doc"


_YEAR_MENTION = re.compile(r"(?<![\d/:,.])((?:19|20)\d{2})(?![\d/:]|,\d)")


def _years(chunk: Chunk) -> list[int]:
    """The years a chunk is from or speaks of: its date, its document's year, and years named in its text or
    in the heading it stands under ("Antal deltagarveckor 2021 2020 2019" over a table's rows of figures)."""
    years = {int(y) for y in _YEAR_MENTION.findall(f"{chunk.section or ''}\n{chunk.text}")}
    if chunk.date:
        years.add(int(chunk.date[:4]))
    if chunk.meta.year:
        years.add(chunk.meta.year)
    return sorted(y for y in years if 1900 <= y <= 2100)


def chunk_to_payload(chunk: Chunk) -> dict[str, Any]:
    """The Qdrant payload of a chunk. Flat, so that every field can be filtered on."""
    m = chunk.meta
    return {
        "schema": SCHEMA_VERSION,
        "doc_id": chunk.doc_id,
        "ordinal": chunk.ordinal,
        "chunk_id": chunk.chunk_id,
        "text": chunk.text,
        "page_start": chunk.page_start,
        "page_end": chunk.page_end,
        "source": chunk.source,
        "kind": chunk.kind,
        "section": chunk.section,
        "paragraph": chunk.paragraph,
        "case_numbers": list(chunk.case_numbers),
        "part": chunk.part,
        "date": chunk.date,
        "year": int(chunk.date[:4]) if chunk.date else m.year,
        "years": _years(chunk),
        "content_hash": chunk.content_hash,
        "title": m.title,
        "doc_type": m.doc_type,
        "publisher": m.publisher,
        "body": m.body,
        "doc_date": m.date,
        "doc_year": m.year,
        "language": m.language,
        "access_groups": list(m.access_groups),
        "extra": dict(chunk.extra),
    }


def payload_to_chunk(payload: dict[str, Any]) -> Chunk:
    meta = DocumentMeta(
        title=payload["title"],
        doc_type=payload.get("doc_type") or "ovrigt",
        publisher=payload.get("publisher"),
        body=payload.get("body"),
        date=payload.get("doc_date"),
        year=payload.get("doc_year"),
        language=payload.get("language") or "sv",
        access_groups=tuple(payload.get("access_groups") or ("public",)),
    )
    return Chunk(
        doc_id=payload["doc_id"],
        ordinal=int(payload["ordinal"]),
        text=payload["text"],
        page_start=int(payload["page_start"]),
        page_end=int(payload["page_end"]),
        meta=meta,
        source=payload["source"],
        kind=payload.get("kind") or "prose",
        section=payload.get("section"),
        paragraph=payload.get("paragraph"),
        case_numbers=tuple(payload.get("case_numbers") or ()),
        part=payload.get("part"),
        date=payload.get("date"),
        content_hash=payload.get("content_hash") or "",
        extra=dict(payload.get("extra") or {}),
    )


def with_meta(doc: Document, **changes: Any) -> Document:
    """A copy of a document with some metadata fields changed."""
    return replace(doc, meta=replace(doc.meta, **changes))
