"""What kind of answer a question wants, and which language it is asked in.

Both are cheap rules over the question's words: no model. `question_type` decides how the extractive
answerer picks and phrases its sentences (an amount, a date, a body, a list of § items...);
`detect_language` decides the language of the answer (assistant/glossary.py gives an English question's words
their Swedish equivalents).
"""

from __future__ import annotations

import re
from enum import StrEnum

from assistant.types import Language

__all__ = ["QuestionType", "detect_language", "question_type"]


class QuestionType(StrEnum):
    """The shape of the answer a question asks for; `str()` gives the plain name ("amount", "list")."""

    AMOUNT = "amount"
    DATE = "date"
    WHO = "who"
    LIST = "list"
    COUNT = "count"
    PROCESS = "process"
    DECISION = "decision"
    YESNO = "yesno"
    OTHER = "other"


_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

_SV_WORDS = frozenset(
    """
    och att det som är en ett av på för med till den de inte har om vad vem vilka vilken vilket hur när
    var varför kan ska skall finns fanns blev beslutade beslutar nämnden styrelsen mycket många från
    också eller men vid efter under över samt sig sin sina hade enligt mellan vilket detta dessa
    """.split()
)
_EN_WORDS = frozenset(
    """
    the of and to in is are was were what who which when where why how much many did does do has have
    had for on with by from about this that these those be been a an it its their there any all list
    decided decide decision board committee council meeting agreement responsible often cost amount
    """.split()
)


def detect_language(text: str) -> Language:
    """ "en" when English function words outnumber Swedish ones (å/ä/ö count for Swedish); otherwise "sv"."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return "sv"
    sv = sum(1 for w in words if w in _SV_WORDS)
    en = sum(1 for w in words if w in _EN_WORDS)
    # Names ("Smålands Turism") carry å/ä/ö in English questions too: they count half.
    sv_letters = sum(1 for w in words if w not in _EN_WORDS and re.search(r"[åäö]", w))
    return "en" if en > sv + 0.5 * sv_letters else "sv"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Checked in order; the first rule that matches decides.
_RULES: tuple[tuple[QuestionType, re.Pattern[str]], ...] = (
    (QuestionType.COUNT, _rx(r"\bhur många\b|\bantal(?:et)?\b|\bhow many\b|\bnumber of\b")),
    (
        QuestionType.AMOUNT,
        _rx(
            r"\bhur (?:mycket|stor[at]?|höga?)\b|\bbelopp(?:et)?\b|\bkosta[rd]?\b|\bkostnad(?:en|er|erna)?\b|"
            r"\bvad (?:fick|får|beviljades|betalades)\b.*\b(?:stöd|bidrag|medel)\b|"
            r"\bhow much\b|\bwhat (?:amount|sum)\b|\bcost(?:s|ed)?\b|\bbudget of\b"
        ),
    ),
    (
        QuestionType.DATE,
        _rx(
            r"^\s*när\b|\bnär (?:beslutade|fattades|togs|hölls|ska|skall|sker|började|antogs|godkändes)\b|"
            r"\b(?:vilket|vilken|vilka) (?:datum|dag|månad)\b|\bdatum(?:et)? för\b|\bsista dag\b|\bdeadline\b|"
            r"^\s*when\b|\bwhat (?:date|day)\b|\bwhich (?:date|day)\b|\bon what date\b"
        ),
    ),
    (
        QuestionType.PROCESS,
        _rx(
            r"\bhur (?:ofta|går|gick|fungerar|sker|följs|genomförs|görs|kontrolleras|hanteras|ska)\b|"
            r"\bpå vilket sätt\b|\bvilken (?:frekvens|metod|rutin)\b|\bhow (?:often|does|do|is|are|was|were)\b|"
            r"\bin what way\b|\bwhat (?:is the )?(?:procedure|process|method|frequency)\b"
        ),
    ),
    (
        QuestionType.WHO,
        _rx(
            r"^\s*vem\b|\bvem (?:som|har|ansvarar|är|beslutade|fattade)\b|\bvilka personer\b|"
            r"\bvilk(?:en|et|a) (?:nämnd|nämnder|styrelse|organ|presidium|direktion|utskott|person|ledamot|"
            r"ledamöter|tjänsteperson|förvaltning|aktör|företag|organisation|region)\w*\b|\bvem\b|"
            r"\bwho\b|\bwhom\b|\bwhich (?:body|board|committee|council|person|people|member|organisation|"
            r"organization|company|region)s?\b"
        ),
    ),
    (
        QuestionType.LIST,
        _rx(
            r"\bvilka\b|\blista\b|\bräkna upp\b|\bsamtliga\b|\balla\b|\bvilken typ\b|"
            r"\bwhich\b|\blist\b|\benumerate\b|\bwhat are the\b|\ball (?:the )?\w+"
        ),
    ),
    (
        QuestionType.DECISION,
        _rx(
            r"\bvad beslutade\b|\bvad beslöt\b|\bbeslut(?:et|ade|ar|s)?\b|\bbeslöt\b|\bfattade\b|"
            r"\bvad (?:föreslår|föreslog|yrkade)\b|\bdecid(?:e|ed|es|ing)\b|\bdecision\b|\bresol(?:ve|ved|ution)\b"
        ),
    ),
    (
        QuestionType.YESNO,
        _rx(
            r"^\s*(?:har|hade|finns|fanns|är|ska|skall|kan|kunde|får|fick|beslutade|godkände|beviljade|"
            r"blev|gäller|ingår|behöver|måste)\b|"
            r"^\s*(?:did|does|do|is|are|was|were|has|have|had|can|could|will|should|must)\b"
        ),
    ),
)


_CLAUSE_BREAK = _rx(
    r"(?:,\s*|\s+)(?:och|samt|and)\s+(?=(?:vad|vilk\w*|hur|när|vem|var|varför|what|which|how|when|who|where|why)\b)"
    r"|,\s*(?=(?:vad|vilk\w*|hur|när|vem|what|which|how|when|who)\b)"
)


def question_clauses(question: str) -> list[str]:
    """The questions a question asks, split where a new question word follows "och"/"and" or a comma: "När
    påbörjades bygget, och när invigdes Nya Navet?" asks two things, and an answer must hold both."""
    return [c.strip(" ,?") for c in _CLAUSE_BREAK.split(question) if c.strip(" ,?")]


def question_type(question: str) -> QuestionType:
    """The kind of answer the question asks for (Swedish or English wording)."""
    text = " ".join(question.split())
    for kind, pattern in _RULES:
        if pattern.search(text):
            return kind
    return QuestionType.OTHER
