"""Document structure: pages become Blocks (§ items and their parts, sections under headings, table rows).

Block text keeps the line breaks of the source and marks each page break with ``PAGE_BREAK`` ("\\f"),
one per page turned, so that chunking can tell on which pages each piece of a block lies.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from indexer.casenumbers import find_case_numbers, is_case_number_line
from indexer.schema import DOC_TYPES, Block, Page
from indexer.sentences import ends_mid_phrase
from indexer.swedish.dates import MONTHS

__all__ = [
    "PAGE_BREAK",
    "detect_doc_type",
    "find_dates",
    "is_agenda_item",
    "is_furniture_line",
    "meeting_date",
    "part_of_heading",
    "segment",
]

logger = logging.getLogger(__name__)

PAGE_BREAK = "\f"

# ---------------------------------------------------------------------------------------------------------
# Dates

_MONTHS = MONTHS
_DATE = re.compile(
    r"(?<![\d.])(?:(?P<iy>(?:19|20)\d{2})-(?P<im>[01]?\d)-(?P<id>[0-3]?\d)"
    r"|(?P<fd>[0-3]?\d)\.(?P<fm>[01]?\d)\.(?P<fy>(?:19|20)\d{2})"
    r"|(?P<td>[0-3]?\d)(?:\s*:e|\s*:a)?\s+(?P<tm>" + "|".join(_MONTHS) + r")\s+(?P<ty>(?:19|20)\d{2}))(?![\d])",
    re.IGNORECASE,
)
_DATE_LABEL = re.compile(
    r"^(?:tid|datum|sammanträdestid|sammanträdestd|sammanträdesdatum|mötesdatum|mötestid|"
    r"sammanträde|protokoll|dag och tid|tid och plats)\b",
    re.IGNORECASE,
)


def find_dates(text: str) -> list[str]:
    """Dates in ``text`` as ISO strings, in order: 2022-02-10, 28.3.2023, 10 februari 2022."""
    out = []
    for m in _DATE.finditer(text):
        if m.group("iy"):
            y, mo, d = int(m.group("iy")), int(m.group("im")), int(m.group("id"))
        elif m.group("fy"):
            y, mo, d = int(m.group("fy")), int(m.group("fm")), int(m.group("fd"))
        else:
            y, mo, d = int(m.group("ty")), _MONTHS[m.group("tm").lower()], int(m.group("td"))
        try:
            out.append(_dt.date(y, mo, d).isoformat())
        except ValueError:
            continue
    return out


def meeting_date(line: str) -> str | None:
    """The date on a meeting header line ("Tid: 2022-02-10 kl. 09:00", "Sammanträdestid 28.3.2023")."""
    s = line.strip()
    if not _DATE_LABEL.match(s) or len(s) > 120:
        return None
    dates = find_dates(s)
    return dates[0] if dates else None


# ---------------------------------------------------------------------------------------------------------
# Line classes

_FURNITURE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"sid(?:a|an)?\s*\d+\s*(?:av|/)\s*\d+",
        r"sid(?:a|an)?\s*\d+\s*\(\s*\d+\s*\)",
        r"sida",
        r"utskriftsdatum:?.*",
        r"utskriven av:?.*",
        r"justerare,?\s*signatur",
        r"justerandes\s+sign(?:atur)?\.?",
        r"ordförandes\s+sign(?:atur)?\.?",
        r"protokollsutdrag,?\s*bestyrkande",
        r"utdragsbestyrkande",
        r"_{3,}.*",
        r"beslutets antal sidor",
    )
]
_LONE_NUMBER = re.compile(r"[-–]?\s*\d{1,3}\s*[-–]?|\d{1,3}\s*\(\s*\d{1,3}\s*\)|\d{1,3}\s*/\s*\d{1,3}")
_END_OF_EXTRACT = re.compile(r"beslutets antal sidor", re.IGNORECASE)

_DOC_HEADER = re.compile(
    r"^(?P<kind>KALLELSE|PROTOKOLL|PROTOKOLLSUTDRAG|SAMMANTRÄDESPROTOKOLL|TJÄNSTESKRIVELSE|MISSIV|"
    r"BESLUTSUNDERLAG|FÖREDRAGNINGSLISTA|DAGORDNING|YTTRANDE|REMISSVAR|BESLUT|RAPPORT|SKRIVELSE)"
    r"\b\s*(?:(?P<n>\d+)\s*\(\s*(?P<m>\d+)\s*\))?"
)

_PARA_FIRST = re.compile(
    r"^(?P<sym>§|\$|&)\s*(?P<num>\d{1,4})(?P<suffix>\s?[a-z](?![a-zåäö]))?\s*[.:]?\s*(?P<rest>.*)$"
)
_PARA_AFTER = re.compile(
    r"^(?P<num>\d{1,4})(?P<suffix>\s?[a-z](?![a-zåäö]))?\s*(?P<sym>§|\$|&)\s*[.:]?\s*(?P<rest>.*)$"
)
_PARA_OCR8 = re.compile(r"^8\s+(?P<num>\d{1,3})\s*[.:]?\s*(?P<rest>.*)$")
# The page header of a Finland-Swedish protocol, "Protokoll 49 § 15.09.2022 Sida", names the § the page belongs
# to; OCR reads its § as "8" glued to the number ("Protokoll 498 15.09.2022 Sida") or as "$" ("49 $ 15.09.2022").
# The text layer writes no number there at all ("Protokoll 15.09.2022 Sida"), so a number there is the §.
_OCR_PAGE_HEADER = re.compile(
    r"^(?:[A-ZÅÄÖ][a-zåäö]{5,20}\s+)?(?P<num>\d{1,3})\s?[8$§]\s+\d{1,2}\.\d{1,2}\.\d{4}\s+Sida\b.{0,12}$"
)
_TOC_LEADER = re.compile(r"(?:\.\s?){4,}|…{2,}|\s\d{1,3}\s*$")

_PART_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.IGNORECASE), name)
    for p, name in (
        (r"beslut", "Beslut"),
        (r"(?:\S+\s+){0,3}\S+s\s+beslut", "Beslut"),
        (r"beslutsunderlag|underlag för beslut|handlingar i ärendet", "Beslutsunderlag"),
        (r"yrkanden?(?:\s*/\s*förslag till beslut.*)?|yrkanden? på sammanträdet", "Yrkanden"),
        (r"förslag till beslut(?: på sammanträdet)?|förslag|beslutsförslag", "Förslag till beslut"),
        (r"(?:\S+\s+){0,5}\S+s\s+förslag", "Förslag till beslut"),
        (r"reservationer?", "Reservation"),
        (r"jäv", "Jäv"),
        (r"sammanfattning(?: av ärendet)?", "Sammanfattning"),
        (r"ärendebeskrivning|bakgrund|information i ärendet|beskrivning av ärendet|ärendet", "Ärendebeskrivning"),
        (r"protokollsanteckningar?", "Protokollsanteckning"),
        (r"information", "Information"),
        (r"omröstning(?:sresultat)?", "Omröstning"),
        (r"särskilda? yttranden?", "Särskilt yttrande"),
        (r"beslutet skickas till|beslut skickas till|expedieras(?: till)?|sändlista", "Beslutet skickas till"),
    )
]
_SMALL_PARTS = frozenset({"Beslutet skickas till"})

_HEADER_WORDS = frozenset(
    """granskningsområde kontrollmoment kontrollmetod frekvens kontrollansvarig resultat granskning
    aktiviteter aktivitet samverkanspartner när vem prio uppföljning status kommentar kommentarer analys
    mätetal målvärde utfall ärendetyp ärenderubrik diarienummer beslutsdatum beslutsdelegat ansvarig
    datum beskrivning budget prognos avvikelse belopp indikator åtgärd åtgärder tidplan risk
    sannolikhet konsekvens riskvärde kontroll kontrollmål process rutin metod mål delmål nyckeltal
    ärende ärenden beslutsfattare delegat lagrum""".split()
)

_NUMBERED_HEADING = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<rest>\S.*)$")
_AGENDA_ITEM = re.compile(r"^(?P<num>\d{1,2})\.?\s+(?P<rest>[A-ZÅÄÖ\"”].*)$")
_ROW_START = re.compile(r"^(?P<num>\d{1,2})\.\s+(?P<rest>[A-ZÅÄÖ].*)$")
_BILAGA = re.compile(r"^bilaga\s+\d+\b", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[•·▪■□◦●○‣⁃∙*\uf0b7\uf0a7]|–|—|-(?=\s))")


def _norm(s: str) -> str:
    return re.sub(r"\d", "#", " ".join(s.lower().split()))


def is_furniture_line(text: str) -> bool:
    """Lines printed on every page or every extract: 'Sidan 1 av 1', 'Justerare, signatur', rulers."""
    s = text.strip()
    return bool(s) and any(p.fullmatch(s) for p in _FURNITURE)


def part_of_heading(text: str) -> str | None:
    """The part a heading line opens within a § item ('Beslut', 'Yrkanden', ...), or None."""
    s = text.strip().rstrip(":").strip()
    if not s or len(s) > 70 or not s[0].isupper():
        return None
    for pat, name in _PART_PATTERNS:
        if pat.fullmatch(s):
            return name
    return None


def _is_header_line(text: str) -> bool:
    """A table header: column labels such as 'Granskningsområde Kontrollmoment Kontrollmetod ...'."""
    if len(text) > 140 or _TERMINAL.search(text):
        return False
    words = [w.lower().strip(",;") for w in re.findall(r"[A-Za-zÅÄÖåäöÉé]+", text)]
    long_words = [w for w in words if len(w) > 2]
    if len(long_words) < 2:
        return False
    hits = sum(1 for w in long_words if w in _HEADER_WORDS)
    if hits == 2 and any(w in {"och", "samt", "eller"} for w in words):
        return False  # "Aktiviteter och mätetal" is a heading
    return hits >= 2 and hits >= 0.6 * len(long_words)


_TERMINAL = re.compile(r"[.!?…]['\"”’)\]]*$")
_AMOUNT = re.compile(r"\d[ \u00a0]\d{3}\b|\d+,\d+\s?%|\d\s?%")


def _is_title_like(text: str, max_words: int = 10) -> bool:
    words = text.split()
    if not 1 <= len(words) <= max_words or len(text) > 100:
        return False
    if not text[0].isupper():
        return False
    if text[-1] in ".,;:!?-–(/&" or ends_mid_phrase(text):
        return False
    if ":" in text or _BULLET.match(text) or "http" in text or "@" in text:
        return False
    if "?" in text or _AMOUNT.search(text) or re.search(r"(?<![\d-])(?!(?:19|20)\d\d\b)\d+$", text):
        return False
    letters = sum(c.isalpha() for c in text)
    digits = sum(c.isdigit() for c in text)
    return letters >= 3 and digits <= letters


def _is_caps_heading(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if not text[0].isalnum() or (len(letters) < 6 and len(text.split()) < 2):
        return False
    if len(letters) < 4 or len(text.split()) > 10 or any(c.islower() for c in letters):
        return False
    if find_case_numbers(text) or sum(c.isdigit() for c in text) > len(letters) * 0.5:
        return False
    return not _TERMINAL.search(text)


def _numbered_heading(text: str) -> tuple[int, str] | None:
    m = _NUMBERED_HEADING.match(text)
    if not m:
        return None
    rest = m.group("rest").strip()
    num = m.group("num")
    if int(num.split(".")[0]) > 40 or not rest[0].isupper():
        return None
    if len(rest.split()) > 12 or rest[-1] in ".,;:" or ends_mid_phrase(rest):
        return None
    letters = sum(c.isalpha() for c in rest)
    if letters < 3 or sum(c.isdigit() for c in rest) > letters * 0.3 or re.search(r"\bkr\b|\d\s\d{3}", rest):
        return None
    return num.count(".") + 1, f"{num} {rest}"


# ---------------------------------------------------------------------------------------------------------
# Lines of a document


@dataclass
class _Line:
    idx: int
    page: int
    text: str
    ocr: bool = False
    furniture: bool = False
    page_first: bool = False


def _lines(pages: Sequence[Page]) -> list[_Line]:
    out: list[_Line] = []
    for page in pages:
        if not page.text:
            continue
        first = True
        for raw in page.text.replace(PAGE_BREAK, "\n").splitlines():
            text = " ".join(raw.split())
            ln = _Line(len(out), page.number, text, ocr=page.method == "ocr")
            if text and first:
                ln.page_first = True
                first = False
            out.append(ln)
    return out


def _edge_indices(lines: list[_Line], k: int = 5) -> dict[int, list[int]]:
    """Indices of the first and last k non-empty lines of each page."""
    by_page: dict[int, list[int]] = {}
    for ln in lines:
        if ln.text:
            by_page.setdefault(ln.page, []).append(ln.idx)
    return {p: sorted(set(ix[:k] + ix[-k:])) for p, ix in by_page.items()}


def _mark_furniture(lines: list[_Line]) -> None:
    edges = _edge_indices(lines)
    n_pages = len(edges)
    for ln in lines:
        if ln.text and is_furniture_line(ln.text):
            ln.furniture = True
    for ix in edges.values():
        for i in ix:
            if _LONE_NUMBER.fullmatch(lines[i].text):
                lines[i].furniture = True
    # Running headers and footers: the same line at the edge of many pages.
    if n_pages >= 3:
        counts: Counter[str] = Counter()
        for ix in edges.values():
            counts.update({_norm(lines[i].text) for i in ix if lines[i].text})
        limit = max(3, 0.3 * n_pages)
        repeated = {k for k, v in counts.items() if v >= limit}
        kept: set[str] = set()  # the first copy of a letterhead at the top of a page stays as text
        for ix in edges.values():
            top = set(ix[:5])
            for i in ix:
                t = lines[i].text
                key = _norm(t)
                if key not in repeated or _is_header_line(t) or part_of_heading(t) or _marker_of(lines[i]):
                    continue
                if key in kept or i not in top or "#" in key:
                    lines[i].furniture = True
                kept.add(key)
    # A page that repeats the top lines of the page before it (a continued document's letterhead).
    prev_top: set[str] = set()
    prev_page = None
    for p, ix in edges.items():
        first_lines = [i for i in ix if lines[i].text][:4]
        keys = {_norm(lines[i].text) for i in first_lines}
        if prev_page is not None:
            for i in first_lines:
                t = lines[i].text
                if (
                    _norm(t) in prev_top
                    and len(t) > 3
                    and not part_of_heading(t)
                    and not _is_header_line(t)
                    and not _marker_of(lines[i])
                ):
                    lines[i].furniture = True
        prev_top, prev_page = keys, p


# ---------------------------------------------------------------------------------------------------------
# § markers


@dataclass(frozen=True)
class _Marker:
    idx: int
    number: str
    rest: str
    trailing: bool = False


def _marker_of(ln: _Line) -> tuple[str, str] | None:
    t = ln.text
    if not t or t.startswith("§§") or len(t) > 160:
        return None
    m = _PARA_FIRST.match(t) or _PARA_AFTER.match(t)
    if m is None and ln.ocr:
        m = _PARA_OCR8.match(t)
    if m is None:
        return None
    rest = m.group("rest").strip()
    if rest:
        if not (rest[0].isupper() or rest[0] in '"”«'):
            return None
        if _TOC_LEADER.search(rest) or len(rest.split()) > 20 or rest.lower().startswith("kap"):
            return None
    number = m.group("num").lstrip("0") or "0"
    suffix = (m.groupdict().get("suffix") or "").strip()
    return number + suffix, rest


def _find_markers(lines: list[_Line]) -> list[_Marker]:
    out: list[_Marker] = []
    for ln in lines:
        header = _OCR_PAGE_HEADER.match(ln.text) if ln.ocr else None
        if header:
            # labels its page, as a § printed on the page's last line does in the text layer
            out.append(_Marker(ln.idx, header.group("num").lstrip("0") or "0", "", trailing=True))
            continue
        found = _marker_of(ln)
        if not found:
            continue
        number, rest = found
        sym_ok = ln.text.startswith("§") or "§" in ln.text[:8]
        nxt = _next_content(lines, ln.idx)
        if not sym_ok and not rest:
            # "$ 13", "& 13", "8 13" (OCR) count only before a title line.
            if nxt is None or not _is_title_like(lines[nxt].text, 16):
                continue
        trailing = not rest and _only_furniture_after(lines, ln.idx)
        out.append(_Marker(ln.idx, number, rest, trailing))
    return out


def _next_content(lines: list[_Line], i: int, limit: int = 12) -> int | None:
    for j in range(i + 1, min(len(lines), i + 1 + limit)):
        if lines[j].text and not lines[j].furniture:
            return j
    return None


def _only_furniture_after(lines: list[_Line], i: int) -> bool:
    page = lines[i].page
    seen_any = False
    for j in range(i + 1, len(lines)):
        ln = lines[j]
        if ln.page != page:
            break
        if not ln.text:
            continue
        seen_any = True
        if ln.furniture or _marker_of(ln) or _LONE_NUMBER.fullmatch(ln.text):
            continue
        return False
    # A marker on the last line of a page with text above it labels the page, too.
    return seen_any or any(
        lines[k].text and not lines[k].furniture for k in range(max(0, i - 40), i) if lines[k].page == page
    )


# ---------------------------------------------------------------------------------------------------------
# Segmentation


@dataclass
class _Ctx:
    """Where a run of lines sits: its sub-document and the § item it belongs to, if any."""

    base: str | None = None
    case_numbers: tuple[str, ...] = ()
    kind: str | None = None
    proposals: int = 0
    """How many 'Förslag till beslut' the sub-document has had; a second one starts another memo."""


@dataclass
class _Item:
    number: str
    start: int
    end: int
    title: str = ""
    date: str | None = None
    header_end: int = 0
    case_numbers: tuple[str, ...] = ()


@dataclass
class _Seg:
    lines: list[_Line]
    section: str | None = None
    part: str | None = None
    kind: str = "prose"
    header: str | None = None
    heading: str | None = None
    ctx: _Ctx | None = None
    head_lines: list[_Line] = field(default_factory=list)


def _text_of(lines: Sequence[_Line]) -> tuple[str, int, int] | None:
    parts: list[str] = []
    prev_page: int | None = None
    blank = False
    first = last = 0
    for ln in lines:
        if not ln.text or ln.furniture:
            if not ln.text:
                blank = True
            continue
        if prev_page is None:
            parts.append(ln.text)
            first = ln.page
        elif ln.page != prev_page:
            parts.append(("\n" if blank else "") + PAGE_BREAK * (ln.page - prev_page) + ln.text)
        else:
            parts.append(("\n\n" if blank else "\n") + ln.text)
        prev_page = last = ln.page
        blank = False
    if prev_page is None:
        return None
    return "".join(parts), first, last


def _sub_documents(lines: list[_Line]) -> dict[int, tuple[str, bool]]:
    """Line index -> (document kind, is a new document) for letterhead lines ('TJÄNSTESKRIVELSE 1(2)')."""
    out: dict[int, tuple[str, bool]] = {}
    for ln in lines:
        m = _DOC_HEADER.match(ln.text)
        if not m:
            continue
        # At the top of a page, or alone on its line in capitals ("TJÄNSTESKRIVELSE 1(2)").
        if not ln.page_first and not (m.end() >= len(ln.text.rstrip()) and ln.text.isupper()):
            continue
        n = m.group("n")
        out[ln.idx] = (m.group("kind"), n is None or int(n) == 1)
    return out


def _header_cases(lines: list[_Line], start: int, n: int = 8) -> tuple[str, ...]:
    found: list[str] = []
    seen = 0
    for ln in lines[start:]:
        if not ln.text:
            continue
        seen += 1
        if seen > n:
            break
        for c in find_case_numbers(ln.text):
            if c not in found:
                found.append(c)
    return tuple(found)


def _date_before(lines: list[_Line], start: int, page_end: int | None = None) -> str | None:
    """The meeting date for an item starting at ``start``: on its first page, else the nearest before."""
    if page_end is not None:
        for ln in lines[start:page_end]:
            d = meeting_date(ln.text) if ln.text else None
            if d:
                return d
    for j in range(start - 1, -1, -1):
        t = lines[j].text
        if t:
            d = meeting_date(t)
            if d:
                return d
    return None


def segment(pages: Sequence[Page], doc_type: str) -> list[Block]:
    """Blocks of a document: § items (one block per part), sections under headings, table rows."""
    lines = _lines(pages)
    if not lines:
        return []
    _mark_furniture(lines)
    markers = _find_markers(lines)
    subdocs = _sub_documents(lines)
    items = _items(lines, markers, subdocs)
    blocks: list[Block] = []
    pos = 0
    ctx = _Ctx(base=None)
    for item in items:
        if item.start > pos:
            ctx = _segment_free(lines, pos, item.start, subdocs, ctx, doc_type, blocks)
        blocks.extend(_item_blocks(lines, item))
        # A sub-document that starts inside the item (never, by construction) or before it stays current.
        pos = item.end
    if pos < len(lines):
        _segment_free(lines, pos, len(lines), subdocs, ctx, doc_type, blocks)
    blocks = _drop_repeats(blocks)
    logger.debug("segment: %d blocks, %d § items", len(blocks), len(items))
    return blocks


def _items(lines: list[_Line], markers: list[_Marker], subdocs: dict[int, tuple[str, bool]]) -> list[_Item]:
    if not markers:
        return []
    bare_pages = {lines[m.idx].page for m in markers if not m.rest}
    trailing_pages = {lines[m.idx].page for m in markers if m.trailing}
    labelled = len(bare_pages) >= 2 and len(trailing_pages) >= 0.6 * len(bare_pages)
    return _labelled_items(lines, markers) if labelled else _inline_items(lines, markers, subdocs)


def _inline_items(lines: list[_Line], markers: list[_Marker], subdocs: dict[int, tuple[str, bool]]) -> list[_Item]:
    by_idx = {m.idx: m for m in markers}
    items: list[_Item] = []
    cur: _Item | None = None
    for ln in lines:
        i = ln.idx
        if cur is not None:
            new_doc = i in subdocs and subdocs[i][1]
            if i in by_idx and not (by_idx[i].number == cur.number and not new_doc):
                cur.end = i
                items.append(cur)
                cur = None
            elif new_doc or (ln.text and _END_OF_EXTRACT.fullmatch(ln.text)):
                cur.end = i
                items.append(cur)
                cur = None
            elif i in by_idx:
                lines[i].furniture = True  # the same § repeated at the top of its next page
                continue
        if cur is None and i in by_idx:
            cur = _Item(number=by_idx[i].number, start=i, end=len(lines))
    if cur is not None:
        items.append(cur)
    for it in items:
        _read_item_header(lines, it, by_idx[it.start].rest)
        it.date = _date_before(lines, it.start)
    return items


def _labelled_items(lines: list[_Line], markers: list[_Marker]) -> list[_Item]:
    label: dict[int, str] = {}
    trailing_pages = {lines[m.idx].page for m in markers if m.trailing}
    for m in markers:
        page = lines[m.idx].page
        if page in trailing_pages and not m.rest:
            if m.trailing:
                label[page] = m.number
            lines[m.idx].furniture = True
    items: list[_Item] = []
    cur: _Item | None = None
    page_start: dict[int, int] = {}
    page_end: dict[int, int] = {}
    for ln in lines:
        page_start.setdefault(ln.page, ln.idx)
        page_end[ln.page] = ln.idx + 1
    for page in sorted(page_start):
        number = label.get(page)
        if number is None or (cur is not None and cur.number == number):
            continue
        start = page_start[page]
        if cur is not None:
            cur.end = start
            items.append(cur)
        cur = _Item(number=number, start=start, end=len(lines))
    if cur is not None:
        items.append(cur)
    for it in items:
        _read_item_header(lines, it, "")
        it.date = _date_before(lines, it.start, page_end[lines[it.start].page])
    return items


def _read_item_header(lines: list[_Line], item: _Item, rest: str) -> None:
    """Title (the line(s) after the § heading), case numbers of the header, where the body starts."""
    title_lines: list[str] = [rest] if rest else []
    cases: list[str] = []
    i = item.start + (1 if lines[item.start].text and _marker_of(lines[item.start]) else 0)
    end = item.end
    numbered = None if rest else _numbered_title(lines, item)
    if numbered is not None:
        # below an OCR'd page header: the logo's noise, the header, the case number, then "498 Budgetdirektiv"
        at, title = numbered
        for k in range(i, at):
            _add_case_numbers(cases, lines[k].text)
        title_lines = [title]
        i = at + 1
    while i < end:
        ln = lines[i]
        t = ln.text
        if not t or ln.furniture:
            i += 1
            continue
        if _add_case_numbers(cases, t):
            i += 1
            continue
        if _stops_title(t):
            break
        if title_lines:
            prev = title_lines[-1]
            joined = t[0].islower() or ends_mid_phrase(prev) or prev.endswith(("–", "-"))
            if not joined and (_blank_between(lines, i) or not _is_title_like(t, 8) or len(title_lines) >= 3):
                break
            if len(" ".join(title_lines).split()) + len(t.split()) > 24:
                break
        elif _TERMINAL.search(t) or len(t.split()) > 16:
            break
        title_lines.append(t)
        i += 1
    # Case-number lines right after the title ("Diarienummer: RJL 2022/258").
    while i < end:
        t = lines[i].text
        if not t or lines[i].furniture:
            i += 1
            continue
        if _add_case_numbers(cases, t):
            i += 1
            continue
        break
    item.title = _shorten(_join_title(title_lines))
    item.header_end = i
    item.case_numbers = tuple(cases)


# "498 Budgetdirektiv för 2023", "49 $ Budgetdirektiv", "49 § Budgetdirektiv": the § number, its sign (read by OCR
# as "8" or "$"), the title
_NUMBERED_TITLE = re.compile(r"^(?P<num>\d{1,4})\s?[8$§]\s+(?P<title>[A-ZÅÄÖ][^\n]{2,100})$")


def _add_case_numbers(cases: list[str], line: str) -> bool:
    """Whether ``line`` is a case-number line of a § header; its case numbers join ``cases`` (no repeats)."""
    if not is_case_number_line(line):
        return False
    cases.extend(c for c in find_case_numbers(line) if c not in cases)
    return True


def _numbered_title(lines: list[_Line], item: _Item, limit: int = 15) -> tuple[int, str] | None:
    """(index, title) of the line among the item's first ones that gives its § number and title in one, on an
    OCR'd page."""
    seen = 0
    for k in range(item.start, min(item.end, item.start + 3 * limit)):
        ln = lines[k]
        if not ln.text:
            continue
        m = _NUMBERED_TITLE.match(ln.text) if ln.ocr else None
        if m and m.group("num") == item.number:
            return k, m.group("title")
        seen += 1
        if seen >= limit:
            break
    return None


def _shorten(text: str, limit: int = 120) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:-–") + "…"


def _stops_title(t: str) -> bool:
    """Lines that never belong to a § title: parts, 'Key: value' labels, references like '..., 42 §'."""
    return bool(
        part_of_heading(t)
        or t.endswith(":")
        or re.match(r"^[\wÅÄÖåäö][\w /-]{0,24}:\s", t)
        or re.search(r"\d+\s*§\s*$", t)
    )


def _blank_between(lines: list[_Line], i: int) -> bool:
    j = i - 1
    while j >= 0 and lines[j].furniture:
        j -= 1
    return j >= 0 and not lines[j].text


def _join_title(parts: list[str]) -> str:
    out = ""
    for p in parts:
        if out.endswith("-") and p[:1].islower():
            out = out[:-1] + p
        else:
            out = f"{out} {p}" if out else p
    return " ".join(out.split())


def _item_blocks(lines: list[_Line], item: _Item) -> list[Block]:
    body = lines[item.header_end : item.end]
    all_text = " ".join(ln.text for ln in lines[item.start : item.end] if ln.text and not ln.furniture)
    cases = list(item.case_numbers)
    cases.extend(c for c in find_case_numbers(all_text) if c not in cases)
    # The header lines that carry case numbers stay with the first block's text.
    head = [ln for ln in lines[item.start : item.header_end] if ln.text and is_case_number_line(ln.text)]
    segs: list[_Seg] = []
    cur = _Seg(lines=list(head), part=None)
    head_only = True
    for ln in body:
        if ln.text and not ln.furniture:
            part = part_of_heading(ln.text)
            if part:
                if _has_text(cur.lines) and not head_only:
                    segs.append(cur)
                    cur = _Seg(lines=[ln], part=part)
                else:
                    cur = _Seg(lines=cur.lines + [ln], part=part)
                head_only = False
                continue
            head_only = False
        cur.lines.append(ln)
    if _has_text(cur.lines):
        segs.append(cur)
    # Text before the first part heading that speaks of jäv is the jäv part.
    if segs and segs[0].part is None and re.search(r"\bjäv\b", _plain(segs[0].lines), re.IGNORECASE):
        segs[0].part = "Jäv"
    segs = _merge_small_parts(segs)
    blocks: list[Block] = []
    for seg in segs:
        made = _text_of(seg.lines)
        if not made:
            continue
        text, p0, p1 = made
        blocks.append(
            Block(
                text=text,
                page_start=p0,
                page_end=p1,
                kind="paragraph",
                section=item.title or None,
                paragraph=item.number,
                case_numbers=tuple(cases),
                part=seg.part,
                date=item.date,
            )
        )
    if not blocks:
        # A § with only a title still deserves a block, so that it can be found and cited.
        made = _text_of(lines[item.start + 1 : item.end])
        page = lines[item.start].page
        blocks.append(
            Block(
                text=made[0] if made else item.title or f"§ {item.number}",
                page_start=made[1] if made else page,
                page_end=made[2] if made else page,
                kind="paragraph",
                section=item.title or None,
                paragraph=item.number,
                case_numbers=tuple(cases),
                date=item.date,
            )
        )
    return blocks


def _has_text(lines: Sequence[_Line]) -> bool:
    return any(ln.text and not ln.furniture for ln in lines)


def _plain(lines: Sequence[_Line]) -> str:
    return " ".join(ln.text for ln in lines if ln.text and not ln.furniture)


def _merge_small_parts(segs: list[_Seg], min_chars: int = 25) -> list[_Seg]:
    """Tiny parts ('Beslutet skickas till' + one line) join the part before them."""
    out: list[_Seg] = []
    for seg in segs:
        body = _plain(seg.lines)
        small = seg.part in _SMALL_PARTS or (len(body) < min_chars and seg.part is None)
        if out and small:
            out[-1] = replace(out[-1], lines=out[-1].lines + seg.lines)
        else:
            out.append(seg)
    if len(out) >= 2 and len(_plain(out[0].lines)) < min_chars and out[0].part is None:
        out[1] = replace(out[1], lines=out[0].lines + out[1].lines)
        out = out[1:]
    return out


# ---------------------------------------------------------------------------------------------------------
# Text outside § items: sections, agendas, tables


def _segment_free(
    lines: list[_Line],
    start: int,
    end: int,
    subdocs: dict[int, tuple[str, bool]],
    ctx: _Ctx,
    doc_type: str,
    blocks: list[Block],
) -> _Ctx:
    """Blocks for lines[start:end], outside any § item; returns the sub-document context at the end."""
    stack: list[tuple[int, str, int]] = []  # (level, heading, page)
    if ctx.base:
        stack.append((0, ctx.base, lines[start].page))
    pending: list[str] = []
    cur = _Seg(lines=[], section=_section(stack))
    segs: list[_Seg] = []

    def flush(new: _Seg) -> None:
        nonlocal cur
        if _has_text(cur.lines):
            cur.ctx = ctx
            segs.append(cur)
        cur = new

    i = start
    in_agenda = ctx.kind in {"KALLELSE", "FÖREDRAGNINGSLISTA", "DAGORDNING"} or (doc_type == "kallelse" and start == 0)
    while i < end:
        ln = lines[i]
        t = ln.text
        if i in subdocs and subdocs[i][1]:
            kind = subdocs[i][0]
            cases = _header_cases(lines, i)
            base = kind.capitalize() + (f" {cases[0]}" if cases else "")
            flush(_Seg(lines=[]))
            ctx = _Ctx(base=base, case_numbers=cases, kind=kind)
            stack = [(0, base, ln.page)]
            pending = []
            cur = _Seg(lines=[ln], section=base)
            in_agenda = kind in {"KALLELSE", "FÖREDRAGNINGSLISTA", "DAGORDNING"}
            i += 1
            continue
        if not t or ln.furniture:
            cur.lines.append(ln)
            i += 1
            continue
        if in_agenda:
            j = _agenda(lines, i, end, subdocs)
            if j is not None:
                flush(_Seg(lines=[]))
                for seg in _agenda_rows(lines, i, j, _section(stack)):
                    seg.ctx = ctx
                    segs.append(seg)
                cur = _Seg(lines=[], section=_section(stack))
                in_agenda = False
                i = j
                continue
        if _is_header_line(t):
            j = _table_end(lines, i, end, subdocs)
            rows = _table_rows(lines, i, j, _section(stack))
            if rows:
                flush(_Seg(lines=[]))
                for seg in rows:
                    seg.ctx = ctx
                    segs.append(seg)
                cur = _Seg(lines=[], section=_section(stack))
                i = j
                continue
        part = part_of_heading(t)
        if part:
            if part == "Förslag till beslut":
                if ctx.proposals:
                    # A memo without a letterhead: the case numbers of the one before do not carry over.
                    flush(_Seg(lines=[]))
                    page = ln.page
                    stack = [entry for entry in stack if entry[2] == page and entry[0] > 0]
                    ctx = _Ctx()
                ctx.proposals += 1
            flush(_Seg(lines=[ln], section=_section(stack), part=part))
            i += 1
            continue
        head = _heading_at(lines, i, end)
        if head is not None:
            level, text, j = head
            if not _has_text(cur.lines) and cur.heading and not cur.part:
                pending.append(cur.heading)
            while stack and stack[-1][0] >= level and stack[-1][0] > 0:
                stack.pop()
            stack.append((level, text, ln.page))
            section = _section(stack)
            if pending and level >= 90 and pending[-1] != text and all(lv >= 90 for lv, _, _ in stack):
                section = f"{_shorten(pending[-1], 80)} > {_shorten(text, 80)}"
            # The heading itself is carried by the section; its lines come back if the section is merged.
            flush(_Seg(lines=[], section=section, heading=text, head_lines=lines[i:j]))
            if level < 90:
                pending = []
            i = j
            continue
        cur.lines.append(ln)
        i += 1
    flush(_Seg(lines=[]))
    for seg in _merge_small_sections(segs):
        c = seg.ctx or _Ctx()
        made = _text_of(seg.lines)
        if not made:
            continue
        text, p0, p1 = made
        if seg.header and seg.kind == "table_row":
            text = f"{seg.header}\n{text}"
        own = find_case_numbers(text.replace(PAGE_BREAK, "\n"))
        seg_cases = list(c.case_numbers)
        seg_cases.extend(x for x in own if x not in seg_cases)
        blocks.append(
            Block(
                text=text,
                page_start=p0,
                page_end=p1,
                kind="table_row" if seg.kind == "table_row" else "prose",
                section=seg.section,
                case_numbers=tuple(seg_cases),
                part=seg.part,
            )
        )
    return ctx


def _merge_small_sections(segs: list[_Seg], min_chars: int = 80) -> list[_Seg]:
    """Sections with almost no text join the next section (same sub-document), heading line included."""
    out: list[_Seg] = []
    carry: _Seg | None = None
    for seg in segs:
        if carry is not None:
            if seg.kind == "prose" and seg.ctx is carry.ctx:
                seg = replace(
                    seg,
                    lines=_heading_lines(carry) + carry.lines + _heading_lines(seg) + seg.lines,
                    heading=None,
                    head_lines=[],
                )
            else:
                out.append(carry)
            carry = None
        if seg.kind == "prose" and len(_plain(seg.lines)) < min_chars and seg.part is None:
            carry = seg
            continue
        out.append(seg)
    if carry is not None:
        if out and out[-1].kind == "prose" and out[-1].ctx is carry.ctx:
            out[-1] = replace(out[-1], lines=out[-1].lines + _heading_lines(carry) + carry.lines)
        else:
            out.append(carry)
    return out


def _heading_lines(seg: _Seg) -> list[_Line]:
    return list(seg.head_lines)


def _section(stack: list[tuple[int, str, int]]) -> str | None:
    """The heading path: the sub-document and the nearest heading, or the two nearest headings."""
    if not stack:
        return None
    if stack[0][0] == 0 and len(stack) > 1:
        names = [stack[0][1], stack[-1][1]]
    else:
        names = [s for _, s, _ in stack[-2:]]
    return " > ".join(_shorten(n, 80) for n in names)


def _heading_at(lines: list[_Line], i: int, end: int) -> tuple[int, str, int] | None:
    """(level, heading text, index after the heading) when lines[i] starts a heading."""
    t = lines[i].text
    num = _numbered_heading(t)
    if num and num[0] == 1 and _continues_list(lines, i):
        num = None
    if num and _prev_closed(lines, i):
        nxt = _next_content(lines, i)
        if nxt is None or not _ROW_START.match(lines[nxt].text) or "." in t.split()[0][:-1]:
            return num[0], num[1], i + 1
    if _is_caps_heading(t) and _prev_closed(lines, i):
        return 1 if t.split()[0].isalpha() else 2, _title_case(t), i + 1
    if not _prev_closed(lines, i):
        return None
    group = [t]
    j = i + 1
    while j < end and len(group) < 3:
        nt = lines[j].text
        if not nt or lines[j].furniture or _BULLET.match(nt):
            break
        cont = (
            nt[0].islower()
            or ends_mid_phrase(group[-1])
            or group[-1].endswith(("–", "-"))
            or (len(nt.split()) <= 2 and _is_title_like(nt) and not part_of_heading(nt))
        )
        if not cont:
            break
        group.append(nt)
        j += 1
    text = _join_title(group)
    if not _is_title_like(text, 14) or find_case_numbers(text) or _DOC_HEADER.match(text):
        return None
    if "," in text or "(" in text:
        return None
    nxt = _next_content(lines, j - 1)
    if nxt is None or nxt >= end:
        return None
    follow = lines[nxt].text
    if not (follow[0].isupper() or _BULLET.match(follow) or follow[0] in '"”«'):
        return None
    return 90, text, j


def _continues_list(lines: list[_Line], i: int) -> bool:
    """Whether lines[i] ('2. Finansiering ...') follows item 1 of a numbered list a few lines above."""
    m = re.match(r"(\d{1,2})([.)]?)\s", lines[i].text)
    if not m or m.group(1) == "1":
        return False
    want = re.compile(rf"{int(m.group(1)) - 1}{re.escape(m.group(2))}\s")
    seen = 0
    for j in range(i - 1, -1, -1):
        t = lines[j].text
        if not t or lines[j].furniture:
            continue
        if want.match(t):
            return True
        if re.match(r"\d{1,2}\.\d", t):
            return False  # "1.1 Verksamhetsidé" between them: these are headings
        seen += 1
        if seen >= 3:
            break
    return False


def _prev_closed(lines: list[_Line], i: int) -> bool:
    """Whether the line before lines[i] ends a sentence or a block, so that lines[i] may start a heading."""
    j = i - 1
    blank = False
    while j >= 0 and (not lines[j].text or lines[j].furniture):
        blank = blank or not lines[j].text
        j -= 1
    if j < 0 or lines[j].page != lines[i].page and lines[i].page_first:
        return True
    prev = lines[j].text
    if _TERMINAL.search(prev) or prev.endswith(":"):
        return True
    if blank and not ends_mid_phrase(prev) and not prev.endswith(("-", "–")):
        return True
    return _is_title_like(prev) or bool(_numbered_heading(prev))


def _title_case(t: str) -> str:
    if any(c.islower() for c in t):
        return t
    words = t.split()
    return " ".join([words[0].capitalize()] + [w.lower() if len(w) > 3 else w for w in words[1:]])


def _agenda(lines: list[_Line], i: int, end: int, subdocs: dict[int, tuple[str, bool]]) -> int | None:
    """If an agenda (items numbered 1, 2, 3, ...) starts at or just after lines[i], where it ends."""
    expected = 1
    j = i
    last_item = None
    while j < end:
        if j in subdocs and subdocs[j][1] and j != i:
            break
        t = lines[j].text
        if t and not lines[j].furniture:
            m = _AGENDA_ITEM.match(t)
            if m and int(m.group("num")) == expected:
                expected += 1
                last_item = j
            elif last_item is None and j - i > 12:
                return None
            elif last_item is not None and j - last_item > 8:
                break
        j += 1
    if expected <= 3 or last_item is None:
        return None
    # The agenda ends after the last item and its continuation lines.
    k = last_item + 1
    prev = lines[last_item].text
    while k < end:
        t = lines[k].text
        if t and not lines[k].furniture:
            if not (t[0].islower() or ends_mid_phrase(prev) or _is_case_line(t)):
                break
            prev = t
        k += 1
    return k


def is_agenda_item(line: str) -> bool:
    """Whether a line opens an agenda item ("6 Inkomna remisser, promemorior och motioner")."""
    return _AGENDA_ITEM.match(line.strip()) is not None


def _is_case_line(t: str) -> bool:
    return is_case_number_line(t)


def _agenda_rows(lines: list[_Line], i: int, j: int, section: str | None) -> list[_Seg]:
    segs: list[_Seg] = []
    intro: list[_Line] = []
    cur: list[_Line] | None = None
    group = section
    expected = 1
    k = i
    while k < j:
        ln = lines[k]
        t = ln.text
        if not t or ln.furniture:
            (cur if cur is not None else intro).append(ln)
            k += 1
            continue
        m = _AGENDA_ITEM.match(t)
        if m and int(m.group("num")) == expected:
            if cur is not None:
                segs.append(_Seg(lines=cur, section=group, kind="table_row"))
            cur = [ln]
            expected += 1
            k += 1
            continue
        nxt = _next_content(lines, k)
        nm = _AGENDA_ITEM.match(lines[nxt].text) if nxt is not None and nxt < j else None
        is_group = (
            cur is not None
            and not _is_case_line(t)
            and nm is not None
            and int(nm.group("num")) == expected
            and not t[0].islower()
            and not ends_mid_phrase(_plain(cur))
        )
        if is_group or cur is None:
            if cur is not None:
                segs.append(_Seg(lines=cur, section=group, kind="table_row"))
                cur = None
            if _is_title_like(t):
                group = t if section is None else f"{section} > {t}"
                if cur is None and nm is None:
                    intro.append(ln)
            else:
                intro.append(ln)
            k += 1
            continue
        cur.append(ln)
        k += 1
    if cur is not None:
        segs.append(_Seg(lines=cur, section=group, kind="table_row"))
    if _has_text(intro):
        segs.insert(0, _Seg(lines=intro, section=section))
    return segs


def _table_end(lines: list[_Line], i: int, end: int, subdocs: dict[int, tuple[str, bool]]) -> int:
    """Where a table that starts with the header at lines[i] ends."""
    numbered_rows = _is_control_plan_header(lines[i].text)
    j = i + 1
    while j < end:
        ln = lines[j]
        t = ln.text
        if j in subdocs and subdocs[j][1]:
            break
        if t and not ln.furniture:
            if _BILAGA.match(t) or _is_caps_heading(t) or part_of_heading(t):
                break
            if _is_header_line(t) and _norm(t) != _norm(lines[i].text):
                break
            num = _numbered_heading(t)
            if num and (num[0] >= 2 or not numbered_rows):
                break
            if _is_prose_paragraph(lines, j):
                break
        j += 1
    return j


def _is_prose_paragraph(lines: list[_Line], j: int) -> bool:
    """Two or more long lines of running prose: the table has ended."""
    run = 0
    for ln in lines[j : j + 4]:
        if not ln.text:
            break
        if len(ln.text.split()) >= 12:
            run += 1
    return run >= 2 and bool(_TERMINAL.search(" ".join(ln.text for ln in lines[j : j + 4] if ln.text)))


def _table_rows(lines: list[_Line], i: int, j: int, section: str | None) -> list[_Seg]:
    header = lines[i].text
    key = _norm(header)
    body = [ln for ln in lines[i + 1 : j] if not (ln.text and _norm(ln.text) == key)]
    if _is_control_plan_header(header):
        rows = _control_plan_rows(body, section)
        if rows:
            return rows
    paragraphs: list[list[_Line]] = []
    cur: list[_Line] = []
    for ln in body:
        if not ln.text:
            if _has_text(cur):
                paragraphs.append(cur)
                cur = []
            continue
        if ln.furniture:
            continue
        cur.append(ln)
    if _has_text(cur):
        paragraphs.append(cur)
    segs: list[_Seg] = []
    for para in paragraphs:
        for row in _split_row_lines(para):
            segs.append(_Seg(lines=row, section=section, kind="table_row", header=header))
    return segs


def _split_row_lines(para: list[_Line]) -> list[list[_Line]]:
    """A paragraph whose lines all start like the first ('ANA 4.2.1 ...') is one row per line."""
    if len(para) < 3:
        return [para]
    first = para[0].text.split()[0]
    starts = [ln for ln in para if ln.text.split()[0] == first]
    if len(starts) < 0.6 * len(para):
        return [para]
    rows: list[list[_Line]] = []
    for ln in para:
        if ln.text.split()[0] == first or not rows:
            rows.append([ln])
        else:
            rows[-1].append(ln)
    return rows


# The internal control plan table: Granskningsområde | Kontrollmoment | Kontrollmetod | Frekvens |
# Kontrollansvarig | Resultat av granskning, with cells one per paragraph or run together on one line.

_CONTROL_COLUMNS = ("granskningsområde", "kontrollmoment", "kontrollmetod", "frekvens", "kontrollansvarig")
_FREQ = re.compile(
    r"(?:\d+\s*(?:ggr|gånger|gång)\s*(?:/|per)\s*(?:år|månad|kvartal|termin)|månadsvis|kvartalsvis|"
    r"veckovis|årligen|löpande|halvårsvis|vid behov|varje månad|tertialvis|dagligen)(?:\s+samt\s+löpande)?",
    re.IGNORECASE,
)
_ROLE = re.compile(
    r"(?:(?:Administrativ|Bitr\.?|Biträdande|Ekonomi|Personal|HR|IT|Verksamhets|Förbunds|Kommun|Förvaltnings)"
    r"\S*\s*)?(?i:chef|direktör|ansvarig|ekonom|controller|handläggare|samordnare|sekreterare|strateg|"
    r"skyddskommittén|förbundsdirektör)\b(?:\s+(?:Navet|[A-ZÅÄÖ]{2,}\b))?"
    r"(?:,\s*(?:Bitr\.?\s*)?\w+\s*(?:verksamhetschef|chef)\s*(?:Navet)?)?",
)
_METHOD = re.compile(
    r"^(?:Stickprov\w*|Genomgång|Granskning|Uppföljning|Kontroll och|Kontroll av aktuellt|Riskanalys|"
    r"Är den|Aktiviteterna|Kontroll mot|Kontroll att kvitto|Kontroll av aktualitet|Avstämning|Enkät|Intervju)",
)
_METHOD_INSIDE = re.compile(r"\s(?=" + _METHOD.pattern[1:] + r")")


def _is_control_plan_header(header: str) -> bool:
    low = header.lower()
    return sum(c in low for c in _CONTROL_COLUMNS) >= 4


def _control_plan_rows(body: list[_Line], section: str | None) -> list[_Seg]:
    """Rows numbered '1. Räkenskapsinformation ...', each read into labelled columns."""
    rows: list[tuple[str | None, list[_Line]]] = []
    category: str | None = None
    cur: list[_Line] | None = None
    content = [ln for ln in body if not ln.furniture]
    for k, ln in enumerate(content):
        t = ln.text
        if t and _ROW_START.match(t):
            if cur is not None:
                rows.append((category, cur))
            cur = [ln]
            continue
        if t and _is_category_line(content, k):
            if cur is not None:
                rows.append((category, cur))
                cur = None
            category = t
            continue
        if cur is not None:
            cur.append(ln)
    if cur is not None:
        rows.append((category, cur))
    segs: list[_Seg] = []
    for cat, row in rows:
        text = _control_plan_row_text(row)
        if not text:
            continue
        sec = f"{section} > {cat}" if section and cat else (cat or section)
        segs.append(_Seg(lines=_labelled_lines(row, text), section=sec, kind="table_row"))
    return segs


def _labelled_lines(row: list[_Line], text: str) -> list[_Line]:
    """The labelled text of a row, placed on the row's first page and, when it spans pages, its last."""
    pages = sorted({ln.page for ln in row if ln.text})
    if len(pages) <= 1:
        return [_Line(-1, pages[0] if pages else row[0].page, text)]
    # Split the text at the column nearest the share of the row that lies on the first page.
    first_chars = sum(len(ln.text) for ln in row if ln.page == pages[0])
    total = sum(len(ln.text) for ln in row) or 1
    cut = int(len(text) * first_chars / total)
    sep = text.rfind("; ", 0, max(cut, 1))
    if sep <= 0:
        return [_Line(-1, pages[0], text), _Line(-1, pages[-1], "")]
    return [_Line(-1, pages[0], text[: sep + 1]), _Line(-1, pages[-1], text[sep + 2 :])]


def _is_category_line(content: list[_Line], k: int) -> bool:
    """A group label such as 'Styrdokument' directly above a numbered row."""
    t = content[k].text
    if not t or len(t.split()) > 4 or not t[0].isupper() or _FREQ.search(t) or _ROLE.search(t):
        return False
    if "anmärkning" in t.lower() or _TERMINAL.search(t):
        return False
    nxt = content[k + 1] if k + 1 < len(content) else None
    return nxt is not None and bool(nxt.text) and bool(_ROW_START.match(nxt.text))


def _control_plan_row_text(row: list[_Line]) -> str:
    # Cells: paragraphs of the row (blank-line separated), lines joined.
    cells: list[str] = []
    cur: list[str] = []
    for ln in row:
        if not ln.text:
            if cur:
                cells.append(_join_title(cur))
                cur = []
            continue
        cur.append(ln.text)
    if cur:
        cells.append(_join_title(cur))
    if not cells:
        return ""
    m = _ROW_START.match(cells[0])
    if not m:
        return ""
    head = m.group("rest")
    area, first_moment = _split_area(head)
    pieces: list[str] = [first_moment] if first_moment else []
    pieces.extend(cells[1:])
    order = ["moment", "metod", "frekvens", "ansvarig", "resultat"]
    cols: dict[str, list[str]] = {k: [] for k in order}
    stage = "moment"
    for piece in pieces:
        if order.index(stage) >= order.index("ansvarig"):
            rm = _ROLE.match(piece)
            if rm and stage == "ansvarig" and len(rm.group(0).split()) <= 6:
                cols["ansvarig"].append(rm.group(0).strip())
                rest = piece[rm.end() :].strip(" ,")
                if rest:
                    cols["resultat"].append(rest)
                    stage = "resultat"
            elif cols["ansvarig"] and piece[:1].islower() and stage == "ansvarig":
                cols["ansvarig"][-1] += " " + piece
            else:
                cols["resultat"].append(piece)
                stage = "resultat"
            continue
        for kind, text in _split_runs(piece):
            if kind == "?":
                if stage == "moment" and _METHOD.match(text) and cols["moment"]:
                    kind = "metod"
                elif stage == "frekvens":
                    kind = "ansvarig"
                else:
                    kind = stage
            if order.index(kind) < order.index(stage):
                kind = stage
            stage = kind
            cols[kind].append(text)
    fields = [
        ("Granskningsområde", area),
        ("Kontrollmoment", _join_cells(cols["moment"], ". ")),
        ("Kontrollmetod", _join_cells(cols["metod"], ", ")),
        ("Frekvens", ", ".join(_dedupe(cols["frekvens"]))),
        ("Kontrollansvarig", ", ".join(_dedupe(cols["ansvarig"]))),
        ("Resultat av granskning", _join_cells(cols["resultat"], " ")),
    ]
    return "; ".join(f"{k}: {v}" for k, v in fields if v)


def _join_cells(cells: list[str], sep: str) -> str:
    out = ""
    for c in _dedupe(cells):
        if not out:
            out = c
        elif out.endswith("-") and c[:1].islower():
            out = out[:-1] + c
        elif c[:1].islower():
            out = f"{out} {c}"
        else:
            out = f"{out.rstrip('.')}{sep}{c}"
    return out


def _dedupe(xs: list[str]) -> list[str]:
    out: list[str] = []
    for x in xs:
        if x not in out:
            out.append(x)
    return out


def _split_area(head: str) -> tuple[str, str]:
    """'Räkenskapsinformation Kontroll av att ...' -> ('Räkenskapsinformation', 'Kontroll av att ...')."""
    words = head.split()
    for k in range(1, len(words)):
        w = words[k]
        prev = words[k - 1]
        if w.isupper() and len(w) <= 4:
            continue
        if w[0].isupper() and not prev.endswith("-") and prev.lower() not in {"och", "av", "till", "eller"}:
            return " ".join(words[:k]), " ".join(words[k:])
    return head, ""


def _last_method(text: str) -> re.Match[str] | None:
    found = list(_METHOD_INSIDE.finditer(text))
    return found[-1] if found else None


def _split_runs(text: str) -> list[tuple[str, str]]:
    """Split a cell at a frequency, a role and what follows (the result), labelling known pieces."""
    out: list[tuple[str, str]] = []
    fm = _FREQ.search(text)
    if fm:
        before, after = text[: fm.start()].strip(), text[fm.end() :].strip()
        if before:
            mm = _last_method(before)
            if mm is not None and mm.start() > 0:
                out.append(("?", before[: mm.start()].strip()))
                out.append(("metod", before[mm.end() :].strip()))
            else:
                out.append(("metod" if _METHOD.match(before) else "?", before))
        out.append(("frekvens", fm.group(0)))
        if after:
            rm = _ROLE.match(after)
            if rm:
                out.append(("ansvarig", rm.group(0).strip()))
                res = after[rm.end() :].strip()
                if res:
                    out.append(("resultat", res))
            else:
                out.append(("?", after))
        return out
    mm = _last_method(text)
    if mm is not None and mm.start() > 0:
        return [("?", text[: mm.start()].strip()), ("metod", text[mm.end() :].strip())]
    rm = _ROLE.match(text)
    if rm and len(rm.group(0).split()) <= 6:
        out.append(("ansvarig", rm.group(0).strip()))
        res = text[rm.end() :].strip(" ,")
        if res:
            out.append(("resultat", res))
        return out
    return [("?", text)]


# ---------------------------------------------------------------------------------------------------------
# Clean-up


def _drop_repeats(blocks: list[Block]) -> list[Block]:
    """Drop short prose blocks that repeat an earlier one word for word (extract headers, letterheads)."""
    seen: set[str] = set()
    out: list[Block] = []
    for b in blocks:
        key = " ".join(b.text.split()).lower()
        if b.paragraph is None and b.kind == "prose" and len(key) < 400:
            if key in seen:
                continue
            seen.add(key)
        out.append(b)
    return out


# ---------------------------------------------------------------------------------------------------------
# Document type

_TYPE_WORDS: list[tuple[str, str]] = [
    ("protokollsutdrag", "protokoll"),
    ("sammanträdesprotokoll", "protokoll"),
    ("protokoll", "protokoll"),
    ("kallelse", "kallelse"),
    ("föredragningslista", "kallelse"),
    ("dagordning", "kallelse"),
    ("tjänsteskrivelse", "tjansteskrivelse"),
    ("missiv", "tjansteskrivelse"),
    ("beslutsunderlag", "tjansteskrivelse"),
    ("årsredovisning", "arsredovisning"),
    ("förvaltningsberättelse", "arsredovisning"),
    ("verksamhetsberättelse", "arsredovisning"),
    ("årsberättelse", "arsredovisning"),
    ("årsbokslut", "arsredovisning"),
    ("bokslut", "arsredovisning"),
    ("delårsrapport", "arsredovisning"),
    ("internkontrollplan", "plan"),
    ("intern kontrollplan", "plan"),
    ("verksamhetsplan", "plan"),
    ("mål och uppdrag", "plan"),
    ("budgetanvisningar", "plan"),
    ("handlingsplan", "plan"),
    ("tidplan", "plan"),
    ("budget", "plan"),
]


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.lower())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9 ]+", " ", s)


def _fuzzy_has(line: str, word: str) -> bool:
    """Whether ``line`` contains ``word``, allowing OCR's wrong letters in long words."""
    fl, fw = _fold(line), _fold(word)
    if fw in fl:
        return True
    if len(fw) < 10:
        return False
    for tok in fl.split():
        if abs(len(tok) - len(fw)) <= 2 and SequenceMatcher(None, tok, fw).ratio() >= 0.85:
            return True
    return False


def detect_doc_type(text: str, filename: str = "") -> str:
    """One of schema.DOC_TYPES, from the file name and the first lines of the text."""
    name = _fold(filename.rsplit("/", 1)[-1].replace("_", " ").replace("-", " "))
    for word, kind in _TYPE_WORDS:
        if _fold(word) in name:
            return kind
    head_lines = [" ".join(x.split()) for x in text[:4000].splitlines()]
    head_lines = [x for x in head_lines if x and not _BULLET.match(x)][:40]
    for line in head_lines:
        if len(line.split()) > 12:
            continue
        for word, kind in _TYPE_WORDS:
            if word in {"budget", "tidplan"}:
                continue
            if _fuzzy_has(line, word) and _fold(line).lstrip().startswith(_fold(word).split()[0][:4]):
                return kind
    for line in head_lines:
        if len(line.split()) > 12:
            continue
        for word, kind in _TYPE_WORDS:
            if _fuzzy_has(line, word):
                return kind
    if re.search(r"(?m)^\s*(?:organ|sammanträdestid|närvarande|beslutande)\b", text[:3000], re.IGNORECASE):
        return "protokoll"
    markers = re.findall(r"(?m)^\s*(?:§\s*\d{1,4}|\d{1,4}\s*§)\s*$", text)
    if len(markers) >= 2:
        return "protokoll"
    if re.search(r"(?im)^\s*förslag till beslut\s*$", text[:6000]):
        return "tjansteskrivelse"
    return "ovrigt" if "ovrigt" in DOC_TYPES else DOC_TYPES[-1]
