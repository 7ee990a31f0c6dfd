"""The case index: every case number (diarienummer) in the archive, with each place it appears as a dated step.

Built at the end of an index run from the chunks the store already holds (their case numbers, §, part, date,
body and page), and kept as JSON beside the store (``ARKIV_DATA_DIR/cases.json``). One step is one place a case
appears: a § of a protocol, a tjänsteskrivelse or missiv, an agenda row, a delegation list, a mention. A
Finland-Swedish § that carries its case's earlier treatments ("Tidigare behandling: Personalsektionen 20.2.2023,
4 §" and below it each treatment's förslag and beslut) gives one step per treatment. What kind each step is
comes from the rules in ``indexer.swedish.casekinds``.

Every step keeps its document's access groups; every read takes the caller's visible groups.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from indexer.casenumbers import (
    case_number_keys,
    case_number_spans,
    display_case_numbers,
    find_case_numbers,
    normalise_case_number,
)
from indexer.schema import Chunk, chunk_to_payload
from indexer.structure import PAGE_BREAK, find_dates
from indexer.swedish.casekinds import (
    DECISION_LINE,
    PROPOSAL_LINE,
    STEP_HEADER,
    classify_step,
    is_reference_series,
    protocol_body,
)

__all__ = [
    "CASES_FILE",
    "CaseEntry",
    "CaseIndex",
    "CaseSummary",
    "build_case_index",
    "case_index_path",
    "write_case_index",
]

logger = logging.getLogger(__name__)

CASES_FILE = "cases.json"
FORMAT_VERSION = 1
PUBLIC = ("public",)
_UNDATED = "9999-99-99"


@dataclass(frozen=True)
class CaseEntry:
    """One step of a case: where it appears, when, in which body and §, what kind of step, what was decided."""

    case_number: str
    doc_id: str
    source: str
    title: str
    doc_type: str
    page: int
    page_end: int
    date: str | None
    """The step's own date (ISO): the meeting's, the report's; None where the text gives none."""
    body: str | None
    paragraph: str | None
    kind: str
    heading: str | None
    """The § title, the report's subject or the agenda row."""
    decision: str | None
    proposal: str | None
    text: str
    """The passage the step is read from (cited, and marked on the page view)."""
    chunk: dict[str, Any] = field(repr=False, compare=False)
    """The payload of the chunk the step is cited from (schema.chunk_to_payload)."""
    access_groups: tuple[str, ...] = PUBLIC
    sort_date: str = _UNDATED
    """The date the step sorts by: its own, or the nearest one before it in the same document."""
    position: tuple[int, int] = (0, 0)
    """(chunk ordinal, step within the chunk group): document order, for steps of the same date."""

    def visible_to(self, groups: Collection[str]) -> bool:
        return bool(set(self.access_groups) & set(groups))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["access_groups"] = list(self.access_groups)
        data["position"] = list(self.position)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseEntry:
        data = dict(data)
        data["access_groups"] = tuple(data.get("access_groups") or PUBLIC)
        data["position"] = tuple(data.get("position") or (0, 0))
        return cls(**data)


@dataclass(frozen=True)
class CaseSummary:
    """A case as a search result: its number, what it is about, where and when it appears."""

    case_number: str
    heading: str | None
    bodies: tuple[str, ...]
    first_date: str | None
    last_date: str | None
    steps: int
    kinds: tuple[str, ...]
    last_decision: str | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["bodies"] = list(self.bodies)
        data["kinds"] = list(self.kinds)
        return data


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class CaseIndex:
    """Case number -> its steps in date order, with the bare "YYYY/N" forms resolved to their prefixed case."""

    def __init__(self, entries: Iterable[CaseEntry] = ()) -> None:
        by_case: dict[str, list[CaseEntry]] = defaultdict(list)
        for e in entries:
            by_case[e.case_number].append(e)
        self._cases = {c: sorted(es, key=_order) for c, es in by_case.items()}
        self._aliases: dict[str, str] = {}
        prefixed: dict[str, set[str]] = defaultdict(set)
        for c in self._cases:
            keys = case_number_keys(c)
            if len(keys) == 2:
                prefixed[keys[1]].add(c)
        for bare, owners in prefixed.items():
            if len(owners) == 1:
                self._aliases[bare] = next(iter(owners))

    def __len__(self) -> int:
        return len(self._cases)

    def case_numbers(self) -> list[str]:
        return sorted(self._cases)

    def entries(self) -> list[CaseEntry]:
        return [e for es in self._cases.values() for e in es]

    def resolve(self, raw: str) -> str | None:
        """The case a person means by ``raw`` ("rjl 2022/258", "Dnr 2022/258", "2022/258"), if the index holds it."""
        canonical = normalise_case_number(raw)
        if canonical is None:
            return None
        if canonical in self._aliases:
            return self._aliases[canonical]
        if canonical in self._cases:
            return canonical
        keys = case_number_keys(canonical)
        bare = keys[-1] if keys else canonical
        return self._aliases.get(bare) or (bare if bare in self._cases else None)

    def timeline(self, raw: str, access_groups: Collection[str] = PUBLIC) -> list[CaseEntry]:
        """The steps of a case the caller may see, in date order; [] when the case is unknown or hidden."""
        case = self.resolve(raw)
        if case is None:
            return []
        steps = list(self._cases.get(case, ()))
        keys = case_number_keys(case)
        if len(keys) == 2 and self._aliases.get(keys[1]) == case:
            steps += self._cases.get(keys[1], [])
        return sorted((e for e in steps if e.visible_to(access_groups)), key=_order)

    def summary(self, raw: str, access_groups: Collection[str] = PUBLIC) -> CaseSummary | None:
        steps = self.timeline(raw, access_groups)
        if not steps:
            return None
        case = self.resolve(raw) or raw
        dates = [e.date for e in steps if e.date]
        decided = [e for e in steps if e.decision]
        heading = next((e.heading for e in steps if e.paragraph and e.heading), None) or next(
            (e.heading for e in steps if e.heading), None
        )
        return CaseSummary(
            case_number=case,
            heading=heading,
            bodies=tuple(dict.fromkeys(e.body for e in steps if e.body)),
            first_date=min(dates) if dates else None,
            last_date=max(dates) if dates else None,
            steps=len(steps),
            kinds=tuple(dict.fromkeys(e.kind for e in steps)),
            last_decision=decided[-1].decision if decided else None,
        )

    def search(self, q: str, access_groups: Collection[str] = PUBLIC, limit: int = 50) -> list[CaseSummary]:
        """Cases whose number, headings, bodies, decisions or years hold every word of ``q``; newest first."""
        exact = self.resolve(q) if q.strip() else None
        words = [_fold(w) for w in re.findall(r"[\wåäöÅÄÖ/]+", q)]
        out: list[CaseSummary] = []
        for case in self._cases:
            if len(case_number_keys(case)) == 1 and case in self._aliases:
                continue  # a bare number shown under its prefixed case
            summary = self.summary(case, access_groups)
            if summary is None:
                continue
            if exact is not None:
                if case == exact:
                    out.append(summary)
                continue
            steps = self.timeline(case, access_groups)
            years = {e.date[:4] for e in steps if e.date} | {m for m in re.findall(r"\b(?:19|20)\d\d\b", case)}
            hay = _fold(
                " ".join(
                    [case, *(e.heading or "" for e in steps), *(e.body or "" for e in steps)]
                    + [e.decision or "" for e in steps]
                    + [e.proposal or "" for e in steps]
                    + [e.title for e in steps]
                    + [e.text for e in steps]
                    + sorted(years)
                )
            )
            if all((w in years) if re.fullmatch(r"(?:19|20)\d\d", w) else w in hay for w in words):
                out.append(summary)
        out.sort(key=lambda s: (s.last_date or "", s.case_number), reverse=True)
        return out[:limit]

    # -- persistence ------------------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": FORMAT_VERSION, "entries": [e.to_json() for e in self.entries()]}
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> CaseIndex:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path}: case index format {data.get('version')}, expected {FORMAT_VERSION}")
        return cls(CaseEntry.from_json(e) for e in data["entries"])


_STAGE = {"ansökan": 0, "remiss": 0, "tjänsteskrivelse": 1, "dagordning": 2, "förslag": 3}


def _order(e: CaseEntry) -> tuple[str, str, int, str, tuple[int, int]]:
    """Date order; on one date, what prepares a meeting (report, agenda, proposal) before what it decides."""
    return (e.sort_date, e.date or e.sort_date, _STAGE.get(e.kind, 4), e.source, e.position)


def case_index_path(data_dir: Path) -> Path:
    return Path(data_dir) / CASES_FILE


# -- building ----------------------------------------------------------------------------------------------------


def _chunk_cases(chunk: Chunk) -> list[str]:
    """The case numbers a chunk belongs to (its §'s or section's) and those its text writes, canonical."""
    found = display_case_numbers(chunk.case_numbers)
    for c in find_case_numbers(chunk.text):
        if c not in found and not any(f.endswith(" " + c) for f in found):
            found.append(c)
    return [c for c in found if not is_reference_series(c)]


def _top(section: str | None) -> str:
    return (section or "").split(" > ")[0]


def _join_at(texts: Sequence[str]) -> tuple[str, list[int]]:
    """Consecutive chunk texts of one unit as one text, with the overlap between neighbours removed, and where
    each text begins in it."""
    out = ""
    starts: list[int] = []
    for t in texts:
        if not out:
            starts.append(0)
            out = t
            continue
        k = min(len(out), len(t), 2000)
        while k > 20 and not out.endswith(t[:k]):
            k -= 1
        if k > 20:
            starts.append(len(out) - k)
            out += t[k:]
        else:
            out += "\n"
            starts.append(len(out))
            out += t
    return out, starts


def _join(texts: Sequence[str]) -> str:
    return _join_at(texts)[0]


_HEADING_LINE = re.compile(
    r"^\s*(?:Diarienummer|Dnr|Beslut|Förslag till beslut|Beslutet?|Yrkanden?)\b[^\n]*$", re.IGNORECASE | re.MULTILINE
)


def _clean(text: str, limit: int = 1200) -> str | None:
    """Text without page marks, heading lines and extra blank lines; None when nothing is left."""
    lines = [ln.rstrip() for ln in text.replace(PAGE_BREAK, "\n").splitlines()]
    kept = [
        ln
        for ln in lines
        if ln.strip()
        and not _HEADING_LINE.fullmatch(ln)
        and not DECISION_LINE.fullmatch(ln)
        and not PROPOSAL_LINE.fullmatch(ln)
    ]
    out = "\n".join(kept).strip()
    if len(out) > limit:
        out = out[:limit].rsplit(" ", 1)[0] + " …"
    return out or None


def _part_text(chunks: Sequence[Chunk], parts: Collection[str]) -> str | None:
    """The text of a § part (or a report's), from its heading on: what a chunk holds before it is not the part."""
    picked = [c.text for c in chunks if (c.part or "") in parts]
    if not picked:
        return None
    text = _join(picked)
    heading = re.search(
        r"^[ \t]*(?:" + "|".join(re.escape(p) for p in parts) + r")[ \t]*:?[ \t]*$", text, re.MULTILINE | re.IGNORECASE
    )
    return _clean(text[heading.end() :] if heading else text)


def _page_at(chunk: Chunk, pos: int) -> int:
    return min(chunk.page_end, chunk.page_start + chunk.text[:pos].count(PAGE_BREAK))


def _date_near_case(chunk: Chunk, case: str) -> str | None:
    """A date on the line that writes the case number ("2022-02-02 RJL 2022/258"), or None."""
    for line in chunk.text.replace(PAGE_BREAK, "\n").splitlines():
        if _writes(line, case):
            dates = find_dates(line)
            if dates:
                return dates[0]
    return None


def _writes(line: str, case: str) -> bool:
    bare = case_number_keys(case)[-1]
    return re.search(rf"(?<![\d/]){re.escape(bare)}(?!\d)", line) is not None


def _without_case(line: str, case: str) -> str:
    bare = case_number_keys(case)[-1]
    line = re.sub(rf"(?:\b[A-ZÅÄÖ]{{2,8}}\s?)?(?<![\d/]){re.escape(bare)}(?!\d)", "", line)
    return " ".join(line.strip(" •-–").split())


def _row_of(chunk: Chunk, case: str) -> str | None:
    """The table or list row of a chunk that writes the case number, without it ("13 Stöd till besöksnäringen …")."""
    lines = [ln.strip() for ln in chunk.text.replace(PAGE_BREAK, "\n").splitlines()]
    at = next((i for i, ln in enumerate(lines) if _writes(ln, case)), None)
    if at is None:
        return None
    own = _without_case(lines[at], case)
    if len(own.split()) >= 3 and not re.match(r"^[a-zåäö]", own):
        return own[:200]
    picked = [own] if own else []
    for back in range(at - 1, max(-1, at - 7), -1):
        line = lines[back]
        if not line:
            continue
        if _AGENDA_ROW.match(line):
            picked.insert(0, line)
            break
        if case_number_spans(line) or len(picked) >= 3:
            break
        picked.insert(0, line)
    row = " ".join(" ".join(picked).split())
    return row[:200] or None


_AGENDA_ROW = re.compile(r"^\d{1,3}\s+[A-ZÅÄÖ]")


def _heading(chunks: Sequence[Chunk], case: str, in_paragraph: bool) -> str | None:
    first = chunks[0]
    if in_paragraph:
        return first.section
    parts = [p for p in (first.section or "").split(" > ") if p]
    if first.kind == "table_row" or not parts:
        return _row_of(first, case) or (parts[-1] if parts else None)
    if case_number_keys(case)[-1] in parts[0]:
        return parts[-1] if len(parts) > 1 else parts[0]
    return _row_of(first, case) or parts[-1]


def _finnish_steps(
    chunks: Sequence[Chunk],
) -> list[tuple[Chunk, int, str | None, str | None, str | None, str, str | None, str | None]]:
    """The treatments a Finland-Swedish § writes out, in order: (chunk, position in it, body, date, §, text,
    proposal, decision). Empty when the § has no "Tidigare behandling" steps."""
    joined, starts_at = _join_at([c.text for c in chunks])
    if "tidigare behandling" not in joined.lower():
        return []
    joined = joined.replace(PAGE_BREAK, "\n")
    # A run of header lines (the "Tidigare behandling" list, then the first treatment's own header) opens
    # one treatment: the run's last line. Each treatment runs to the next one.
    headers = list(STEP_HEADER.finditer(joined))
    starts = [
        h for i, h in enumerate(headers) if i + 1 == len(headers) or joined[h.end() : headers[i + 1].start()].strip()
    ]
    segments: list[tuple[int, int, re.Match[str] | None]] = [
        (h.end(), starts[k + 1].start() if k + 1 < len(starts) else len(joined), h) for k, h in enumerate(starts)
    ]
    if segments:
        # The § itself, when no header line opens it: after the last earlier treatment's decision, a new
        # "Beredning:" starts the meeting's own treatment (body, date and § are the protocol's).
        at, end, last = segments[-1]
        present = _present_treatment(joined, at, end)
        if present is not None:
            segments[-1] = (at, present, last)
            segments.append((present, end, None))
    out = []
    for at, end, header in segments:
        if header is not None:
            body: str | None = header.group("body")
            dates = find_dates(header.group("date"))
            date = dates[0] if dates else None
            number = header.group("num") or header.group("num2")
            start = header.start()
        else:
            body, date, number, start = None, chunks[0].date, None, at
        step_text = re.sub(r"\n[ \t]*_{3,}[ \t]*(?=\n|$)", "\n", joined[at:end])
        proposal = decision = None
        p = list(PROPOSAL_LINE.finditer(step_text))
        d = list(DECISION_LINE.finditer(step_text)) or list(_BARE_DECISION.finditer(step_text))
        if d:
            decision = _clean(step_text[d[-1].end() :], 800)
        if p:
            stop = d[-1].start() if d and d[-1].start() > p[-1].end() else len(step_text)
            proposal = _clean(step_text[p[-1].end() : stop], 800)
        i = max(k for k, at_k in enumerate(starts_at) if at_k <= start)
        chunk, pos = chunks[i], start - starts_at[i]
        out.append((chunk, pos, body, date, number, step_text, proposal, decision))
    return out


_BARE_DECISION = re.compile(r"^[ \t]*Beslut[ \t]*:[ \t]*$", re.MULTILINE)
_PREPARATION = re.compile(r"^[ \t]*Beredning[ \t]*:", re.MULTILINE)
_WORD_START = re.compile(r"\S")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _present_treatment(joined: str, start: int, end: int) -> int | None:
    """Where the meeting's own treatment begins inside the last earlier treatment's text: the paragraph after
    that treatment's decision, when a "Beredning:" follows it; None when the § ends with that decision."""
    decided = DECISION_LINE.search(joined, start, end)
    if decided is None:
        return None
    said = _WORD_START.search(joined, decided.end(), end)  # the decision's first word
    gap = _BLANK_LINE.search(joined, said.end(), end) if said else None
    if gap is None:
        return None
    prepared = _PREPARATION.search(joined, gap.end(), end)
    return gap.end() if prepared is not None else None


def _entries_for(doc_chunks: Sequence[Chunk]) -> list[CaseEntry]:
    """The steps of every case in one document's chunks (in ordinal order)."""
    runs: list[tuple[str, list[Chunk]]] = []
    open_runs: dict[str, tuple[tuple[str, str], list[Chunk]]] = {}
    headers: list[tuple[int, str]] = []
    previous = ""
    for chunk in doc_chunks:
        body = protocol_body(_join([previous, chunk.text]) if previous else chunk.text)
        previous = chunk.text
        if body:
            headers.append((chunk.ordinal, body))
        unit = ("§", chunk.paragraph) if chunk.paragraph else ("section", _top(chunk.section))
        for case in _chunk_cases(chunk):
            current = open_runs.get(case)
            if current and current[0] == unit and (unit[0] == "§" or current[1][-1].ordinal >= chunk.ordinal - 1):
                current[1].append(chunk)
                continue
            run: list[Chunk] = [chunk]
            open_runs[case] = (unit, run)
            runs.append((case, run))

    def header_before(ordinal: int) -> str | None:
        found = None
        for o, b in headers:
            if o <= ordinal:
                found = b
        return found

    out: list[CaseEntry] = []
    for case, chunks in runs:
        first = chunks[0]
        if first.paragraph is None and not any(_writes(c.text, case) for c in chunks):
            continue  # carried by chunks that do not write the case number (a heading taken from elsewhere)
        meta = first.meta
        in_paragraph = first.paragraph is not None
        body = _complete_body(header_before(first.ordinal), meta.body) if in_paragraph else meta.body
        heading = _heading(chunks, case, in_paragraph)
        steps = _finnish_steps(chunks) if in_paragraph else []
        if steps:
            for k, (chunk, pos, step_body, date, number, step_text, proposal, decision) in enumerate(steps):
                kind = classify_step(
                    decision=decision, proposal=proposal, text=step_text, section=heading, in_paragraph=True
                )
                out.append(
                    _entry(
                        case,
                        chunk,
                        pos,
                        date=date,
                        body=step_body or body,
                        paragraph=number or first.paragraph,
                        kind=kind,
                        heading=heading,
                        decision=decision,
                        proposal=proposal,
                        text=_clean(step_text, 1500) or chunk.text,
                        step=k,
                    )
                )
            continue
        decision = _part_text(chunks, {"Beslut"}) if in_paragraph else None
        proposal = _part_text(chunks, {"Förslag till beslut", "Förslag"})
        joined = _join([c.text for c in chunks])
        if body is None and in_paragraph:
            speaker = DECISION_LINE.search(joined)
            body = speaker.group("who").strip() if speaker else None
        focus = joined if in_paragraph else (_row_of(first, case) or "") + "\n" + joined
        kind = classify_step(
            decision=decision,
            proposal=proposal,
            text=focus,
            section=first.section,
            in_paragraph=in_paragraph,
            doc_type=meta.doc_type,
        )
        if in_paragraph:
            date = first.date
        else:
            date = _date_near_case(first, case)
            if date is None and kind == "tjänsteskrivelse":
                found = find_dates(first.text[:300])
                date = found[0] if found else None
            date = date or first.date or meta.date
        cited = next((c for c in chunks if c.part == "Beslut"), None) if decision else None
        cited = cited or next((c for c in chunks if c.part in ("Förslag till beslut", "Förslag")), None) or first
        if kind == "tjänsteskrivelse" and not proposal:
            proposal = None
        out.append(
            _entry(
                case,
                cited,
                0,
                date=date,
                body=body,
                paragraph=first.paragraph,
                kind=kind,
                heading=heading,
                decision=decision,
                proposal=proposal,
                text=cited.text,
                step=0,
                first_page=first.page_start,
                last_page=max(c.page_end for c in chunks),
            )
        )
    # An undated step sorts with the next dated step of its case after it in the document (a § writes its
    # treatments in the order they happened), or else the last one before it, or else the document's date.
    fixed: list[CaseEntry] = []
    by_case: dict[str, list[CaseEntry]] = defaultdict(list)
    for e in sorted(out, key=lambda e: e.position):
        by_case[e.case_number].append(e)
    for case_steps in by_case.values():
        for i, e in enumerate(case_steps):
            after = next((x.date for x in case_steps[i + 1 :] if x.date), None)
            before = next((x.date for x in reversed(case_steps[:i]) if x.date), None)
            fixed.append(_with_sort(e, e.date or after or before or first_doc_date(doc_chunks)))
    return fixed


def _complete_body(header: str | None, doc_body: str | None) -> str | None:
    """The body a protocol header names, completed from the document's body where the header was cut short
    ("Presidium - Nämnd för arbetsmarknad, näringsliv och" + "… attraktivitet")."""
    if not header:
        return doc_body
    if doc_body and re.search(r"(?:\boch|\bför|,)$", header):
        head, _, tail = header.rpartition(" - ")
        if tail and doc_body.startswith(tail):
            return f"{head} - {doc_body}" if head else doc_body
    return header


def first_doc_date(chunks: Sequence[Chunk]) -> str:
    meta = chunks[0].meta if chunks else None
    if meta and meta.date:
        return meta.date
    if meta and meta.year:
        return f"{meta.year}-99-99"
    return _UNDATED


def _with_sort(e: CaseEntry, sort_date: str) -> CaseEntry:
    from dataclasses import replace

    return replace(e, sort_date=sort_date)


def _entry(
    case: str,
    chunk: Chunk,
    pos: int,
    *,
    date: str | None,
    body: str | None,
    paragraph: str | None,
    kind: str,
    heading: str | None,
    decision: str | None,
    proposal: str | None,
    text: str,
    step: int,
    first_page: int | None = None,
    last_page: int | None = None,
) -> CaseEntry:
    page = first_page if first_page is not None else _page_at(chunk, pos)
    return CaseEntry(
        case_number=case,
        doc_id=chunk.doc_id,
        source=chunk.source,
        title=chunk.meta.title,
        doc_type=chunk.meta.doc_type,
        page=page,
        page_end=max(page, last_page or chunk.page_end),
        date=date,
        body=body,
        paragraph=paragraph,
        kind=kind,
        heading=heading,
        decision=decision,
        proposal=proposal,
        text=text.replace(PAGE_BREAK, "\n"),
        chunk=chunk_to_payload(chunk),
        access_groups=tuple(chunk.meta.access_groups) or PUBLIC,
        position=(chunk.ordinal, step),
    )


def build_case_index(chunks: Iterable[Chunk]) -> CaseIndex:
    """The case index of these chunks (any order; grouped by document and read in ordinal order)."""
    by_doc: dict[str, list[Chunk]] = defaultdict(list)
    seen: set[str] = set()
    for c in chunks:
        if c.chunk_id not in seen:
            seen.add(c.chunk_id)
            by_doc[c.doc_id].append(c)
    entries: list[CaseEntry] = []
    for doc_chunks in by_doc.values():
        doc_chunks.sort(key=lambda c: c.ordinal)
        entries.extend(_entries_for(doc_chunks))
    return CaseIndex(entries)


def write_case_index(store: Any, path: Path) -> CaseIndex:
    """Build the case index from everything the store holds and write it to ``path``."""
    index = build_case_index(store.scroll(None, limit=10_000_000))
    index.save(path)
    logger.info("case index: %d cases, %d steps -> %s", len(index), len(index.entries()), path)
    return index
