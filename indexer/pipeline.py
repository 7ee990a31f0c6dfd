"""Indexing: files on disk become chunks with dense and sparse vectors in the store, incrementally.

A document is re-embedded only when its bytes, its sidecar or the chunking settings change. Point ids are
derived from chunk ids, and every chunk records how many chunks its document has, so a run killed midway
leaves either whole documents or ones the next run sees as incomplete and redoes: never duplicates.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from indexer.catalog import Catalog, CatalogEntry
from indexer.chunk import chunk_blocks
from indexer.embed import Embedder
from indexer.errors import UnreadableDocument
from indexer.load import SUPPORTED_SUFFIXES, load_pages
from indexer.metadata import infer_metadata
from indexer.ocr import Ocr
from indexer.schema import SCHEMA_VERSION, Block, Chunk, Document, Unit, doc_id_for
from indexer.sidecar import is_sidecar, read_sidecar, sidecar_bytes
from indexer.sparse import SparseEncoder, SparseVector
from indexer.store import DocumentState, Store, StoredPoint, StoredUnit
from indexer.structure import segment
from indexer.tables import FlatTableReport, flat_table_blocks, pdf_table_blocks
from indexer.units import split_units

logger = logging.getLogger(__name__)

IGNORED_NAMES = {"README.md", "LICENSE", "LICENSE.md"}
UPSERT_BATCH = 64


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class IndexReport:
    """What a run did, for the report at its end."""

    documents: int = 0
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    chunks_embedded: int = 0
    units: int = 0
    """Answer units stored beside the chunks of the documents indexed in this run."""
    units_embedded: int = 0
    """Units that got their own dense vector (the rest share their chunk's: table rows, whole-chunk units)."""
    table_rows: int = 0
    """Rows of flattened tables rebuilt as "<row> – <caption> – <column>: <value>" (the text is kept too)."""
    untrusted_table_rows: list[tuple[str, int, str]] = field(default_factory=list)
    """(source, page, row label) of table rows whose columns could not be trusted: kept as text only."""
    pages_text: int = 0
    pages_ocr: int = 0
    pages_skipped: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    skipped_pages: list[tuple[str, int, str]] = field(default_factory=list)
    seconds: float = 0.0


READING_MODULES = (
    "load.py",
    "quality.py",
    "language.py",
    "dictionary.py",
    "ocr.py",
    "structure.py",
    "sentences.py",
    "units.py",
    "chunk.py",
    "tables.py",
    "casenumbers.py",
    "metadata.py",
    "sidecar.py",
    "schema.py",
    "sparse.py",
)
"""The indexer's modules that decide what a document's pages, chunks, units and sparse vectors are."""


def _reading_digest() -> str:
    """A digest of the code that reads documents (READING_MODULES and the Swedish rules): when it changes, an
    index built by the old code is stale, so every document is indexed again."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    for path in [here / name for name in READING_MODULES] + sorted((here / "swedish").glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


READING_DIGEST = _reading_digest()


@dataclass(frozen=True)
class IndexOptions:
    chunk_tokens: int = 256
    chunk_overlap: int = 32
    min_text_quality: float = 0.8
    unit_dense: bool = True
    """Embed answer units on their own (about doubles embedding time); off: units share their chunk's vector."""

    def fingerprint(self) -> str:
        return (
            f"schema={SCHEMA_VERSION};tokens={self.chunk_tokens};overlap={self.chunk_overlap};q={self.min_text_quality}"
            f";tables=1;unit_dense={int(self.unit_dense)};reader={READING_DIGEST}"
        )


def iter_files(root: Path) -> list[Path]:
    """The indexable files under a folder (or the file itself), in a stable order."""
    if root.is_file():
        return [root]
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if is_sidecar(path) or path.name in IGNORED_NAMES:
            continue
        files.append(path)
    return files


def content_hash(path: Path, options: IndexOptions) -> str:
    h = hashlib.sha256()
    h.update(path.read_bytes())
    h.update(b"\0sidecar\0")
    h.update(sidecar_bytes(path))
    h.update(options.fingerprint().encode())
    return h.hexdigest()


class Indexer:
    """Composes loading, structure, chunking, embedding and storing for one store."""

    def __init__(
        self,
        *,
        store: Store,
        embedder: Embedder,
        sparse: SparseEncoder,
        catalog: Catalog,
        ocr: Ocr | None,
        options: IndexOptions,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.catalog = catalog
        self.ocr = ocr
        self.options = options
        self.units_stored = 0
        self.units_embedded = 0
        self.table_rows = 0
        self.untrusted_table_rows: list[tuple[str, int, str]] = []

    def load(self, path: Path, root: Path) -> Document:
        """Read one file into a Document (raises UnreadableDocument)."""
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise UnreadableDocument(str(path), f"filtypen {path.suffix or '(ingen)'} stöds inte")
        source = path.relative_to(root).as_posix() if path != root else path.name
        given = read_sidecar(path)
        pages = load_pages(path, ocr=self.ocr, min_quality=self.options.min_text_quality)
        meta = infer_metadata(pages, source, given)
        return Document(
            doc_id=doc_id_for(source),
            source=source,
            content_hash=content_hash(path, self.options),
            pages=tuple(pages),
            meta=meta,
        )

    def index_document(self, doc: Document, extra_blocks: Sequence[Block] = ()) -> int:
        """Chunk, embed and store one document, replacing what the store held of it. Returns its chunk count.

        `extra_blocks` (a PDF's tables as rows) are chunked after the document's own blocks."""
        blocks = segment(doc.pages, doc.meta.doc_type)
        tables = FlatTableReport()
        blocks = [*blocks, *flat_table_blocks(doc.pages, tables), *extra_blocks]
        self.table_rows += tables.rows
        self.untrusted_table_rows.extend((doc.source, page, label) for page, label in tables.untrusted)
        chunks = chunk_blocks(
            doc,
            blocks,
            self.embedder.count_tokens,
            chunk_tokens=self.options.chunk_tokens,
            overlap=self.options.chunk_overlap,
        )
        self.store.delete_document(doc.doc_id)
        batches = [chunks[i : i + UPSERT_BATCH] for i in range(0, len(chunks), UPSERT_BATCH)]
        units = [[split_units(c) for c in batch] for batch in batches]
        # The sparse vectors (pure Python, mostly the dictionary) are made in a second thread while the embedder
        # (C code, which lets go of the GIL) makes the dense ones, so the two overlap batch by batch.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="arkiv-sparse") as pool:
            jobs = [pool.submit(self._sparse_vectors, b, u) for b, u in zip(batches, units, strict=True)]
            for batch, batch_units, job in zip(batches, units, jobs, strict=True):
                dense = self.embedder.embed_documents([c.embed_text for c in batch])
                own = self._own_unit_vectors(batch, batch_units)
                sparse, unit_sparse = job.result()
                points = [
                    StoredPoint(
                        chunk,
                        dense[j],
                        sparse[j],
                        doc_chunks=len(chunks),
                        units=tuple(
                            StoredUnit(
                                u,
                                own.get((j, i), dense[j]),
                                sparse[j] if _whole(u, chunk) else unit_sparse[j][i],
                            )
                            for i, u in enumerate(batch_units[j])
                        ),
                    )
                    for j, chunk in enumerate(batch)
                ]
                self.units_stored += sum(len(u) for u in batch_units)
                self.units_embedded += len(own)
                self.store.upsert(points)
        return len(chunks)

    def _sparse_vectors(
        self, batch: Sequence[Chunk], units: Sequence[Sequence[Unit]]
    ) -> tuple[list[SparseVector], list[list[SparseVector]]]:
        """The sparse vectors of a batch's chunks, and of each chunk's answer units."""
        sparse = self.sparse.encode_documents([c.embed_text for c in batch])
        flat = iter(self.sparse.encode_documents([_unit_text(u.text) for us in units for u in us]))
        return sparse, [[next(flat) for _ in us] for us in units]

    def _own_unit_vectors(
        self, batch: Sequence[Chunk], units: Sequence[Sequence[Unit]]
    ) -> dict[tuple[int, int], Sequence[float]]:
        """Dense vectors of the answer units embedded on their own, by (chunk, unit) position in the batch.

        A unit that is the whole chunk shares the chunk's dense vector, and so does a table row (its numbers and
        labels are matched by its own sparse vector; embedding every row would double the indexing time for
        little). Every other unit is embedded on its own, with the batch's others, shortest first to batch well.
        """
        if not self.options.unit_dense:
            return {}
        own = [
            (j, i)
            for j, chunk in enumerate(batch)
            for i, u in enumerate(units[j])
            if not _whole(u, chunk) and u.kind != "table_row"
        ]
        if not own:
            return {}
        own.sort(key=lambda key: len(units[key[0]][key[1]].text))
        embedded = self.embedder.embed_documents([_unit_text(units[j][i].text) for j, i in own])
        return dict(zip(own, embedded, strict=True))

    def run(
        self,
        roots: Sequence[Path],
        *,
        progress: Callable[[Iterable[tuple[Path, Path]], int], Iterable[tuple[Path, Path]]] | None = None,
    ) -> IndexReport:
        """Index every file under `roots`; remove from the index what has gone from them."""
        started = time.perf_counter()
        report = IndexReport()
        states: dict[str, DocumentState] = self.store.documents()
        roots = [r.resolve() for r in roots]
        todo: list[tuple[Path, Path]] = []
        for root in roots:
            base = root if root.is_dir() else root.parent
            todo.extend((path, base) for path in iter_files(root))
        seen: dict[str, str] = {}
        items: Iterable[tuple[Path, Path]] = progress(todo, len(todo)) if progress else todo
        # The next file is read (text layer, OCR, tables) in a second thread while this one is embedded.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="arkiv-read") as reader:
            pending = iter(items)
            current, read = next(pending, None), None
            while current is not None:
                following = next(pending, None)
                ahead = None
                if following is not None and self._changed(*following, states):
                    ahead = reader.submit(self._read, *following)
                self._index_one(*current, states, seen, report, read)
                current, read = following, ahead

        for root in roots:
            base = root if root.is_dir() else root.parent
            for entry in self.catalog.entries():
                if (
                    entry.root == str(base)
                    and entry.doc_id not in seen
                    and (root.is_dir() or entry.source == root.name)
                ):
                    self.store.delete_document(entry.doc_id)
                    self.catalog.remove(entry.doc_id)
                    report.removed += 1
                    logger.info("removed %s: no longer in %s", entry.source, base)
        self.store.flush()
        # -- case index (indexer/cases.py): each case number's steps, rebuilt from what the store holds --
        from indexer.cases import CASES_FILE, write_case_index

        write_case_index(self.store, self.catalog.folder.parent / CASES_FILE)
        # -- end case index --
        report.chunks = self.store.count()
        report.units = self.units_stored
        report.units_embedded = self.units_embedded
        report.table_rows = self.table_rows
        report.untrusted_table_rows = list(self.untrusted_table_rows)
        report.seconds = time.perf_counter() - started
        return report

    def _is_current(self, doc_id: str, digest: str, states: dict[str, DocumentState]) -> bool:
        """Whether the store holds the whole document as it is now (same content, settings and sidecar)."""
        state = states.get(doc_id)
        return (
            state is not None
            and state.content_hash == digest
            and state.complete
            and self.catalog.get(doc_id) is not None
        )

    def _changed(self, path: Path, base: Path, states: dict[str, DocumentState]) -> bool:
        """Whether a file is new or changed, so will be read (False also where it cannot be: reading it says why)."""
        try:
            digest = content_hash(path, self.options)
        except OSError:
            return False
        return not self._is_current(doc_id_for(path.relative_to(base).as_posix()), digest, states)

    def _read(self, path: Path, base: Path) -> tuple[Document, list[Block]]:
        """A file as a Document, with a PDF's tables as row blocks (raises UnreadableDocument)."""
        doc = self.load(path, base)
        return doc, _pdf_tables(path, doc)

    def _index_one(
        self,
        path: Path,
        base: Path,
        states: dict[str, DocumentState],
        seen: dict[str, str],
        report: IndexReport,
        read: Future[tuple[Document, list[Block]]] | None = None,
    ) -> None:
        """Index one file unless it is unchanged; `read` is the file already being read, if it is."""
        source = path.relative_to(base).as_posix()
        doc_id = doc_id_for(source)
        if doc_id in seen:
            report.skipped.append(SkippedFile(str(path), f"samma dokument-id som {seen[doc_id]}"))
            return
        seen[doc_id] = source
        report.documents += 1
        try:
            digest = content_hash(path, self.options)
        except OSError as ex:
            report.skipped.append(SkippedFile(str(path), f"kan inte läsas: {ex.strerror or ex}"))
            logger.warning("skipped %s: %s", path, ex)
            return
        state = states.get(doc_id)
        entry = self.catalog.get(doc_id)
        if entry is not None and self._is_current(doc_id, digest, states):
            report.unchanged += 1
            _count_pages(report, entry)
            return
        try:
            doc, tables = read.result() if read is not None else self._read(path, base)
        except UnreadableDocument as ex:
            report.skipped.append(SkippedFile(str(path), ex.reason))
            logger.warning("skipped %s: %s", path, ex.reason)
            if state is not None:
                self.store.delete_document(doc_id)
                self.catalog.remove(doc_id)
            return
        n = self.index_document(doc, tables)
        entry = CatalogEntry.from_document(doc, root=str(base), chunks=n)
        self.catalog.put(entry)
        report.indexed += 1
        report.chunks_embedded += n
        _count_pages(report, entry)
        logger.info("indexed %s: %d pages, %d chunks", source, len(doc.pages), n)


def _pdf_tables(path: Path, doc: Document) -> list[Block]:
    """A PDF's tables (pdfplumber) as row blocks, from the pages with a text layer; none when it cannot read them."""
    if path.suffix.lower() != ".pdf":
        return []
    pages = [p.number for p in doc.pages if p.method == "text"]
    if not pages:
        return []
    try:
        return pdf_table_blocks(path, pages)
    except Exception as ex:  # pdfplumber raises many kinds on odd PDFs; the text is indexed all the same
        logger.warning("tables of %s not read: %s", doc.source, ex)
        return []


def _unit_text(text: str) -> str:
    return " ".join(text.split())


def _whole(unit: Unit, chunk: Chunk) -> bool:
    return unit.start == 0 and unit.end == len(chunk.text)


def _count_pages(report: IndexReport, entry: CatalogEntry) -> None:
    for page in entry.pages:
        if page.method == "text":
            report.pages_text += 1
        elif page.method == "ocr":
            report.pages_ocr += 1
        else:
            report.pages_skipped += 1
            report.skipped_pages.append((entry.source, page.number, page.note or ""))
