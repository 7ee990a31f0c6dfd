"""Case histories for people: a case's timeline as JSON, as a cited answer, and as Slack blocks.

The case index (``indexer.cases``) is read from ``ARKIV_DATA_DIR/cases.json``, which every index run writes; when
it is missing (an index made before it existed) it is built from the store once and written. Every read takes
the caller's visible access groups: a step of a document the caller may not see is never shown or counted.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from assistant.serialize import citation_json
from assistant.types import Answer, Citation, Filters, Hit, Language
from indexer.casenumbers import find_case_numbers
from indexer.cases import CaseEntry, CaseIndex, case_index_path, write_case_index
from indexer.schema import payload_to_chunk
from indexer.swedish.casekinds import KIND_LABELS, is_case_course_question, is_precedent_question, precedent_terms
from indexer.swedish.stopwords import SWEDISH_STOP_WORDS

__all__ = [
    "case_course_answer",
    "case_index_for",
    "case_json",
    "case_numbers_asked",
    "case_url",
    "entry_citation",
    "entry_json",
    "format_case_blocks",
    "groups_of",
    "page_url",
    "precedent_answer",
]

logger = logging.getLogger(__name__)

PUBLIC = ("public",)
_lock = threading.Lock()
_cache: dict[Path, tuple[float, CaseIndex]] = {}


def case_index_for(assistant: Any) -> CaseIndex:
    """The case index beside the assistant's store, reread when an index run has rewritten it."""
    path = case_index_path(Path(assistant.settings.data_dir))
    with _lock:
        if not path.exists():
            logger.info("no case index at %s: building it from the store", path)
            index = write_case_index(assistant.store, path)
            _cache[path] = (path.stat().st_mtime, index)
            return index
        mtime = path.stat().st_mtime
        cached = _cache.get(path)
        if cached is None or cached[0] != mtime:
            cached = (mtime, CaseIndex.load(path))
            _cache[path] = cached
        return cached[1]


def groups_of(who: Any = None) -> tuple[str, ...]:
    """The access groups a caller sees: a Principal's `visible_groups`, Filters' `visible_groups`, a collection of
    group names, or (nobody in particular) public only."""
    if who is None:
        return PUBLIC
    groups = getattr(who, "visible_groups", who)
    if groups is None:
        return PUBLIC
    if isinstance(groups, str):
        return (groups,)
    return tuple(sorted(set(groups) | {"public"}))


def case_url(case_number: str) -> str:
    return "/cases/" + quote(case_number, safe="")


def page_url(entry: CaseEntry, language: Language = "sv") -> str:
    """The page view of a step, with its decision (or passage) marked."""
    mark = entry.decision or entry.proposal or entry.text
    query: list[tuple[str, str]] = [("highlight", mark[:600])]
    if language != "sv":
        query.append(("lang", language))
    return f"/documents/{quote(entry.doc_id)}/pages/{entry.page}?{urlencode(query)}"


def entry_citation(entry: CaseEntry, n: int) -> Citation:
    """A step as a numbered citation of its chunk, quoting its decision (or proposal) lines."""
    chunk = payload_to_chunk(entry.chunk)
    quoted = entry.decision or entry.proposal
    quotes = tuple(line for line in (quoted or "").splitlines() if line.strip() and line.strip() in chunk.text)
    return Citation(n, Hit(chunk, 1.0, n, "case"), quotes[:5])


def kind_label(kind: str, language: Language = "sv") -> str:
    return KIND_LABELS[language].get(kind, kind)


def entry_json(entry: CaseEntry, n: int, language: Language = "sv") -> dict[str, Any]:
    return {
        "n": n,
        "date": entry.date,
        "body": entry.body,
        "paragraph": entry.paragraph,
        "kind": entry.kind,
        "kind_label": kind_label(entry.kind, language),
        "heading": entry.heading,
        "decision": entry.decision,
        "proposal": entry.proposal,
        "document": {"id": entry.doc_id, "title": entry.title, "source": entry.source, "type": entry.doc_type},
        "title": entry.title,
        "page": entry.page,
        "page_end": entry.page_end,
        "page_url": page_url(entry, language),
        "citation": citation_json(entry_citation(entry, n)),
    }


def case_json(
    index: CaseIndex, case_number: str, groups: Collection[str], language: Language = "sv"
) -> dict[str, Any] | None:
    """{"case_number", "heading", "entries": [...]} in date order, or None when the caller sees no step of it."""
    steps = index.timeline(case_number, groups)
    summary = index.summary(case_number, groups)
    if not steps or summary is None:
        return None
    return {
        "case_number": summary.case_number,
        "heading": summary.heading,
        "bodies": list(summary.bodies),
        "first_date": summary.first_date,
        "last_date": summary.last_date,
        "url": case_url(summary.case_number),
        "entries": [entry_json(e, i, language) for i, e in enumerate(steps, 1)],
    }


# -- the assistant's answer -------------------------------------------------------------------------------------


def case_numbers_asked(question: str, history: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Case numbers in the question, or else in the latest earlier turn that named one (a follow-up)."""
    found = list(find_case_numbers(question))
    if found:
        return found
    for _, content in reversed(list(history)):
        found = list(find_case_numbers(content))
        if found:
            return found
    return []


_WORDS = {
    "sv": {
        "intro": "Ärendet {case}{about} förekommer i arkivet i {n} steg:",
        "one": "Ärendet {case}{about} förekommer i arkivet i ett steg:",
        "page": "s.",
        "decided": "beslut",
        "proposed": "förslag",
        "none": "Arkivet har inget om ärendet {case} som du har behörighet att se.",
    },
    "en": {
        "intro": "Case {case}{about} appears in the archive in {n} steps:",
        "one": "Case {case}{about} appears in the archive in one step:",
        "page": "p.",
        "decided": "decision",
        "proposed": "proposal",
        "none": "The archive holds nothing on case {case} that you may see.",
    },
}


def _one_line(text: str | None, limit: int = 240) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


def step_line(entry: CaseEntry, n: int, language: Language) -> str:
    """One step as one line of an answer: date, body, §, kind, what was decided or proposed, and its [n]."""
    w = _WORDS[language]
    head = ", ".join(
        x
        for x in (
            entry.date or ("odaterat" if language == "sv" else "undated"),
            entry.body,
            f"§ {entry.paragraph}" if entry.paragraph else None,
        )
        if x
    )
    what = kind_label(entry.kind, language)
    detail = ""
    if entry.decision:
        detail = f": {_one_line(entry.decision)}"
    elif entry.proposal:
        detail = f" ({w['proposed']}): {_one_line(entry.proposal)}"
    elif entry.heading:
        detail = f": {_one_line(entry.heading, 160)}"
    return f"{n}. {head}: {what}{detail} [{n}]"


def case_course_answer(
    assistant: Any, plan: Any, history: Sequence[tuple[str, str]] = (), groups: Collection[str] | None = None
) -> Answer | None:
    """The answer to a question about a case's course, composed from its timeline and cited step by step;
    None when the question is not about a case's course or names no case the index holds."""
    question = plan.question
    if not is_case_course_question(question):
        return precedent_answer(assistant, plan, history, groups)
    asked = case_numbers_asked(question, history)
    if not asked:
        return None
    index = case_index_for(assistant)
    filters: Filters = plan.filters
    seen = groups_of(
        groups if groups is not None else getattr(filters, "visible_groups", None) or filters.access_groups or None
    )
    case = next((index.resolve(c) for c in asked if index.resolve(c)), None)
    if case is None:
        return None
    steps = index.timeline(case, seen)
    language: Language = plan.language
    w = _WORDS[language]
    if not steps:
        return Answer(
            question=question,
            query=plan.query,
            text=w["none"].format(case=case),
            status="not_found",
            filters=filters,
            language=language,
            answerer="cases",
        )
    summary = index.summary(case, seen)
    about = f" ({summary.heading})" if summary and summary.heading else ""
    intro = (w["intro"] if len(steps) > 1 else w["one"]).format(case=case, about=about, n=len(steps))
    citations = tuple(entry_citation(e, i) for i, e in enumerate(steps, 1))
    text = intro + "\n" + "\n".join(step_line(e, i, language) for i, e in enumerate(steps, 1))
    return Answer(
        question=question,
        query=plan.query,
        text=text,
        status="answered",
        citations=citations,
        hits=tuple(c.hit for c in citations),
        filters=filters,
        language=language,
        answerer="cases",
    )


_PRECEDENT_WORDS = {
    "sv": {
        "intro": "Tidigare ärenden i arkivet med beslut eller förslag som liknar frågan ({n}):",
        "like": "liknande ärendet {case}",
    },
    "en": {
        "intro": "Earlier cases in the archive with decisions or proposals like the question ({n}):",
        "like": "like case {case}",
    },
}
MAX_PRECEDENTS = 5


def _words(text: str) -> set[str]:
    return {w[:6] for w in re.findall(r"[\wåäö]+", text.lower()) if len(w) > 3 and w not in SWEDISH_STOP_WORDS}


def precedent_answer(
    assistant: Any, plan: Any, history: Sequence[tuple[str, str]] = (), groups: Collection[str] | None = None
) -> Answer | None:
    """Earlier cases whose decision (or proposal) does what a precedent question asks ("Har vi beviljat liknande
    stöd förut?"), each with its decision and cited; the case the conversation is about lends its subject. None
    when the question is not a precedent question or no case fits."""
    question = plan.question
    if not is_precedent_question(question):
        return None
    index = case_index_for(assistant)
    filters: Filters = plan.filters
    seen = groups_of(
        groups if groups is not None else getattr(filters, "visible_groups", None) or filters.access_groups or None
    )
    verb, topic = precedent_terms(question, SWEDISH_STOP_WORDS)
    about = next((index.resolve(c) for c in case_numbers_asked(question, history) if index.resolve(c)), None)
    wanted = _words(" ".join(topic))
    if about:
        summary = index.summary(about, seen)
        wanted |= _words(summary.heading or "") if summary else set()
    scored: list[tuple[int, str, CaseEntry]] = []
    for case in index.case_numbers():
        if case == about:
            continue
        steps = [e for e in index.timeline(case, seen) if e.decision or e.proposal]
        if not steps or index.resolve(case) != case:
            continue
        step = steps[-1]
        said = (step.decision or step.proposal or "").lower()
        if verb and verb not in said:
            continue
        overlap = len(wanted & _words(f"{step.heading or ''} {said}")) if wanted else 0
        if wanted and not overlap and not verb:
            continue
        scored.append((overlap, step.date or "", step))
    if not scored:
        return None
    scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
    chosen = [e for _, _, e in scored[:MAX_PRECEDENTS]]
    chosen.sort(key=lambda e: e.sort_date)
    language: Language = plan.language
    lines = [_PRECEDENT_WORDS[language]["intro"].format(n=len(chosen))]
    for i, e in enumerate(chosen, 1):
        head = ", ".join(
            x for x in (e.case_number, e.heading, e.date, e.body, f"§ {e.paragraph}" if e.paragraph else None) if x
        )
        lines.append(f"{i}. {head}: {_one_line(e.decision or e.proposal)} [{i}]")
    citations = tuple(entry_citation(e, i) for i, e in enumerate(chosen, 1))
    return Answer(
        question=question,
        query=plan.query,
        text="\n".join(lines),
        status="answered",
        citations=citations,
        hits=tuple(c.hit for c in citations),
        filters=filters,
        language=language,
        answerer="cases",
    )


# -- Slack ------------------------------------------------------------------------------------------------------

_SLACK = {
    "sv": {
        "title": "Ärende {case}",
        "none": "Arkivet har inget om ärendet {case} som du kan se.",
        "open": "Öppna sidan",
        "timeline": "Hela tidslinjen",
        "steps": "{n} steg",
    },
    "en": {
        "title": "Case {case}",
        "none": "The archive holds nothing on case {case} that you can see.",
        "open": "Open the page",
        "timeline": "The whole timeline",
        "steps": "{n} steps",
    },
}


def _mrkdwn_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_case_blocks(
    case_number: str, steps: Sequence[CaseEntry], public_url: str, language: Language = "sv"
) -> list[dict[str, Any]]:
    """A case's timeline as Slack Block Kit blocks: a header, one section per step (date, body, §, kind, decision,
    a link to the page), and a link to the case page. Pure: the same steps give the same blocks."""
    w = _SLACK[language]
    base = public_url.rstrip("/")
    title = w["title"].format(case=case_number)
    if not steps:
        return [
            {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn_escape(w["none"].format(case=case_number))}}
        ]
    heading = next((e.heading for e in steps if e.paragraph and e.heading), None) or steps[0].heading
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    context = [w["steps"].format(n=len(steps))] + ([heading] if heading else [])
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn_escape(" · ".join(context))[:300]}]}
    )
    for i, e in enumerate(steps, 1):
        where = ", ".join(x for x in (e.body, f"§ {e.paragraph}" if e.paragraph else None) if x)
        date = e.date or ("odaterat" if language == "sv" else "undated")
        lines = [
            f"*{date}* · {_mrkdwn_escape(kind_label(e.kind, language))}"
            + (f" · {_mrkdwn_escape(where)}" if where else "")
        ]
        said = e.decision or e.proposal or e.heading
        if said:
            lines.append(">" + _mrkdwn_escape(_one_line(said, 400)))
        page = "s." if language == "sv" else "p."
        lines.append(f"<{base}{page_url(e, language)}|{_mrkdwn_escape(e.title)}, {page} {e.page}>")
        blocks.append(
            {
                "type": "section",
                "block_id": f"arkiv_case_step_{i}",
                "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]},
            }
        )
    blocks.append(
        {
            "type": "actions",
            "block_id": "arkiv_case_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "arkiv_case_open",
                    "text": {"type": "plain_text", "text": w["timeline"]},
                    "url": base + case_url(case_number),
                }
            ],
        }
    )
    return blocks[:50]


_CASE_COMMAND = re.compile(r"^\s*(?:ärende|arende|case|dnr)\s+(?P<case>.+?)\s*$", re.IGNORECASE)


def case_command(text: str) -> str | None:
    """The case number asked for by a `/arkiv ärende RJL 2022/258` command, or None for other commands."""
    m = _CASE_COMMAND.match(text or "")
    return m.group("case") if m else None
