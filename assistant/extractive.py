"""The offline answerer: answers by quoting the passages, with no language model.

It reads the hits as units (sentences, list items, table rows), scores each unit against the question
and picks the one that answers it best: the question's words (Swedish-analyzed: stemmed, compound parts
counted, weighted by how rare they are among the units), the words of the unit's § title and heading,
the hit's rank, and cues for the kind of answer asked for (an amount, a date, a body or role, a
frequency, a decision). The answer leads with one sentence built from that unit and its hit's
metadata (§, case number, date), then quotes up to three further units; a list question gets one line
per matching § item, table row or list item. Every line carries its [n]. When no unit reaches
`ANSWER_FLOOR`, the answer is "" and the service reports that the archive does not answer the question.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.qtype import QuestionType, question_type, swedish_equivalents
from assistant.types import Hit, Language
from assistant.verify import default_analyzer, metadata_text, number_terms
from indexer.casenumbers import display_case_numbers
from indexer.sentences import normalise_sentence, sentence_spans, split_sentences
from indexer.sparse import SwedishAnalyzer

__all__ = [
    "ANSWER_FLOOR",
    "CONTEXT_WEIGHT",
    "CUE_WEIGHT",
    "MAX_QUOTES",
    "MAX_WORDS",
    "ExtractiveAnswerer",
]

logger = logging.getLogger(__name__)

ANSWER_FLOOR = 0.4
"""Least weighted share of the question's words that the best unit (with its § title, heading and passage)
must cover. Measured with BM25 top-6 hits over a seed protocol (corpus/004): the best units of 15
answerable questions covered 0.44-1.0; of 12 questions the file does not answer, 5 fell below 0.4, 4 more
were caught by the missing-subject and missing-name rules, and 3 still passed (0.43-0.58): the retrieval
threshold in front of the answerer has to catch those."""
OWN_FLOOR = 0.15
"""Least coverage from the unit itself and its § title or heading (not only from elsewhere in the passage)."""
ABSENT_WEIGHT = 0.6
"""Weight of a question word no unit holds, as a share of the weight the rarest possible word would have.
Such a word is often the subject of the question, so it must weigh; but questions also use words the
archive does not ("fick" for "beviljas"), so it weighs less than a rare word that is there."""
RANK_DECAY = 0.06
"""A unit of the k-th hit (0-based) has its score divided by 1 + RANK_DECAY * k."""
SUPPORT_ALONE_MIN = 0.2
"""A supporting quote must itself hold this weighted share of the question's words."""
CONTEXT_WEIGHT = 0.6
"""How much a question word counts when it is in the unit's § title, heading or list lead-in, not the unit."""
CHUNK_WEIGHT = 0.3
"""How much a question word counts when it is elsewhere in the unit's passage."""
CUE_WEIGHT = 0.4
"""Bonus for a unit that has what the question type asks for (an amount, a date, a role...)."""
MISSING_VALUE_FACTOR = 0.45
"""Penalty for a unit without the value an amount, date or count question asks for."""
SUPPORT_RATIO = 0.45
"""Supporting quotes must score at least this share of the best unit."""
LIST_RATIO = 0.4
"""List items must score at least this share of the best item."""
MAX_QUOTES = 3
MAX_WORDS = 120
MAX_LEAD_WORDS = 40
MAX_ITEM_WORDS = 28
MAX_LIST_ITEMS = 12
DUPLICATE_SHARE = 0.8
"""A unit whose terms (or a chosen unit's) are this much shared is the same text (a protocol repeats its memo)."""
DECISION_CONTEXT_WEIGHT = 0.85
"""CONTEXT_WEIGHT for a unit under "Beslut": a decision is about its § title."""
PREFIX_MATCH = 0.8
"""A question stem that begins a longer unit term ("uppfölj" / "uppföljning") counts this much."""
PARTS_MATCH = 0.7
"""A compound question word whose parts (not the word) are in a unit counts this much ("fakturor från
leverantörer" for "leverantörsfakturor"); squared share, so one part of two counts little ("minibussar" for
"bussbiljetter")."""
HEADING_FACTOR = 0.75
"""Penalty for a short line without a full stop: a heading or caption rather than a statement."""
NAME_BOOST = 1.0
"""Names in the question (capitalised words inside it) weigh more than other words."""
PREFIX_MIN = 5
PREFIX_MAX_EXTRA = 6

_BULLET = re.compile(r"^\s*(?:[•·▪■□◦●○‣⁃∙*\uf0b7\uf0a7-]|–|—|o(?=\s)|\d{1,2}[.)](?=\s)|[a-zåäö][)](?=\s))\s*")
_TERMINAL = re.compile(r"[.!?…]['\"”’)\]]*$")
_FURNITURE = re.compile(
    r"^(?:sidan\s+\d+\s+av\s+\d+|\d+\s*\(\d+\)|(?:protokoll|kallelse|tjänsteskrivelse|protokollsutdrag|missiv)"
    r"(?:\s+\d+\s*\(\d+\))?|justerare.*|protokollsutdrag,?\s*bestyrkande|utskriftsdatum:?.*|utskriven av:?.*|"
    r"beslutets antal sidor.*|sekretess:?.*|diarieenhet:?.*|beskrivning av sökning:?.*|ordförande|sekreterare|"
    r"justerande|signatur|underskrift|regionledningskontoret|dokument|id i/u/k.*|\d{1,3}|[ivx]{1,4})$",
    re.IGNORECASE,
)
_PART_HEADINGS = {
    "beslut": "Beslut",
    "förslag till beslut": "Förslag till beslut",
    "sammanfattning": "Sammanfattning",
    "beslutsunderlag": "Beslutsunderlag",
    "ärendebeskrivning": "Ärendebeskrivning",
    "information i ärendet": "Ärendebeskrivning",
    "bakgrund": "Ärendebeskrivning",
    "ärendet": "Ärendebeskrivning",
    "yrkanden": "Yrkanden",
    "yrkanden/förslag till beslut på sammanträde": "Yrkanden",
    "yrkande": "Yrkanden",
    "reservation": "Reservation",
    "reservationer": "Reservation",
    "jäv": "Jäv",
    "beslutet skickas till": "Beslutet skickas till",
    "beslut skickas till": "Beslutet skickas till",
    "protokollsanteckning": "Protokollsanteckning",
    "särskilt yttrande": "Särskilt yttrande",
    "beslutsgång": "Beslutsgång",
    "propositionsordning": "Beslutsgång",
    "bedömning": "Bedömning",
    "förvaltningens bedömning": "Bedömning",
    "överväganden": "Bedömning",
    "ekonomiska konsekvenser": "Konsekvenser",
    "konsekvenser": "Konsekvenser",
}
_LOW_VALUE_PARTS = {"Beslutsunderlag", "Beslutet skickas till"}
_DECISION_PARTS = {"Beslut", "Förslag till beslut"}
_VALUE_KINDS = (QuestionType.AMOUNT, QuestionType.DATE, QuestionType.COUNT, QuestionType.WHO)
_NOUN_SUFFIX = re.compile(r"(?:ning|ningen|ningar|ningarna|het|heten|heter|else|elsen|skap|skapet|tion|tionen|tioner)$")
_PARTICLES = frozenset({"upp", "ut", "in", "av", "fram", "till", "om", "över", "bort", "igenom"})
_ASKS_FREQUENCY = re.compile(r"\bofta\b|\bfrekvens|\bhur många gånger\b|\boften\b|\bfrequen", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_LABEL = re.compile(r"^(?:diarienummer|dnr|tid|plats|datum|närvarande|ärende)\s*:", re.IGNORECASE)

_SV_FRAME = frozenset(
    """
    vad vem vilka vilken vilket hur när var varför mycket många ofta stor stort stora belopp beloppet datum
    datumet dag dagen kostar kostade lista alla samtliga få får fick gör gjorde göra står stod handlar handlade
    finns fanns ange berätta beskriv typ sätt går gick fungerar sker skedde ske enligt arkivet någon några
    något nämns nämnde ta tar tog hände händer gäller gällde ska skall kommer kunna ny nya nytt olika annan
    andra hela flera mer mest pengar slags ge gav gett
    """.split()
)
_EN_FRAME = frozenset(
    """
    what who whom which when where why how much many often did does do done is are was were the a an of to in
    on for about list all any there get got gets has have had be been by with that this it its their they
    according archive amount date number say says said tell me please give happen happened should would will
    can could may at from into as than then
    """.split()
)

_AMOUNT = re.compile(
    r"(?<![\d,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:,\d+)?\s*(?:kr|kronor|tkr|mnkr|mkr|mdkr|sek|miljoner|miljarder)\b"
    r"|(?<![\d,])\d+(?:,\d+)?\s*(?:kr|kronor|tkr|mnkr|mkr|mdkr|msek|sek|miljoner|miljarder|%|procent)(?!\w)"
    r"|(?<![\d,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:,\d+)?",
    re.IGNORECASE,
)
_MONTH = (
    r"januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|okt|nov|dec"
)
_DATE = re.compile(
    rf"\b(?:19|20)\d\d-\d\d-\d\d\b|\b\d{{1,2}}(?:\s*[-–]\s*\d{{1,2}})?\s+(?:{_MONTH})\.?(?:\s+(?:19|20)\d\d)?\b"
    r"|\b\d{1,2}/\d{1,2}\b",
    re.IGNORECASE,
)
_DATE_SOFT = re.compile(
    rf"\b(?:{_MONTH})\b|\b(?:19|20)\d\d\b|\b(?:vecka|v\.)\s*\d+|\b(?:våren|hösten|sommaren|vintern|årsskiftet|"
    r"kvartal|tertial|halvår)\w*",
    re.IGNORECASE,
)
_COUNT = re.compile(
    r"\b\d+(?:,\d+)?\s+(?!(?:kr|kronor|tkr|mnkr|mkr|mdkr|procent|sek)\b)[a-zåäö]+|\b(?:en|ett|två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|tjugo)\s+"
    r"(?:st|stycken|möten|sammanträden|ärenden|beslut|projekt|personer|ledamöter|gånger|ggr)\b",
    re.IGNORECASE,
)
_BODY = re.compile(
    r"\b\w*(?:nämnd|nämnden|styrelse|styrelsen|presidi|direktion|utskott|fullmäktige|förvaltning|kontor|"
    r"chef|direktör|ansvarig|sekreterare|ordförande|ledamot|ledamöter|handläggare|regionråd|kommunråd)\w*",
    re.IGNORECASE,
)
_PARTY = re.compile(r"\((?:S|M|C|KD|L|V|MP|SD|BA|-)\)")
_NAME = re.compile(r"(?<!^)(?<![.:!?] )\b[A-ZÅÄÖ][a-zåäöé]+(?:[ -][A-ZÅÄÖ][a-zåäöé]+)+")
_FREQUENCY = re.compile(
    r"\b(?:\d+|en|två|tre|fyra|sex)\s*(?:gång(?:er)?|ggr)\b|\bggr\b|\b(?:årligen|månadsvis|kvartalsvis|veckovis|"
    r"dagligen|löpande|kontinuerligt|regelbundet|stickprov\w*|varje|per år|per månad|halvår\w*|tertial\w*|"
    r"årlig\w*|/år|/mån)",
    re.IGNORECASE,
)
_ROLE = re.compile(r"\b\w*(?:ansvar\w*|chef|direktör|handläggare|controller|ekonom|samordnare)\b", re.IGNORECASE)
_METHOD = re.compile(r"\b\w*(?:kontroll\w*|granskning\w*|uppföljning\w*|rutin\w*|stickprov\w*|avstämning\w*)\b", re.I)
_DECISION = re.compile(
    r"\b(?:beslutar|beslutade|beslöt|besluta|beslutat|föreslår|föreslog|godkänna|godkänner|godkände|bevilja|"
    r"beviljar|beviljade|anta|antar|antog|fastställa|fastställer|fastställde|uppdra|uppdrar|avslå|avslår|"
    r"tillstyrka|tillstyrker|läggs till handlingarna|lägga .* till handlingarna|notera|noterar)\b",
    re.IGNORECASE,
)
_INTRO_VERB = re.compile(
    r"\b(?:föreslår|beslutar|beslutade|besluta|yrkar|rekommenderar|uppdrar|tillstyrker)\b[^.]*$", re.IGNORECASE
)
_PRESENT_VERB = re.compile(
    r"\b(?:beviljar|beslutar|föreslår|godkänner|antar|fastställer|uppdrar|noterar|tillstyrker|avslår|ger|lämnar|"
    r"överlämnar|rekommenderar|yrkar|tilldelar|delegerar|utser|väljer)$",
    re.IGNORECASE,
)
_INFINITIVE = re.compile(r"^(?:[a-zåäö]+a|ge|avslå|anta|uppdra|gå|ta|se|stå|nå|bestå)$")
_ROW_FIELD = re.compile(r"\s*([^:;|\n]{2,40}?)\s*:\s*([^;|\n]+)")

_WHO_KEYS = re.compile(r"ansvar|ägare|utförare|delegat|handläggare|kontakt|ordförande|mottagare|beslutsfattare", re.I)
_PROCESS_KEYS = re.compile(r"frekvens|metod|tidpunkt|intervall|rutin|hur", re.I)
_DATE_KEYS = re.compile(r"datum|tid|deadline|klar|period", re.I)
_AMOUNT_KEYS = re.compile(r"belopp|budget|kostnad|utfall|summa|kr\b|prognos|avvikelse", re.I)
_COUNT_KEYS = re.compile(r"antal|st\b", re.I)


@dataclass(frozen=True)
class _Unit:
    """A candidate answer: one sentence, list item or table row of a hit."""

    hit: int
    """0-based index into the hits."""
    position: int
    text: str
    kind: str
    """"sentence", "bullet" (a list item), "more" (a sentence continuing a list item), "intro" (the line
    that introduces a list), "row" (a table row) or "label" ("Diarienummer: ...")."""
    intro: str | None
    """For a list item: the line that introduces the list ("Presidiet föreslår nämnden"); for a table row
    with "Key: value" cells: its column names."""
    part: str | None
    block: int
    terms: frozenset[str]


@dataclass(frozen=True)
class _Scored:
    unit: _Unit
    score: float
    coverage: float
    """Weighted share of the question's words in the unit, its § title and heading, and its passage."""
    own: float
    """The same without the rest of the passage."""
    alone: float
    """The same from the unit's own words only."""


@dataclass(frozen=True)
class _Query:
    groups: tuple[tuple[str, ...], ...]
    weights: tuple[float, ...]
    kind: QuestionType
    language: Language
    wants_frequency: bool = False
    names: tuple[tuple[str, ...], ...] = ()
    """The groups of names in a Swedish question ("Norge", "Växjö"): if no passage has one, none answers."""
    subjects: tuple[tuple[str, ...], ...] = ()
    """The groups of compound and derived nouns in a Swedish question ("simhallen", "vindkraft",
    "avgränsningen"): if no passage has the word (or all its parts), the passages are about something else.
    Verbs are left out: the archive often words an action differently from the question."""


class ExtractiveAnswerer:
    """Answers from the passages alone: a lead sentence, then quotes, each with its [n]."""

    name = "extractive"

    def __init__(self, analyzer: SwedishAnalyzer | None = None) -> None:
        self._analyzer = analyzer

    @property
    def analyzer(self) -> SwedishAnalyzer:
        if self._analyzer is None:
            self._analyzer = default_analyzer()
        return self._analyzer

    def answer(self, question: str, hits: Sequence[Hit], language: Language) -> str:
        """The answer text with [n] markers, or "" when no passage answers the question."""
        return "\n".join(self._lines(question, hits, language))

    def stream(self, question: str, hits: Sequence[Hit], language: Language) -> Iterator[str]:
        """The answer line by line (the lead sentence, then each quote or list item)."""
        lines = self._lines(question, hits, language)
        for i, line in enumerate(lines):
            yield line + ("\n" if i < len(lines) - 1 else "")

    # -- the answer ----------------------------------------------------------------------------------------

    def _lines(self, question: str, hits: Sequence[Hit], language: Language) -> list[str]:
        if not hits or not question.strip():
            return []
        kind = question_type(question)
        units = [u for i, hit in enumerate(hits) for u in self._units(i, hit)]
        if not units:
            return []
        query = self._query(question, units, kind, language)
        if not query.groups:
            return []
        contexts = [frozenset(self.analyzer.analyze(metadata_text(hit))) for hit in hits]
        chunk_terms = [frozenset(self.analyzer.analyze(hit.chunk.text)) for hit in hits]
        everything = frozenset().union(*contexts, *chunk_terms)
        missing = [g for g in query.names if _match(g, everything) < 0.5]
        missing += [
            g
            for g in query.subjects
            if _match(g, everything) < PREFIX_MATCH and not any(_match(g, u.terms) >= PARTS_MATCH for u in units)
        ]
        if missing:
            logger.info("extractive: the passages never mention %s", ", ".join(g[0] for g in missing))
            return []
        scored = [self._score(u, query, hits, contexts, chunk_terms) for u in units]
        scored.sort(key=lambda s: (-s.score, s.unit.hit, s.unit.position))
        if kind is QuestionType.LIST:
            lines = self._list(scored, hits, query, units)
            if lines:
                return lines
        answers = [s for s in scored if s.unit.kind != "intro" and _eligible(s)]
        if not answers:
            top = scored[0]
            logger.info("extractive: no passage answers (best coverage %.2f, own %.2f)", top.coverage, top.own)
            return []
        best = answers[0]
        if not _gives_value(best.unit, hits[best.unit.hit], query):
            logger.info("extractive: the best passage lacks the %s asked for: %s", query.kind, best.unit.text)
            return []
        logger.debug("extractive: best unit %.2f (coverage %.2f): %s", best.score, best.coverage, best.unit.text)
        return self._single(answers, hits, query)

    def _single(self, scored: list[_Scored], hits: Sequence[Hit], query: _Query) -> list[str]:
        best = scored[0]
        lead, lead_core = self._lead(best, hits, query)
        lines = [lead]
        words = len(lead.split())
        chosen = [best.unit]
        if query.language == "en" and lead_core is not None:
            lines.append("Source text (Swedish):")
            lines.append(f"- ”{lead_core}” [{best.unit.hit + 1}]")
            words += len(lead_core.split())
        for cand in scored[1:]:
            if len(chosen) > MAX_QUOTES:
                break
            if cand.score < SUPPORT_RATIO * best.score:
                break
            if cand.alone < max(SUPPORT_ALONE_MIN, 0.5 * best.alone) or cand.unit.kind == "label":
                continue
            if not _supports_kind(cand.unit, cand.alone, query):
                continue
            if query.names and not any(_match(g, cand.unit.terms) >= 0.5 for g in query.names):
                continue
            if any(_duplicate(cand.unit, c) for c in chosen):
                continue
            fields = _row_fields(cand.unit.text) if cand.unit.kind == "row" else []
            if len(fields) >= 2:
                text = _row_answer(fields, query.kind)
            else:
                flags = self._match_flags(cand.unit, query)
                text = _quote_text(_trim(_unit_core(cand.unit), flags, MAX_LEAD_WORDS))
            label = _quote_label(hits[cand.unit.hit], hits[best.unit.hit])
            line = f"- {label}”{text.rstrip(' ;:,')}” [{cand.unit.hit + 1}]"
            if words + len(line.split()) > MAX_WORDS:
                break
            if query.language == "en" and len(lines) == 1:
                lines.append("Source text (Swedish):")
            lines.append(line)
            words += len(line.split())
            chosen.append(cand.unit)
        return lines

    def _lead(self, best: _Scored, hits: Sequence[Hit], query: _Query) -> tuple[str, str | None]:
        """The lead sentence; and, for an English lead that states a value, the Swedish text it came from."""
        unit = best.unit
        hit = hits[unit.hit]
        n = unit.hit + 1
        kind = query.kind
        english = query.language == "en"
        if unit.kind == "row":
            fields = _row_fields(unit.text)
            if len(fields) >= 2:
                core = _row_answer(fields, kind)
                head, details = _reference(hit, core, with_section=False)
                if english:
                    return f"According to {_en_ref(head, details)}: {core} [{n}].", None
                return f"{core} ({_sv_ref(head, details)}) [{n}].", None
        core = _quote_text(_trim(_unit_core(unit), self._match_flags(unit, query), MAX_LEAD_WORDS))
        core = core.rstrip(" .;:,!?")
        if unit.part == "Förslag till beslut" and unit.kind in ("bullet", "more", "sentence"):
            core = f"Förslag till beslut: {core}"
        date = hit.chunk.date or hit.chunk.meta.date
        head, details = _reference(hit, core, with_section=True)
        if english:
            value = _value(core, kind, date if _is_decision(unit) and hit.chunk.paragraph else None)
            if value is not None:
                noun = {QuestionType.AMOUNT: "amount", QuestionType.DATE: "date", QuestionType.COUNT: "number"}[kind]
                return f"According to {_en_ref(head, details)}, the {noun} is {value} [{n}].", core
            return f"According to {_en_ref(head, details)}: ”{core}” [{n}].", None
        if kind is QuestionType.DATE and date and not _DATE.search(core) and hit.chunk.paragraph and _is_decision(unit):
            head, details = _reference(hit, core + " " + date, with_section=True)
            return f"Den {date} ({_sv_ref(head, details)}): {_capitalise(core)} [{n}].", None
        if core.endswith("…"):
            return f"Enligt {_sv_ref(head, details)}: {core} [{n}].", None
        return f"{_capitalise(core)} ({_sv_ref(head, details)}) [{n}].", None

    def _list(self, scored: list[_Scored], hits: Sequence[Hit], query: _Query, units: list[_Unit]) -> list[str]:
        eligible = [s for s in scored if _eligible(s)]
        if not eligible:
            return []
        best = eligible[0]
        best_per_hit: dict[int, _Scored] = {}
        for s in scored:
            if s.unit.kind != "intro":
                best_per_hit.setdefault(s.unit.hit, s)
        picked: list[_Scored] = []
        seen: set[tuple[str, str]] = set()
        for s in sorted(best_per_hit.values(), key=lambda s: (-s.score, s.unit.hit)):
            if s.score < LIST_RATIO * best.score or not _eligible(s):
                continue
            chunk = hits[s.unit.hit].chunk
            key = (chunk.doc_id, chunk.paragraph) if chunk.paragraph else (chunk.doc_id, f"#{chunk.ordinal}")
            if key in seen:
                continue
            seen.add(key)
            picked.append(s)
            if len(picked) >= MAX_LIST_ITEMS:
                break
        items = _list_of(best.unit, units)
        listing = best.unit.kind == "intro" or (
            best.unit.kind in ("bullet", "more")
            and (best.unit.part not in _DECISION_PARTS or (items and (items[0].intro or "").endswith(":")))
        )
        if len(items) >= 2 and (listing or len(picked) < 2):
            return self._bullets(best.unit, units, query)
        if len(picked) < 2:
            return []
        in_paragraphs = [s for s in picked if hits[s.unit.hit].chunk.paragraph]
        if len(in_paragraphs) >= 2 and len(in_paragraphs) * 2 > len(picked):
            picked = in_paragraphs  # a list of § items: leave out loose prose that happens to match
        if all(hits[s.unit.hit].chunk.paragraph for s in picked):
            picked.sort(key=lambda s: (hits[s.unit.hit].chunk.doc_id, _paragraph_key(hits[s.unit.hit].chunk.paragraph)))
        lines = ["Enligt arkivet:" if query.language == "sv" else "According to the archive:"]
        lines.extend(f"- {self._item(s, hits, query, scored)} [{s.unit.hit + 1}]" for s in picked)
        return lines

    def _bullets(self, unit: _Unit, units: list[_Unit], query: _Query) -> list[str]:
        items = _list_of(unit, units)
        intro = unit.text if unit.kind == "intro" else items[0].intro
        n = unit.hit + 1
        lines = [
            f"{_capitalise(_quote_text(intro).rstrip(' :'))} [{n}]:"
            if intro
            else ("Enligt arkivet:" if query.language == "sv" else "According to the archive:")
        ]
        for item in items[:MAX_LIST_ITEMS]:
            pieces = [item.text] + [
                u.text for u in units if u.hit == item.hit and u.kind == "more" and _continues(u, item, units)
            ]
            lines.append("- " + _cite_each(pieces, n, MAX_ITEM_WORDS))
        return lines

    def _item(self, s: _Scored, hits: Sequence[Hit], query: _Query, scored: list[_Scored]) -> str:
        hit = hits[s.unit.hit]
        chunk = hit.chunk
        if s.unit.kind == "row":
            fields = _row_fields(s.unit.text)
            if len(fields) >= 2:
                return _row_answer(fields, query.kind)
        unit = s.unit
        if chunk.paragraph:
            decisions = [
                x
                for x in scored
                if x.unit.hit == s.unit.hit and x.unit.kind not in ("label", "intro") and _is_decision(x.unit)
            ]
            if decisions:
                unit = min(decisions, key=lambda x: (x.unit.part not in _DECISION_PARTS, x.unit.position)).unit
        text = _quote_text(_trim(_unit_core(unit), self._match_flags(unit, query), MAX_ITEM_WORDS))
        text = text.rstrip(" .;:,")
        head = []
        section = " ".join((chunk.section or "").split())
        if chunk.paragraph:
            head.append(f"§ {chunk.paragraph}")
            if section and len(section.split()) <= 12 and section.lower() not in text.lower():
                head.append(_quote_text(section))
        elif section and len(section.split()) <= 8 and section.lower() not in text.lower():
            head.append(_quote_text(section))
        return f"{' '.join(head)} — {text}" if head else text

    # -- units ---------------------------------------------------------------------------------------------

    def _units(self, index: int, hit: Hit) -> list[_Unit]:
        chunk = hit.chunk
        analyze = self.analyzer.analyze
        if chunk.kind == "table_row":
            text = " ".join(chunk.text.split())
            if not text:
                return []
            fields = _row_fields(text)
            if len(fields) >= 2:
                # Column names ("Kontrollansvarig") are context, like a heading; the cells are the content.
                keys = "; ".join(k for k, _v in fields)
                values = "; ".join(v for _k, v in fields)
                return [_Unit(index, 0, text, "row", keys, chunk.part, 0, frozenset(analyze(values)))]
            return [_Unit(index, 0, text, "row", None, chunk.part, 0, frozenset(analyze(text)))]
        # First pass: what each sentence-like span is.
        raw: list[tuple[str, str, str | None]] = []
        part = chunk.part
        for start, end in sentence_spans(chunk.text):
            span = chunk.text[start:end]
            first_line, _, rest = span.partition("\n")
            heading = _PART_HEADINGS.get(" ".join(first_line.split()).rstrip(" :").lower())
            if heading is not None:
                part = heading
                raw.append(("heading", heading, part))
                span = rest
            text = normalise_sentence(span)
            if not text or _FURNITURE.match(text) or not re.search(r"[^\W\d_]{2}", text):
                continue
            heading = _PART_HEADINGS.get(text.rstrip(" :").lower())
            if heading is not None:
                part = heading
                raw.append(("heading", heading, part))
                continue
            bullet = _BULLET.match(text)
            if bullet and len(text) > bullet.end():
                raw.append(("bullet", text[bullet.end() :].strip(), part))
            else:
                raw.append(("label" if _LABEL.match(text) else "sentence", text, part))
        # Second pass: list lead-ins, list items and the sentences that continue an item.
        kinds = [k for k, _t, _p in raw]
        for i, (k, text, _p) in enumerate(raw):
            if k != "sentence":
                continue
            after = kinds[i + 1] if i + 1 < len(kinds) else "end"
            before = kinds[i - 1] if i > 0 else "start"
            if (
                after == "bullet"
                and before not in ("bullet", "more")
                and (text.endswith(":") or not _TERMINAL.search(text) and len(text.split()) <= 14)
            ):
                kinds[i] = "intro"
            elif before in ("bullet", "more") and (after == "bullet" or "more" in kinds[:i]):
                kinds[i] = "more"
        out: list[_Unit] = []
        block = 0
        intro: str | None = None
        previous = "start"
        for position, ((_k, text, unit_part), kind) in enumerate(zip(raw, kinds, strict=True)):
            if kind == "heading":
                intro = None
                block += 1
                previous = kind
                continue
            if kind == "bullet":
                if previous not in ("bullet", "more"):
                    block += 1
            elif kind != "more":
                block += 1
            if kind == "intro":
                intro = text
            elif kind not in ("bullet", "more"):
                intro = None
            item_intro = intro if kind == "bullet" else None
            out.append(_Unit(index, position, text, kind, item_intro, unit_part, block, frozenset(analyze(text))))
            previous = kind
        return out

    # -- scoring -------------------------------------------------------------------------------------------

    def _query(self, question: str, units: list[_Unit], kind: QuestionType, language: Language) -> _Query:
        analyze = self.analyzer.analyze
        frame = _EN_FRAME | _SV_FRAME if language == "en" else _SV_FRAME
        groups: list[tuple[str, ...]] = []
        names: list[tuple[str, ...]] = []
        subjects: list[tuple[str, ...]] = []
        for match in re.finditer(r"[^\W\d_]+", question):
            word = match.group(0)
            if word.lower() in frame:
                continue
            is_name = match.start() > 0 and word[:1].isupper() and word[1:2].islower()
            terms = tuple(t for t in analyze(word) if not re.search(r"\d", t))
            if language == "en":
                extra = tuple(t for sv in swedish_equivalents(word) for t in analyze(sv)[:1])
                if extra:
                    terms = (*terms, "|", *extra) if terms else ("|", *extra)
            if terms and terms not in groups:
                groups.append(terms)
            if terms and is_name and language == "sv" and terms not in names:
                names.append(terms)
            is_subject = len(terms) > 1 or bool(_NOUN_SUFFIX.search(word.lower()))
            if terms and language == "sv" and is_subject and terms not in subjects:
                subjects.append(terms)
        # A particle verb ("följs ... upp") is also looked for as its noun ("uppföljning").
        words = re.findall(r"[^\W\d_]+", question)
        for i, word in enumerate(words):
            if word.lower() not in _PARTICLES:
                continue
            for verb_word in words[max(0, i - 3) : i]:
                verb = tuple(t for t in analyze(verb_word) if not re.search(r"\d", t))
                joined = tuple(t for t in analyze(word.lower() + verb_word.lower()) if not re.search(r"\d", t))[:1]
                if joined and verb in groups:
                    groups[groups.index(verb)] = (*verb, "|", *joined)
        for number in number_terms(self.analyzer, question):
            if (number,) not in groups:
                groups.append((number,))
        total = len(units)
        weights = []
        for group in groups:
            df = sum(1 for u in units if _match(group, u.terms) >= 0.5)
            weight = math.log(1.0 + total / (df + 0.5)) if df else ABSENT_WEIGHT * math.log(1.0 + total / 0.5)
            weights.append(weight * NAME_BOOST if group in names else weight)
        wants_frequency = kind is QuestionType.PROCESS and bool(_ASKS_FREQUENCY.search(question))
        return _Query(tuple(groups), tuple(weights), kind, language, wants_frequency, tuple(names), tuple(subjects))

    def _score(
        self,
        unit: _Unit,
        query: _Query,
        hits: Sequence[Hit],
        contexts: list[frozenset[str]],
        chunk_terms: list[frozenset[str]],
    ) -> _Scored:
        context = contexts[unit.hit]
        if unit.intro:
            context = context | frozenset(self.analyzer.analyze(unit.intro))
        total = sum(query.weights)
        alone = own = full = 0.0
        context_weight = DECISION_CONTEXT_WEIGHT if unit.part in _DECISION_PARTS else CONTEXT_WEIGHT
        for group, weight in zip(query.groups, query.weights, strict=True):
            m_alone = _match(group, unit.terms)
            m_own = max(m_alone, context_weight * _match(group, context))
            m_full = max(m_own, CHUNK_WEIGHT * _match(group, chunk_terms[unit.hit]))
            alone += weight * m_alone
            own += weight * m_own
            full += weight * m_full
        alone, own, full = alone / total, own / total, full / total
        cue = _cue(unit, query.kind)
        score = (own + 0.5 * full) * (1.0 + CUE_WEIGHT * cue)
        if query.kind in (QuestionType.AMOUNT, QuestionType.DATE, QuestionType.COUNT) and cue < 0.5:
            score *= MISSING_VALUE_FACTOR
        elif query.wants_frequency and not _FREQUENCY.search(unit.text):
            score *= MISSING_VALUE_FACTOR
        hit = hits[unit.hit]
        rank = unit.hit if hit.reason != "neighbour" else unit.hit + 2
        score *= 1.0 / (1.0 + RANK_DECAY * rank)
        if unit.part in _LOW_VALUE_PARTS:
            score *= 0.7
        if unit.kind in ("label", "intro"):
            score *= 0.8
        n_words = len(unit.text.split())
        if n_words < 3 and unit.kind not in ("bullet", "row"):
            score *= 0.6
        elif n_words <= 6 and unit.kind == "sentence" and not _TERMINAL.search(unit.text):
            score *= HEADING_FACTOR  # a heading or caption, not a statement
        elif n_words > 50:
            score *= 0.85
        return _Scored(unit, score, full, own, alone)

    def _match_flags(self, unit: _Unit, query: _Query) -> list[bool]:
        """Per word of the unit's text: whether it matches a question word or is a number."""
        flags = []
        for word in _unit_core(unit).split():
            terms = frozenset(self.analyzer.analyze(word))
            hit = any(_match(g, terms) >= 0.5 for g in query.groups)
            flags.append(hit or bool(re.search(r"\d", word)))
        return flags


# -- helpers -------------------------------------------------------------------------------------------------


def _match(group: tuple[str, ...], terms: frozenset[str]) -> float:
    """How well a unit's terms hold a question word: its stem or an alternative (1.0), a longer word that
    starts with it ("uppfölj" in "uppföljning": PREFIX_MATCH), or its compound parts (their share)."""
    own: tuple[str, ...] = group
    alternatives: tuple[str, ...] = ()
    if "|" in group:
        cut = group.index("|")
        own, alternatives = group[:cut], group[cut + 1 :]
    best = 0.0
    for candidate in (own[:1], alternatives):
        for t in candidate:
            if t in terms:
                return 1.0
            if len(t) >= PREFIX_MIN and any(u.startswith(t) and len(u) - len(t) <= PREFIX_MAX_EXTRA for u in terms):
                best = PREFIX_MATCH
    parts = own[1:]
    if parts:
        share = sum(1 for p in parts if p in terms) / len(parts)
        best = max(best, PARTS_MATCH * share * share)
    return best


def _cue(unit: _Unit, kind: QuestionType) -> float:
    text = unit.text
    if kind is QuestionType.AMOUNT:
        if _AMOUNT.search(text):
            return 1.0
        return 0.3 if re.search(r"\d", _DATE.sub(" ", _YEAR.sub(" ", text))) else 0.0
    if kind is QuestionType.DATE:
        if _DATE.search(text):
            return 1.0
        return 0.5 if _DATE_SOFT.search(text) else 0.0
    if kind is QuestionType.COUNT:
        return 1.0 if _COUNT.search(text) else 0.0
    if kind is QuestionType.WHO:
        score = 0.0
        if _PARTY.search(text):
            score += 0.6
        if _BODY.search(text):
            score += 0.5
        if _NAME.search(text):
            score += 0.3
        if unit.kind == "row" and _WHO_KEYS.search(text):
            score += 0.5
        return min(score, 1.0)
    if kind is QuestionType.PROCESS:
        score = 0.0
        if _FREQUENCY.search(text):
            score += 0.6
        if _ROLE.search(text):
            score += 0.3
        if _METHOD.search(text):
            score += 0.2
        return min(score, 1.0)
    if kind in (QuestionType.DECISION, QuestionType.YESNO):
        if _is_decision(unit):
            return 1.0
        return 0.0
    if kind is QuestionType.LIST:
        return 0.5 if unit.kind in ("bullet", "row") else 0.0
    return 0.0


def _supports_kind(unit: _Unit, alone: float, query: _Query) -> bool:
    """Whether a unit has what the question asks for (an amount, a date, a role...), to be quoted beside the lead."""
    cue = _cue(unit, query.kind)
    if query.kind is QuestionType.DATE:
        return cue >= 1.0
    if query.kind in _VALUE_KINDS or query.wants_frequency:
        return cue >= 0.5 and (not query.wants_frequency or bool(_FREQUENCY.search(unit.text)))
    if query.kind is QuestionType.PROCESS:
        return cue > 0.0 or alone >= 0.5
    return True


def _gives_value(unit: _Unit, hit: Hit, query: _Query) -> bool:
    """Whether the unit states what an amount, date, count or frequency question asks for."""
    if query.kind is QuestionType.DATE and hit.chunk.paragraph and _is_decision(unit):
        return True  # the meeting date answers "when was it decided"
    if query.kind in (QuestionType.AMOUNT, QuestionType.DATE, QuestionType.COUNT):
        return _cue(unit, query.kind) >= 0.5
    if query.wants_frequency:
        return bool(_FREQUENCY.search(unit.text))
    return True


def _eligible(s: _Scored) -> bool:
    return s.coverage >= ANSWER_FLOOR and s.own >= OWN_FLOOR


def _is_decision(unit: _Unit) -> bool:
    if unit.kind == "intro":
        return False
    if unit.part in _DECISION_PARTS and unit.kind in ("bullet", "sentence", "more"):
        return True
    if unit.intro and _INTRO_VERB.search(unit.intro):
        return True
    return bool(_DECISION.search(unit.text))


def _list_of(unit: _Unit, units: list[_Unit]) -> list[_Unit]:
    """The items of the list a unit belongs to (an item or its continuation) or introduces (its lead-in)."""
    block = unit.block if unit.kind in ("bullet", "more") else unit.block + 1
    if unit.kind not in ("bullet", "more", "intro"):
        return []
    return [u for u in units if u.hit == unit.hit and u.block == block and u.kind == "bullet"]


def _continues(more: _Unit, item: _Unit, units: list[_Unit]) -> bool:
    """Whether a "more" sentence continues this list item (comes after it, before the next item)."""
    if more.block != item.block or more.position <= item.position:
        return False
    return not any(
        u.hit == item.hit and u.kind == "bullet" and item.position < u.position < more.position for u in units
    )


def _cite_each(pieces: list[str], n: int, max_words: int) -> str:
    """Sentences each followed by its marker, cut after `max_words` words."""
    out: list[str] = []
    words = 0
    for piece in pieces:
        for sentence in split_sentences(piece) or [piece]:
            if words >= max_words:
                break
            room = max_words - words
            text = _quote_text(_trim(sentence, [False] * len(sentence.split()), max(room, 8))).rstrip(" .;:,")
            out.append(f"{text} [{n}].")
            words += len(text.split())
    return " ".join(out).rstrip(".")


def _paragraph_key(paragraph: str | None) -> tuple[int, str]:
    m = re.match(r"\d+", paragraph or "")
    return (int(m.group(0)) if m else 10**6, paragraph or "")


def _unit_core(unit: _Unit) -> str:
    if unit.kind == "bullet" and unit.intro:
        return _join_intro(unit.intro, unit.text)
    return unit.text


def _join_intro(intro: str, item: str) -> str:
    """A list item read with its lead-in: "Presidiet föreslår nämnden" + "Bevilja X" -> "... att bevilja X"."""
    colon = intro.rstrip().endswith(":")
    intro = intro.rstrip(" :")
    first = item.split()[0] if item.split() else ""
    bare = first.lower().strip(",.")
    if colon:
        return f"{intro}: {item}"
    if intro.lower().endswith(" att"):
        return f"{intro} {item[:1].lower() + item[1:] if first.istitle() else item}"
    if _INTRO_VERB.search(intro) and _INFINITIVE.match(bare) and first[:1].isupper():
        return f"{intro} att {item[:1].lower() + item[1:]}"
    if _PRESENT_VERB.search(intro):
        return f"{intro} {item}"
    return f"{intro}: {item}"


def _quote_text(text: str) -> str:
    return re.sub(r"[”“\"«»]", "'", text)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def _trim(text: str, flags: list[bool], max_words: int, *, ellipsis_end: bool = True) -> str:
    """The text, or the window of `max_words` words around the words that match the question."""
    words = text.split()
    if len(words) <= max_words:
        return text
    if len(flags) != len(words):
        flags = [False] * len(words)
    best_start, best_hits = 0, -1
    for start in range(0, len(words) - max_words + 1):
        hits = sum(flags[start : start + max_words])
        if hits > best_hits:
            best_start, best_hits = start, hits
    piece = " ".join(words[best_start : best_start + max_words])
    if best_start > 0:
        piece = "… " + piece
    if best_start + max_words < len(words) and ellipsis_end:
        piece = piece.rstrip(" .,;:") + " …"
    return piece


def _duplicate(a: _Unit, b: _Unit) -> bool:
    """Whether two units say the same (one repeats the other, as a protocol repeats its memo)."""
    if not a.terms or not b.terms:
        return a.text == b.text
    return len(a.terms & b.terms) / min(len(a.terms), len(b.terms)) >= DUPLICATE_SHARE


def _reference(hit: Hit, core: str, *, with_section: bool) -> tuple[str, list[str]]:
    """Where a sentence comes from: "§ 23 Title" (or the heading or document title) and the case numbers and
    date, leaving out what the sentence already says."""
    chunk = hit.chunk
    low = core.lower()
    section = _quote_text(" ".join((chunk.section or "").split()))
    title = _quote_text(" ".join(chunk.meta.title.split()))
    if chunk.paragraph:
        head = f"§ {chunk.paragraph}"
        if with_section and section and len(section.split()) <= 12 and section.lower() not in low:
            head += f" {section}"
    else:
        parts = []
        if title and len(title.split()) <= 12:
            parts.append(title)
        if section and section != title and section.lower() not in low:
            parts.append(section)
        if len(" ".join(parts).split()) > 12:
            parts = parts[-1:]
        head = ", ".join(parts)
    details = [case for case in display_case_numbers(chunk.case_numbers)[:2] if case.lower() not in low]
    date = chunk.date or chunk.meta.date
    if date and date not in core and date not in head:
        details.append(date)
    return head, details


def _sv_ref(head: str, details: list[str]) -> str:
    return ", ".join([head, *details] if head else details)


def _en_ref(head: str, details: list[str]) -> str:
    if not head:
        return "the archive (" + ", ".join(details) + ")" if details else "the archive"
    return f"{head} ({', '.join(details)})" if details else head


def _quote_label(hit: Hit, lead_hit: Hit) -> str:
    """A short source label for a quote from another § or document than the lead's."""
    chunk, lead = hit.chunk, lead_hit.chunk
    if chunk.doc_id == lead.doc_id and chunk.paragraph == lead.paragraph:
        return ""
    bits = []
    if chunk.paragraph:
        bits.append(f"§ {chunk.paragraph}")
    elif chunk.section and len(chunk.section.split()) <= 6:
        bits.append(_quote_text(chunk.section))
    date = chunk.date or chunk.meta.date
    if date and date != (lead.date or lead.meta.date):
        bits.append(date)
    return (", ".join(bits) + ": ") if bits else ""


def _value(core: str, kind: QuestionType, date: str | None) -> str | None:
    """The amount, date or count a sentence states, for an English lead."""
    if kind is QuestionType.AMOUNT:
        m = _AMOUNT.search(core)
        return m.group(0) if m else None
    if kind is QuestionType.DATE:
        m = _DATE.search(core)
        return m.group(0) if m else date
    if kind is QuestionType.COUNT:
        m = _COUNT.search(core)
        return m.group(0) if m and re.match(r"\d", m.group(0)) else None
    return None


def _row_fields(text: str) -> list[tuple[str, str]]:
    """The "Key: value" cells of a table row ("Frekvens: 2 ggr/år; Kontrollansvarig: Administrativ chef")."""
    if text.count(":") < 2:
        return []
    fields = []
    for m in _ROW_FIELD.finditer(text):
        key, value = m.group(1).strip(" ;|"), m.group(2).strip(" ;|.")
        if key and value:
            fields.append((key, value))
    return fields


def _row_answer(fields: list[tuple[str, str]], kind: QuestionType) -> str:
    """The cells a question asks for, after the cells that name the row."""
    wanted: list[re.Pattern[str]] = {
        QuestionType.WHO: [_WHO_KEYS],
        QuestionType.PROCESS: [_PROCESS_KEYS, _WHO_KEYS],
        QuestionType.DATE: [_DATE_KEYS],
        QuestionType.AMOUNT: [_AMOUNT_KEYS],
        QuestionType.COUNT: [_COUNT_KEYS],
    }.get(kind, [])
    picked = [(k, v) for k, v in fields if any(p.search(k) for p in wanted)]
    if not picked:
        picked = fields[2:] or fields
    names = [v for k, v in fields[:2] if (k, v) not in picked]
    body = "; ".join(f"{k}: {v}" for k, v in picked)
    text = f"{' – '.join(names)} — {body}" if names else body
    return _quote_text(text)
