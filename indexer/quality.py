"""How readable a page's text is: the share of its words a Swedish dictionary knows.

Used to tell a good PDF text layer from a garbled one (a broken font map gives "protokojjet" for
"protokollet") and to choose between a text layer and OCR.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from indexer.dictionary import SwedishDictionary, get_dictionary

logger = logging.getLogger(__name__)

__all__ = ["MAX_WORD_LETTERS", "MIN_WORDS", "SAMPLE_WORDS", "TextQuality", "measure_text", "text_quality"]

MIN_WORDS = 3
"""Fewer words than this: too little text to judge, quality 0.0."""
SAMPLE_WORDS = 300
"""At most this many words are looked up per text, spread evenly over it."""
MAX_WORD_LETTERS = 30
"""Longer words count as unknown without a lookup: they are run-together garbage ("Dennlokalanjusteringspotennärn"),
and the dictionary's compound search spends about 70 ms on each."""

_WORD = re.compile(r"[^\W\d_]{2,}")
"""Runs of two or more letters: digits, underscores and punctuation split words."""


@dataclass(frozen=True)
class TextQuality:
    """The words of a text that were judged and how many of them the dictionary knows."""

    words: int
    """Words looked up (at most SAMPLE_WORDS)."""
    known: int
    total_words: int
    """All words of two or more letters in the text."""

    @property
    def quality(self) -> float:
        if self.words < MIN_WORDS:
            return 0.0
        return self.known / self.words

    @property
    def known_words(self) -> float:
        """Estimated count of known words in the whole text (the sample's share times all words)."""
        return self.quality * self.total_words


def measure_text(text: str, dictionary: SwedishDictionary | None = None) -> TextQuality:
    """Look up a sample of the text's words in the Swedish dictionary."""
    words = _WORD.findall(text)
    total = len(words)
    if total < MIN_WORDS:
        return TextQuality(words=total, known=0, total_words=total)
    if total > SAMPLE_WORDS:
        step = total / SAMPLE_WORDS
        words = [words[int(i * step)] for i in range(SAMPLE_WORDS)]
    lookup = (dictionary or get_dictionary()).lookup
    known = sum(1 for word in words if len(word) <= MAX_WORD_LETTERS and lookup(word))
    return TextQuality(words=len(words), known=known, total_words=total)


def text_quality(text: str, dictionary: SwedishDictionary | None = None) -> float:
    """The share (0..1) of the text's words of two or more letters that the Swedish dictionary knows.

    The dictionary accepts inflected forms and compounds ("leverantörsfakturor"). Text with fewer
    than MIN_WORDS words scores 0.0.
    """
    return measure_text(text, dictionary).quality
