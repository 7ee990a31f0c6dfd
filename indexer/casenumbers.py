"""Case numbers (diarienummer): find them in text, write them one way, and derive search keys.

Canonical form: ``"<PREFIX> YYYY/N"`` (prefix upper-cased, leading zeros dropped) or ``"YYYY/N"`` when
the text gives no prefix. ``case_number_keys`` adds the bare ``"YYYY/N"`` so that "Dnr 2022/258" in a
question meets a chunk tagged "RJL 2022/258".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "case_number_keys",
    "case_number_spans",
    "find_case_numbers",
    "is_case_number_line",
    "normalise_case_number",
]

_YEAR = r"(?:19[89]\d|20[0-4]\d)"
_KEYWORD = (
    r"(?:dnr|diarienr|diarienummer|diarie\s*nr|ärendenummer|ärendenr|ärende\s*nr|"
    r"beteckning|vår\s+beteckning|er\s+beteckning|ert\s+dnr|vårt\s+dnr)"
)
_NOT_PREFIX = frozenset(
    {
        "DNR",
        "NR",
        "SFS",
        "KL",
        "ÅR",
        "SID",
        "BIL",
        "DATUM",
        "TID",
        "KAP",
        "ID",
        "OCH",
        "DIARIENR",
        "ÄRENDE",
        "ANA",
        "EU",
        "SKR",
        "SEK",
        "KR",
        "TKR",
        "MNKR",
        "PDF",
        "ST",
    }
)

# "NKBY/302/00.01.03.01/2022": organisation/serial/archive class/year (Finnish-Swedish style).
_FINNISH = re.compile(
    rf"(?<![\w/])(?P<prefix>[A-ZÅÄÖ]{{2,8}})/(?P<num>\d{{1,6}})/(?:\d{{1,3}}\.)*\d{{1,3}}/(?P<year>{_YEAR})(?![\w/])"
)
# "RJL 2022/258", "KS2023/123", "KS 2023:123", "KS 2023.123", "BUN-2021/45".
_PREFIXED = re.compile(
    rf"(?<![\w/.-])(?P<prefix>[A-ZÅÄÖ][A-ZÅÄÖ0-9]{{1,7}})[ \t\-.]?(?P<year>{_YEAR})\s?(?P<sep>[/:.\-])\s?"
    rf"(?P<num>\d{{1,6}})(?![\w]|[/:.]\d|-\d)"
)
# "2022/258", optionally after "Dnr", "Diarienummer:" and the like.
_BARE = re.compile(
    rf"(?:(?P<kw>{_KEYWORD})\.?:?\s*)?(?<![\w/.:-])(?P<year>{_YEAR})/(?P<num>\d{{1,6}})(?![\w]|[/:.]\d|-\d)",
    re.IGNORECASE,
)
_QUERY_PREFIXED = re.compile(
    rf"^\s*(?:{_KEYWORD}\.?:?\s*)?(?P<prefix>[A-Za-zÅÄÖåäö][A-Za-zÅÄÖåäö0-9]{{1,7}})[ \t\-.]?"
    rf"(?P<year>{_YEAR})\s?[/:.\-]\s?(?P<num>\d{{1,6}})\s*$",
    re.IGNORECASE,
)
_CANONICAL = re.compile(rf"^(?:(?P<prefix>[A-ZÅÄÖ][A-ZÅÄÖ0-9]{{1,7}}) )?(?P<year>{_YEAR})/(?P<num>\d{{1,6}})$")


def _canonical(prefix: str | None, year: str, num: str) -> str | None:
    n = num.lstrip("0")
    if not n:
        return None
    if prefix:
        p = prefix.upper()
        if p in _NOT_PREFIX:
            return f"{year}/{n}"
        return f"{p} {year}/{n}"
    return f"{year}/{n}"


def _is_year_range(year: str, num: str) -> bool:
    """'2020/2021' and '2020/21' read as periods, not case numbers."""
    y = int(year)
    if len(num) == 4 and num.startswith(("19", "20")) and int(num) > y:
        return True
    return len(num) == 2 and int(num) == (y + 1) % 100


def case_number_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical) of each case number in ``text``, in order."""
    found: list[tuple[int, int, str]] = []

    def overlaps(start: int, end: int) -> bool:
        return any(start < e and s < end for s, e, _ in found)

    for m in _FINNISH.finditer(text):
        c = _canonical(m.group("prefix"), m.group("year"), m.group("num"))
        if c:
            found.append((m.start(), m.end(), c))
    for m in _PREFIXED.finditer(text):
        if overlaps(*m.span()):
            continue
        prefix = m.group("prefix")
        if m.group("sep") == "-" and len(m.group("num")) < 3:
            continue  # "KS 2023-05" reads as a month
        if prefix.upper() in _NOT_PREFIX and m.group("sep") != "/":
            continue  # "SFS 2017:725" is a statute, not a case
        num = m.group("num")
        if len(num) == 4 and _is_year_range(m.group("year"), num):
            continue
        c = _canonical(prefix, m.group("year"), num)
        if c:
            found.append((m.start(), m.end(), c))
    for m in _BARE.finditer(text):
        start = m.start("kw") if m.group("kw") else m.start("year")
        if overlaps(m.start("year"), m.end()):
            continue
        if not m.group("kw") and _is_year_range(m.group("year"), m.group("num")):
            continue
        c = _canonical(None, m.group("year"), m.group("num"))
        if c:
            found.append((start, m.end(), c))
    found.sort()
    return found


def find_case_numbers(text: str) -> tuple[str, ...]:
    """Case numbers in ``text``, canonical, in order of first appearance, without repeats."""
    out: list[str] = []
    for _, _, c in case_number_spans(text):
        if c not in out:
            out.append(c)
    return tuple(out)


def is_case_number_line(text: str) -> bool:
    """Whether a line holds nothing but case numbers (and a label such as 'Dnr' or 'Diarienummer:')."""
    spans = case_number_spans(text)
    if not spans:
        return False
    rest = text
    for s, e, _ in reversed(spans):
        rest = rest[:s] + " " + rest[e:]
    rest = re.sub(rf"(?i)\b{_KEYWORD}\b\.?:?", " ", rest)
    return not re.sub(r"[\s,;:.()\-–]+", "", rest)


def normalise_case_number(raw: str) -> str | None:
    """The canonical form of one case number as a person might type it, or None.

    Accepts lower-case prefixes ("rjl 2022/258") and leading keywords ("Dnr. KS 2023.123").
    """
    s = " ".join(raw.split())
    if not s:
        return None
    m = _QUERY_PREFIXED.match(s)
    if m and m.group("prefix").lower() not in {"dnr", "diarienr", "nr"}:
        return _canonical(m.group("prefix"), m.group("year"), m.group("num"))
    found = find_case_numbers(s)
    return found[0] if found else None


def case_number_keys(canonical: str) -> tuple[str, ...]:
    """Search keys of a canonical case number: itself and, with a prefix, the bare 'YYYY/N'."""
    m = _CANONICAL.match(canonical.strip())
    if not m:
        c = normalise_case_number(canonical)
        if c is None:
            return ()
        m = _CANONICAL.match(c)
        if not m:
            return (c,)
    bare = f"{m.group('year')}/{m.group('num')}"
    full = f"{m.group('prefix')} {bare}" if m.group("prefix") else bare
    return (full, bare) if full != bare else (bare,)


def display_case_numbers(keys: Sequence[str]) -> list[str]:
    """The case numbers a person should see: canonical forms, without the bare keys kept for matching."""
    full = [k for k in keys if not k[:1].isdigit()]
    bare = [k for k in keys if k[:1].isdigit() and not any(f.endswith(" " + k) for f in full)]
    return full + bare
