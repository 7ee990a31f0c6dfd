"""Swedish lemmas from simplemma (dictionary-based, MIT, offline; the only module that imports it)."""

from __future__ import annotations

import functools
import re

__all__ = ["lemmas", "lemmatize"]

_WORD = re.compile(r"[^\W\d_]+")


@functools.lru_cache(maxsize=200_000)
def lemmatize(word: str) -> str:
    """The base form of one Swedish word, lower-cased ("beslutet" -> "beslut", "kostnaderna" -> "kostnad")."""
    import simplemma

    w = word.lower()
    return str(simplemma.lemmatize(w, lang="sv")).lower()


def lemmas(text: str) -> list[str]:
    """The lemmas of the words of a text, in order."""
    return [lemmatize(w) for w in _WORD.findall(text)]
