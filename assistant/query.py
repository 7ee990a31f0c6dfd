"""Reading a question: the filters it names, and the standalone query a follow-up stands for."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from assistant.answerable import specific_terms
from assistant.types import Filters
from indexer.casenumbers import find_case_numbers
from indexer.swedish.stopwords import SWEDISH_STOP_WORDS

_YEAR = re.compile(r"(?<![\d/:.-])((?:19|20)\d{2})(?![\d/:.-]\d)")
_YEAR_RANGE = re.compile(r"\b((?:19|20)\d{2})\s*(?:-|–|till|to|och|and)\s*((?:19|20)\d{2})\b")
_PARAGRAPH = re.compile(r"§\s*(\d{1,4})")

DOC_TYPE_CUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\bårsredovisning|\bverksamhetsberättelse|\bförvaltningsberättelse|\bannual report", re.I),
        "arsredovisning",
    ),
    (re.compile(r"\binternkontrollplan|\bverksamhetsplan|\bhandlingsplan|\binternal control plan", re.I), "plan"),
    (re.compile(r"\bkallelse|\bdagordning|\bföredragningslista|\bagenda\b", re.I), "kallelse"),
    (re.compile(r"\btjänsteskrivelse|\bmissiv", re.I), "tjansteskrivelse"),
)

_FOLLOW_UP_START = re.compile(
    r"^(och|men|samt|också|även|vad mer|hur mycket|hur många|när|vem|vilka|vilken|varför|and|but|what about|"
    r"how much|how many|when|who|which|why)\b",
    re.I,
)
_CONTINUATION = re.compile(r"^(och|men|samt|också|även|and|but|also|what about)\b", re.I)
"""A question that opens with "och" / "and" continues the conversation, however long it is."""
_ANAPHORA = re.compile(
    r"\b(det|den|dessa|denna|detta|de|dem|deras|dess|där|samma|han|hon|it|its|they|them|their|that|those|this|there)\b",
    re.I,
)
_WORD = re.compile(r"[A-Za-zÅÄÖåäöÉé]{4,}")
_STOP = {
    "vad",
    "vilka",
    "vilken",
    "vilket",
    "när",
    "hur",
    "mycket",
    "många",
    "varför",
    "finns",
    "fick",
    "blev",
    "gjorde",
    "beslutades",
    "beslutade",
    "om",
    "och",
    "för",
    "med",
    "till",
    "som",
    "det",
    "den",
    "dessa",
    "what",
    "when",
    "which",
    "much",
    "many",
    "does",
    "were",
    "with",
    "from",
    "that",
    "they",
    "there",
    "about",
    "their",
    "them",
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
    """Whether a question leans on what came before ("Och hur mycket fick de?", "And who pays for it?")."""
    words = content_words(question)
    if _CONTINUATION.search(question.strip()):
        return True
    if _FOLLOW_UP_START.search(question.strip()) and len(words) <= 3:
        return True
    return bool(_ANAPHORA.search(question)) and len(words) <= 4


_QUESTION_VERBS = {
    "föreslog",
    "föreslår",
    "föreslogs",
    "beslutade",
    "beslutades",
    "beslöt",
    "redovisade",
    "redovisas",
    "hanterade",
    "genomförde",
    "gjorde",
    "gäller",
    "gällde",
    "står",
    "stod",
    "ingår",
    "ingick",
    "enligt",
    "samma",
    "finansieras",
    "kontrollerar",
    "sammanträder",
    "skriver",
    "under",
    "inför",
    "hade",
    "ofta",
    "stor",
    "stort",
    "propose",
    "proposed",
    "decided",
    "did",
    "does",
    "according",
}
_NEXT_YEAR = re.compile(
    r"\b(?:året (?:efter|därpå|därefter)|(?:på|näst)följande år|(?:nästa|kommande|nästkommande) år"
    r"|the (?:following|next) year|the year after|next year)\b",
    re.I,
)
_PREVIOUS_YEAR = re.compile(
    r"\b(?:året (?:innan|före|dessförinnan)|föregående år|förra året|i fjol|fjolårets?"
    r"|the (?:previous|preceding) year|the year before|last year)\b",
    re.I,
)
MAX_CARRIED_WORDS = 6
"""Subject words a follow-up takes from the conversation at most: enough to name the subject, never a whole question."""


def _standalone_turns(history: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each user turn as the standalone query it stood for, with the assistant's reply to it ("" if none)."""
    turns: list[tuple[str, str]] = []
    earlier: list[tuple[str, str]] = []
    for i, (role, content) in enumerate(history):
        if role != "user" or not content.strip():
            continue
        reply = next((c for r, c in history[i + 1 :] if r == "assistant"), "")
        if turns and is_follow_up(content):
            standalone = _complete(content, turns[-1][0], turns[-1][1])
        else:
            standalone = content.strip()
        turns.append((standalone, reply))
        earlier.append((role, content))
    return turns


_ASKED_FOR = re.compile(
    r"\b(?:hur (?:många|mycket)|vilken|vilket|vilka|how (?:many|much)|which|what)\s+(?P<rest>.*)"
    r"|\b(?:hur \w+|vad|what|how \w+)\s+(?:är|var|blev|blir|is|was|were|are)\s+(?P<after_copula>.*)"
    r"|\bwhat['’]s\s+(?P<after_whats>.*)",
    re.I,
)
"""Where a question names what it asks for: after "hur många", "vilket" ("Vilket resultat redovisade …"), or
after a copula ("Hur stor blev Navets omsättning", "Vad är målet")."""
_ARTICLES = {"det", "den", "de", "ett", "en", "the", "a", "an", "of", "them"}
_FOCUS_WORDS = 3
_FOCUS_ENDS = _STOP | SWEDISH_STOP_WORDS | ENGLISH_STOP_WORDS | _QUESTION_VERBS | _ARTICLES
"""Words that end what a question asks for: stop words, question verbs, articles."""


def asked_for(question: str) -> list[str]:
    """The words naming what a question asks for: "Hur många *anställda* har de?", "Vilket *ekonomiskt utfall*
    hade Närvårdskontoret?", "Hur stor blev Navets *ekonomiska omsättning*?". A follow-up that asks for something
    of its own does not carry these from the question before; it carries that question's subject."""
    m = _ASKED_FOR.search(question)
    if m is None:
        return []
    rest = next(g for g in m.groups() if g is not None)
    out: list[str] = []
    for token in re.findall(r"[^\W\d_]+|[^\w\s]|\d+", rest):
        low = token.lower()
        if not out and (low in _ARTICLES or token[:1].isupper()):
            continue  # "det egna kapitalet", "Navets omsättning": the owner is the subject, not what is asked
        if out and low in {"och", "and", ","}:
            continue
        if not token.isalpha() or token[:1].isupper() or low in _FOCUS_ENDS:
            break
        out.append(token)
        if len(out) == _FOCUS_WORDS:
            break
    return out


def _asks_for_its_own(question: str) -> bool:
    """Whether a follow-up names what it asks for ("anställda", "uppsägningstiden", "finansieras"), rather than
    only a new subject or year ("Och hur gick det för Navet det året?")."""
    if asked_for(question):
        return True
    return any(w.islower() and len(w) >= 6 for w in content_words(question))


def _subject_words(text: str, exclude: set[str]) -> list[str]:
    out: list[str] = []
    for w in content_words(text):
        low = w.lower()
        if len(w) < 5 and not w[:1].isupper():
            continue
        if low in _QUESTION_VERBS or low in exclude or any(low[:5] == e[:5] for e in exclude if len(e) >= 5):
            continue
        if low not in {o.lower() for o in out}:
            out.append(w)
    return out[:MAX_CARRIED_WORDS]


def _complete(question: str, previous: str, reply: str) -> str:
    """The follow-up with what it lacks from the previous query and reply: subject, case number, §, body, year."""
    q = question.strip()
    own = parse_question(q)
    prev = parse_question(previous)
    extra: list[str] = []
    exclude = {w.lower() for w in content_words(q)}
    if _asks_for_its_own(q):  # what the previous question asked for is not this one's subject
        exclude |= {w.lower() for w in asked_for(previous)}
    own_names = bool(specific_terms(q)[0])
    for word in _subject_words(_YEAR.sub(" ", _strip_cases(previous)), exclude):
        if not (own_names and word[:1].isupper()):  # a follow-up that names its own subject keeps it
            extra.append(word)
    step = 1 if _NEXT_YEAR.search(q) else -1 if _PREVIOUS_YEAR.search(q) else 0  # "året efter" / "året före"
    moves_year = bool(own.years) or step != 0
    # a case number the previous *reply* named is one year's case: a follow-up about another year is another case
    cases = prev.case_numbers or ([] if moves_year else find_case_numbers(reply)[:1])
    if not own.case_numbers and cases:
        extra.append(cases[0])
    if not own.paragraphs and prev.paragraphs:
        extra.append(f"§ {prev.paragraphs[0]}")
    years = prev.years or tuple(int(y) for y in _YEAR.findall(_strip_cases(reply))[:1])
    if not own.years and years:
        extra.append(str(years[-1] + step))
    return f"{q} {' '.join(extra)}".strip() if extra else q


def _strip_cases(text: str) -> str:
    return re.sub(r"\b[A-ZÅÄÖ]{0,6}\s?\d{4}\s*[/:]\s*\d+\b", " ", text)


def rewrite_follow_up(question: str, history: Sequence[tuple[str, str]]) -> str:
    """A standalone query for a follow-up, by rule: the follow-up plus only what it lacks.

    From the conversation (the previous turn, itself made standalone, and the reply to it) a follow-up takes
    the subject words it does not name, and a case number, §, or year it does not give; "året efter" / "the
    following year" moves the year on. Whole earlier questions are never pasted in, and what the follow-up
    names itself (another year, another case) wins.
    """
    turns = _standalone_turns(history)
    if not turns or not is_follow_up(question):
        return question
    previous, reply = turns[-1]
    return _complete(question, previous, reply)


def carried_filters(history: Sequence[tuple[str, str]], known_bodies: Iterable[str] = ()) -> Filters:
    """Filters of the previous turn (made standalone) that carry over to a follow-up; the follow-up's own
    filters, parsed from its standalone query, replace them where it names another value."""
    turns = _standalone_turns(history)
    if not turns:
        return Filters()
    return parse_question(turns[-1][0], list(known_bodies)).filters
