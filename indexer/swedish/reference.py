"""Sentences that lean on the one before: "Det innebär att …", "Detta gör du med …", "Därför …".

Such a sentence often holds the answer to a question worded like the sentence before it ("Vad innebär det
att arbetet drivs mot processövervakning?" … "Det innebär bland annat att robotar utför …"). The answer
selector (assistant/select.py) reads whether a unit opens with a word that refers back; how much that
counts is learned.
"""

from __future__ import annotations

import re

__all__ = ["opens_with_reference"]

_OPENS = re.compile(
    r"^\W*(?:det|detta|dessa|denna|dem|den|de|då|där|därför|därmed|därefter|dessutom|sådana?|så|han|hon|hen|"
    r"här|i\s+(?:dessa|detta|så|sådana)\s+fall|this|these|that|those|it|they|then|therefore|thus)\b",
    re.IGNORECASE,
)


def opens_with_reference(text: str) -> bool:
    """Whether the sentence's first word points back to what was said before it."""
    return _OPENS.match(text) is not None
