"""The answerer interface. An answerer writes an answer from numbered passages; it never searches.

Passages are numbered 1..len(hits) in the order given; a marker [n] in the answer refers to hits[n-1].
The service verifies every marker and every cited sentence afterwards (assistant/verify.py), whichever
answerer wrote it, and renumbers the citations that survive.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from assistant.types import Hit, Language


class Answerer(Protocol):
    name: str

    def answer(self, question: str, hits: Sequence[Hit], language: Language) -> str:
        """The whole answer text with [n] markers; an empty string when the passages do not answer it."""
        ...

    def stream(self, question: str, hits: Sequence[Hit], language: Language) -> Iterator[str]:
        """The same answer in pieces, as they are produced."""
        ...
