"""Swedish BM25 as sparse vectors for Qdrant.

Documents carry BM25's term-frequency part; the collection's sparse vector has the IDF modifier, so
Qdrant supplies IDF from the documents it holds. Queries carry 1.0 per distinct term.

The analyzer lower-cases, keeps numbers exact (case numbers "2022/258", amounts "12,5", thousands
"1 934" -> "1934", paragraphs "§ 23" -> "§23"), drops Swedish stop words, reduces words to a dictionary
base form and a Snowball stem, and adds the parts of compound words as extra terms
("leverantörsfakturor" also yields the terms of "leverantör" and "faktura").

The only module that imports PyStemmer.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import Stemmer

from indexer.dictionary import SwedishDictionary, get_dictionary
from indexer.errors import ConfigurationError
from indexer.swedish.stopwords import SWEDISH_STOP_WORDS as _SNOWBALL_STOP_WORDS

logger = logging.getLogger(__name__)

K1 = 1.2
B = 0.75
DEFAULT_AVGDL = 100.0
"""Analyzer terms in an average chunk. Chunks are encoded batch by batch as they are indexed, when the
corpus-wide average is not known, and it would shift as the archive grows; a fixed value keeps every
stored vector valid when documents are added. Chunking bounds a chunk's length: 800-character pieces of
the seed archive give 95 terms on average (83-110 for the middle 80 %)."""

COMPOUND_MIN_LETTERS = 9
"""Words at least this long are tried as compounds; shorter ones split mostly into false parts."""
COMPOUND_MIN_PART = 3
"""A split with a shorter part ("plan" + "en") is not used."""
LEMMA_MIN_LETTERS = 4
"""Shorter words are stemmed as they stand: they are mostly abbreviations ("kr", "nr") or function words
whose dictionary analyses go astray ("mot" -> "mod")."""
_COMPOUND_DEPTH = 2

SWEDISH_STOP_WORDS = _SNOWBALL_STOP_WORDS
"""Re-exported from indexer.swedish.stopwords (the one list)."""

_SPACE = r"[ \u00a0\u202f]"
_TOKEN = re.compile(
    rf"""
      (?P<para>[§$]{{1,2}}{_SPACE}*(?P<para_no>\d+[a-z]?)\b)          # § 23, §§ 17, $ 23 (OCR of §)
    | (?P<grouped>(?<![\d,.])\d{{1,3}}(?:{_SPACE}\d{{3}})+(?:,\d+)?(?![\d]|[,.]\d))  # 1 934, 12 345,50
    | (?P<number>\d+(?:[/:.,\-]\d+)*)                                # 2022/258, 2022-02-23, 12,5, 1.2
    | (?P<word>[^\W\d_]+(?:\d+[^\W\d_]*)*)                           # words; codes like e4, k2
    """,
    re.VERBOSE,
)
_YEAR = re.compile(r"(?:19|20)\d\d")


@dataclass(frozen=True)
class SparseVector:
    """A sparse vector: sorted, distinct indices and their values."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.values):
            raise ValueError("a sparse vector needs as many values as indices")

    def as_dict(self) -> dict[int, float]:
        return dict(zip(self.indices, self.values, strict=True))


def token_index(token: str) -> int:
    """A stable 31-bit index for a term (the same in every process and on every machine)."""
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


class SwedishAnalyzer:
    """Turns Swedish text into index terms: exact numbers, stemmed words and compound parts."""

    def __init__(
        self,
        dictionary: SwedishDictionary | None = None,
        *,
        cache_dir: Path | None = None,
        compounds: bool = True,
        lemmas: bool = False,
    ) -> None:
        """`compounds`: add the stems of a compound's parts; `lemmas`: add the stem of simplemma's lemma where it
        differs from the word's own stem (the retrieval ablation in the README says which pay)."""
        self._dictionary = dictionary if dictionary is not None else get_dictionary(cache_dir)
        self.compounds = compounds
        self.lemmas = lemmas
        self._local = threading.local()
        self._word_terms = functools.lru_cache(maxsize=500_000)(self._compute_word_terms)

    def analyze(self, text: str) -> list[str]:
        """The terms of a text, in order; a compound's parts follow the compound."""
        return list(self._iter_terms(text))

    def flush(self) -> None:
        """Save new compound splits to the cache file, if there is one."""
        self._dictionary.flush()

    def _iter_terms(self, text: str) -> Iterator[str]:
        for match in _TOKEN.finditer(text):
            if match.group("para") is not None:
                yield "§" + match.group("para_no")
            elif match.group("grouped") is not None:
                yield re.sub(_SPACE, "", match.group("grouped"))
            elif match.group("number") is not None:
                number = match.group("number")
                yield number
                year = number[:4]
                if len(number) > 4 and _YEAR.fullmatch(year) and not number[4].isdigit() and number[4] != ",":
                    yield year
            else:
                yield from self._word_terms(match.group("word").lower())

    def _compute_word_terms(self, word: str) -> tuple[str, ...]:
        if word in SWEDISH_STOP_WORDS:
            return ()
        if not word.isalpha():
            return (word,)
        if len(word) < 2:
            return ()
        stem = self._stem(word)
        extra: tuple[str, ...] = ()
        if self.lemmas:
            from indexer.swedish.lemmas import lemmatize

            lemma_stem = str(self._stemmer().stemWord(lemmatize(word)))
            if lemma_stem != stem:
                extra = (lemma_stem,)
        if not self.compounds:
            return (stem, *extra)
        return (stem, *extra, *self._compound_terms(word, _COMPOUND_DEPTH))

    def _compound_terms(self, word: str, depth: int) -> tuple[str, ...]:
        if depth == 0 or len(word) < COMPOUND_MIN_LETTERS:
            return ()
        parts = self._dictionary.split_compound(word)
        if not parts or min(len(p) for p in parts) < COMPOUND_MIN_PART:
            return ()
        terms: list[str] = []
        for part in parts:
            terms.append(self._stem(part))
            terms.extend(self._compound_terms(part, depth - 1))
        return tuple(terms)

    def _stem(self, word: str) -> str:
        base = (self._dictionary.lemma(word) if len(word) >= LEMMA_MIN_LETTERS else None) or word
        return str(self._stemmer().stemWord(base.lower()))

    def _stemmer(self) -> Stemmer.Stemmer:
        # PyStemmer's stemmers must not be shared between threads.
        stemmer: Stemmer.Stemmer | None = getattr(self._local, "stemmer", None)
        if stemmer is None:
            stemmer = Stemmer.Stemmer("swedish")
            self._local.stemmer = stemmer
        return stemmer


class SparseEncoder:
    """BM25 sparse vectors for documents and queries, for a Qdrant sparse vector with the IDF modifier."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        analyzer: SwedishAnalyzer | None = None,
        avgdl: float = DEFAULT_AVGDL,
        k1: float = K1,
        b: float = B,
    ) -> None:
        if avgdl <= 0:
            raise ConfigurationError(f"BM25 needs a positive average chunk length, not {avgdl}")
        if k1 < 0 or not 0.0 <= b <= 1.0:
            raise ConfigurationError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, not k1={k1}, b={b}")
        self.analyzer = analyzer if analyzer is not None else SwedishAnalyzer(cache_dir=cache_dir)
        self.avgdl = avgdl
        self.k1 = k1
        self.b = b

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        """One vector per text, valued by BM25's saturated term frequency and length normalisation."""
        vectors = [self._encode_document(text) for text in texts]
        self.analyzer.flush()
        logger.debug("encoded %d documents, %d terms", len(vectors), sum(len(v.indices) for v in vectors))
        return vectors

    def encode_query(self, text: str) -> SparseVector:
        """A query vector: 1.0 for each distinct term (IDF comes from the collection)."""
        indices = sorted({token_index(term) for term in self.analyzer.analyze(text)})
        return SparseVector(tuple(indices), (1.0,) * len(indices))

    def tokens_for_debug(self, text: str) -> list[tuple[str, int]]:
        """The terms of a text with their indices, to see why a passage matched or did not."""
        return [(term, token_index(term)) for term in self.analyzer.analyze(text)]

    def _encode_document(self, text: str) -> SparseVector:
        terms = self.analyzer.analyze(text)
        if not terms:
            return SparseVector((), ())
        norm = self.k1 * (1.0 - self.b + self.b * len(terms) / self.avgdl)
        weights: dict[int, float] = {}
        for term, tf in Counter(terms).items():
            index = token_index(term)
            # Two terms sharing an index (a hash collision) add up, as one term would.
            weights[index] = weights.get(index, 0.0) + tf
        indices = sorted(weights)
        values = tuple(weights[i] * (self.k1 + 1.0) / (weights[i] + norm) for i in indices)
        return SparseVector(tuple(indices), values)
