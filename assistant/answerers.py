"""The answerer interface. An answerer writes an answer from numbered passages; it never searches.

Passages are numbered 1..len(hits) in the order given; a marker [n] in the answer refers to hits[n-1].
The service verifies every marker and every cited sentence afterwards (assistant/verify.py), whichever
answerer wrote it, and renumbers the citations that survive.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from assistant.types import Hit, Language


class Answerer(Protocol):
    name: str

    def answer(self, question: str, hits: Sequence[Hit], language: Language, units: Any = None) -> str:
        """The whole answer text with [n] markers; an empty string when the passages do not answer it.

        `units`: the selector's chosen units per hit index (assistant/compose.py), for an answerer that reads them."""
        ...

    def stream(self, question: str, hits: Sequence[Hit], language: Language, units: Any = None) -> Iterator[str]:
        """The same answer in pieces, as they are produced."""
        ...
