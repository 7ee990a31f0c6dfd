"""Reading a question: the filters it names, and the standalone query a follow-up stands for."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant.types import Filters
from indexer.casenumbers import find_case_numbers

_YEAR = re.compile(r"(?<![\d/:.-])((?:19|20)\d{2})(?![\d/:.-]\d)")
_YEAR_RANGE = re.compile(r"\b((?:19|20)\d{2})\s*(?:-|–|till|to|och|and)\s*((?:19|20)\d{2})\b")
_PARAGRAPH = re.compile(r"§\s*(\d{1,4})")

DOC_TYPE_CUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bårsredovisning|\bverksamhetsberättelse|\bförvaltningsberättelse|\bannual report", re.I), "arsredovisning"),
    (re.compile(r"\binternkontrollplan|\bverksamhetsplan|\bhandlingsplan|\binternal control plan", re.I), "plan"),
    (re.compile(r"\bkallelse|\bdagordning|\bföredragningslista|\bagenda\b", re.I), "kallelse"),
    (re.compile(r"\btjänsteskrivelse|\bmissiv", re.I), "tjansteskrivelse"),
)

_FOLLOW_UP_START = re.compile(
    r"^(och|men|samt|också|även|vad mer|hur mycket|hur många|när|vem|vilka|vilken|varför|and|but|what about|"
    r"how much|how many|when|who|which|why)\b",
    re.I,
)
_ANAPHORA = re.compile(
    r"\b(det|den|dessa|denna|detta|de|dem|deras|dess|där|samma|han|hon|it|its|they|them|their|that|those|this|there)\b",
    re.I,
)
_WORD = re.compile(r"[A-Za-zÅÄÖåäöÉé]{4,}")
_STOP = {
    "vad", "vilka", "vilken", "vilket", "när", "hur", "mycket", "många", "varför", "finns", "fick", "blev", "gjorde",
    "beslutades", "beslutade", "om", "och", "för", "med", "till", "som", "det", "den", "dessa", "what", "when",
    "which", "much", "many", "does", "were", "with", "from", "that", "they", "there", "about", "their", "them",
}


@dataclass(frozen=True)
class ParsedQuestion:
    """What a question names explicitly."""

    filters: Filters
    case_numbers: tuple[str, ...]
    paragraphs: tuple[str, ...]
    years: tuple[int, ...]
    doc_type: str | None


def parse_question(question: str, known_bodies: Iterable[str] = ()) -> ParsedQuestion:
    """Filters named in the question: a case number, a §, a year or year range, a body, a document type."""
    cases = find_case_numbers(question)
    without_cases = question
    for raw in re.findall(r"\b\d{4}\s*[/:]\s*\d+\b", question):
        without_cases = without_cases.replace(raw, " ")
    years: tuple[int, ...] = ()
    year_from = year_to = None
    if m := _YEAR_RANGE.search(without_cases):
        year_from, year_to = sorted((int(m.group(1)), int(m.group(2))))
        years = tuple(range(year_from, year_to + 1))
    else:
        found = sorted({int(y) for y in _YEAR.findall(without_cases)})
        if found:
            years = tuple(found)
            year_from, year_to = found[0], found[-1]
    paragraphs = tuple(dict.fromkeys(_PARAGRAPH.findall(question)))
    doc_type = next((t for pattern, t in DOC_TYPE_CUES if pattern.search(question)), None)
    body = _named_body(question, known_bodies)
    filters = Filters(
        year_from=year_from,
        year_to=year_to,
        case_number=cases[0] if cases else None,
        paragraph=paragraphs[0] if len(paragraphs) == 1 else None,
        body=body,
        doc_type=doc_type,
    )
    return ParsedQuestion(filters, cases, paragraphs, years, doc_type)


def _named_body(question: str, known_bodies: Iterable[str]) -> str | None:
    """A known body whose distinctive words the question names ("direktionen", "nämnden för arbetsmarknad")."""
    q = question.lower()
    best, best_len = None, 0
    for body in known_bodies:
        words = [w for w in re.findall(r"\w{5,}", body.lower()) if w not in {"nämnd", "nämnden", "region", "kommun"}]
        if words and all(w[:-1] in q for w in words[:2]) and len(body) > best_len:
            best, best_len = body, len(body)
    return best


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.lower() not in _STOP]


def is_follow_up(question: str) -> bool:
    """Whether a question leans on what came before ("Och hur mycket fick de?")."""
    words = content_words(question)
    if _FOLLOW_UP_START.search(question.strip()) and len(words) <= 3:
        return True
    return bool(_ANAPHORA.search(question)) and len(words) <= 4


def rewrite_follow_up(question: str, history: Sequence[tuple[str, str]]) -> str:
    """A standalone query for a follow-up, by rule: the previous question's topic plus this question.

    Only user turns are used: the assistant's own words would pull the search towards its last answer.
    """
    previous = [content for role, content in history if role == "user" and content.strip()]
    if not previous or not is_follow_up(question):
        return question
    topic = previous[-1]
    return f"{topic.strip().rstrip('?')} – {question.strip()}"


def carried_filters(history: Sequence[tuple[str, str]], known_bodies: Iterable[str] = ()) -> Filters:
    """Filters named in earlier user turns, later turns winning: they carry over to a follow-up."""
    carried = Filters()
    bodies = list(known_bodies)
    for role, content in history:
        if role == "user":
            carried = carried.merged(parse_question(content, bodies).filters)
    return carried
