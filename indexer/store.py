"""The vector store: one contract, two Qdrant engines.

- `EdgeStore`: Qdrant's in-process engine (qdrant-edge-py) in a directory under ARKIV_DATA_DIR. The default.
- `ClientStore`: a Qdrant server or cluster through qdrant-client (ARKIV_QDRANT_URL); qdrant-client's local
  mode (`QdrantClient(":memory:")` or a path) speaks the same API and stands in for a server in tests.

Both hold one dense vector ("dense", cosine) and one sparse vector ("sparse", IDF modifier) per chunk, with the
flat payload of `schema.chunk_to_payload`. Hybrid search fuses dense and sparse candidates with RRF inside Qdrant.

Answer units (`schema.Unit`) are points of the same collection, keyed to their chunk: payload `level` "unit",
the chunk's filterable fields (so every filter, access included, applies to them alike) and the unit's own
fields. One collection keeps a document's chunks and units under one delete and one manifest; chunk searches
carry `level = "chunk"`. `score` gives the raw dense and sparse scores of given chunks or of their units,
from the stored vectors. A unit's point id is derived from its chunk's id and its ordinal, so its scores can be
read without its payload, and `units` then reads the payloads of only the units that are wanted: reading a
payload is most of a unit score's cost.

A unit's dense vector has its own name ("unit_dense") without an HNSW graph: units are only ever scored among
the units of given chunks (a payload-index lookup and an exact dot product), never searched across the archive,
so the graph is built over the chunks alone. Units outnumber chunks about eight to one, so this is most of the
graph's build time and memory. In the embedded engine vectors, payloads and payload indexes stay on disk and
are paged in as they are read (the operating system's page cache keeps what is used), so reopening an index
reads almost nothing and memory grows with what is searched, not with the archive; the HNSW graph and the
sparse index stay in RAM.
The collection carries a manifest (embedding model, dimension, schema version); opening it with another is a
`CollectionMismatch`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from indexer.errors import CollectionMismatch, StoreLocked
from indexer.schema import SCHEMA_VERSION, Chunk, Unit, chunk_to_payload, payload_to_chunk, point_id_for, unit_point_id
from indexer.settings import IndexSettings
from indexer.sparse import SparseVector

logger = logging.getLogger(__name__)

DENSE = "dense"
UNIT_DENSE = "unit_dense"
SPARSE = "sparse"
RRF_K = 60
KEYWORD_FIELDS = (
    "doc_id",
    "doc_type",
    "body",
    "case_numbers",
    "paragraph",
    "access_groups",
    "source",
    "kind",
    "level",
    "chunk_id",
)
INTEGER_FIELDS = ("year", "years", "date_num", "ordinal")
NO_FILTER_GRAPH = frozenset({"level", "chunk_id", "doc_id", "source", "ordinal", "case_numbers"})
"""Fields whose filters need no HNSW links of their own: `level` = "chunk" holds every point with a chunk
vector (the main graph serves it), and the others pick out a handful of points, which Qdrant scores exactly."""

NO_GROUP = "\x00none"
"""A group no document has: what an empty `visible_groups` matches (nothing)."""

SearchMode = Literal["dense", "sparse", "hybrid"]
Level = Literal["chunk", "unit"]


@dataclass(frozen=True)
class Manifest:
    """What a collection was built with; a mismatch means its vectors cannot be compared with ours."""

    model_id: str
    dimension: int
    schema_version: int = SCHEMA_VERSION

    def check(self, stored: Manifest) -> None:
        if stored != self:
            raise CollectionMismatch(
                f"the index was built with {stored.model_id} (dim {stored.dimension}, schema "
                f"{stored.schema_version}) but this configuration uses {self.model_id} (dim {self.dimension}, "
                f"schema {self.schema_version}); re-index with `arkiv index --rebuild` or change the settings"
            )


@dataclass(frozen=True)
class SearchFilter:
    """Restrictions on what a search may return. Empty fields restrict nothing."""

    doc_ids: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    case_numbers: tuple[str, ...] = ()
    paragraphs: tuple[str, ...] = ()
    access_groups: tuple[str, ...] = ()
    visible_groups: tuple[str, ...] | None = None
    """Access control: only chunks whose `access_groups` share one of these. None: unrestricted (indexing,
    maintenance); an empty tuple matches nothing. Every search, scroll and count that serves a user sets it."""
    year_from: int | None = None
    """Years match chunks dated in them, of documents from them, or that name them in their text."""
    year_to: int | None = None
    date_from: str | None = None
    date_to: str | None = None
    ordinal_from: int | None = None
    ordinal_to: int | None = None

    def is_empty(self) -> bool:
        return self == SearchFilter()

    def conditions(self) -> list[tuple[str, str, Any]]:
        """The filter as engine-neutral (field, "any"|"range", value) conditions, all of which must hold."""
        out: list[tuple[str, str, Any]] = []
        for key, values in (
            ("doc_id", self.doc_ids),
            ("doc_type", self.doc_types),
            ("body", self.bodies),
            ("case_numbers", self.case_numbers),
            ("paragraph", self.paragraphs),
            ("access_groups", self.access_groups),
        ):
            if values:
                out.append((key, "any", list(values)))
        if self.visible_groups is not None:
            out.append(("access_groups", "any", list(self.visible_groups) or [NO_GROUP]))
        if self.year_from is not None or self.year_to is not None:
            out.append(("years", "range", (self.year_from, self.year_to)))
        if self.date_from or self.date_to:
            out.append(("date_num", "range", (_date_num(self.date_from), _date_num(self.date_to))))
        if self.ordinal_from is not None or self.ordinal_to is not None:
            out.append(("ordinal", "range", (self.ordinal_from, self.ordinal_to)))
        return out


def _date_num(date: str | None) -> int | None:
    return int(date.replace("-", "")[:8].ljust(8, "0")) if date else None


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class DocumentState:
    """What the store holds of one document: enough to tell whether it is complete and current."""

    content_hash: str
    chunks: int
    expected: int

    @property
    def complete(self) -> bool:
        return self.chunks == self.expected


@dataclass(frozen=True)
class StoredUnit:
    unit: Unit
    dense: Sequence[float]
    sparse: SparseVector


@dataclass(frozen=True)
class StoredPoint:
    chunk: Chunk
    dense: Sequence[float]
    sparse: SparseVector
    doc_chunks: int = 0
    """How many chunks the document has in all; lets a run tell a half-written document from a whole one."""
    units: tuple[StoredUnit, ...] = ()


@dataclass(frozen=True)
class PointScores:
    """Raw scores of one stored chunk or unit against a query: cosine and IDF-weighted sparse dot product."""

    chunk_id: str
    unit: Unit | None
    """The unit scored, when scoring units with their payloads (else None)."""
    dense: float
    sparse: float
    terms: frozenset[int] | None = None
    """The stored sparse vector's term indices (chunks only, where the engine returned them)."""
    ordinal: int | None = None
    """The unit's ordinal within its chunk, when scoring units (None: the chunk itself was scored)."""


@dataclass(frozen=True)
class RawPoint:
    """A point exactly as stored (chunk or unit): what `indexer.migrate` copies from one engine to another."""

    id: str
    dense: list[float]
    sparse: SparseVector
    payload: dict[str, Any]

    @property
    def level(self) -> Level:
        return "unit" if self.payload.get("level") == "unit" else "chunk"


def _raw(id_: Any, vector: Any, payload: Any) -> RawPoint:
    """A returned record as a RawPoint, whichever engine's shapes it comes in."""
    vectors = vector if isinstance(vector, dict) else {}
    sparse = vectors.get(SPARSE)
    indices = tuple(int(i) for i in getattr(sparse, "indices", ()) or ())
    values = tuple(float(v) for v in getattr(sparse, "values", ()) or ())
    dense = [float(x) for x in vectors.get(DENSE) or vectors.get(UNIT_DENSE) or ()]
    return RawPoint(str(id_), dense, SparseVector(indices, values), dict(payload or {}))


class Store(Protocol):
    """The contract both engines keep; `tests/indexer/test_store.py` runs it against each."""

    def open(self, manifest: Manifest) -> None: ...

    def manifest(self) -> Manifest | None: ...

    def upsert(self, points: Sequence[StoredPoint]) -> None: ...

    def delete_document(self, doc_id: str) -> None: ...

    def documents(self) -> dict[str, DocumentState]: ...

    def search(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        k: int,
        filt: SearchFilter | None = None,
        mode: SearchMode = "hybrid",
        prefetch: int = 50,
    ) -> list[ScoredChunk]: ...

    def score(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        chunk_ids: Sequence[str],
        level: Level = "chunk",
        filt: SearchFilter | None = None,
        with_units: bool = True,
    ) -> list[PointScores]: ...

    def units(self, keys: Iterable[tuple[str, int]], filt: SearchFilter | None = None) -> dict[tuple[str, int], Unit]:
        """The units named by (chunk id, ordinal) that `filt` lets through."""
        ...

    def scroll(self, filt: SearchFilter | None = None, limit: int = 10_000) -> list[Chunk]: ...

    def count(self, filt: SearchFilter | None = None, level: Level | None = "chunk") -> int: ...

    def export(self, batch: int = 500) -> Iterator[list[RawPoint]]: ...

    def put(self, points: Sequence[RawPoint]) -> None: ...

    def flush(self) -> None: ...

    def warm(self) -> None: ...

    def close(self) -> None: ...


def _payload(point: StoredPoint) -> dict[str, Any]:
    payload = chunk_to_payload(point.chunk)
    payload["doc_chunks"] = point.doc_chunks
    payload["date_num"] = _date_num(point.chunk.date)
    payload["level"] = "chunk"
    return payload


_UNIT_DROPPED = ("text", "extra", "doc_chunks")


def _unit_payload(point: StoredPoint, su: StoredUnit) -> dict[str, Any]:
    """A unit's payload: its chunk's filterable fields (not its text) and the unit's own."""
    payload = {k: v for k, v in _payload(point).items() if k not in _UNIT_DROPPED}
    u = su.unit
    payload.update(
        level="unit",
        unit_ordinal=u.ordinal,
        unit_kind=u.kind,
        unit_text=u.text,
        unit_start=u.start,
        unit_end=u.end,
        unit_page=u.page,
        unit_case_numbers=list(u.case_numbers),
        unit_date=u.date,
    )
    return payload


def _raw_points(points: Sequence[StoredPoint]) -> list[RawPoint]:
    """Chunks and their units as the points the engines store."""
    out = [RawPoint(p.chunk.point_id, list(p.dense), p.sparse, _payload(p)) for p in points]
    out.extend(RawPoint(u.unit.point_id, list(u.dense), u.sparse, _unit_payload(p, u)) for p in points for u in p.units)
    return out


def payload_to_unit(payload: dict[str, Any]) -> Unit:
    return Unit(
        chunk_id=payload["chunk_id"],
        doc_id=payload["doc_id"],
        ordinal=int(payload["unit_ordinal"]),
        kind=payload["unit_kind"],
        text=payload["unit_text"],
        start=int(payload["unit_start"]),
        end=int(payload["unit_end"]),
        page=int(payload["unit_page"]),
        paragraph=payload.get("paragraph"),
        case_numbers=tuple(payload.get("unit_case_numbers") or ()),
        date=payload.get("unit_date"),
    )


UNIT_FIELDS = (
    "chunk_id",
    "doc_id",
    "unit_ordinal",
    "unit_kind",
    "unit_text",
    "unit_start",
    "unit_end",
    "unit_page",
    "paragraph",
    "unit_case_numbers",
    "unit_date",
)
"""The payload `payload_to_unit` reads; a chunk's score needs only its id."""


def _dense_name(level: Level) -> str:
    return UNIT_DENSE if level == "unit" else DENSE


def _level_conditions(
    level: Level | None, chunk_ids: Sequence[str] | None = None, point_ids: Sequence[str] | None = None
) -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    if level is not None:
        out.append(("level", "any", [level]))
    if chunk_ids is not None:
        out.append(("chunk_id", "any", list(chunk_ids)))
    if point_ids is not None:
        out.append(("", "ids", list(point_ids)))
    return out


def _unit_keys(
    chunk_ids: Sequence[str], point_ids: set[str], look_up: Callable[[list[str]], dict[str, tuple[str, int]]]
) -> dict[str, tuple[str, int]]:
    """(chunk id, ordinal) of each unit point, from the ids alone (a unit's id is derived from the two): each
    chunk's ordinals are tried from 0 while they name a returned point. Any id not so found is looked up."""
    keys: dict[str, tuple[str, int]] = {}
    for chunk_id in chunk_ids:
        ordinal = 0
        while (pid := unit_point_id(chunk_id, ordinal)) in point_ids:
            keys[pid] = (chunk_id, ordinal)
            ordinal += 1
    rest = [p for p in point_ids if p not in keys]
    if rest:
        keys.update(look_up(rest))
    return keys


def _point_scores(
    level: Level,
    chunk_ids: Sequence[str],
    dense_points: Sequence[Any],
    sparse_points: Sequence[Any],
    look_up: Callable[[list[str]], dict[str, tuple[str, int]]],
) -> list[PointScores]:
    """The engine's dense and sparse results for the same points as one list, in (chunk id, ordinal) order; a
    point one side missed scores 0 there. Points are known by their ids alone."""
    dense = [(str(p.id), p) for p in dense_points]
    sparse = [(str(p.id), p) for p in sparse_points]
    if level == "chunk":
        keys = {point_id_for(c): (c, -1) for c in chunk_ids}
    else:
        keys = _unit_keys(chunk_ids, {pid for pid, _ in (*dense, *sparse)}, look_up)
    dense_scores = {keys[pid]: float(p.score) for pid, p in dense}
    sparse_scores = {keys[pid]: float(p.score) for pid, p in sparse}
    terms: dict[tuple[str, int], frozenset[int]] = {}
    for pid, p in dense if level == "chunk" else ():
        t = _sparse_terms(p.vector)
        if t is not None:
            terms[keys[pid]] = t
    return [
        PointScores(
            chunk_id=k[0],
            unit=None,
            dense=dense_scores.get(k, 0.0),
            sparse=sparse_scores.get(k, 0.0),
            terms=terms.get(k),
            ordinal=k[1] if level == "unit" else None,
        )
        for k in sorted(dense_scores.keys() | sparse_scores.keys())
    ]


def _with_units(
    scores: list[PointScores], read: Callable[[list[tuple[str, int]]], dict[tuple[str, int], Unit]]
) -> list[PointScores]:
    """Unit scores with their units, as `read` gives them (one it lacks is left out: the filter no longer lets it
    through)."""
    keyed = [((s.chunk_id, s.ordinal), s) for s in scores if s.ordinal is not None]
    units = read([key for key, _ in keyed])
    return [replace(s, unit=units[key]) for key, s in keyed if key in units]


def _prefetch_limit(prefetch: int) -> int:
    """How many points each side of a hybrid search asks for: twice what it keeps, so that points tied at its
    cut are cut by `_fuse`'s order, not by the engine's."""
    return 2 * prefetch


def _fuse(sides: Sequence[Sequence[tuple[str, float]]], prefetch: int, k: int) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of the dense and the sparse search, as Qdrant's RRF scores it (1 / (RRF_K + rank),
    rank from 0, summed over the sides), with equal scores in point id order at every step.

    Qdrant fuses inside one query, but ranks the points tied within a prefetch (equal sparse scores are common)
    in whatever order its threads return them, and keeps whichever tied points come first at each cut: the same
    question then got other candidates from one search to the next. Here each side is ordered by (score, point
    id) and cut at `prefetch`, and the fused list by (fused score, point id) and cut at `k`."""
    fused: dict[str, float] = {}
    for side in sides:
        ordered = sorted(side, key=lambda p: (-p[1], p[0]))[:prefetch]
        for rank, (pid, _) in enumerate(ordered):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(fused.items(), key=lambda p: (-p[1], p[0]))[:k]


def _with_payloads(fused: Sequence[tuple[str, float]], payloads: dict[str, dict[str, Any]]) -> list[ScoredChunk]:
    """The fused points as chunks (a point another writer deleted meanwhile is left out), best first."""
    return _ranked(ScoredChunk(payload_to_chunk(payloads[pid]), score) for pid, score in fused if pid in payloads)


def _ranked(hits: Iterable[ScoredChunk]) -> list[ScoredChunk]:
    """Best first; equal scores (common in RRF: ranks 3 and 5 fuse as 5 and 3 do) in chunk id order, so that the
    same question gets the same order every time (the engine returns ties in whatever order its threads finish)."""
    return sorted(hits, key=lambda h: (-h.score, h.chunk.chunk_id))


def _sparse_terms(vector: Any) -> frozenset[int] | None:
    """The indices of a returned point's stored sparse vector, whichever shape the engine gives it in."""
    if isinstance(vector, dict):
        v = vector.get(SPARSE)
        indices = getattr(v, "indices", None)
        if indices is not None:
            return frozenset(int(i) for i in indices)
    return None


def _states(payloads: Iterator[dict[str, Any]]) -> dict[str, DocumentState]:
    seen: dict[str, tuple[str, int, int]] = {}
    for p in payloads:
        h, n, expected = seen.get(p["doc_id"], (p.get("content_hash", ""), 0, int(p.get("doc_chunks") or 0)))
        if p.get("content_hash", "") != h:
            expected = -1  # chunks of two versions: never complete
        seen[p["doc_id"]] = (h, n + 1, expected)
    return {d: DocumentState(h, n, e) for d, (h, n, e) in seen.items()}


# --- qdrant-edge-py -------------------------------------------------------------------------------------------


class EdgeStore:
    """Qdrant's in-process engine in one directory. One process owns the directory at a time."""

    def __init__(self, path: Path) -> None:
        import qdrant_edge

        self._q = qdrant_edge
        self._path = Path(path)
        self._shard: Any = None

    @property
    def _manifest_path(self) -> Path:
        return self._path / "arkiv-manifest.json"

    def manifest(self) -> Manifest | None:
        if not self._manifest_path.exists():
            return None
        return Manifest(**json.loads(self._manifest_path.read_text(encoding="utf-8")))

    def open(self, manifest: Manifest) -> None:
        q = self._q
        stored = self.manifest()
        if stored is not None:
            manifest.check(stored)
        no_graph = q.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000)
        config = q.EdgeConfig(
            vectors={
                DENSE: q.EdgeVectorParams(size=manifest.dimension, distance=q.Distance.Cosine, memory=q.Memory.Cold),
                UNIT_DENSE: q.EdgeVectorParams(
                    size=manifest.dimension, distance=q.Distance.Cosine, hnsw_config=no_graph, memory=q.Memory.Cold
                ),
            },
            sparse_vectors={SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
            payload_memory=q.Memory.Cold,
        )
        try:
            if stored is None:
                self._path.mkdir(parents=True, exist_ok=True)
                self._shard = q.EdgeShard.create(str(self._path / "shard"), config)
                for name in KEYWORD_FIELDS:
                    params = q.KeywordIndexParams(on_disk=True, enable_hnsw=name not in NO_FILTER_GRAPH)
                    self._shard.update(q.UpdateOperation.create_field_index(name, params))
                for name in INTEGER_FIELDS:
                    params = q.IntegerIndexParams(
                        lookup=True, range=True, on_disk=True, enable_hnsw=name not in NO_FILTER_GRAPH
                    )
                    self._shard.update(q.UpdateOperation.create_field_index(name, params))
                self._manifest_path.write_text(json.dumps(asdict(manifest)), encoding="utf-8")
            else:
                self._shard = q.EdgeShard.load(str(self._path / "shard"))
        except Exception as ex:  # the engine raises plain exceptions; a held WAL lock is the common one
            if "lock" in str(ex).lower():
                raise StoreLocked(f"{self._path} is in use by another Arkiv process (stop `arkiv serve` first)") from ex
            raise

    def _filter(
        self,
        filt: SearchFilter | None,
        level: Level | None = "chunk",
        chunk_ids: Sequence[str] | None = None,
        point_ids: Sequence[str] | None = None,
    ) -> Any:
        conditions = (filt.conditions() if filt is not None else []) + _level_conditions(level, chunk_ids, point_ids)
        if not conditions:
            return None
        q = self._q
        must = []
        for key, kind, value in conditions:
            if kind == "any":
                must.append(q.FieldCondition(key=key, match=q.MatchAny(any=value)))
            elif kind == "ids":
                must.append(q.HasIdCondition(set(value)))
            else:
                lo, hi = value
                must.append(q.FieldCondition(key=key, range=q.RangeFloat(gte=lo, lte=hi)))
        return q.Filter(must=must)

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        self.put(_raw_points(points))

    def delete_document(self, doc_id: str) -> None:
        self._shard.update(
            self._q.UpdateOperation.delete_points_by_filter(self._filter(SearchFilter(doc_ids=(doc_id,)), level=None))
        )

    def _payloads(self, filt: SearchFilter | None, fields: list[str] | bool = True) -> Iterator[dict[str, Any]]:
        q = self._q
        offset = None
        while True:
            records, offset = self._shard.scroll(
                q.ScrollRequest(offset=offset, limit=1000, filter=self._filter(filt), with_payload=fields)
            )
            for r in records:
                yield dict(r.payload or {})
            if offset is None:
                return

    def documents(self) -> dict[str, DocumentState]:
        return _states(self._payloads(None, ["doc_id", "content_hash", "doc_chunks"]))

    def search(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        k: int,
        filt: SearchFilter | None = None,
        mode: SearchMode = "hybrid",
        prefetch: int = 50,
    ) -> list[ScoredChunk]:
        q = self._q
        f = self._filter(filt)
        dense_q = q.Query.Nearest(list(dense), using=DENSE) if dense is not None else None
        sparse_q = (
            q.Query.Nearest(q.SparseVector(indices=list(sparse.indices), values=list(sparse.values)), using=SPARSE)
            if sparse is not None and sparse.indices
            else None
        )
        if mode == "dense" or (mode == "hybrid" and sparse_q is None):
            if dense_q is None:
                return []
            request = q.QueryRequest(limit=k, query=dense_q, filter=f, with_payload=True)
        elif mode == "sparse" or dense_q is None:
            if sparse_q is None:
                return []
            request = q.QueryRequest(limit=k, query=sparse_q, filter=f, with_payload=True)
        else:
            # both searches in one batch, fused here in a fixed order (see `_fuse`), then the payloads of the k kept
            sides = self._shard.query_batch(
                q.QueryBatchRequest(
                    queries=[
                        q.QueryRequest(limit=_prefetch_limit(prefetch), query=query, filter=f, with_payload=False)
                        for query in (dense_q, sparse_q)
                    ]
                )
            )
            fused = _fuse([[(str(p.id), float(p.score)) for p in side] for side in sides], prefetch, k)
            records = self._shard.retrieve([pid for pid, _ in fused], True, False)
            return _with_payloads(fused, {str(r.id): dict(r.payload or {}) for r in records})
        return _ranked(
            ScoredChunk(payload_to_chunk(dict(p.payload or {})), float(p.score)) for p in self._shard.query(request)
        )

    def score(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        chunk_ids: Sequence[str],
        level: Level = "chunk",
        filt: SearchFilter | None = None,
        with_units: bool = True,
    ) -> list[PointScores]:
        if not chunk_ids:
            return []
        q = self._q
        f = self._filter(filt, level=level, chunk_ids=chunk_ids)
        limit = len(chunk_ids) if level == "chunk" else 10_000
        fields = False  # a point is known by its id
        requests: list[tuple[int, Any]] = []
        if dense is not None:
            want = [SPARSE] if level == "chunk" else None
            query = q.Query.Nearest(list(dense), using=_dense_name(level))
            request = q.QueryRequest(limit=limit, query=query, filter=f, with_payload=fields, with_vector=want)
            requests.append((0, request))
        if sparse is not None and sparse.indices:
            query = q.Query.Nearest(
                q.SparseVector(indices=list(sparse.indices), values=list(sparse.values)), using=SPARSE
            )
            requests.append((1, q.QueryRequest(limit=limit, query=query, filter=f, with_payload=fields)))
        sides: list[list[Any]] = [[], []]
        if requests:
            results = self._shard.query_batch(q.QueryBatchRequest(queries=[r for _, r in requests]))
            for (i, _), points in zip(requests, results, strict=True):
                sides[i] = points
        scores = _point_scores(level, chunk_ids, sides[0], sides[1], self._unit_refs)
        if level == "unit" and with_units:
            return _with_units(scores, lambda keys: self.units(keys, filt))
        return scores

    def _unit_refs(self, point_ids: list[str]) -> dict[str, tuple[str, int]]:
        records = self._shard.retrieve(point_ids, ["chunk_id", "unit_ordinal"], False)
        return {str(r.id): (str(r.payload["chunk_id"]), int(r.payload["unit_ordinal"])) for r in records}

    def units(self, keys: Iterable[tuple[str, int]], filt: SearchFilter | None = None) -> dict[tuple[str, int], Unit]:
        ids = sorted({unit_point_id(c, o) for c, o in keys})
        if not ids:
            return {}
        q = self._q
        request = q.ScrollRequest(
            limit=len(ids), filter=self._filter(filt, level="unit", point_ids=ids), with_payload=list(UNIT_FIELDS)
        )
        records, _ = self._shard.scroll(request)
        units = [payload_to_unit(dict(r.payload or {})) for r in records]
        return {(u.chunk_id, u.ordinal): u for u in units}

    def scroll(self, filt: SearchFilter | None = None, limit: int = 10_000) -> list[Chunk]:
        chunks = []
        for payload in self._payloads(filt):
            chunks.append(payload_to_chunk(payload))
            if len(chunks) >= limit:
                break
        return sorted(chunks, key=lambda c: (c.doc_id, c.ordinal))

    def count(self, filt: SearchFilter | None = None, level: Level | None = "chunk") -> int:
        """Chunks (the default), units, or with `level=None` every point."""
        return int(self._shard.count(self._q.CountRequest(filter=self._filter(filt, level=level))))

    def export(self, batch: int = 500) -> Iterator[list[RawPoint]]:
        """Every point, chunks and units, with its vectors and payload, in batches."""
        q = self._q
        offset = None
        while True:
            records, offset = self._shard.scroll(
                q.ScrollRequest(offset=offset, limit=batch, with_payload=True, with_vector=True)
            )
            yield [_raw(r.id, r.vector, r.payload) for r in records]
            if offset is None:
                return

    def put(self, points: Sequence[RawPoint]) -> None:
        """Write points as exported from a store (`export`), vectors and payload unchanged."""
        q = self._q
        batch = [
            q.Point(
                id=p.id,
                vector={
                    _dense_name(p.level): p.dense,
                    SPARSE: q.SparseVector(indices=list(p.sparse.indices), values=list(p.sparse.values)),
                },
                payload=p.payload,
            )
            for p in points
        ]
        if batch:
            self._shard.update(q.UpdateOperation.upsert_points(batch))

    def flush(self) -> None:
        if self._shard is not None:
            self._shard.flush()

    def warm(self) -> None:
        """Ask the kernel to read the index's files into the page cache, in a background thread.

        The engine pages vectors and payloads in from disk as searches touch them, so without this the first
        searches after a restart wait for the disk (seconds at 100,000 chunks). Smallest files first: the graph
        and indexes before the bulk of the vectors and payloads. Nothing is read into this process's memory.
        """
        if not hasattr(os, "posix_fadvise"):
            return
        threading.Thread(target=_advise_will_need, args=(self._path,), name="arkiv-warm", daemon=True).start()

    def optimize(self) -> None:
        """Build the HNSW and payload indexes (the engine searches exactly until then)."""
        if self._shard is not None:
            self._shard.optimize()

    def close(self) -> None:
        if self._shard is not None:
            self._shard.flush()
            self._shard.close()
            self._shard = None


# --- qdrant-client --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerLayout:
    """How a new server collection is laid out (ARKIV_QDRANT_SHARDS, _REPLICAS, _ON_DISK, _QUANTIZATION).

    qdrant-client's local mode ignores all but `on_disk`; a server or cluster applies all four."""

    shards: int = 1
    replicas: int = 1
    on_disk: bool = False
    quantization: bool = False


class ClientStore:
    """A Qdrant server, cluster or qdrant-client local mode, through qdrant-client."""

    def __init__(self, client: Any, collection: str, layout: ServerLayout | None = None) -> None:
        from qdrant_client import models

        self._m = models
        self._client = client
        self._collection = collection
        self._layout = layout or ServerLayout()

    def manifest(self) -> Manifest | None:
        if not self._client.collection_exists(self._collection):
            return None
        meta = self._client.get_collection(self._collection).config.metadata or {}
        if "model_id" not in meta:
            raise CollectionMismatch(f"collection {self._collection!r} exists but was not made by Arkiv")
        return Manifest(meta["model_id"], int(meta["dimension"]), int(meta["schema_version"]))

    def open(self, manifest: Manifest) -> None:
        m = self._m
        stored = self.manifest()
        if stored is not None:
            manifest.check(stored)
            return
        layout = self._layout
        int8 = m.ScalarQuantizationConfig(type=m.ScalarType.INT8, always_ram=True)
        self._client.create_collection(
            self._collection,
            vectors_config={
                # Only chunk vectors are searched by the graph, so only they get int8 copies in RAM.
                DENSE: m.VectorParams(
                    size=manifest.dimension,
                    distance=m.Distance.COSINE,
                    on_disk=layout.on_disk,
                    quantization_config=m.ScalarQuantization(scalar=int8) if layout.quantization else None,
                ),
                UNIT_DENSE: m.VectorParams(
                    size=manifest.dimension, distance=m.Distance.COSINE, on_disk=True, hnsw_config=m.HnswConfigDiff(m=0)
                ),
            },
            sparse_vectors_config={
                SPARSE: m.SparseVectorParams(modifier=m.Modifier.IDF, index=m.SparseIndexParams(on_disk=layout.on_disk))
            },
            shard_number=layout.shards,
            replication_factor=layout.replicas,
            on_disk_payload=layout.on_disk,
            metadata=asdict(manifest),
        )
        for name in KEYWORD_FIELDS:
            self._client.create_payload_index(self._collection, name, m.PayloadSchemaType.KEYWORD)
        for name in INTEGER_FIELDS:
            self._client.create_payload_index(self._collection, name, m.PayloadSchemaType.INTEGER)

    def _filter(
        self,
        filt: SearchFilter | None,
        level: Level | None = "chunk",
        chunk_ids: Sequence[str] | None = None,
        point_ids: Sequence[str] | None = None,
    ) -> Any:
        conditions = (filt.conditions() if filt is not None else []) + _level_conditions(level, chunk_ids, point_ids)
        if not conditions:
            return None
        m = self._m
        must: list[Any] = []
        for key, kind, value in conditions:
            if kind == "any":
                must.append(m.FieldCondition(key=key, match=m.MatchAny(any=value)))
            elif kind == "ids":
                must.append(m.HasIdCondition(has_id=value))
            else:
                lo, hi = value
                must.append(m.FieldCondition(key=key, range=m.Range(gte=lo, lte=hi)))
        return m.Filter(must=must)

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        self.put(_raw_points(points))

    def delete_document(self, doc_id: str) -> None:
        self._client.delete(
            self._collection,
            points_selector=self._m.FilterSelector(filter=self._filter(SearchFilter(doc_ids=(doc_id,)), level=None)),
            wait=True,
        )

    def _payloads(self, filt: SearchFilter | None, fields: list[str] | bool = True) -> Iterator[dict[str, Any]]:
        offset = None
        while True:
            records, offset = self._client.scroll(
                self._collection, scroll_filter=self._filter(filt), limit=1000, offset=offset, with_payload=fields
            )
            for r in records:
                yield dict(r.payload or {})
            if offset is None:
                return

    def documents(self) -> dict[str, DocumentState]:
        return _states(self._payloads(None, ["doc_id", "content_hash", "doc_chunks"]))

    def search(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        k: int,
        filt: SearchFilter | None = None,
        mode: SearchMode = "hybrid",
        prefetch: int = 50,
    ) -> list[ScoredChunk]:
        m = self._m
        f = self._filter(filt)
        sparse_q = (
            m.SparseVector(indices=list(sparse.indices), values=list(sparse.values))
            if sparse is not None and sparse.indices
            else None
        )
        dense_q = list(dense) if dense is not None else None
        if mode == "dense" or (mode == "hybrid" and sparse_q is None):
            if dense_q is None:
                return []
            res = self._client.query_points(self._collection, query=dense_q, using=DENSE, query_filter=f, limit=k)
        elif mode == "sparse" or dense_q is None:
            if sparse_q is None:
                return []
            res = self._client.query_points(self._collection, query=sparse_q, using=SPARSE, query_filter=f, limit=k)
        else:
            # both searches in one batch, fused here in a fixed order (see `_fuse`), then the payloads of the k kept
            requests = [
                m.QueryRequest(query=query, using=name, filter=f, limit=_prefetch_limit(prefetch), with_payload=False)
                for query, name in ((dense_q, DENSE), (sparse_q, SPARSE))
            ]
            sides = self._client.query_batch_points(self._collection, requests=requests)
            fused = _fuse([[(str(p.id), float(p.score)) for p in side.points] for side in sides], prefetch, k)
            records = self._client.retrieve(self._collection, [pid for pid, _ in fused], with_payload=True)
            return _with_payloads(fused, {str(r.id): dict(r.payload or {}) for r in records})
        return _ranked(ScoredChunk(payload_to_chunk(dict(p.payload or {})), float(p.score)) for p in res.points)

    def score(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        chunk_ids: Sequence[str],
        level: Level = "chunk",
        filt: SearchFilter | None = None,
        with_units: bool = True,
    ) -> list[PointScores]:
        if not chunk_ids:
            return []
        m = self._m
        f = self._filter(filt, level=level, chunk_ids=chunk_ids)
        limit = len(chunk_ids) if level == "chunk" else 10_000
        requests = []
        fields = False  # a point is known by its id
        if dense is not None:
            dq = m.QueryRequest(
                query=list(dense),
                using=_dense_name(level),
                filter=f,
                limit=limit,
                with_payload=fields,
                with_vector=[SPARSE] if level == "chunk" else False,
            )
            requests.append((0, dq))
        if sparse is not None and sparse.indices:
            vec = m.SparseVector(indices=list(sparse.indices), values=list(sparse.values))
            requests.append((1, m.QueryRequest(query=vec, using=SPARSE, filter=f, limit=limit, with_payload=fields)))
        sides: list[list[Any]] = [[], []]
        if requests:
            results = self._client.query_batch_points(self._collection, requests=[r for _, r in requests])
            for (i, _), res in zip(requests, results, strict=True):
                sides[i] = res.points
        scores = _point_scores(level, chunk_ids, sides[0], sides[1], self._unit_refs)
        if level == "unit" and with_units:
            return _with_units(scores, lambda keys: self.units(keys, filt))
        return scores

    def _unit_refs(self, point_ids: list[str]) -> dict[str, tuple[str, int]]:
        records = self._client.retrieve(self._collection, point_ids, with_payload=["chunk_id", "unit_ordinal"])
        return {str(r.id): (str(r.payload["chunk_id"]), int(r.payload["unit_ordinal"])) for r in records}

    def units(self, keys: Iterable[tuple[str, int]], filt: SearchFilter | None = None) -> dict[tuple[str, int], Unit]:
        ids = sorted({unit_point_id(c, o) for c, o in keys})
        if not ids:
            return {}
        f = self._filter(filt, level="unit", point_ids=ids)
        records, _ = self._client.scroll(
            self._collection, scroll_filter=f, limit=len(ids), with_payload=list(UNIT_FIELDS)
        )
        units = [payload_to_unit(dict(r.payload or {})) for r in records]
        return {(u.chunk_id, u.ordinal): u for u in units}

    def scroll(self, filt: SearchFilter | None = None, limit: int = 10_000) -> list[Chunk]:
        chunks = []
        for payload in self._payloads(filt):
            chunks.append(payload_to_chunk(payload))
            if len(chunks) >= limit:
                break
        return sorted(chunks, key=lambda c: (c.doc_id, c.ordinal))

    def count(self, filt: SearchFilter | None = None, level: Level | None = "chunk") -> int:
        """Chunks (the default), units, or with `level=None` every point."""
        f = self._filter(filt, level=level)
        return int(self._client.count(self._collection, count_filter=f, exact=True).count)

    def export(self, batch: int = 500) -> Iterator[list[RawPoint]]:
        """Every point, chunks and units, with its vectors and payload, in batches."""
        offset = None
        while True:
            records, offset = self._client.scroll(
                self._collection, limit=batch, offset=offset, with_payload=True, with_vectors=True
            )
            yield [_raw(r.id, r.vector, r.payload) for r in records]
            if offset is None:
                return

    def put(self, points: Sequence[RawPoint]) -> None:
        """Write points as exported from a store (`export`), vectors and payload unchanged."""
        m = self._m
        batch = [
            m.PointStruct(
                id=p.id,
                vector={
                    _dense_name(p.level): p.dense,
                    SPARSE: m.SparseVector(indices=list(p.sparse.indices), values=list(p.sparse.values)),
                },
                payload=p.payload,
            )
            for p in points
        ]
        if batch:
            self._client.upsert(self._collection, points=batch, wait=True)

    def drop(self) -> None:
        """Delete the whole collection (`arkiv migrate --replace`)."""
        if self._client.collection_exists(self._collection):
            self._client.delete_collection(self._collection)

    def flush(self) -> None:
        """Writes are acknowledged with wait=True; nothing to flush."""

    def warm(self) -> None:
        """The server keeps its own caches."""

    def optimize(self) -> None:
        """The server optimises in the background."""

    def close(self) -> None:
        self._client.close()


def layout(settings: IndexSettings) -> ServerLayout:
    return ServerLayout(
        settings.qdrant_shards, settings.qdrant_replicas, settings.qdrant_on_disk, settings.qdrant_quantization
    )


def _advise_will_need(folder: Path) -> None:
    started = time.perf_counter()
    files = sorted((f for f in folder.rglob("*") if f.is_file()), key=lambda f: f.stat().st_size)
    total = advised = 0
    for f in files:
        try:
            fd = os.open(f, os.O_RDONLY)
        except OSError:
            continue  # the engine may have just replaced it
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
            total += os.fstat(fd).st_size
            advised += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    seconds = time.perf_counter() - started
    logger.info("asked for %d files (%d MB) of %s in the page cache in %.1f s", advised, total >> 20, folder, seconds)


def make_store(settings: IndexSettings) -> EdgeStore | ClientStore:
    """The store the settings ask for: a Qdrant server when ARKIV_QDRANT_URL is set, else the embedded engine."""
    if settings.qdrant_url:
        from qdrant_client import QdrantClient

        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return ClientStore(QdrantClient(url=settings.qdrant_url, api_key=key), settings.collection, layout(settings))
    return EdgeStore(settings.store_dir / settings.collection)
