"""A Swedish sentence splitter for text extracted from PDFs.

Sentences end at ``.``, ``!``, ``?`` or ``…`` before a capital letter, a digit or a bullet, except after
an abbreviation ("t.ex.", "bl.a.", "kl.", ...), an initial, a list number at the start of a line or a
§ number. Bullet lines, short lines that stand alone (headings, "Beslut", "Tid: 2022-02-10") and blank
lines end units too; a line that starts with a lower-case letter continues the one before it, across a
blank line as well, because PDF exports break lines and even paragraphs mid-sentence.
"""

from __future__ import annotations

import re

__all__ = [
    "ends_mid_phrase",
    "goes_on",
    "normalise_sentence",
    "sentence_spans",
    "split_sentences",
    "split_sentences_keep_whitespace",
]

# Never end a sentence.
_ABBREVIATIONS = frozenset(
    {
        "t.ex",
        "bl.a",
        "kl",
        "s.k",
        "fr.o.m",
        "t.o.m",
        "dvs",
        "d.v.s",
        "ca",
        "nr",
        "st",
        "resp",
        "jfr",
        "enl",
        "inkl",
        "exkl",
        "p.g.a",
        "pga",
        "f.d",
        "fd",
        "ang",
        "avd",
        "bil",
        "kap",
        "forts",
        "tel",
        "tfn",
        "ex",
        "obs",
        "ev",
        "sid",
        "s",
        "fig",
        "tab",
        "vol",
        "dnr",
        "diarienr",
        "org",
        "org.nr",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "okt",
        "nov",
        "dec",
        "mom",
        "p",
        "prop",
        "dir",
        "bet",
        "kommunallagen",
        "e.d",
        "o.dyl",
        "dyl",
        "vard",
        "lö",
        "sö",
        "ff",
        "t.f",
        "tf",
        "t.v",
        "fr",
        "f",
        "v",
        "bitr",
        "adj",
        "ordf",
        "sekr",
        "tjg",
    }
)
# End a sentence only at the end of a line ("... utbildningar m.m.\nNästa mening").
_SOFT_ABBREVIATIONS = frozenset({"m.m", "m.fl", "mfl", "o.s.v", "osv", "etc", "mm", "o.d", "usw"})

_BULLET = re.compile(r"^\s*(?:[•·▪■□◦●○‣⁃∙*\uf0b7\uf0a7-]|–|—|o(?=\s)|\d{1,2}[.)](?=\s)|[a-zåäö][)](?=\s))\s*")
_TERMINAL = re.compile(r"[.!?…]['\"”’)\]]*$")
_LINE_END_CONNECTOR = re.compile(
    r"(?:\b(?:och|samt|eller|i|av|för|med|till|att|som|på|om|den|det|de|en|ett|från|vid|under|över|"
    r"enligt|inom|mot|per|är|har|kan|ska|skall|via|hos|mellan|genom|inför|efter|kring|bland|åt|utifrån|"
    r"avseende|gällande|både|dels|så|när|där|vilket|vilka|vara|bli|blir|ha|hade|var|men|utan|än|"
    r"dess|sin|sitt|sina|deras|vår|vårt|våra|denna|detta|dessa|nya|olika|alla)|[,;(&/–-])\s*$",
    re.IGNORECASE,
)
_CANDIDATE = re.compile(r"[.!?…]+['\"”’)\]]*(?=\s)")
_NEXT_START = re.compile(r"\s+(?=[A-ZÅÄÖÉÜ0-9§•\"”“'(\[–-])")
_WORD_BEFORE = re.compile(r"(\S+)$")
_LIST_NUMBER_AT_LINE_START = re.compile(r"(?:^|\n)[ \t]*\d{1,3}$")
_SECTION_NUMBER = re.compile(r"§§?\s*\d+[a-z]?$")


def ends_mid_phrase(line: str) -> bool:
    """Whether a line stops on a word or mark that needs more after it ('och', 'för', ',', '-')."""
    return _LINE_END_CONNECTOR.search(line) is not None


def _is_short_standalone(line: str) -> bool:
    """A line that stands on its own: a heading, a label, a table cell, a 'Key: value' line."""
    words = line.split()
    if not words or len(words) > 8 or len(line) > 70:
        return False
    if _TERMINAL.search(line) or _LINE_END_CONNECTOR.search(line):
        return False
    return True


def _is_wrapped_tail(line: str, prev_line: str) -> bool:
    """A last word or two that ends a sentence wrapped from the line before ("… i december" / "2020.")."""
    return (
        len(line.split()) <= 2
        and _TERMINAL.search(line) is not None
        and not _BULLET.match(line)
        and not _TERMINAL.search(prev_line)
        and not prev_line.endswith(":")
    )


def goes_on(prev_line: str, line: str) -> bool:
    """Whether a line plainly goes on the sentence the line before it broke off: it starts in lower case, the
    line before stops mid-phrase ("… hos UC för" / "att ta fram …"), or it is the wrapped tail of a sentence
    ("… i december" / "2020."). A line that starts a new row of a table never does."""
    line, prev_line = line.strip(), prev_line.strip()
    if not line or _BULLET.match(line):
        return False
    return line[0].islower() or _carries_on(prev_line, line)


def _carries_on(prev_line: str, line: str) -> bool:
    """The line before stops mid-phrase, or the line is the wrapped tail of its sentence."""
    return ends_mid_phrase(prev_line) or _is_wrapped_tail(line, prev_line)


def _unit_spans(text: str) -> list[tuple[int, int]]:
    """Spans of units: runs of lines that belong together before sentence splitting."""
    units: list[tuple[int, int]] = []
    cur_start = -1
    cur_end = -1
    prev_line = ""
    blank_since = False
    pos = 0
    for raw in re.split(r"(?<=\n)|(?<=\f)", text):
        if not raw:
            continue
        start, end = pos, pos + len(raw)
        pos = end
        line = raw.strip()
        if not line:
            blank_since = True
            continue
        lstrip = len(raw) - len(raw.lstrip())
        l_start = start + lstrip
        l_end = start + len(raw.rstrip())
        first = line[0]
        is_bullet = bool(_BULLET.match(line)) and len(line) > 1
        if cur_start < 0:
            cur_start, cur_end = l_start, l_end
        else:
            if is_bullet:
                continues = False
            elif first.islower():
                continues = True
            elif blank_since:
                continues = False
            elif _carries_on(prev_line, line):
                continues = True
            else:
                # A wrapped line of prose goes on; a heading, label or "Key:" line stands alone.
                continues = not prev_line.endswith(":") and not _is_short_standalone(prev_line)
            if continues:
                cur_end = l_end
            else:
                units.append((cur_start, cur_end))
                cur_start, cur_end = l_start, l_end
        prev_line = line
        blank_since = False
    if cur_start >= 0:
        units.append((cur_start, cur_end))
    return units


def _is_boundary(unit: str, dot_start: int, dot_end: int) -> bool:
    """Whether the punctuation at unit[dot_start:dot_end] ends a sentence."""
    punct = unit[dot_start:dot_end]
    if "." not in punct[:1]:
        return True  # ! ? …
    before = unit[:dot_start]
    m = _WORD_BEFORE.search(before)
    word = m.group(1) if m else ""
    bare = word.lstrip("(\"'“”[").lower()
    if bare in _ABBREVIATIONS:
        return False
    if bare in _SOFT_ABBREVIATIONS:
        follow = unit[dot_end:]
        return "\n" in follow[: len(follow) - len(follow.lstrip())]
    if len(bare) == 1 and bare.isalpha():
        return False  # an initial: "K. Hermansson"
    if re.fullmatch(r"(?:[a-zåäö]\.)+[a-zåäö]", bare):
        return False  # unknown dotted abbreviation such as "o.dyl"
    if bare.isdigit():
        if _LIST_NUMBER_AT_LINE_START.search(before):
            return False
        if _SECTION_NUMBER.search(before):
            return False
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences and standalone lines of ``text`` (stripped of outer space)."""
    spans: list[tuple[int, int]] = []
    for u_start, u_end in _unit_spans(text):
        unit = text[u_start:u_end]
        last = 0
        for m in _CANDIDATE.finditer(unit):
            nxt = _NEXT_START.match(unit, m.end())
            if not nxt:
                continue
            if not _is_boundary(unit, m.start(), m.end()):
                continue
            spans.append((u_start + last, u_start + m.end()))
            last = nxt.end()
        if last < len(unit):
            spans.append((u_start + last, u_end))
    return [(s, e) for s, e in spans if e > s]


_HYPHEN_BREAK = re.compile(r"(?<=[a-zåäöé])-[ \t]*\n\s*(?=[a-zåäö])")
_KEEP_HYPHEN_BEFORE = re.compile(r"(?:och|eller|samt|till|som)\b")


def normalise_sentence(s: str) -> str:
    """One line of clean text: line breaks joined, words broken at a line end mended."""

    def mend(m: re.Match[str]) -> str:
        rest = s[m.end() :]
        return "- " if _KEEP_HYPHEN_BEFORE.match(rest) else ""

    s = _HYPHEN_BREAK.sub(mend, s.replace("\f", "\n"))
    return " ".join(s.split())


def split_sentences(text: str) -> list[str]:
    """Sentences of Swedish ``text`` as clean single lines (for answers and display)."""
    out = []
    for s, e in sentence_spans(text):
        n = normalise_sentence(text[s:e])
        if n:
            out.append(n)
    return out


def split_sentences_keep_whitespace(text: str) -> list[str]:
    """Sentences with the whitespace after each kept, so that joining them gives ``text`` back.

    This is the form llama-index's SentenceSplitter needs for its ``chunking_tokenizer_fn``.
    """
    spans = sentence_spans(text)
    if not spans:
        return [text] if text else []
    pieces = []
    for i, (s, _e) in enumerate(spans):
        start = 0 if i == 0 else s
        end = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        pieces.append(text[start:end])
    return pieces
