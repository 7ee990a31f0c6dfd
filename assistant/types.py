"""What flows through the assistant: hits, citations, answers. Frozen dataclasses; pydantic only at the edges."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from indexer.schema import Chunk, Unit
from indexer.store import SearchFilter

Status = Literal["answered", "not_found"]
Language = Literal["sv", "en"]


@dataclass(frozen=True)
class Filters:
    """Filters a user can set (API, web controls) or that are parsed from the question."""

    year_from: int | None = None
    year_to: int | None = None
    date_from: str | None = None
    date_to: str | None = None
    body: str | None = None
    doc_type: str | None = None
    case_number: str | None = None
    paragraph: str | None = None
    document: str | None = None
    access_groups: tuple[str, ...] = ()
    """A user's own narrowing to some access groups; it can never widen what they may see."""
    visible_groups: tuple[str, ...] | None = field(default=None, compare=True, repr=False)
    """The access groups the asking principal may see (set by the service from the request's identity, never by
    the user). None: unrestricted, for the indexer and evaluation only. Not shown as a filter."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "visible_groups")

    def merged(self, other: Filters) -> Filters:
        """These filters, with every field `other` sets taking its value (visible groups only ever narrow)."""
        changes = {
            f.name: getattr(other, f.name)
            for f in fields(other)
            if f.name != "visible_groups" and getattr(other, f.name) not in (None, ())
        }
        out = replace(self, **changes)
        if other.visible_groups is not None:
            out = out.visible_to(other.visible_groups)
        return out

    def visible_to(self, groups: Iterable[str]) -> Filters:
        """These filters, restricted to documents of the given access groups (intersected with any restriction
        already set)."""
        wanted = set(groups)
        if self.visible_groups is not None:
            wanted &= set(self.visible_groups)
        return replace(self, visible_groups=tuple(sorted(wanted)))

    def to_dict(self) -> dict[str, Any]:
        """Only the fields that are set, as JSON-ready values (the principal's visible groups are not a filter
        the user set, and are left out)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "visible_groups":
                continue
            value = getattr(self, f.name)
            if value not in (None, ()):
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def is_empty(self) -> bool:
        return not self.to_dict()


@dataclass(frozen=True)
class UnitHit:
    """An answer unit of a hit, scored against the question from its stored vectors; rank 1 is the best."""

    unit: Unit
    dense: float
    """Cosine of the unit's stored dense vector and the query's."""
    sparse: float
    """Dot product of the unit's stored sparse vector (IDF-weighted) and the query's."""
    rank: int


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk, ranked. `reason` says how it was found (hybrid, case_number, paragraph, neighbour, list).

    `score` is the reranker's score (higher is better; comparable across questions, for "not found"
    calibration). `dense` and `sparse` are the chunk's raw scores where the search produced them.
    """

    chunk: Chunk
    score: float
    rank: int
    reason: str = "hybrid"
    units: tuple[UnitHit, ...] = ()
    dense: float | None = None
    sparse: float | None = None


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the hit, and the sentences of it that support the answer."""

    n: int
    hit: Hit
    quotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    question: str
    query: str
    """The standalone query actually searched (after follow-up rewriting)."""
    text: str
    """The answer with [n] markers referring to `citations`."""
    status: Status
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    filters: Filters = field(default_factory=Filters)
    language: Language = "sv"
    notice: str | None = None
    """Something the user should know about how the answer was made (e.g. the LLM was unreachable)."""
    nearby: tuple[str, ...] = ()
    """For not_found: titles (and sections) of the nearest material the archive does hold."""
    answerer: str = "extractive"


def search_filter(filters: Filters) -> SearchFilter:
    """The store-level filter for user-level filters (bodies and types are matched as given)."""
    from indexer.casenumbers import case_number_keys, normalise_case_number

    cases: tuple[str, ...] = ()
    if filters.case_number:
        canonical = normalise_case_number(filters.case_number) or filters.case_number
        cases = tuple(case_number_keys(canonical))
    return SearchFilter(
        doc_ids=(filters.document,) if filters.document else (),
        doc_types=(filters.doc_type,) if filters.doc_type else (),
        bodies=(filters.body,) if filters.body else (),
        case_numbers=cases,
        paragraphs=(filters.paragraph,) if filters.paragraph else (),
        access_groups=filters.access_groups,
        visible_groups=filters.visible_groups,
        year_from=filters.year_from,
        year_to=filters.year_to,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
