"""What a step in a case's history is, read from Swedish (and Finland-Swedish) text: the rules, written once.

A case (ärende, diarienummer) passes through documents and meetings. Each place it appears is a *step* of one
kind: a tjänsteskrivelse proposes, a presidium or an officer proposes (förslag), a body decides (beslut), sends it
back (återremiss), postpones it (bordläggning) or only notes it (anmälan); agendas list it (dagordning); delegation
lists report decisions taken under delegation (delegationsbeslut); other places only mention it (omnämnande).

Also here: the lines that carry a step inside a Finland-Swedish protocol (``Personalsektionen 20.2.2023, 4 §``
under "Tidigare behandling", each followed by ``X:s förslag:`` and ``Y:s beslut:``), the protocol header that
names the meeting body (``Presidium - Nämnd för … §§ 17-32``), and the questions that ask about a case's course.
"""

from __future__ import annotations

import re

__all__ = [
    "AS_PROPOSED",
    "DECISION_LINE",
    "KINDS",
    "KIND_LABELS",
    "PROPOSAL_LINE",
    "STEP_HEADER",
    "classify_step",
    "is_case_course_question",
    "is_precedent_question",
    "is_reference_series",
    "precedent_terms",
    "protocol_body",
]

KINDS = (
    "tjänsteskrivelse",
    "förslag",
    "beslut",
    "återremiss",
    "bordläggning",
    "anmälan",
    "protokollsutdrag",
    "dagordning",
    "delegationsbeslut",
    "remiss",
    "ansökan",
    "omnämnande",
)

KIND_LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "tjänsteskrivelse": "Tjänsteskrivelse",
        "förslag": "Förslag till beslut",
        "beslut": "Beslut",
        "återremiss": "Återremiss",
        "bordläggning": "Bordläggning",
        "anmälan": "Anmälan (för kännedom)",
        "protokollsutdrag": "Protokollsutdrag",
        "dagordning": "På dagordningen",
        "delegationsbeslut": "Delegationsbeslut",
        "remiss": "Remiss",
        "ansökan": "Ansökan",
        "omnämnande": "Omnämnt",
    },
    "en": {
        "tjänsteskrivelse": "Official report",
        "förslag": "Proposed decision",
        "beslut": "Decision",
        "återremiss": "Referred back",
        "bordläggning": "Postponed",
        "anmälan": "Noted (for information)",
        "protokollsutdrag": "Minutes extract",
        "dagordning": "On the agenda",
        "delegationsbeslut": "Delegated decision",
        "remiss": "Consultation",
        "ansökan": "Application",
        "omnämnande": "Mentioned",
    },
}

# "Personalsektionen 20.2.2023, 4 §", "Samarbetsgruppen 24...2022, 10 §" (a garbled text layer loses digits),
# "Stadsstyrelsen 12.12.2022 § 301": one earlier (or the present) treatment of a case in a Finland-Swedish §.
# OCR reads the § as "$" or, after a space, as "8" ("Stadsstyrelsen 5.9.2022, 176 8").
STEP_HEADER = re.compile(
    r"^[ \t]*(?P<body>[A-ZÅÄÖ][\wåäöÅÄÖ\-]+(?:[ \t][\wåäöÅÄÖ\-]+){0,3}?)[ \t]+"
    r"(?P<date>\d{1,2}\.[\d.]{1,6}\.?\d{4}|\d{1,2}\.\d{1,2}\.\d{2,4})[ \t]*,?[ \t]*"
    r"(?:(?P<num>\d{1,4})(?:[ \t]*[§$]|[ \t]8)|§[ \t]*(?P<num2>\d{1,4}))[ \t]*$",
    re.MULTILINE,
)
# "Stadsdirektör Martin Norrgårds förslag:" / "Personalsektionens beslut:" (the 's' of the genitive may be lost).
PROPOSAL_LINE = re.compile(r"^[ \t]*(?P<who>[A-ZÅÄÖ][^\n:]{1,80}?)s?[ \t]+förslag[ \t]*:[ \t]*$", re.MULTILINE)
DECISION_LINE = re.compile(r"^[ \t]*(?P<who>[A-ZÅÄÖ][^\n:]{1,80}?)s?[ \t]+beslut[ \t]*:[ \t]*$", re.MULTILINE)
# "Enligt förslag." / "Stadsstyrelsens beslut i enlighet med stadsdirektörens förslag.": a decision that is its
# proposal, which says what was decided.
AS_PROPOSED = re.compile(r"\b(?:enligt|i enlighet med)\b[^.\n]{0,60}?\bförslag(?:et)?\b", re.IGNORECASE)
# "Presidium - Nämnd för arbetsmarknad, näringsliv och \nattraktivitet §§ 17-32": who met, in a protocol header.
_PROTOCOL_HEADER = re.compile(
    r"(?:^|\n)[ \t]*(?P<body>[A-ZÅÄÖ][^\n§:.]{2,80}(?:\n[ \t]*[^\n§:.\s][^\n§:.]{0,60})?)"
    r"[ \t]*§§[ \t]*\d+[ \t]*[-–][ \t]*\d+"
)

_PROTOCOL_TITLE = re.compile(r"(?:^|\n)[ \t]*PROTOKOLL(?:SUTDRAG)?[ \t]*\n\s*(?P<body>[A-ZÅÄÖ][^\n§:.]{2,80})")
_BODY_WORD = re.compile(
    r"presidi|nämnd|styrelse|utskott|fullmäktige|sektion|direktion|råd(?:et)?\b|beredning|gruppen", re.IGNORECASE
)

_REFERRED_BACK = re.compile(r"återremi(?:ss|tter|tt|terade?s?|sserade?s?)|remitteras tillbaka", re.IGNORECASE)
_POSTPONED = re.compile(r"\bbordl(?:ägg|agd|ades|äggs|ägga)", re.IGNORECASE)
_NOTED = re.compile(
    r"anteckna(?:r|s|de|des)?\b[^.\n]{0,40}(?:för|ffr|till)\s+kännedom|\bför\s+kännedom\b|"
    r"lägg(?:er|s|a)?\s+(?:informationen\s+)?till\s+handlingarna|\banmäl(?:s|es|an\s+av)\b",
    re.IGNORECASE,
)
_PROPOSES = re.compile(
    r"^\W*(?:[\w\-åäöÅÄÖ]+\s+){0,4}(?:föreslår|föreslog|förslag\s+till)\b|^\W*förslag\b", re.IGNORECASE
)
_REPORT = re.compile(r"\b(?:TJÄNSTESKRIVELSE|MISSIV|Tjänsteskrivelse|Missiv|Beslutsunderlag)\b")
_EXTRACT = re.compile(r"protokollsutdrag", re.IGNORECASE)
_DELEGATION = re.compile(r"delegationsbeslut|beslutsdelegat|vidaredelegation", re.IGNORECASE)
_CONSULTATION = re.compile(r"\bremiss", re.IGNORECASE)
_APPLICATION = re.compile(r"\bansökan\b", re.IGNORECASE)
_AGENDA_ROW = re.compile(r"^\s*\d{1,3}\s+[A-ZÅÄÖ]")
_INFORMATION = re.compile(r"informationshandling|\banmäl(?:s|es|da|an)\b", re.IGNORECASE)
_AGENDA = re.compile(r"^(?:kallelse|dagordning|föredragningslista|ärendelista)\b", re.IGNORECASE)


def classify_step(
    *,
    decision: str | None = None,
    proposal: str | None = None,
    text: str = "",
    section: str | None = None,
    in_paragraph: bool = False,
    doc_type: str = "ovrigt",
) -> str:
    """The kind of one step (one of KINDS), from its decision, proposal and text, and where it stands.

    A decision is read first: sent back, postponed, noted, proposed onward, or else decided. A § without a
    decision text is a proposal when it carries one, else a protocol extract. Outside a §, the heading and the
    document say what the step is: a report, an agenda row, a delegation list, a consultation, an application.
    """
    head = f"{section or ''}\n{text[:300]}"
    if decision:
        if _REFERRED_BACK.search(decision):
            return "återremiss"
        if _POSTPONED.search(decision):
            return "bordläggning"
        if _PROPOSES.search(decision):
            return "förslag"
        if _NOTED.search(decision):
            return "anmälan"
        return "beslut"
    if in_paragraph:
        if proposal:
            return "förslag"
        if _REFERRED_BACK.search(text):
            return "återremiss"
        return "protokollsutdrag"
    row = text.split("\n", 1)[0]
    if doc_type == "kallelse" and _AGENDA.search(section or "") and _AGENDA_ROW.match(row):
        return "dagordning"
    if _DELEGATION.search(head):
        return "delegationsbeslut"
    if _INFORMATION.search(head):
        return "anmälan"
    if _REPORT.search(section or "") or _REPORT.search(text[:200]):
        return "tjänsteskrivelse"
    if _EXTRACT.search(head):
        return "protokollsutdrag"
    if _CONSULTATION.search(head):
        return "remiss"
    if _APPLICATION.search(head):
        return "ansökan"
    if proposal:
        return "förslag"
    return "omnämnande"


def protocol_body(text: str) -> str | None:
    """The body named in the last protocol header of ``text`` ("Presidium - Nämnd för … §§ 17-32", or a body's
    name under "PROTOKOLL"), or None. A name cut short ("… näringsliv och") is returned as it stands."""
    found: tuple[int, str] | None = None
    text = text.replace("\f", "\n")
    for m in _PROTOCOL_HEADER.finditer(text):
        body = " ".join(m.group("body").split()).strip(" -–")
        if len(body) >= 3 and not body.isdigit():
            found = (m.start(), body)
    for m in _PROTOCOL_TITLE.finditer(text):
        body = " ".join(m.group("body").split()).strip(" -–")
        if _BODY_WORD.search(body) and (found is None or m.start() > found[0]):
            found = (m.start(), body)
    return found[1] if found else None


# -- questions ------------------------------------------------------------------------------------------------

_COURSE = re.compile(
    r"vad\s+har\s+hänt\s+(?:i|med)\s+(?:det\s+här\s+|detta\s+)?ärende|"
    r"ärendets\s+(?:gång|historik|förlopp|väg|tidslinje|behandling)|"
    r"\b(?:historik|tidslinje|förlopp)\w*\s+(?:för|i|över)\s+(?:ärende|dnr|diarienummer)|"
    r"hur\s+har\s+(?:ärendet|det\s+här\s+ärendet|detta\s+ärende)\s+(?:hanterats|behandlats|gått)|"
    r"hur\s+(?:har\s+)?(?:ärendet|det)\s+(?:gått|behandlats)\s+(?:vidare|hittills)|"
    r"var\s+(?:står|befinner\s+sig)\s+ärendet|"
    r"har\s+(?:nämnden|styrelsen|presidiet|fullmäktige|sektionen|direktionen|vi|man|de)\s+"
    r"(?:redan\s+)?(?:beslutat|behandlat|tagit\s+upp|diskuterat)\s+(?:om\s+)?(?:det\s+här|detta|ärendet|det)?\s*"
    r"(?:tidigare|förut|redan|innan)|"
    r"\b(?:tidigare|förut)\s+behandl|"
    # what a case named by its number is about: "Vad gäller RJL 2022/258?", "Vad handlar ärendet om?"
    r"\bvad\s+(?:gäller|handlar|rör)\s+(?:ärende(?:t)?\s+|dnr\.?\s+|diarienummer\s+)?(?:[A-ZÅÄÖ]{2,8}[ \t-]?)?"
    r"(?:19|20)\d{2}\s?[/:.-]\s?\d{1,6}|"
    r"\bvad\s+(?:gäller|handlar|rör)\s+(?:det\s+här\s+|detta\s+)?ärendet\b|"
    r"\bberätta\s+(?:mer\s+)?om\s+ärende(?:t)?\b|"
    r"what\s+is\s+(?:the\s+)?(?:case\s+)?(?:[A-Z]{2,8}\s?)?(?:19|20)\d{2}/\d{1,6}\s+about|"
    r"what\s+is\s+(?:the|this)\s+case\s+about|tell\s+me\s+about\s+(?:the\s+|this\s+)?case|"
    r"what\s+(?:has\s+)?happened\s+(?:to|with|in)\s+(?:the\s+|this\s+)?case|"
    r"(?:history|course|timeline)\s+of\s+(?:the\s+|this\s+)?case|"
    r"has\s+the\s+(?:committee|board|presidium|council)\s+(?:already\s+)?(?:decided|discussed|handled)\s+"
    r"(?:on\s+)?(?:this|it|the\s+case)?\s*(?:before|earlier|already)",
    re.IGNORECASE,
)
_PRECEDENT = re.compile(
    r"(?:har\s+(?:vi|nämnden|man|styrelsen|regionen|kommunen)\s+(?:\w+\s+)?(?:beviljat|gett|beslutat\s+om|"
    r"godkänt|avslagit|stöttat)\b.*\b(?:liknande|förut|tidigare|innan)\b)|"
    r"\bliknande\s+(?:ärenden?|stöd|bidrag|ansökningar?|beslut)\b.*\b(?:förut|tidigare|innan|beviljat|beslutat)|"
    r"\b(?:similar|comparable)\s+(?:cases?|grants?|support|applications?|decisions?)\b.*\b(?:before|earlier|previously)",
    re.IGNORECASE,
)


def is_case_course_question(question: str) -> bool:
    """Whether a question asks for a case's course ("Vad har hänt i ärendet RJL 2022/258?")."""
    return bool(_COURSE.search(question))


def is_precedent_question(question: str) -> bool:
    """Whether a question asks for earlier similar cases ("Har vi beviljat liknande stöd förut?")."""
    return bool(_PRECEDENT.search(question))


# What a precedent question asks was done: the decision verb it names, as the stem decisions write it.
_DECISION_VERBS = (
    (re.compile(r"\bbevilja\w*|\bgett\b|\bgav\b|\bgranted\b", re.IGNORECASE), "bevilja"),
    (re.compile(r"\bavsl\w*|\brejected\b", re.IGNORECASE), "avsl"),
    (re.compile(r"\bgodkän\w*|\bapproved\b", re.IGNORECASE), "godkän"),
)
_PRECEDENT_FILLER = frozenset(
    "har vi nämnden man styrelsen regionen kommunen beviljat gett gav beslutat beslut om godkänt avslagit stöttat "
    "liknande förut tidigare innan samma sådant sådana något några ärende ärenden similar before earlier previously "
    "have we has the granted approved rejected cases case grants support".split()
)


def precedent_terms(question: str, stop_words: frozenset[str] = frozenset()) -> tuple[str | None, tuple[str, ...]]:
    """The decision verb stem a precedent question names ("bevilja", "avsl", "godkän", or None) and its topic
    words ("stöd", "marknadsföring"), lower case, without the question's own filler."""
    verb = next((stem for pattern, stem in _DECISION_VERBS if pattern.search(question)), None)
    words = [w.lower() for w in re.findall(r"[\wåäöÅÄÖ]+", question)]
    topic = tuple(w for w in words if len(w) > 2 and w not in _PRECEDENT_FILLER and w not in stop_words)
    return verb, topic


# Series that number statutes, regulations and government reports, not cases: "MSBFS 2015:5", "SOU 2021:25",
# "Prop. 2019/20:1", "SKVFS 2020:1", "HSLF-FS 2021:1".
_REFERENCE_SERIES = re.compile(r"^(?:[A-ZÅÄÖ\-]*FS|SOU|DS|PROP|BET|SKR|RIR|KOM)$")


def is_reference_series(case_number: str) -> bool:
    """Whether a "case number" is a reference to a statute or report series (MSBFS 2015/5, SOU 2021/25)."""
    prefix = case_number.split(" ", 1)[0] if " " in case_number else ""
    return bool(prefix) and _REFERENCE_SERIES.match(prefix.upper()) is not None
