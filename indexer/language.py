"""Which language a page is written in, where it is one Arkiv does not index (Finnish).

Finland-Swedish municipalities publish bilingual documents: a Finnish attachment, a Finnish circular among
Swedish protocol pages. Their words are not Swedish, so the dictionary check (indexer/quality.py) takes such a
page for a garbled text layer and sends it to OCR, which reads it no better; indexed, it answers nothing a
Swedish or English question asks. An English page's text layer is likewise readable, though not Swedish: it is
indexed, and not OCR'd. simplemma's detector (word lists per language, offline) tells them apart.

Measured on the twelve real PDFs (2026-12-07): the Finnish pages' text layers score 0.80–0.97 Finnish, every
Swedish page 0.24 or less Finnish and 0.16 or less English, the garbled-font protocol included; MIN_SHARE lies
between.
"""

from __future__ import annotations

import re

from simplemma import langdetect

INDEXED = ("sv", "en")
"""Languages whose pages are indexed."""
CANDIDATES = ("sv", "fi", "en")
"""Languages the detector chooses among: the indexed ones and Finnish."""
MIN_SHARE = 0.6
"""Least share of a page's words that the other language must know."""
MIN_WORDS = 20
"""Shorter texts are not judged: a signature block or a heading says too little."""
SAMPLE_CHARS = 3000
NAMES = {"fi": "finska"}
"""Swedish names of the languages not indexed, for the note a skipped page gets."""

_WORD = re.compile(r"[^\W\d_]{2,}")


def clear_language(text: str) -> str | None:
    """The language (of CANDIDATES) that knows at least MIN_SHARE of the words of `text`, or None when none
    clearly does (too short, mixed, or garbled)."""
    if len(_WORD.findall(text[:SAMPLE_CHARS])) < MIN_WORDS:
        return None
    shares = dict(langdetect(text[:SAMPLE_CHARS], lang=CANDIDATES))
    best = max(CANDIDATES, key=lambda lang: shares.get(lang, 0.0))
    return best if shares.get(best, 0.0) >= MIN_SHARE else None


def unindexed_language(text: str) -> str | None:
    """The language of `text` when it is clearly one Arkiv does not index (e.g. "fi"), else None."""
    language = clear_language(text)
    return language if language is not None and language not in INDEXED else None


def skip_note(language: str) -> str:
    """Why a page in `language` is not indexed, as the documents page shows it."""
    return f"sidan är på {NAMES.get(language, language)} och indexeras inte"
