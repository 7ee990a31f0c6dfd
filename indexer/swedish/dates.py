"""Swedish (and English) month names and the date shapes found in municipal documents."""

from __future__ import annotations

import re

__all__ = ["DATE_PATTERN", "MONTHS", "MONTHS_EN", "MONTH_ABBREVIATIONS", "has_date", "years_in"]

MONTHS: dict[str, int] = {
    "januari": 1,
    "februari": 2,
    "mars": 3,
    "april": 4,
    "maj": 5,
    "juni": 6,
    "juli": 7,
    "augusti": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "december": 12,
}
MONTHS_EN: dict[str, int] = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
MONTH_ABBREVIATIONS: dict[str, int] = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
"""Month abbreviations, Swedish and English ("15 okt.", "Oct 15")."""

DATE_PATTERN = re.compile(
    r"(?<![\d.])(?:(?:19|20)\d{2}-[01]?\d-[0-3]?\d"
    r"|[0-3]?\d\.[01]?\d\.(?:19|20)\d{2}"
    r"|[0-3]?\d(?:\s*:e|\s*:a)?\s+(?:" + "|".join(MONTHS) + r")(?:\s+(?:19|20)\d{2})?"
    r"|(?:" + "|".join(MONTHS) + r")\s+(?:19|20)\d{2})(?![\d])",
    re.IGNORECASE,
)
"""ISO dates, 28.3.2023, "11 mars (2022)", "mars 2022"."""


def has_date(text: str) -> bool:
    return DATE_PATTERN.search(text) is not None


YEAR_IN_TEXT = re.compile(r"(?<![\d/:.,-])((?:19|20)\d{2})(?![\d/:]|[.,]\d)")
"""A year written in running text: "2023", "år 2023:" — not the year inside a case number ("RJL 2022/258"), a
date ("2022-02-10") or an amount ("2012,5")."""


def years_in(text: str) -> set[int]:
    return {int(y) for y in YEAR_IN_TEXT.findall(text)}
