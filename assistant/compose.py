"""Composing the offline answer from the best units only, each sentence with its [n].

The selector (assistant/select.py) ranks the answer units of the passages. The answer is:

- a fact, a decision or a process step: the best unit, and a second and third unit when they score
  within `compose["delta"]` of the best and the answer stays within `compose["max_chars"]` (both chosen on
  cross-validated training scores by `choose_compose_params`, never by hand);
- a list question ("vilka", "alla", "lista"): up to `MAX_LIST_ITEMS` items, one line each, gathered from all
  the passages retrieval returned for the list, with "och N till" for the rest;
- a number asked of a table: the row with its table's header row; a cell written with its row label and
  column ("Museum/konsthall – Driftredovisning – Utfall 2025: 8 417"): the cells of its row;
- a lead-in that ends in a colon ("fastställdes enligt följande:"): with the items after it;
- a sentence that points back ("Därför …", "Detta gör du …"): with the sentence before it;
- a decision: led by who decided, when, §, case number and the decision verb the unit itself uses
  ("beviljar", "avslår", "återremitterar"), never a verb taken from the question; any other fact from a
  protocol's § is led by the same body, date, § and case number.

Nothing is written that a cited unit or its passage's metadata does not hold; assistant/verify.py checks it.
`Composition.probability` is the calibrated probability that the best unit answers: below the selector's
learned threshold the service answers "not found".
"""

from __future__ import annotations

import logging
import re
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.qtype import QuestionType, detect_language, question_clauses, question_type
from assistant.query import parse_question
from assistant.select import (
    Candidate,
    Question,
    Ranking,
    Scored,
    Selector,
    candidates_from_hits,
    candidates_from_text,
    content_lemmas,
    load_selector,
    numbers,
    passage_context,
)
from assistant.types import Hit, Language
from indexer.casenumbers import display_case_numbers
from indexer.schema import Chunk, DocumentMeta
from indexer.sentences import goes_on, sentence_spans
from indexer.structure import is_agenda_item
from indexer.swedish.casekinds import AS_PROPOSED, DECISION_LINE, PROPOSAL_LINE
from indexer.swedish.dates import years_in
from indexer.swedish.reference import opens_with_reference
from indexer.tables import WRITTEN_CELL, is_written_row

__all__ = ["MAX_LIST_ITEMS", "Composer", "Composition", "choose_compose_params", "compose_units", "text_hit"]

logger = logging.getLogger(__name__)

MAX_LIST_ITEMS = 10
"""Items shown for a list question (the issue's limit); the rest are counted ("och 4 till")."""
LLM_UNITS = 12
"""Units an LLM answerer reads: the selector's best, several times what an offline answer quotes."""
MAX_DECISION_ITEMS = 4
"""Items of one decision quoted ("1. Bevilja … 2. Finansiering sker …"); a decision rarely has more that matter."""
UNIT_MAX_CHARS = 400
"""A unit longer than this (a run-on PDF line) is cut at a word boundary with "…"."""
LEAD_IN_CHARS = 400
"""What may follow a chosen lead-in that ends in a colon: the items it announces, up to this many characters."""
MAX_ROW_CELLS = 8
"""Cells of one table row shown when a written cell answers: the row, not the whole table."""

_DECISION_VERB = re.compile(
    r"\b(beviljar|beviljas|beviljade|avslår|avslogs|avslog|avslås|återremitterar|återremitteras|återremitterade|"
    r"godkänner|godkändes|godkände|fastställer|fastställde|antar|antog|beslutar|beslutade|uppdrar|föreslår|"
    r"föreslog|tillstyrker|avstyrker|bordlägger|noterar|lägger)\b",
    re.I,
)
_LIST_CUE = re.compile(r"\bvilka\b|\balla\b|\blista\b|\bräkna upp\b|\bsamtliga\b|\bwhich\b|\blist\b|\ball\b", re.I)
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Composition:
    text: str
    """The answer with [n] markers (1-based indices into the hits), or "" when nothing was chosen."""
    probability: float
    """Calibrated probability that the best unit answers the question."""
    chosen: tuple[Scored, ...]
    answers: bool = False
    """Whether the probability clears the selector's learned threshold (else: not found)."""
    ranked: tuple[Scored, ...] = ()
    """The best-scored units (at most `LLM_UNITS`), what an LLM answerer is given to read."""

    def units_by_hit(self) -> dict[int, list[str]]:
        """The ranked units' texts per hit index, in reading order."""
        out: dict[int, list[str]] = {}
        for s in in_reading_order(list(self.ranked)):
            out.setdefault(s.candidate.hit_index, []).append(s.candidate.text)
        return out


_BULLET = re.compile(r"^(?:[-–•*·▪]|\d{1,2}[.)])\s+")


def _clean(text: str, *, bullet: bool = True) -> str:
    text = _WS.sub(" ", text).strip()
    if not bullet:
        text = _BULLET.sub("", text)
    if len(text) > UNIT_MAX_CHARS:
        text = text[:UNIT_MAX_CHARS].rsplit(" ", 1)[0] + " …"
    return text


def compose_units(scored: Sequence[Scored], delta: float, max_chars: float, limit: int = 3) -> list[Scored]:
    """The best unit, then the next ones within `delta` of it while the answer stays within `max_chars`."""
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    length = len(best.candidate.text)
    for s in scored[1:]:
        if len(chosen) >= limit or s.score < best.score - delta:
            break
        if _duplicate(s.candidate.text, chosen) or length + len(s.candidate.text) > max_chars:
            continue
        chosen.append(s)
        length += len(s.candidate.text)
    return chosen


class _Beside:
    """The chosen units, and every unit of their passages by place, for the steps that bring a unit beside a
    chosen one: each unit is brought once."""

    def __init__(self, chosen: Sequence[Scored], scored: Sequence[Scored]) -> None:
        self.out = list(chosen)
        self._taken = {_place(s) for s in self.out}
        self._by_place = {_place(s): s for s in scored}

    def at(self, hit_index: int, ordinal: int) -> Scored | None:
        return self._by_place.get((hit_index, ordinal))

    def bring(self, s: Scored) -> None:
        if _place(s) not in self._taken:
            self.out.append(s)
            self._taken.add(_place(s))


def _place(s: Scored) -> tuple[int, int]:
    return s.candidate.hit_index, s.candidate.ordinal


def _with_items(chosen: Sequence[Scored], scored: Sequence[Scored]) -> list[Scored]:
    """A chosen lead-in that ends in a colon ("Sammanträdesdatum fastställdes enligt följande:") says nothing on
    its own: the unit after it in its passage follows it, and the items after that (not prose), up to
    `MAX_LIST_ITEMS` and `LEAD_IN_CHARS`."""
    beside = _Beside(chosen, scored)
    for lead in chosen:
        if not lead.candidate.text.rstrip().endswith(":"):
            continue
        hit, ordinal = _place(lead)
        length = 0
        for n in range(1, MAX_LIST_ITEMS + 1):
            item = beside.at(hit, ordinal + n)
            if item is None or length + len(item.candidate.text) > LEAD_IN_CHARS:
                break
            if n > 1 and not _is_item(item.candidate):
                break  # prose after the items: the list has ended
            beside.bring(item)
            length += len(item.candidate.text)
            if item.candidate.text.rstrip().endswith(":"):
                break
    return beside.out


def _with_antecedents(chosen: Sequence[Scored], scored: Sequence[Scored]) -> list[Scored]:
    """A chosen sentence that points back ("Därför förekommer arbetsrotation i vissa butiker.", "Detta gör du
    med en giltig passhandling.") is read with the sentence before it in its passage, which it refers to."""
    beside = _Beside(chosen, scored)
    for s in chosen:
        c = s.candidate
        before = beside.at(c.hit_index, c.ordinal - 1)
        if before is not None and c.kind == before.candidate.kind == "sentence" and opens_with_reference(c.text):
            beside.bring(before)
    return beside.out


def _with_wrapped_lines(chosen: Sequence[Scored], scored: Sequence[Scored], hits: Sequence[Hit]) -> list[Scored]:
    """A table cell's text runs over several lines, and each line of a table passage is a unit of its own
    ("Teckna licens hos UC för" / "att ta fram gemensamma" / "listor och urval."): a chosen line is read with
    the lines before and after it that are part of the same sentence."""
    beside = _Beside(chosen, scored)
    for s in chosen:
        for step in (-1, 1):
            cur = s
            while (nxt := beside.at(cur.candidate.hit_index, cur.candidate.ordinal + step)) is not None:
                first, second = (nxt, cur) if step < 0 else (cur, nxt)
                if not _same_sentence(first.candidate, second.candidate, hits):
                    break
                beside.bring(nxt)
                cur = nxt
    return beside.out


def _same_sentence(first: Candidate, second: Candidate, hits: Sequence[Hit]) -> bool:
    """Whether the next line of a table passage's running text goes on the sentence its line before ends with:
    it plainly does (`goes_on`: lower case, a line stopped mid-phrase, a wrapped tail), and the sentence
    splitter reads the two lines as one sentence. Never the header row, a row written with its headers, or an
    agenda's next item: a table's rows are lines too, and a row that starts in capitals is a row."""
    if (
        second.hit_index != first.hit_index
        or second.ordinal != first.ordinal + 1
        or not (_is_cell_line(first, hits) and _is_cell_line(second, hits))
        or is_agenda_item(second.text)
    ):
        return False
    if not goes_on(first.text.splitlines()[-1], second.text.splitlines()[0]):
        return False
    spans = sentence_spans(hits[first.hit_index].chunk.text[first.start : second.end])
    return bool(spans) and spans[-1][0] < first.end - first.start


def _in_table(cand: Candidate, hits: Sequence[Hit]) -> bool:
    """A line of a table passage that is not a row written with its headers."""
    return cand.kind == "table_row" and hits[cand.hit_index].chunk.kind == "table_row" and not is_written_row(cand.text)


def _is_cell_line(cand: Candidate, hits: Sequence[Hit]) -> bool:
    """A line of a table passage's running text: not its header row, not a row written with its headers."""
    return cand.ordinal > 0 and _in_table(cand, hits)


def _row_cells(best: Scored, scored: Sequence[Scored]) -> list[Scored]:
    """When the best unit is a written table cell, its whole row: the cells of its passage with the same row
    label, in order (a question about a row asks for more than one of its columns as often as not)."""
    m = WRITTEN_CELL.match(best.candidate.text) if best.candidate.kind == "table_row" else None
    if m is None:
        return []
    prefix = m.group("label") + " – "
    hit = best.candidate.hit_index
    row = [
        s
        for s in scored
        if s.candidate.hit_index == hit and s.candidate.text.startswith(prefix) and s.candidate.kind == "table_row"
    ]
    row.sort(key=lambda s: s.candidate.ordinal)
    return row[:MAX_ROW_CELLS] if best in row[:MAX_ROW_CELLS] else [best]


def _clause_terms(text: str, english: bool) -> set[str]:
    return set(content_lemmas(text, english=english)) | numbers(text)


def _covering(question: str, chosen: Sequence[Scored], scored: Sequence[Scored], *, english: bool) -> list[Scored]:
    """An answer to each question a question asks ("När påbörjades bygget, och när invigdes Nya Navet?"): for a
    later clause whose own words (those the first clause does not share) no chosen unit holds, the best-scored
    of the top units of the passages already cited that holds most of them is added."""
    out = list(chosen)
    clauses = question_clauses(question)
    if len(clauses) < 2:
        return out
    first = _clause_terms(clauses[0], english)
    # from the passages already cited only: another passage's "Diarienummer:" line is another case's
    cited = {s.candidate.hit_index for s in out}
    pool = [
        (s, _clause_terms(s.candidate.text, english)) for s in scored[: 2 * LLM_UNITS] if s.candidate.hit_index in cited
    ]
    if not pool:
        return out
    answered = set().union(*(_clause_terms(s.candidate.text, english) for s in out))
    for clause in clauses[1:]:
        own = _clause_terms(clause, english) - first
        if not own or own & answered:
            continue
        count, _, best, terms = max(((len(own & t), -i, s, t) for i, (s, t) in enumerate(pool)), key=lambda h: h[:2])
        if count and not _duplicate(best.candidate.text, out):
            out.append(best)
            answered |= terms
    return out


def _unit_years(s: Scored, hits: Sequence[Hit]) -> set[int]:
    """The years a unit speaks of: those in its text, and its document's and passage's year."""
    chunk = hits[s.candidate.hit_index].chunk
    years = years_in(s.candidate.text)
    years.update(int(d[:4]) for d in (chunk.date, chunk.meta.date) if d and d[:4].isdigit())
    if chunk.meta.year:
        years.add(chunk.meta.year)
    return years


def _each_year(question: str, chosen: Sequence[Scored], scored: Sequence[Scored], hits: Sequence[Hit]) -> list[Scored]:
    """A question about two or three named years ("2012 respektive 2013", "in 2023, and the target for 2024")
    is answered for each: for a year no chosen unit speaks of, the best-scored of the top units that does is
    added (often from another year's report)."""
    out = list(chosen)
    years = parse_question(question).years
    if not 2 <= len(years) <= 3:
        return out
    covered = set().union(*(_unit_years(s, hits) for s in out))
    for year in years:
        if year in covered:
            continue
        found = next(
            (
                s
                for s in scored[: 2 * LLM_UNITS]
                if year in _unit_years(s, hits) and not _duplicate(s.candidate.text, out)
            ),
            None,
        )
        if found is not None:
            out.append(found)
            covered |= _unit_years(found, hits)
    return out


MAX_STEP_UNITS = 4
"""Units of one proposal or decision brought beside a chosen one (its header line and what follows)."""


def _step_header(text: str) -> str | None:
    """ "förslag" or "beslut" for a unit that opens a step with its header ("Stadsdirektör Martin Norrgårds
    förslag:", "Välfärdsnämndens beslut: Enligt förslag."), else None."""
    head = text.strip()[: text.strip().find(":") + 1]
    if head and PROPOSAL_LINE.fullmatch(head):
        return "förslag"
    if head and DECISION_LINE.fullmatch(head):
        return "beslut"
    return None


def _proposal_and_decision(
    chosen: Sequence[Scored], scored: Sequence[Scored], hits: Sequence[Hit], limit: int = MAX_STEP_UNITS
) -> list[Scored]:
    """In a protocol written "X:s förslag: … Y:s beslut: …" (Finland-Swedish style), a chosen proposal brings
    the decision that follows it, and a decision that only says "Enligt förslag." brings the proposal it adopts:
    either alone does not say what was decided. Both are read across the passages of the same §."""
    out = list(chosen)

    def place(s: Scored) -> tuple[str, str | None, int, int]:
        chunk = hits[s.candidate.hit_index].chunk
        return chunk.doc_id, chunk.paragraph, chunk.ordinal, s.candidate.ordinal

    for s in chosen:
        doc, paragraph = place(s)[:2]
        if paragraph is None:
            continue
        steps = sorted((u for u in scored if place(u)[:2] == (doc, paragraph)), key=place)
        keys = [place(u) for u in steps]
        k = keys.index(place(s))
        headers = {i: kind for i, u in enumerate(steps) if (kind := _step_header(u.candidate.text))}
        own = [i for i in headers if i <= k]
        if not own:
            continue
        at = own[-1]
        kind = headers[at]
        block: list[Scored] = []
        if kind == "förslag":  # the decision after this proposal
            nxt = [i for i in headers if i > k]
            if nxt and headers[nxt[0]] == "beslut":
                end = next((i for i in headers if i > nxt[0]), len(steps))
                block = steps[nxt[0] : min(end, nxt[0] + limit)]
        else:
            end = next((i for i in headers if i > at), len(steps))
            decided = " ".join(u.candidate.text for u in steps[at:end]).split(":", 1)[-1]
            before = [i for i in headers if i < at]
            if AS_PROPOSED.search(decided) and before and headers[before[-1]] == "förslag":
                block = steps[before[-1] : min(at, before[-1] + limit)] + steps[at:end][:2]
        out.extend(u for u in block if all(place(u) != place(o) for o in out))
    return out


def _is_item(cand: Candidate) -> bool:
    """A list item, decision item or table row, or a line that is not a sentence ("4.9.2023", "Kommunfinans Ab")."""
    return cand.kind in ("list_item", "decision_item", "table_row") or not re.search(r"[.!?…]$", cand.text.rstrip())


def _ended(text: str) -> str:
    """A unit as a sentence of the answer: a heading or a table row gets a full stop, so that the checker
    (assistant/verify.py) reads each unit, with its marker, as one sentence."""
    text = text.rstrip()
    return text if re.search(r"[.!?:;…]$", text) else text + "."


def _norm(text: str) -> str:
    return _WS.sub(" ", text.lower()).strip(" .")


_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")


def _duplicate(text: str, chosen: Sequence[Scored]) -> bool:
    """Whether a unit says nothing a chosen one does not: its words (nearly) all in one of them."""
    words = set(_LETTER_WORD.findall(text.lower())) | set(re.findall(r"\d+", text))
    if not words:
        return True
    digits = set(re.findall(r"\d+", text))
    for s in chosen:
        other = set(_LETTER_WORD.findall(s.candidate.text.lower())) | set(re.findall(r"\d+", s.candidate.text))
        if len(words & other) >= 0.8 * len(words) and digits <= other:
            return True
    return False


def in_reading_order(chosen: Sequence[Scored]) -> list[Scored]:
    """Units of one passage in the order they stand there; passages in the order of their best unit."""
    first: dict[int, int] = {}
    for i, s in enumerate(chosen):
        first.setdefault(s.candidate.hit_index, i)
    return sorted(chosen, key=lambda s: (first[s.candidate.hit_index], s.candidate.ordinal))


_Row = tuple[Sequence[Candidate], np.ndarray, tuple[str, ...]]
"""A training question's candidates, their out-of-fold margins, and what its answer must hold."""


def choose_compose_params(
    examples: Sequence[object],
    cands: Sequence[Sequence[Candidate]],
    margins: Sequence[np.ndarray],
    budget: float = 240.0,
    archive_budget: float = 300.0,
) -> tuple[dict[str, float], dict[str, float]]:
    """`delta` and `max_chars` that hold the answer most often within the length budgets.

    Measured on cross-validated margins of the training questions: a SweQUAD-MC question over its own text is
    held when the composed text contains the answer span (median within `budget` characters); an archive
    question over what the search found, when it contains every key fact (median within `archive_budget`).
    The two kinds count alike, as in the selector's training: the archive's answers often need two units.
    """
    spans: list[_Row] = []
    archive: list[_Row] = []
    for ex, c, m in zip(examples, cands, margins, strict=True):
        if not len(c):
            continue
        if answer := getattr(ex, "answer", ""):
            spans.append((c, m, (str(answer),)))
        elif facts := getattr(ex, "facts", ()):
            archive.append((c, m, tuple(facts)))
    best: tuple[float, float, float, dict[str, float]] | None = None
    for delta in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0):
        for max_chars in (200.0, 250.0, 300.0, 400.0, 600.0):
            report: dict[str, float] = {}
            rate, fits = 0.0, True
            for tag, rows, limit in (("", spans, budget), ("archive_", archive, archive_budget)):
                if not rows:
                    continue
                held, med = _held(rows, delta, max_chars)
                rate += held
                fits = fits and med <= limit
                report[f"compose_cv_{tag}held"] = held
                report[f"compose_cv_{tag}median_chars"] = med
            if fits and report and (best is None or rate > best[0]):
                best = (rate, delta, max_chars, report)
    if best is None:
        return {"delta": 0.0, "max_chars": budget}, {}
    return {"delta": best[1], "max_chars": best[2]}, best[3]


def _held(rows: Sequence[_Row], delta: float, max_chars: float) -> tuple[float, float]:
    """Share of `rows` whose composed answer holds all its facts, and the answers' median length."""
    held, lengths = [], []
    for c, m, facts in rows:
        order = np.argsort(-m, kind="stable")
        scored = [Scored(c[i], float(m[i])) for i in order]
        chosen = in_reading_order(compose_units(scored, delta, max_chars))
        text = _WS.sub(" ", " ".join(s.candidate.text for s in chosen)).lower()
        held.append(all(_WS.sub(" ", f).lower() in text for f in facts))
        lengths.append(len(text))
    return float(np.mean(held)), float(statistics.median(lengths))


class Composer:
    """The offline answerer: selects units and composes the answer. Its `name` is "extractive"."""

    name = "extractive"

    def __init__(self, selector: Selector | None = None) -> None:
        self.selector = selector or load_selector()

    # -- the Answerer protocol (assistant/answerers.py) --

    def answer(self, question: str, hits: Sequence[Hit], language: Language, units: object = None) -> str:
        return self.compose(question, hits, language).text

    def stream(self, question: str, hits: Sequence[Hit], language: Language, units: object = None) -> Iterator[str]:
        yield self.answer(question, hits, language)

    # -- composing --

    def rank(self, question: str, hits: Sequence[Hit], language: Language = "sv") -> Ranking:
        cands = candidates_from_hits(hits)
        q = Question.of(question, english=language == "en")
        return self.selector.rank(q, cands, [passage_context(h) for h in hits])

    def compose_text(self, question: str, text: str, dense: Sequence[float] | None = None) -> Composition:
        """The answer from one text handed over as the only passage (SweQUAD-MC's setting), cited as [1].

        `dense`: the question–unit cosines of the text's units, if the caller has them.
        """
        hit = text_hit(text)
        cands = candidates_from_text(text, dense)
        q = Question.of(question, english=detect_language(question) == "en")
        return self.compose(question, [hit], detect_language(question), ranking=self.selector.rank(q, cands, [text]))

    def compose(
        self, question: str, hits: Sequence[Hit], language: Language = "sv", *, ranking: Ranking | None = None
    ) -> Composition:
        ranking = ranking or self.rank(question, hits, language)
        scored = ranking.scored
        if not scored:
            return Composition("", 0.0, ())
        probability, answers = ranking.probability, ranking.answers
        ranked = tuple(scored[:LLM_UNITS])
        qtype = question_type(question)
        if qtype is QuestionType.LIST or (_LIST_CUE.search(question) and qtype is not QuestionType.WHO):
            text, chosen = self._list(ranking, hits, language)
            if text:
                return Composition(text, probability, tuple(chosen), answers, ranked)
        if qtype is QuestionType.DECISION:
            text, chosen = self._decision(ranking, hits)
            if text:
                return Composition(text, probability, tuple(chosen), answers, ranked)
        params = self.selector.compose
        # a table's header row is not an answer on its own: it heads the row that is (see _table_header)
        scored = [s for s in scored if not _is_table_header(s.candidate, hits)] or list(scored)
        number = qtype in (QuestionType.AMOUNT, QuestionType.COUNT) and scored[0].candidate.kind == "table_row"
        limit = 1 if number else 3  # a number asked of a table: its row, with the header
        units = _row_cells(scored[0], ranking.scored)
        if not units:  # the best units, then what each of them needs beside it
            units = compose_units(scored, params.get("delta", 0.0), params.get("max_chars", 300.0), limit=limit)
            units = _with_items(units, ranking.scored)
            units = _with_antecedents(units, ranking.scored)
            units = _with_wrapped_lines(units, ranking.scored, hits)
            units = _proposal_and_decision(units, ranking.scored, hits)
            units = _covering(question, units, scored, english=language == "en")
            units = _each_year(question, units, scored, hits)
        chosen = in_reading_order(units)
        sentences: list[tuple[str, int]] = []  # text and the [n] it cites
        for i, s in enumerate(chosen):
            c = s.candidate
            hit = hits[c.hit_index]
            text = _clean(c.text)
            if i > 0 and _same_sentence(chosen[i - 1].candidate, c, hits):
                # the next line of the same sentence (see _with_wrapped_lines): one sentence, one marker
                sentences[-1] = (f"{sentences[-1][0]} {text}", sentences[-1][1])
                continue
            if (
                c.kind == "table_row"
                and qtype in (QuestionType.AMOUNT, QuestionType.COUNT, QuestionType.OTHER)
                and not is_written_row(c.text)
            ):
                header = _table_header(hit, c)
                if header:
                    text = f"{header}: {text}"
            elif i == 0 and hit.chunk.paragraph:
                # a fact from a protocol's §: who decided, when, § and case number lead it, as for a decision
                head = _decision_lead(s, hits)
                text = f"{head}: {_clean(c.text, bullet=False)}" if head else text
            sentences.append((text, c.hit_index + 1))
        lines = [f"{_ended(text)} [{n}]" for text, n in sentences]
        return Composition(" ".join(lines), probability, tuple(chosen), answers, ranked)

    def _decision(self, ranking: Ranking, hits: Sequence[Hit]) -> tuple[str, list[Scored]]:
        """The best-scored decision and its items, led by body, date, § and case number; the decision verbs are
        the passage's own ("beviljar", "avslår"), so polarity is never taken from the question."""
        top = ranking.scored[:5]
        best = next((s for s in top if _is_decision(s.candidate, hits)), None)
        if best is None:
            return "", []
        hit_index = best.candidate.hit_index
        same = sorted(
            (s for s in ranking.scored if s.candidate.hit_index == hit_index), key=lambda s: s.candidate.ordinal
        )
        after = best.candidate.ordinal if best.candidate.kind != "decision_item" else -1
        items = [s for s in same if s.candidate.kind == "decision_item" and s.candidate.ordinal > after]
        items = items[:MAX_DECISION_ITEMS] or [best]
        lead_in = next(
            (
                s
                for s in reversed(same)
                if s.candidate.ordinal < items[0].candidate.ordinal
                and _DECISION_VERB.search(s.candidate.text)
                and s.candidate.kind != "decision_item"
            ),
            None,
        )
        chosen = in_reading_order(_proposal_and_decision(([lead_in] if lead_in else []) + items, ranking.scored, hits))
        head = _decision_lead(items[0], hits)
        lines = []
        for i, s in enumerate(chosen):
            text = _clean(s.candidate.text)
            if i == 0 and head:
                # no list number after the lead: "…, RJL 2019/1998: 1. Bevilja" would read as two sentences
                text = f"{head}: {_clean(s.candidate.text, bullet=False)}"
            lines.append(f"{_ended(text)} [{s.candidate.hit_index + 1}]")
        return "\n".join(lines), chosen

    def _list(self, ranking: Ranking, hits: Sequence[Hit], language: Language) -> tuple[str, list[Scored]]:
        """One line per item, across all the passages retrieval gathered: each item clears the learned threshold
        itself, or scores within the learned `delta` of the best (the margin a second unit of an answer may
        fall behind the first, `choose_compose_params`), as the items of a list answer alike."""
        items: list[Scored] = []
        floor = ranking.scored[0].score - self.selector.compose["delta"] if ranking.scored else 0.0
        for s in ranking.scored:
            if ranking.model.probability(s.score) < ranking.model.threshold and s.score < floor:
                break
            if len(_LETTER_WORD.findall(s.candidate.text)) < 3 or _duplicate(s.candidate.text, items):
                continue
            items.append(s)
        items = _proposal_and_decision(_with_items(items, ranking.scored), ranking.scored, hits, MAX_LIST_ITEMS)
        if len(items) < 2:
            return "", []
        shown = in_reading_order(items[:MAX_LIST_ITEMS])
        lines = [f"- {_clean(s.candidate.text, bullet=False)} [{s.candidate.hit_index + 1}]" for s in shown]
        rest = len(items) - len(shown)
        if rest > 0:
            lines.append(f"och {rest} till." if language == "sv" else f"and {rest} more.")
        return "\n".join(lines), shown


def text_hit(text: str, title: str = "") -> Hit:
    """A plain text as the one passage of an answer."""
    chunk = Chunk(
        doc_id="text", ordinal=0, text=text, page_start=1, page_end=1, meta=DocumentMeta(title=title), source=""
    )
    return Hit(chunk, 1.0, 1)


def _is_table_header(cand: Candidate, hits: Sequence[Hit]) -> bool:
    return cand.ordinal == 0 and cand.n_units > 1 and _in_table(cand, hits) and not is_agenda_item(cand.text)


def _table_header(hit: Hit, cand: Candidate) -> str:
    """The first line of a table passage (its header row), when the row is not that line itself. An agenda's
    passage has no header row: its first line is item 1 ("1 Upprop och val av protokollsjusterare")."""
    first = hit.chunk.text.strip().splitlines()[0] if hit.chunk.text.strip() else ""
    if not first or first.strip() in cand.text or cand.ordinal == 0 or is_agenda_item(first):
        return ""
    return _clean(first)


def _is_decision(cand: Candidate, hits: Sequence[Hit]) -> bool:
    part = (hits[cand.hit_index].chunk.part or "").lower()
    return cand.kind == "decision_item" or (
        part.startswith(("beslut", "förslag")) and bool(_DECISION_VERB.search(cand.text))
    )


def _decision_lead(best: Scored, hits: Sequence[Hit], language: Language = "sv") -> str:
    """Who decided, when, § and case number ("Direktionen, 2022-02-10, § 29, RJL 2022/258"), from the passage's
    metadata; what the unit itself states is not repeated."""
    c = hits[best.candidate.hit_index].chunk
    bits = [c.meta.body or "", c.date or c.meta.date or ""]
    if c.paragraph and f"§ {c.paragraph}" not in best.candidate.text:
        bits.append(f"§ {c.paragraph}")
    bits.extend(n for n in display_case_numbers(c.case_numbers) if n not in best.candidate.text)
    return ", ".join(b for b in bits if b)
