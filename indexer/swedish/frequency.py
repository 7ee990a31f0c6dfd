"""How often something happens, as Swedish (and English) documents and questions say it."""

from __future__ import annotations

import re

__all__ = ["FREQUENCY_PATTERN", "asks_frequency", "has_frequency"]

_PERIOD = r"(?:år|året|månad|månaden|vecka|veckan|kvartal|kvartalet|termin|terminen|dag|dygn)"
FREQUENCY_PATTERN = re.compile(
    r"\b\d+\s*(?:ggr|gång|gånger)\s*(?:/|per|i|om)\s*" + _PERIOD + r"\b|"
    r"\b(?:en|två|tre|fyra|ett)\s+(?:gång|gånger)\s+(?:per|i|om)\s+" + _PERIOD + r"\b|"
    r"\b(?:dagligen|veckovis|månadsvis|kvartalsvis|halvårsvis|årsvis|årligen|löpande|kontinuerligt|"
    r"varje\s+" + _PERIOD + r"|varannan\s+" + _PERIOD + r"|vid\s+varje\s+\w+|"
    r"daily|weekly|monthly|quarterly|annually|yearly|(?:once|twice|\d+\s+times)\s+(?:a|per)\s+"
    r"(?:day|week|month|quarter|year))\b",
    re.IGNORECASE,
)
"""A stated frequency: "2 ggr/år", "en gång per år", "månadsvis", "varje kvartal", "twice a year"."""

_ASKS = re.compile(
    r"\bhur ofta\b|\bhur många gånger\b|\b(?:vilken|med vilken) frekvens\b|\bhow often\b|\bhow frequently\b|"
    r"\bhow many times\b|\bwhat frequency\b",
    re.IGNORECASE,
)


def has_frequency(text: str) -> bool:
    return FREQUENCY_PATTERN.search(text) is not None


def asks_frequency(question: str) -> bool:
    """Whether the question asks how often ("Hur ofta kontrolleras handkassan?")."""
    return _ASKS.search(question) is not None
