"""Tables: flattened key-figure tables in text rebuilt into rows, and PDF tables read as tables.

Flattened tables (text extracted from an annual report's PDF): a header line of column labels — years and a
few words such as "Budget", "Utfall", "Not" — then lines of a row label followed by one number per column:

    2012 2011
    Statsbidrag 15 380 9 020
    Bidrag från Regionen 14 054 15 137

Numbers use a space as thousands separator, so "15 380 9 020" could be read several ways. A row is rebuilt only
when its digit groups split into exactly one number per column in a way that keeps the year columns within an
order of magnitude of each other while every other split does not; otherwise the row is counted as untrusted
and left as text. Each rebuilt row becomes "<row label> – <caption> – <column>: <value>", a `table_row` Block
beside the original text (which stays, so nothing is lost when a table is misread).

PDF tables: pdfplumber finds tables from ruling lines and word positions; each body row becomes a Block of
cells, one a line, "<row label> – <caption> – <column header>: <value>", with its page.

`is_written_row` recognises a row written with its headers, so that the answer composer neither takes it
for a table's header row nor puts another row in front of it as one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.load import clean_text
from indexer.schema import Block, Page

__all__ = [
    "WRITTEN_CELL",
    "FlatTableReport",
    "flat_table_blocks",
    "is_written_row",
    "pdf_table_blocks",
    "split_numbers",
]

WRITTEN_CELL = re.compile(r"(?P<label>[^:\n]+?) – [^\n]*?: \S")
"""A cell as this module writes it, with its row label and column ("Museum/konsthall – Driftredovisning – Utfall
2025: 8 417")."""
_LABELLED_ROW = re.compile(r"[^:;\n]{1,60}: [^;\n]*; [^:;\n]{1,60}: ")
"""A row written as "Column: value; Column: value" (the internal-control tables of indexer/structure.py)."""


def is_written_row(text: str) -> bool:
    """Whether a table row carries its headers ("Granskningsområde: Handkassa; Kontrollmoment: …", or a cell
    "Museum/konsthall – Driftredovisning – Utfall 2025: 8 417"): never a header row, and needs none."""
    return bool(WRITTEN_CELL.match(text) or _LABELLED_ROW.match(text))


_YEAR = re.compile(r"(?:19|20)\d{2}")
_HEADER_WORDS = frozenset(
    {"not", "noter", "budget", "utfall", "prognos", "avvikelse", "bokslut", "plan", "mål", "utfall/budget"}
)
_GROUP = re.compile(r"^\(?-?\d+\)?$")
_ROW = re.compile(r"^(?P<label>[^\d\n]*?[A-Za-zÅÄÖåäöÉé)][^\d\n]*?)\s+(?P<nums>-?\(?\d[\d\s()\-]*)$")
_PROSE_WORDS = 9
"""A line with more words than this is running text: the table has ended."""


@dataclass
class FlatTableReport:
    """What the flat-table reader did with one document, for the index report."""

    tables: int = 0
    rows: int = 0
    untrusted_rows: int = 0
    untrusted: list[tuple[int, str]] = field(default_factory=list)
    """(page, line) of rows whose columns could not be trusted (kept as text only)."""


def _header_tokens(line: str) -> list[str] | None:
    tokens = line.split()
    if len(tokens) < 2:
        return None
    if not all(_YEAR.fullmatch(t) or t.lower() in _HEADER_WORDS for t in tokens):
        return None
    if not any(_YEAR.fullmatch(t) for t in tokens):
        return None
    return tokens


def _valid_number(groups: Sequence[str]) -> bool:
    first = groups[0].strip("()")
    if not re.fullmatch(r"-?\d+", first):
        return False
    if len(groups) > 1 and (len(first.lstrip("-")) > 3 or first.lstrip("-") == "0"):
        return False  # "0 130 716" is two numbers, not one
    return all(re.fullmatch(r"\d{3}\)?", g) for g in groups[1:])


def split_numbers(groups: Sequence[str], n: int) -> list[list[str]]:
    """Every way of reading space-separated digit groups as exactly n thousands-grouped numbers."""
    out: list[list[str]] = []

    def walk(start: int, acc: list[str]) -> None:
        if len(acc) == n:
            if start == len(groups):
                out.append(list(acc))
            return
        for end in range(start + 1, len(groups) + 1):
            part = groups[start:end]
            if _valid_number(part):
                acc.append(" ".join(part))
                walk(end, acc)
                acc.pop()

    walk(0, [])
    return out


def _value(s: str) -> float:
    digits = s.replace(" ", "").replace("(", "-").replace(")", "")
    try:
        return float(digits)
    except ValueError:
        return math.nan


def _spread(reading: Sequence[str], year_cols: Sequence[int]) -> float:
    """How far apart, in orders of magnitude, the year columns of a reading lie (largest adjacent gap)."""
    mags = [math.log10(abs(_value(reading[i])) + 1.0) for i in year_cols if i < len(reading)]
    return max((abs(a - b) for a, b in zip(mags, mags[1:], strict=False)), default=0.0)


def _choose(readings: list[list[str]], year_cols: Sequence[int]) -> list[str] | None:
    """The one plausible reading: the only one, or the only one whose year columns agree within a power of ten."""
    if len(readings) == 1:
        return readings[0]
    plausible = [r for r in readings if _spread(r, year_cols) < 1.0]
    return plausible[0] if len(plausible) == 1 else None


def flat_table_blocks(pages: Sequence[Page], report: FlatTableReport | None = None) -> list[Block]:
    """Rows of the flattened tables of a document's pages as `table_row` Blocks (the page text stays as it is)."""
    blocks: list[Block] = []
    for page in pages:
        lines = [ln.strip() for ln in page.text.replace("\f", "\n").split("\n")]
        i = 0
        while i < len(lines):
            header, after = _header_at(lines, i)
            if header is not None:
                caption = _caption(lines, i)
            else:  # "Antal deltagarveckor* 2021 2020 2019": the table's title and its columns on one line
                caption, header = _labelled_header(lines[i])
                after = i + 1
                # and its first row right below: with more column labels there, the columns cannot be trusted
                if header is None or not _ROW.match(next((ln for ln in lines[after:] if ln), "")):
                    i += 1
                    continue
            rows, i = _rows_after(lines, after, header, caption, page.number, report)
            if rows:
                blocks.extend(rows)
                if report is not None:
                    report.tables += 1
                    report.rows += len(rows)
    return blocks


def _is_header_word(token: str) -> bool:
    return bool(_YEAR.fullmatch(token)) or token.lower() in _HEADER_WORDS


def _header_at(lines: Sequence[str], i: int) -> tuple[list[str] | None, int]:
    """The column labels starting at line i (on one line, or one per line as PDF exports write them), and the
    line after them."""
    one = _header_tokens(lines[i])
    if one is not None:
        return one, i + 1
    tokens: list[str] = []
    j = i
    while j < len(lines) and len(tokens) < 6:
        if not lines[j]:
            j += 1
            continue
        parts = lines[j].split()
        if len(parts) != 1 or not _is_header_word(parts[0]):
            break
        tokens.append(parts[0])
        j += 1
    if len(tokens) >= 2 and any(_YEAR.fullmatch(t) for t in tokens):
        return tokens, j
    return None, i + 1


_LABELLED_HEADER_WORDS = 5


def _labelled_header(line: str) -> tuple[str, list[str] | None]:
    """A header line that starts with the table's title: a few words without digits, then two or more years
    ("Antal deltagarveckor* 2021 2020 2019"): the title and the column labels."""
    tokens = line.split()
    k = len(tokens)
    while k > 0 and _is_header_word(tokens[k - 1]):
        k -= 1
    label, columns = tokens[:k], tokens[k:]
    if not 1 <= len(label) <= _LABELLED_HEADER_WORDS or any(ch.isdigit() for ch in "".join(label)):
        return "", None
    if sum(1 for t in columns if _YEAR.fullmatch(t)) < 2:
        return "", None
    return " ".join(label).rstrip("*: "), columns


def _caption(lines: Sequence[str], header_at: int) -> str:
    """The nearest non-empty line above the header that is not a number: the table's title ("1 Verksamhetens
    intäkter", "Resultaträkning 2012, belopp i tkr")."""
    for j in range(header_at - 1, max(header_at - 6, -1), -1):
        text = lines[j]
        if text and re.search(r"[A-Za-zÅÄÖåäö]{3}", text) and _header_tokens(text) is None:
            return _strip_note_number(text)
    return ""


def _strip_note_number(text: str) -> str:
    return re.sub(r"^\d{1,2}\s+(?=[A-ZÅÄÖ])", "", text).strip()


_NUMBER_LINE = re.compile(r"^\(?-?\d{1,3}(?: \d{3})*\)?$|^\(?-?\d+\)?$")


def _rows_after(
    lines: Sequence[str], start: int, header: list[str], caption: str, page: int, report: FlatTableReport | None
) -> tuple[list[Block], int]:
    columns = list(header)
    note_cols = [k for k, h in enumerate(columns) if h.lower() in {"not", "noter"}]
    year_cols = [k for k, h in enumerate(columns) if _YEAR.fullmatch(h)]
    widths = [len(columns)] + ([len(columns) - len(note_cols)] if note_cols else [])
    out: list[Block] = []
    misses = 0
    pending = ""
    """A label line without cells: the first half of a label broken over two lines, or a group label."""
    i = start
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if _header_at(lines, i)[0] is not None or _labelled_header(line)[1] is not None:
            break
        if len(line.split()) > _PROSE_WORDS:
            break
        label: str | None = None
        readings: list[list[str]] = []
        m = _ROW.match(line)
        if m and re.fullmatch(r"(?:19|20)\d{2}", m.group("nums").strip()):
            m = None  # "Årsredovisning 2012": a running title or footer, not a row
            misses += 1
            i += 1
            if misses > 3:
                break
            continue
        if m:
            label = m.group("label").strip(" .:")
            if pending and label[:1].islower():
                label = f"{pending} {label}"
            groups = m.group("nums").split()
            for n in widths:
                readings.extend(split_numbers(groups, n))
            i += 1
        elif not _NUMBER_LINE.match(line):
            # a label on its own line: its cells may follow, one per line
            j = i + 1
            cells: list[str] = []
            while j < len(lines) and (not lines[j] or _NUMBER_LINE.match(lines[j])):
                if lines[j]:
                    cells.append(lines[j])
                j += 1
            if cells:
                label = line.strip(" .:")
                if pending and label[:1].islower():
                    label = f"{pending} {label}"
                if len(cells) in widths:
                    readings = [cells]
                i = j
            else:
                # a numbered heading inside the table ("2 Verksamhetens kostnader") names the rows after it
                if re.match(r"\d{1,2}\s+[A-ZÅÄÖ]", line) and len(line.split()) <= 6:
                    caption = _strip_note_number(line)
                    pending = ""
                    misses = 0
                else:
                    pending = line.strip(" .:")
                    misses += 1
                i += 1
                if misses > 3:
                    break
                continue
        else:
            misses += 1
            i += 1
            if misses > 3:
                break
            continue
        pending = ""
        readings = [r for r in readings if _notes_ok(r, columns, note_cols)]
        reading = _choose(readings, year_cols)
        if reading is None or label is None:
            if report is not None and label is not None:
                report.untrusted_rows += 1
                report.untrusted.append((page, label))
            continue
        misses = 0
        names = columns if len(reading) == len(columns) else [c for k, c in enumerate(columns) if k not in note_cols]
        cells_out = [
            f"{label} – {caption} – {name}: {value}" if caption else f"{label} – {name}: {value}"
            for name, value in zip(names, reading, strict=True)
            if name.lower() not in {"not", "noter"}
        ]
        out.append(
            Block(text="\n".join(cells_out), page_start=page, page_end=page, kind="table_row", section=caption or None)
        )
    return out, i


def _notes_ok(reading: Sequence[str], columns: Sequence[str], note_cols: Sequence[int]) -> bool:
    """A note column holds a small number (a note's number), never an amount."""
    if len(reading) != len(columns):
        return True
    return all(re.fullmatch(r"\d{1,2}", reading[k]) for k in note_cols)


# --- PDF tables through pdfplumber ---------------------------------------------------------------------------


def pdf_table_blocks(path: Path, pages: Sequence[int] | None = None) -> list[Block]:
    """The tables pdfplumber finds in a PDF's text layer, a Block per body row with its headers and page."""
    import pdfplumber

    blocks: list[Block] = []
    with pdfplumber.open(str(path)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            if pages is not None and number not in pages:
                continue
            for table in page.find_tables():
                rows = [[_cell(c) for c in row] for row in table.extract()]
                rows = [r for r in rows if any(r)]
                if len(rows) < 2 or max(len(r) for r in rows) < 2:
                    continue
                caption = _pdf_caption(page, table.bbox)
                n = _header_rows(rows)
                header = [_heading([r[k] for r in rows[:n] if k < len(r)]) for k in range(len(rows[n - 1]))]
                for row in rows[n:]:
                    cells = [
                        _row_cell(row[0], caption, header[k] or f"kolumn {k + 1}", v)
                        for k, v in enumerate(row[1:], start=1)
                        if v and k < len(header)
                    ]
                    if cells:
                        blocks.append(
                            Block(
                                text="\n".join(cells),
                                page_start=number,
                                page_end=number,
                                kind="table_row",
                                section=caption or None,
                            )
                        )
    return blocks


_AMOUNT_CELL = re.compile(r"[-−–(]?\s?\d[\d\s]*(?:[.,]\d+)?\)?\s?%?")
_MAX_HEADER_ROWS = 6


def _header_rows(rows: Sequence[Sequence[str]]) -> int:
    """How many leading rows are the header of a table of figures: those before the first row with an amount
    (a year is a heading, "Budget 2025") or with a label and no values at all (a group heading, "Färdigställda
    projekt"), at most six. A table of words keeps its first row as the header."""
    if not any(_is_amount(v) for row in rows for v in row[1:]):
        return 1
    for i, row in enumerate(rows[:_MAX_HEADER_ROWS]):
        values = [v for v in row[1:] if v]
        if any(_is_amount(v) for v in values) or (row[0] and not values):
            return max(i, 1)
    return 1


def _is_amount(cell: str) -> bool:
    return bool(_AMOUNT_CELL.fullmatch(cell)) and not _YEAR.fullmatch(cell)


def _row_cell(label: str, caption: str, heading: str, value: str) -> str:
    """A cell written with what names it: "<row label> – <caption> – <column heading>: <value>"."""
    return " – ".join([label, *([caption] if caption else []), heading]) + f": {value}"


def _heading(cells: Sequence[str]) -> str:
    """A column's heading from its cells in the header rows: "Budget-" over "avvikelse" is "Budgetavvikelse"."""
    return clean_text("\n".join(c for c in cells if c)).replace("\n", " ")


def _cell(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _pdf_caption(page: object, bbox: tuple[float, float, float, float]) -> str:
    """The line of text just above a table, as its caption."""
    x0, top, x1, _ = bbox
    above = page.crop((0, max(top - 40, 0), page.width, top)).extract_text() or ""  # type: ignore[attr-defined]
    lines = [ln.strip() for ln in above.split("\n") if ln.strip()]
    return lines[-1] if lines else ""
