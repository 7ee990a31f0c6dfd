"""Answer units: the sentences, list items, table rows and decision items of a chunk.

A unit is the smallest thing an answer quotes. Its text is exactly a slice of its chunk's text, so a citation
can quote it verbatim. Units come from the Swedish sentence splitter (indexer.sentences); then

- a line that starts with a bullet or a list number is a ``list_item``, and in a decision ("Direktionen
  beslutar att 1. … 2. …", or the Beslut part of a § item) a ``decision_item``;
- each line of a table chunk (``kind == "table_row"``) is a ``table_row``;
- a unit shorter than ``MIN_UNIT_CHARS`` (a heading, a label, a lone number; not a lead-in to a list) is merged
  with the unit after it (the last one with the unit before it), so that every unit carries enough words to
  embed and match.

Pure and deterministic: the same chunk always gives the same units.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from indexer.casenumbers import find_case_numbers
from indexer.schema import Chunk, Unit, UnitKind
from indexer.sentences import sentence_spans

__all__ = ["MIN_UNIT_CHARS", "split_units"]

MIN_UNIT_CHARS = 30
"""Units shorter than this join a neighbour: headings and labels say too little on their own."""

_BULLET_START = re.compile(r"[•·▪■□◦●○‣⁃∙*\uf0b7\uf0a7–—-]\s|o\s|\d{1,2}[.)]\s|[a-zåäö][)]\s")
_NUMBERED_START = re.compile(r"\d{1,2}[.)]\s")
_DANGLING_NUMBER = re.compile(r"(?:^|\s)(\d{1,2}[.)])$")
"""A span that ends in "att 1." (the splitter ended a sentence at the list number): the number goes on."""
_DECISION_LEAD = re.compile(
    r"\b(?:beslutar|beslutade|beslöt|föreslår|föreslog|besluta|tillstyrker|uppdrar)\b[^.!?]*$",
    re.IGNORECASE,
)
_INLINE_FIRST_ITEM = re.compile(r"(?:\batt|:)[ \t]+(1[.)])\s+\S")
"""The first item of a list run into its lead-in: "beslutar att 1. Godkänna …"."""
_LEAD_IN = re.compile(r"(?:\batt|:)$")
"""A lead-in ("Direktionen beslutar att", "Följande gäller:") stands alone even when short: its items follow."""
_DECISION_PARTS = frozenset({"Beslut", "Förslag till beslut", "Presidiets förslag", "Förslag"})


def split_units(chunk: Chunk) -> list[Unit]:
    """The answer units of a chunk, in text order, numbered 0..n-1."""
    text = chunk.text
    if not text.strip():
        return []
    raw: list[tuple[int, int, UnitKind]]
    if chunk.kind == "table_row":
        raw = [(s, e, "table_row") for s, e in _line_spans(text)]
    else:
        raw = _prose_units(text, chunk.part in _DECISION_PARTS)
    merged = _merge_short(text, raw)
    return [_unit(chunk, i, s, e, kind) for i, (s, e, kind) in enumerate(merged)]


def _line_spans(text: str) -> list[tuple[int, int]]:
    out = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            out.append((pos + lead, pos + lead + len(stripped)))
        pos += len(line) + 1
    return out


def _prose_units(text: str, in_decision: bool) -> list[tuple[int, int, UnitKind]]:
    spans = _split_inline_lists(text, _reattach_list_numbers(text, sentence_spans(text)))
    out: list[tuple[int, int, UnitKind]] = []
    decision = in_decision
    lead_seen = False
    for s, e in spans:
        piece = text[s:e]
        kind: UnitKind = "sentence"
        if _BULLET_START.match(piece) and len(piece) > 2:
            kind = "decision_item" if (decision or lead_seen) else "list_item"
        elif lead_seen and not _NUMBERED_START.match(piece):
            lead_seen = False  # prose after the items ends the decision's list
        if _DECISION_LEAD.search(piece):
            lead_seen = True
        out.append((s, e, kind))
    return out


def _reattach_list_numbers(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Move a list number stranded at the end of a span ("beslutar att 1.") to the start of the next."""
    out: list[tuple[int, int]] = []
    carry: int | None = None
    for i, (s, e) in enumerate(spans):
        if carry is not None:
            s, carry = carry, None
        m = _DANGLING_NUMBER.search(text[s:e])
        if m and i + 1 < len(spans):
            carry = s + m.start(1)
            e = len(text[:carry].rstrip())
        if e > s:
            out.append((s, e))
    return out


def _split_inline_lists(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split "… beslutar att 1. Godkänna …" into the lead-in and the first item."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        m = _INLINE_FIRST_ITEM.search(text, s, e)
        if m:
            cut = m.start(1)
            out.append((s, len(text[:cut].rstrip())))
            out.append((cut, e))
        else:
            out.append((s, e))
    return out


def _merge_short(text: str, units: list[tuple[int, int, UnitKind]]) -> list[tuple[int, int, UnitKind]]:
    out: list[tuple[int, int, UnitKind]] = []
    pending: tuple[int, UnitKind] | None = None
    for s, e, kind in units:
        if pending is not None:
            s = pending[0]
            pending = None
        lead_in = _LEAD_IN.search(text[s:e]) or _DECISION_LEAD.search(text[s:e])
        if e - s < MIN_UNIT_CHARS and kind != "table_row" and not lead_in:
            pending = (s, kind)
            continue
        out.append((s, e, kind))
    if pending is not None:
        s, kind = pending
        end = units[-1][1]
        if out:
            ps, _, pkind = out.pop()
            out.append((ps, end, pkind))
        else:
            out.append((s, end, kind))
    return out


def _unit(chunk: Chunk, ordinal: int, start: int, end: int, kind: UnitKind) -> Unit:
    text = chunk.text[start:end]
    own = find_case_numbers(text)
    return Unit(
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        ordinal=ordinal,
        kind=kind,
        text=text,
        start=start,
        end=end,
        page=_page(chunk, start),
        paragraph=chunk.paragraph,
        case_numbers=own or chunk.case_numbers,
        date=chunk.date,
    )


def _page(chunk: Chunk, offset: int) -> int:
    """The page a unit starts on: from the chunk's recorded page breaks where it has them, else its first page."""
    breaks = chunk.extra.get("page_breaks") if chunk.extra else None
    if chunk.page_start == chunk.page_end or not breaks:
        return chunk.page_start
    return min(chunk.page_start + bisect_right(list(breaks), offset), chunk.page_end)
