"""Checks an answer against the passages it cites: no citation without support, no factual sentence without one.

`verify(answer_text, hits)` reads the answer sentence by sentence. A marker [n] (also [n, m], [n-m] and
[n][m]) refers to hits[n-1]; a marker outside 1..len(hits) is dropped and logged. A sentence that carries
markers stays only if one of its cited passages supports it:

- lexically: the share of its content words (Swedish-analyzed: stemmed, compound parts counted) found in
  the passage or the passage's metadata (title, §, case numbers, dates) is at least `LEXICAL_MIN`, and
  every number in it (amounts, case numbers, dates, §) and every name in a Swedish sentence occurs in
  the passage (numbers exactly; "10 februari" matches "2022-02-10"); English words count through a small
  glossary (assistant/qtype.py);
- or semantically, when embedding functions are given: its cosine with the closest passage sentences is
  at least `SEMANTIC_MIN`, its numbers still occur exactly, and its lexical share is at least
  `LEXICAL_MIN_WITH_SEMANTIC`.

Lexical support cannot see polarity, so decision verbs are checked apart (`polarity`): a sentence that says a
request was granted, rejected or referred back needs a passage that says the same ("avslog" never passes for
"beviljar"), whatever words they share.

A sentence that no cited passage supports is re-pointed to another hit that does, or else dropped. A
sentence without markers is dropped unless it is a short connective lead-in ("Enligt arkivet:"). The
markers that survive are renumbered densely, 1..m, in order of first appearance.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from assistant.glossary import swedish_equivalents
from assistant.qtype import detect_language
from assistant.types import Citation, Hit
from indexer.sentences import sentence_spans, split_sentences
from indexer.sparse import SwedishAnalyzer
from indexer.swedish.dates import MONTH_ABBREVIATIONS, MONTHS, MONTHS_EN

__all__ = [
    "CONNECTIVE_MAX_WORDS",
    "CONNECTIVE_WORDS",
    "LEXICAL_MIN",
    "LEXICAL_MIN_WITH_SEMANTIC",
    "SEMANTIC_MIN",
    "Support",
    "Verified",
    "default_analyzer",
    "polarity",
    "verify",
]

logger = logging.getLogger(__name__)

LEXICAL_MIN = 0.55
"""Share of a sentence's content words that its passage must hold. Calibrated on 37 hand-labelled claims
over real passages of the seed protocols: Swedish sentences copied or paraphrased from their passage
scored 0.60-1.0 (English ones 0.62-1.0 with the glossary), the same sentences cited to another § of the
same meeting 0.0-0.43, invented sentences on the passage's topic 0.33-0.50 (one at 0.71 is caught by
its name, "Norge", missing from the passage)."""
LEXICAL_MIN_WITH_SEMANTIC = 0.4
"""With embeddings, the least lexical share still required for semantic support."""
SEMANTIC_MIN = 0.9
"""Cosine (sentence embedded as a query vs. the closest passage sentences embedded as passages) for
semantic support. With multilingual-e5-small the cosines are compressed: supported claims scored
0.84-0.97, unsupported ones 0.80-0.90 (invented sentences on the passage's topic up to 0.90), so the
semantic path is narrow: it rescues a paraphrase only when it is very close and shares key words."""
SEMANTIC_CANDIDATES = 4
"""Passage sentences embedded per claim: those sharing most words with it (embedding all costs seconds)."""
CONNECTIVE_MAX_WORDS = 8
"""A sentence without a marker survives only if it is at most this long and is a connective lead-in."""

CONNECTIVE_WORDS = frozenset(
    """
    enligt arkivet arkivets källorna källan källor handlingarna handlingen dokumentet dokumenten protokollet
    följande nedan svar svaret sammanfattning sammanfattningsvis citat ur se även datum beloppet belopp antal
    den det de är var finns fanns och samt eller men som att i på av för till med om från ett en se så här
    the a an of and or to in on at by is are was were be been according archive sources source document
    documents minutes following below answer summary quote quotes see also date amount number it this that
    these those there as follows from with for text swedish original says states stated reads
    """.split()
)
"""Words that carry no fact: they may appear in any answer without a passage holding them."""

_MARKER = re.compile(r"\[\s*(\d+(?:\s*(?:[,;]|[-–])\s*\d+)*)\s*\]")
_BULLET_PREFIX = re.compile(r"^(\s*(?:[-–•*]|\d{1,2}[.)])\s+)")
_QUOTE_CHARS = '”“"«»'
_WORDS = re.compile(r"[^\W\d_]+")
_NUMERIC = re.compile(r"\d")
_LINK = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I)
"""Web addresses and e-mail addresses: a claim may carry one only if its passage does."""

_MONTHS = {**MONTHS, **MONTHS_EN, **MONTH_ABBREVIATIONS}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO_DATE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:\s*:?e|\s*:a)?\s+({_MONTH_NAMES})\.?(?:\s+((?:19|20)\d\d))?\b", re.I)
_MONTH_DAY = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?(?:\s+((?:19|20)\d\d))?\b", re.I)

DateMention = tuple[int | None, int, int]
"""(year or None, month, day)."""


@dataclass(frozen=True)
class Support:
    """How one cited sentence of an answer fared."""

    sentence: str
    cited: tuple[int, ...]
    """The hit numbers (1-based, as written in the answer) it cited, out-of-range ones left out."""
    lexical: float
    semantic: float | None
    supported: bool
    reason: str
    """"supported", "re-pointed to [k]", "not in passage: ..." (numbers, dates, names), "low support",
    "no citation"."""


@dataclass(frozen=True)
class Verified:
    """A checked answer: the text that survived, its citations and what was removed."""

    text: str
    """The answer with markers renumbered 1..m in order of first appearance."""
    citations: tuple[Citation, ...]
    removed: tuple[str, ...]
    """Sentences dropped and markers removed, each with the reason, for the log."""
    support_scores: tuple[Support, ...]


@functools.cache
def default_analyzer() -> SwedishAnalyzer:
    """The Swedish analyzer shared by the answerer and the verifier (the dictionary loads once per process)."""
    return SwedishAnalyzer()


# -- terms ---------------------------------------------------------------------------------------------------


def word_groups(analyzer: SwedishAnalyzer, text: str, *, english: bool = False) -> list[tuple[str, ...]]:
    """One group of analyzer terms per content word: its stem first, then its compound parts.

    Connective words and stop words give no group. With `english`, a word the glossary knows also
    carries the stems of its Swedish equivalents (after a separator "|").
    """
    groups: list[tuple[str, ...]] = []
    for match in _WORDS.finditer(text):
        word = match.group(0)
        if word.lower() in CONNECTIVE_WORDS:
            continue
        terms = tuple(t for t in analyzer.analyze(word) if not _NUMERIC.search(t))
        if not terms:
            continue
        if english:
            extra = tuple(t for sv in swedish_equivalents(word) for t in analyzer.analyze(sv)[:1])
            if extra:
                terms = (*terms, "|", *extra)
        groups.append(terms)
    return groups


def number_terms(analyzer: SwedishAnalyzer, text: str) -> list[str]:
    """The numbers of a text as the analyzer writes them ("2 000 000" -> "2000000", "§ 23" -> "§23")."""
    return [_canonical_number(t) for t in analyzer.analyze(text) if _NUMERIC.search(t)]


def _canonical_number(term: str) -> str:
    if re.fullmatch(r"\d+\.\d{1,2}", term):
        return term.replace(".", ",")
    return term


def group_match(group: tuple[str, ...], terms: frozenset[str] | set[str]) -> float:
    """1.0 when a word's stem is among `terms`, its parts' share when only compound parts are."""
    if "|" in group:
        own, alternatives = group[: group.index("|")], group[group.index("|") + 1 :]
        if any(t in terms for t in alternatives):
            return 1.0
        group = own
    if group[0] in terms:
        return 1.0
    parts = group[1:]
    if not parts:
        return 0.0
    return sum(1 for p in parts if p in terms) / len(parts)


def date_mentions(text: str) -> set[DateMention]:
    """Dates written as ISO, "10 februari 2022", "10 feb" or "February 10, 2022"."""
    found: set[DateMention] = set()
    for m in _ISO_DATE.finditer(text):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1 <= month <= 12 and 1 <= day <= 31:
            found.add((year, month, day))
    for m in _DAY_MONTH.finditer(text):
        day, month = int(m.group(1)), _MONTHS[m.group(2).lower()]
        if 1 <= day <= 31:
            found.add((int(m.group(3)) if m.group(3) else None, month, day))
    for m in _MONTH_DAY.finditer(text):
        month, day = _MONTHS[m.group(1).lower()], int(m.group(2))
        if 1 <= day <= 31:
            found.add((int(m.group(3)) if m.group(3) else None, month, day))
    return found


def _date_supported(date: DateMention, passage_dates: set[DateMention]) -> bool:
    year, month, day = date
    return any(pm == month and pd == day and (year is None or py is None or py == year) for py, pm, pd in passage_dates)


def metadata_text(hit: Hit) -> str:
    """What a passage says about itself: title, body, §, section, part, case numbers and dates."""
    c = hit.chunk
    bits = [c.meta.title, c.meta.body or "", c.section or "", c.part or ""]
    if c.paragraph:
        bits.append(f"§ {c.paragraph}")
    bits.extend(c.case_numbers)
    bits.extend(d for d in (c.date, c.meta.date) if d)
    return "\n".join(b for b in bits if b)


@dataclass(frozen=True)
class _Passage:
    terms: frozenset[str]
    numbers: frozenset[str]
    dates: frozenset[DateMention]
    sentences: tuple[str, ...]
    sentence_terms: tuple[frozenset[str], ...]


class _Passages:
    """Analyzed passages (text plus metadata), built on first use; sentence vectors cached."""

    def __init__(
        self,
        hits: Sequence[Hit],
        analyzer: SwedishAnalyzer,
        embed_passages: Callable[[Sequence[str]], list[list[float]]] | None,
    ) -> None:
        self._hits = hits
        self._analyzer = analyzer
        self._embed_passages = embed_passages
        self._cache: dict[int, _Passage] = {}
        self._vectors: dict[int, dict[int, list[float]]] = {}

    def get(self, index: int) -> _Passage:
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        hit = self._hits[index]
        full = hit.chunk.text + "\n" + metadata_text(hit)
        terms = self._analyzer.analyze(full)
        sentences = tuple(split_sentences(hit.chunk.text)) or (hit.chunk.text.strip(),)
        passage = _Passage(
            terms=frozenset(terms),
            numbers=frozenset(_canonical_number(t) for t in terms if _NUMERIC.search(t)),
            dates=frozenset(date_mentions(full)),
            sentences=sentences,
            sentence_terms=tuple(frozenset(self._analyzer.analyze(s)) for s in sentences),
        )
        self._cache[index] = passage
        return passage

    def full_text(self, index: int) -> str:
        return self._hits[index].chunk.text

    def vectors(self, index: int, sentence_ids: Sequence[int]) -> list[list[float]]:
        """Passage vectors of some of a hit's sentences (each embedded once per verify call)."""
        if self._embed_passages is None:
            return []
        cache = self._vectors.setdefault(index, {})
        missing = [i for i in sentence_ids if i not in cache]
        if missing:
            sentences = self.get(index).sentences
            for i, vector in zip(missing, self._embed_passages([sentences[i] for i in missing]), strict=True):
                cache[i] = vector
        return [cache[i] for i in sentence_ids]


# -- segments ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    line: int
    prefix: str
    """The list bullet of its line ("- ", "1. "), or ""."""
    text: str


def _split_answer(text: str) -> list[_Segment]:
    segments: list[_Segment] = []
    for line_no, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        m = _BULLET_PREFIX.match(line)
        prefix = m.group(1).lstrip() if m else ""
        body = line[m.end() :] if m else line
        pieces = [body[s:e] for s, e in sentence_spans(body)] or [body.strip()]
        merged: list[str] = []
        for piece in pieces:
            if merged and _open_quote(merged[-1]):
                merged[-1] = merged[-1] + " " + piece
            elif merged and _starts_with_marker(piece):
                lead, rest = _leading_markers(piece)
                merged[-1] = merged[-1] + " " + lead
                if rest:
                    merged.append(rest)
            else:
                merged.append(piece)
        segments.extend(_Segment(line_no, prefix, piece.strip()) for piece in merged)
    return segments


def _open_quote(text: str) -> bool:
    return sum(text.count(q) for q in _QUOTE_CHARS) % 2 == 1


def _starts_with_marker(text: str) -> bool:
    return bool(re.match(r"\s*\[\s*\d", text))


def _leading_markers(text: str) -> tuple[str, str]:
    m = re.match(rf"\s*((?:{_MARKER.pattern}\s*[.,;:]?\s*)+)", text)
    if not m:
        return "", text
    return m.group(1).strip(), text[m.end() :].strip()


def _marker_numbers(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group):
        if re.search(r"[-–]", part):
            a, b = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            numbers.extend(range(min(a, b), max(a, b) + 1) if b - a < 20 else (a, b))
        elif part.strip():
            numbers.append(int(part))
    return numbers


def _claim(text: str) -> str:
    return " ".join(_MARKER.sub(" ", text).split())


def is_connective(sentence: str) -> bool:
    """A short lead-in without facts: at most CONNECTIVE_MAX_WORDS words, no digits, no names, and either
    ending in a colon or made of connective words only."""
    claim = _claim(sentence).strip().strip("*_#> ")
    words = claim.split()
    if not words or len(words) > CONNECTIVE_MAX_WORDS or _NUMERIC.search(claim):
        return False
    if any(w[:1].isupper() for w in words[1:] if w.strip(_QUOTE_CHARS + "()")):
        return False
    bare = [w.strip(".,:;!?()*_" + _QUOTE_CHARS).lower() for w in words]
    return claim.endswith(":") or all(w in CONNECTIVE_WORDS for w in bare if w)


# -- support -------------------------------------------------------------------------------------------------


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


@dataclass(frozen=True)
class _Check:
    lexical: float
    numbers_ok: bool
    missing_numbers: tuple[str, ...]
    """Numbers, dates and (in Swedish sentences) names of the claim that the passage lacks."""


class _Checker:
    def __init__(
        self,
        passages: _Passages,
        analyzer: SwedishAnalyzer,
        embed: Callable[[str], list[float]] | None,
    ) -> None:
        self._passages = passages
        self._analyzer = analyzer
        self._embed = embed
        self._claim_vectors: dict[str, list[float]] = {}

    def lexical(self, claim: str, index: int) -> _Check:
        passage = self._passages.get(index)
        english = _looks_english(claim)
        groups = word_groups(self._analyzer, claim, english=english)
        dates = date_mentions(claim)
        date_numbers: set[str] = set()
        missing: list[str] = []
        for date in dates:
            year, month, day = date
            if _date_supported(date, set(passage.dates)):
                date_numbers.update({str(day), f"{day:02d}", str(month), f"{month:02d}"})
                if year is not None:
                    date_numbers.add(str(year))
            else:
                missing.append(f"{year or '?'}-{month:02d}-{day:02d}")
        for m in _ISO_DATE.finditer(claim):
            date_numbers.add(m.group(0))
        for number in number_terms(self._analyzer, claim):
            if number in passage.numbers or number in date_numbers:
                continue
            missing.append(number)
        full = self._passages.full_text(index).lower()
        for link in _LINK.findall(claim):  # a web address or e-mail only as the passage writes it
            if link.lower().rstrip(".,;:)") not in full:
                missing.append(link)
        for name in () if english else _names(claim):
            terms = tuple(t for t in self._analyzer.analyze(name) if not _NUMERIC.search(t))
            if terms and group_match(terms, passage.terms) < 0.5:
                missing.append(name)
        if groups:
            lexical = sum(group_match(g, passage.terms) for g in groups) / len(groups)
        else:
            lexical = 1.0 if (number_terms(self._analyzer, claim) or dates) and not missing else 0.0
        return _Check(lexical, not missing, tuple(dict.fromkeys(missing)))

    def semantic(self, claim: str, index: int) -> float | None:
        if self._embed is None:
            return None
        vectors = self._passages.vectors(index, self._closest(claim, index, SEMANTIC_CANDIDATES))
        if not vectors:
            return None
        if claim not in self._claim_vectors:
            self._claim_vectors[claim] = self._embed(claim)
        q = self._claim_vectors[claim]
        return max(_cosine(q, v) for v in vectors)

    def judge(self, claim: str, index: int) -> tuple[bool, float, float | None, str]:
        said = polarity(claim)
        if said and not said & polarity(self._passages.full_text(index)):
            return False, 0.0, None, "decision not in passage: " + ", ".join(sorted(said))
        check = self.lexical(claim, index)
        if not check.numbers_ok:
            return False, check.lexical, None, "not in passage: " + ", ".join(check.missing_numbers)
        if check.lexical >= LEXICAL_MIN:
            return True, check.lexical, None, "supported"
        if check.lexical >= LEXICAL_MIN_WITH_SEMANTIC:
            semantic = self.semantic(claim, index)
            if semantic is not None and semantic >= SEMANTIC_MIN:
                return True, check.lexical, semantic, "supported (semantic)"
            return False, check.lexical, semantic, "low support"
        return False, check.lexical, None, "low support"

    def _overlaps(self, claim: str, index: int) -> list[tuple[float, int]]:
        """(shared words and numbers, sentence id) for the passage's sentences, most shared first."""
        passage = self._passages.get(index)
        groups = word_groups(self._analyzer, claim, english=_looks_english(claim))
        numbers = set(number_terms(self._analyzer, claim))
        scored: list[tuple[float, int]] = []
        for i, terms in enumerate(passage.sentence_terms):
            score = sum(group_match(g, terms) for g in groups) + sum(1.0 for n in numbers if n in terms)
            scored.append((score, i))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return scored

    def _closest(self, claim: str, index: int, k: int) -> list[int]:
        return [i for _s, i in self._overlaps(claim, index)[:k]]

    def quotes(self, claim: str, index: int) -> list[str]:
        """The passage sentences that hold most of the claim's words (one, or two when both add words)."""
        passage = self._passages.get(index)
        scored = [t for t in self._overlaps(claim, index) if t[0] > 0]
        out = [passage.sentences[i] for _s, i in scored[:1]]
        if len(scored) > 1 and scored[1][0] >= 0.5 * scored[0][0] and scored[1][0] >= 2:
            out.append(passage.sentences[scored[1][1]])
        return out


_NAME = re.compile(r"(?<![.:!?”“\"«»(\[]\s)(?<!^)(?<![-–•*]\s)\b[A-ZÅÄÖÉ][a-zåäöé]+\b")
_NOT_NAMES = frozenset(
    """
    januari februari mars april maj juni juli augusti september oktober november december january february
    march may june july august october monday tuesday wednesday thursday friday saturday sunday i swedish
    english source according
    """.split()
)


_POLARITY: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("granted", re.compile(r"\b(?:bevilja\w*|godkän\w*|tillstyrk\w*|approv\w*|grant(?:s|ed)?)\b", re.I)),
    ("rejected", re.compile(r"\b(?:avslå\w*|avslog\w*|avstyrk\w*|reject\w*|den(?:y|ied|ies))\b", re.I)),
    ("referred back", re.compile(r"\b(?:återremitt\w*|referred back|refer(?:s)? back)\b", re.I)),
)


def polarity(text: str) -> set[str]:
    """What a text says was decided: granted (beviljar, godkänner), rejected (avslår) or referred back."""
    return {name for name, pattern in _POLARITY if pattern.search(text)}


def _names(claim: str) -> list[str]:
    """Capitalised words inside a sentence (names of people, places, organisations), outside quotes."""
    text = _MARKER.sub(" ", claim).strip()
    text = re.sub(r"^[\s”“\"«»(\[–•*-]+", "", text)
    names = []
    for m in _NAME.finditer(text):
        if m.start() == 0 or m.group(0).lower() in _NOT_NAMES or m.group(0).lower() in CONNECTIVE_WORDS:
            continue
        names.append(m.group(0))
    return names


def _looks_english(claim: str) -> bool:
    outside_quotes = re.sub(r"[”“\"«»][^”“\"«»]*[”“\"«»]", " ", claim)
    return detect_language(outside_quotes) == "en"


# -- verify --------------------------------------------------------------------------------------------------


def verify(
    answer_text: str,
    hits: Sequence[Hit],
    *,
    embed: Callable[[str], list[float]] | None = None,
    embed_passages: Callable[[Sequence[str]], list[list[float]]] | None = None,
    analyzer: SwedishAnalyzer | None = None,
) -> Verified:
    """The answer with unsupported and uncited sentences removed and markers renumbered densely."""
    if not answer_text.strip():
        return Verified("", (), (), ())
    analyzer = analyzer or default_analyzer()
    passages = _Passages(hits, analyzer, embed_passages)
    checker = _Checker(passages, analyzer, embed)
    removed: list[str] = []
    supports: list[Support] = []
    kept: list[tuple[_Segment, str, list[int]]] = []
    """Each kept segment, its claim text, and per marker group the 0-based hit indices it keeps."""
    quotes: dict[int, list[str]] = {}

    for segment in _split_answer(answer_text):
        groups = [_marker_numbers(m.group(1)) for m in _MARKER.finditer(segment.text)]
        claim = _claim(segment.text)
        valid: list[int] = []
        for group in groups:
            for n in group:
                if 1 <= n <= len(hits):
                    if n - 1 not in valid:
                        valid.append(n - 1)
                else:
                    logger.warning("citation [%d] points outside the %d passages; dropped", n, len(hits))
                    removed.append(f"[{n}]: marker outside 1..{len(hits)}")
        if not claim.strip(" .,:;–-"):
            continue
        if not valid:
            if is_connective(claim):
                kept.append((segment, claim, []))
                continue
            reason = "no citation" if not groups else "only invalid citations"
            removed.append(f"{claim}: {reason}")
            supports.append(Support(claim, (), 0.0, None, False, reason))
            continue
        good: list[int] = []
        best_lex, best_sem, last_reason = 0.0, None, "low support"
        for index in valid:
            ok, lex, sem, reason = checker.judge(claim, index)
            best_lex = max(best_lex, lex)
            if sem is not None:
                best_sem = sem if best_sem is None else max(best_sem, sem)
            if ok:
                good.append(index)
            else:
                last_reason = reason
        note = "supported"
        if not good:
            other = _repoint(checker, claim, valid, len(hits))
            if other is None:
                removed.append(f"{claim}: {last_reason} in cited passage(s) " + ", ".join(f"[{i + 1}]" for i in valid))
                supports.append(Support(claim, tuple(i + 1 for i in valid), best_lex, best_sem, False, last_reason))
                continue
            good = [other]
            note = f"re-pointed to [{other + 1}]"
            logger.info("citation re-pointed from %s to [%d]: %s", [i + 1 for i in valid], other + 1, claim)
        supports.append(Support(claim, tuple(i + 1 for i in valid), best_lex, best_sem, True, note))
        kept.append((segment, claim, good))
        for index in good:
            bucket = quotes.setdefault(index, [])
            for q in checker.quotes(claim, index):
                if q not in bucket:
                    bucket.append(q)

    order: dict[int, int] = {}
    for _segment, _claim_text, good in kept:
        for index in good:
            order.setdefault(index, len(order) + 1)
    if not order:
        # Connectives alone are no answer.
        return Verified("", (), tuple(removed), tuple(supports))
    text = _render(kept, order, answer_text)
    citations = tuple(
        Citation(n=n, hit=hits[index], quotes=tuple(quotes.get(index, ())))
        for index, n in sorted(order.items(), key=lambda t: t[1])
    )
    return Verified(text, citations, tuple(removed), tuple(supports))


def _repoint(checker: _Checker, claim: str, cited: Iterable[int], n_hits: int) -> int | None:
    skip = set(cited)
    best: tuple[float, int] | None = None
    for index in range(n_hits):
        if index in skip:
            continue
        ok, lex, _sem, _reason = checker.judge(claim, index)
        if ok and (best is None or lex > best[0]):
            best = (lex, index)
    return best[1] if best else None


def _render(kept: list[tuple[_Segment, str, list[int]]], order: dict[int, int], original: str) -> str:
    source_lines = original.split("\n")
    lines: dict[int, list[str]] = {}
    prefixes: dict[int, str] = {}
    for segment, _claim_text, good in kept:
        lines.setdefault(segment.line, []).append(_rewrite_markers(segment.text, good, order))
        prefixes[segment.line] = segment.prefix
    out: list[str] = []
    previous: int | None = None
    for line_no in sorted(lines):
        # Keep a blank line where the answer had one between two surviving lines.
        if previous is not None and any(not source_lines[i].strip() for i in range(previous + 1, line_no)):
            out.append("")
        out.append(prefixes[line_no] + " ".join(lines[line_no]))
        previous = line_no
    return "\n".join(out).strip()


def _rewrite_markers(text: str, good: list[int], order: dict[int, int]) -> str:
    keep = set(good)
    placed: set[int] = set()
    repointed = [i for i in good if i not in _cited_indices(text)]

    def replace(m: re.Match[str]) -> str:
        numbers = [n - 1 for n in _marker_numbers(m.group(1))]
        new = [order[i] for i in numbers if i in keep and i not in placed]
        placed.update(i for i in numbers if i in keep)
        if repointed and not placed.intersection(repointed):
            new.extend(order[i] for i in repointed)
            placed.update(repointed)
        return "".join(f"[{n}]" for n in sorted(set(new)))

    out = _MARKER.sub(replace, text)
    out = re.sub(r"[ \t]+([.,;:!?])", r"\1", out)
    out = re.sub(r"[ \t]{2,}", " ", out)
    return out.strip()


def _cited_indices(text: str) -> set[int]:
    return {n - 1 for m in _MARKER.finditer(text) for n in _marker_numbers(m.group(1))}
