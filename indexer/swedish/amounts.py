"""Amounts of money, percentages and counts as Swedish documents write them."""

from __future__ import annotations

import re

__all__ = ["AMOUNT_PATTERN", "CURRENCY_UNITS", "has_amount"]

CURRENCY_UNITS = ("kr", "kronor", "tkr", "mnkr", "mkr", "mdkr", "msek", "sek", "miljoner", "miljarder", "euro")

AMOUNT_PATTERN = re.compile(
    r"(?<![\w,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:,\d+)?(?:\s*(?:" + "|".join(CURRENCY_UNITS) + r"|%|procent))?"
    r"|(?<![\w,])\d+(?:,\d+)?\s*(?:" + "|".join(CURRENCY_UNITS) + r"|%|procent)(?!\w)",
    re.IGNORECASE,
)
"""A number with a currency or percent unit, or a number grouped in thousands ("1 934", "500 000 kr")."""


def has_amount(text: str) -> bool:
    return AMOUNT_PATTERN.search(text) is not None
