"""The web page: the chat at /, the documents page, page views, original files and feedback.

The pages are Jinja2 templates under `templates/` with vanilla JavaScript and CSS under `static/` (no build
step, no inline script). Every text a user reads comes from one catalogue, `static/texts.json` (Swedish and
English): the templates render it through `t(key)`, and the browser loads the same file. This router adds the
JSON the pages read (`/api/documents`, a page's text with the cited passage located), the views a citation
opens (`/documents/{id}/pages/{n}`, `/documents/{id}/file`) and feedback (`/api/feedback`, its export).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import unicodedata
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from assistant.access import Principal
from assistant.audit import AuditLog
from assistant.feedback import Feedback, FeedbackStore
from assistant.settings import AssistantSettings
from indexer.catalog import Catalog, CatalogEntry
from indexer.schema import DOC_TYPES

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEXTS_FILE = STATIC_DIR / "texts.json"
LANGUAGES = ("sv", "en")
FAVICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' "
    "height='32' rx='7' fill='%230b57d0'/%3E%3Cpath d='M10 24l6-16 6 16M12.4 18h7.2' fill='none' stroke='%23fff' "
    "stroke-width='3' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E"
)
MAX_HIGHLIGHT_CHARS = 4000
_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_store_lock = threading.Lock()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    store = getattr(app.state, "feedback_store", None)
    if store is not None:
        store.close()
        app.state.feedback_store = None


router = APIRouter(lifespan=_lifespan)
router.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


# -- texts and templates --------------------------------------------------------------------------------------


@cache
def texts() -> dict[str, dict[str, str]]:
    """The catalogue of UI texts by language (static/texts.json), shared with the browser."""
    data: dict[str, dict[str, str]] = json.loads(TEXTS_FILE.read_text(encoding="utf-8"))
    return data


_VAR = re.compile(r"\{(\w+)\}")


def text(lang: str, key: str, **variables: object) -> str:
    """One UI text with its {variables} filled in; Swedish when the language lacks it, the key when both do."""
    catalogue = texts()
    found = catalogue.get(lang, {}).get(key) or catalogue["sv"].get(key, key)
    return _VAR.sub(lambda m: str(variables[m[1]]) if m[1] in variables else m[0], found)


@pass_context
def _t(context: Context, key: str, **variables: object) -> str:
    return text(str(context.get("lang", "sv")), key, **variables)


@router.get("/ui-texts.js", include_in_schema=False)
def texts_script() -> Response:
    """The same catalogue for the browser, as a script the pages load before their own (no inline script)."""
    body = "window.ArkivTexts = " + json.dumps(texts(), ensure_ascii=False) + ";\n"
    return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.globals["t"] = _t
templates.env.globals["favicon"] = FAVICON


# -- where things come from -----------------------------------------------------------------------------------


def _catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.assistant.catalog
    return catalog


def _settings(request: Request) -> AssistantSettings:
    settings: AssistantSettings = request.app.state.settings
    return settings


def feedback_store(request: Request) -> FeedbackStore:
    """The app's feedback store, opened on first use at ARKIV_DATA_DIR/ARKIV_FEEDBACK_DB."""
    with _store_lock:
        store: FeedbackStore | None = getattr(request.app.state, "feedback_store", None)
        if store is None:
            settings = _settings(request)
            store = FeedbackStore(Path(settings.data_dir) / settings.feedback_db)
            request.app.state.feedback_store = store
    return store


# -- access (who may see which document): a document one may not see is as unknown as one that does not exist --


def _principal(request: Request) -> Principal:
    from assistant.web.routes import get_principal

    return get_principal(request)


def _audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


def _entry(request: Request, doc_id: str) -> CatalogEntry:
    principal = _principal(request)
    entry = _catalog(request).get(doc_id) if _DOC_ID.match(doc_id) else None
    if entry is None or not principal.sees(entry.meta.access_groups):
        raise HTTPException(404, f"Okänt dokument: {doc_id}. / Unknown document: {doc_id}.")
    _audit(request).record(principal, "document", documents=[entry.doc_id], detail={"path": request.url.path})
    return entry


# -- end of access --


def _original(entry: CatalogEntry) -> Path | None:
    """The original file of a document, when it lies inside the corpus root it was indexed from."""
    root = Path(entry.root).resolve()
    path = (root / entry.source).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def _is_pdf(entry: CatalogEntry) -> bool:
    return entry.source.lower().endswith(".pdf")


def _file_url(entry: CatalogEntry) -> str | None:
    return f"/documents/{quote(entry.doc_id)}/file" if _is_pdf(entry) else None


# -- finding a cited passage on a page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Highlight:
    """A run of page text to mark: part of the cited passage, or one of the sentences the answer quotes."""

    start: int
    end: int
    kind: Literal["passage", "quote"]


def _collapsed(text: str) -> tuple[str, list[int]]:
    """The text with each run of whitespace as one space, and the original index of every character kept."""
    chars: list[str] = []
    index: list[int] = []
    previous_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if previous_space:
                continue
            chars.append(" ")
            previous_space = True
        else:
            chars.append(ch)
            previous_space = False
        index.append(i)
    return "".join(chars), index


def _occurrences(haystack: str, needle: str, start: int = 0) -> list[tuple[int, int]]:
    out = []
    at = haystack.find(needle, start)
    while at >= 0:
        out.append((at, at + len(needle)))
        at = haystack.find(needle, at + len(needle))
    return out


def _spans(norm: str, needle: str) -> list[tuple[int, int]]:
    """Where a needle lies in the collapsed page text: whole, or else line by line (a passage may run over
    a page break or be laid out differently from the page)."""
    whole = " ".join(needle.split())
    if len(whole) < 3:
        return []
    found = _occurrences(norm, whole)
    if found:
        return found
    lines = [" ".join(line.split()) for line in needle.splitlines()]
    out: list[tuple[int, int]] = []
    cursor = 0
    for line in lines:
        if len(line) < 12:
            continue
        at = norm.find(line, cursor)
        if at < 0 and cursor == 0:
            continue
        if at < 0:
            at = norm.find(line)
        if at >= 0:
            out.append((at, at + len(line)))
            cursor = at + len(line)
    return out


_WORD = re.compile(r"\w+")
_LABEL = re.compile(r"(?:^|(?<=; )|(?<=\n))[^:;\n]{1,40}: ")
MIN_ROW_COVERAGE = 0.6
"""Share of a passage's page-specific word weight that the lines found for it must hold to be marked."""
UNMATCHED_COST = 3.0
"""How much a page word that is not in the passage counts against its line, against one that is."""


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if len(w) > 1 or w.isdigit()]


def _row_lines(text: str, needle: str) -> list[tuple[int, int]]:
    """Where a passage that is not on the page word for word lies: the run of lines that holds its words.

    Table rows are indexed as "Column: value; Column: value", while the page has the cells laid out in
    columns over several lines. Each page line is weighed by the passage words it holds against those it
    does not, each word by how rare it is on the page (so "Stickprov" or "2 ggr/år", in every row, count
    little). A run starts at a line that holds more than it lacks, goes on down while lines add the passage's
    words or repeat them, then up while they add words it lacks; the run that holds most is marked when that
    is most of the passage's weight on this page.
    """
    wanted = set(_words(_LABEL.sub("", needle)))
    lines: list[tuple[int, int, list[str]]] = []
    at = 0
    for line in text.splitlines(keepends=True):
        lines.append((at, at + len(line.rstrip("\r\n")), _words(line)))
        at += len(line)
    spread: dict[str, int] = {}
    for _, _, words in lines:
        for w in set(words):
            spread[w] = spread.get(w, 0) + 1

    def weight(w: str) -> float:
        return math.log(1 + len(lines) / spread[w])

    present = {w for w in wanted if w in spread}
    total = math.fsum(weight(w) for w in present)
    if len(present) < 3 or total <= 0:
        return []

    def score(i: int, held: set[str]) -> float:
        words = set(lines[i][2])
        new = math.fsum(weight(w) for w in words & wanted - held)
        return new - UNMATCHED_COST * math.fsum(weight(w) for w in words - wanted)

    def run_from(anchor: int) -> tuple[float, int, int]:
        held = set(lines[anchor][2]) & wanted
        first = last = anchor
        while last + 1 < len(lines) and (not lines[last + 1][2] or score(last + 1, held) >= 0):
            last += 1
            held |= set(lines[last][2]) & wanted
        while first > 0 and (not lines[first - 1][2] or score(first - 1, held) > 0):
            first -= 1
            held |= set(lines[first][2]) & wanted
        # fsum: a set's order changes with the hash seed, so a plain sum could break a tie between equal runs
        return math.fsum(weight(w) for w in held), first, -last  # equal weight: the tighter run

    anchors = [i for i in range(len(lines)) if score(i, set()) > 0]
    if not anchors:
        return []
    held_weight, first, minus_last = max(run_from(i) for i in anchors)
    last = -minus_last
    if held_weight < MIN_ROW_COVERAGE * total:
        return []
    return [(s, e) for s, e, words in lines[first : last + 1] if words and e > s]


def find_highlights(text: str, passages: Sequence[str] = (), quotes: Sequence[str] = ()) -> list[Highlight]:
    """Non-overlapping runs of `text` to mark, in order; quotes win over the passage around them.

    Matching ignores differences in whitespace, so a chunk's text is found on the page it was cut from; a
    passage that is not on the page word for word (a table row, indexed as "Column: value; ...") is found
    by its words, line by line.
    """
    if not text:
        return []
    norm, index = _collapsed(text)
    level = [0] * len(text)
    for weight, needles in ((1, passages), (2, quotes)):
        for needle in needles:
            needle = needle[:MAX_HIGHLIGHT_CHARS]
            spans = [(index[start], index[end - 1] + 1) for start, end in _spans(norm, needle)]
            for start, end in spans or _row_lines(text, needle):
                for i in range(start, end):
                    level[i] = max(level[i], weight)
    out: list[Highlight] = []
    i = 0
    while i < len(level):
        if level[i] == 0:
            i += 1
            continue
        j = i
        while j < len(level) and level[j] == level[i]:
            j += 1
        out.append(Highlight(i, j, "quote" if level[i] == 2 else "passage"))
        i = j
    return out


# -- JSON -----------------------------------------------------------------------------------------------------


def _meta_json(entry: CatalogEntry) -> dict[str, Any]:
    m = entry.meta
    return {
        "id": entry.doc_id,
        "title": m.title,
        "source": entry.source,
        "type": m.doc_type,
        "body": m.body,
        "publisher": m.publisher,
        "date": m.date,
        "year": m.year,
        "language": m.language,
        "format": Path(entry.source).suffix.lower().lstrip(".") or "text",
        "pages": len(entry.pages),
        "file_url": _file_url(entry),
    }


def document_summary(entry: CatalogEntry) -> dict[str, Any]:
    """One row of the documents page: what was indexed and how each page was read."""
    read = {"text": 0, "ocr": 0, "skipped": 0}
    for page in entry.pages:
        read[page.method] = read.get(page.method, 0) + 1
    qualities = [p.quality for p in entry.pages if p.method != "skipped"]
    return {
        **_meta_json(entry),
        "chunks": entry.chunks,
        "read": read,
        "skipped": [{"page": p.number, "note": p.note} for p in entry.pages if p.method == "skipped"],
        "notes": [
            {"page": p.number, "method": p.method, "note": p.note}
            for p in entry.pages
            if p.note and p.method != "skipped"
        ],
        "quality": round(sum(qualities) / len(qualities), 3) if qualities else None,
        "indexed_at": datetime.fromtimestamp(entry.indexed_at, tz=UTC).isoformat(timespec="seconds"),
        "view_url": f"/documents/{quote(entry.doc_id)}/pages/1" if entry.pages else None,
    }


def _fold(text: str) -> str:
    """Lower case without diacritics, so that 'arsredovisning' finds 'Årsredovisning'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _matches(entry: CatalogEntry, words: Sequence[str]) -> bool:
    haystack = _fold(f"{entry.meta.title} {entry.source}")
    return all(w in haystack for w in words)


@router.get("/api/documents")
def list_documents(request: Request, q: str = Query("", max_length=200)) -> dict[str, Any]:
    """What is indexed, optionally searched by title (every word must occur, case and accents ignored)."""
    words = [_fold(w) for w in q.split()]
    principal = _principal(request)  # access: only documents the user may see, counted as well as listed
    entries = [e for e in _catalog(request).entries() if principal.sees(e.meta.access_groups)]
    chosen = [e for e in entries if _matches(e, words)]
    chosen.sort(key=lambda e: (e.meta.date or str(e.meta.year or ""), e.meta.title), reverse=True)
    return {
        "query": q,
        "total": len(entries),
        "count": len(chosen),
        "documents": [document_summary(e) for e in chosen],
        "bodies": sorted({e.meta.body for e in entries if e.meta.body}),
        "types": list(DOC_TYPES),
    }


Highlights = Annotated[tuple[str, ...], Query(max_length=5, description="Passages to mark on the page.")]
Quotes = Annotated[tuple[str, ...], Query(alias="quote", max_length=10, description="Quoted sentences to mark.")]


@router.get("/api/documents/{doc_id}/pages/{n}")
def page_json(
    request: Request,
    doc_id: str,
    n: int,
    highlight: Highlights = (),
    quote_: Quotes = (),
) -> dict[str, Any]:
    """One page's text and how it was read; with `highlight`/`quote`, where those lie on it."""
    entry = _entry(request, doc_id)
    page = entry.page(n)
    if page is None:
        raise HTTPException(404, f"{entry.meta.title} har ingen sida {n}. / {entry.meta.title} has no page {n}.")
    marks = find_highlights(page.text, highlight, quote_)
    return {
        "document": _meta_json(entry),
        "page": {
            "number": page.number,
            "text": page.text,
            "method": page.method,
            "quality": round(page.quality, 3),
            "note": page.note,
        },
        "highlights": [{"start": h.start, "end": h.end, "kind": h.kind} for h in marks],
        "view_url": f"/documents/{quote(entry.doc_id)}/pages/{page.number}",
        "file_url": f"{_file_url(entry)}#page={page.number}" if _is_pdf(entry) else None,
        "previous": page.number - 1 if entry.page(page.number - 1) else None,
        "next": page.number + 1 if entry.page(page.number + 1) else None,
    }


@router.get("/documents/{doc_id}/file")
def original_file(request: Request, doc_id: str) -> FileResponse:
    """The original PDF, shown inline (the chat links to it with #page=N)."""
    entry = _entry(request, doc_id)
    path = _original(entry) if _is_pdf(entry) else None
    if path is None:
        raise HTTPException(
            404,
            "Originalfilen finns inte att visa; sidvyn visar texten. / "
            "The original file cannot be shown; the page view shows the text.",
        )
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=path.name,
        content_disposition_type="inline",
        headers={"X-Content-Type-Options": "nosniff"},
    )


# -- feedback -------------------------------------------------------------------------------------------------


class FeedbackRequest(BaseModel):
    """Thumbs up or down on one answer, with what was asked and answered."""

    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"]
    comment: StrictStr | None = Field(None, max_length=2000)
    question: StrictStr = Field(min_length=1, max_length=2000)
    answer: StrictStr = Field(max_length=20_000)
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    query: StrictStr | None = Field(None, max_length=4000)
    status: Literal["answered", "not_found"] | None = None

    @model_validator(mode="after")
    def _valid_text(self) -> FeedbackRequest:
        """Every text, nested citations included, must be storable Unicode (a lone surrogate is a 422)."""
        try:
            json.dumps(self.model_dump(), ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("invalid Unicode (a lone surrogate)") from None
        return self


def _cited_groups(request: Request, citations: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The access groups of the documents an answer cites (for who may later export the feedback)."""
    groups: set[str] = set()
    catalog = _catalog(request)
    for c in citations:
        doc = c.get("document") if isinstance(c, dict) else None
        doc_id = doc.get("id") if isinstance(doc, dict) else None
        entry = catalog.get(doc_id) if isinstance(doc_id, str) and _DOC_ID.match(doc_id) else None
        if entry is not None:
            groups.update(g for g in entry.meta.access_groups if g != "public")
    return tuple(sorted(groups))


@router.post("/api/feedback", status_code=201)
def post_feedback(body: FeedbackRequest, request: Request) -> dict[str, Any]:
    comment = (body.comment or "").strip() or None
    principal = _principal(request)
    fid = feedback_store(request).add(
        Feedback(
            rating=body.rating,
            question=body.question,
            answer=body.answer,
            citations=body.citations,
            comment=comment,
            source="web",
            query=body.query,
            status=body.status,
            user=principal.user,
            access_groups=_cited_groups(request, body.citations),
        )
    )
    logger.info("feedback %s stored: %s", fid, body.rating)
    return {"ok": True, "id": fid}


@router.get("/api/feedback/export")
def export_feedback(request: Request) -> dict[str, Any]:
    """Feedback as candidate evaluation cases (the gold set's shape), for a person to review.

    Administrators only (ARKIV_ADMIN_GROUP): the questions may hold personal data. Feedback on answers that
    cite documents of groups the administrator is not in is left out."""
    principal = _principal(request)
    if principal.user is None:
        raise HTTPException(401, "Logga in för att exportera återkoppling. / Sign in to export feedback.")
    if not principal.is_admin(_settings(request).admin_group):
        raise HTTPException(
            403, "Bara administratörer får exportera återkoppling. / Only administrators may export feedback."
        )
    cases = feedback_store(request).export_candidates(visible=principal.sees)
    _audit(request).record(principal, "feedback_export", detail={"cases": len(cases)})
    return {"version": 1, "count": len(cases), "cases": cases}


# -- HTML -----------------------------------------------------------------------------------------------------


@router.get("/", include_in_schema=False)
def chat_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "chat.html",
        {
            "lang": "sv",
            "title_key": "title.chat",
            "body_class": "chat-page",
            "current": "chat",
            "skip_target": "question",
            "skip_key": "skip.question",
            "scripts": ("/ui-texts.js", "/static/i18n.js", "/static/app.js"),
            "doc_types": DOC_TYPES,
        },
    )


@router.get("/documents", include_in_schema=False)
def documents_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "documents.html",
        {
            "lang": "sv",
            "title_key": "title.documents",
            "body_class": "documents-page",
            "current": "documents",
            "skip_target": "main",
            "skip_key": "skip.main",
            "scripts": ("/ui-texts.js", "/static/i18n.js", "/static/documents.js"),
        },
    )


def _runs(text: str, marks: Sequence[Highlight]) -> list[dict[str, Any]]:
    """The page text as runs, marked or not, for the template to escape and wrap."""
    runs: list[dict[str, Any]] = []
    at = 0
    for i, mark in enumerate(marks):
        if mark.start > at:
            runs.append({"text": text[at : mark.start], "kind": None})
        runs.append({"text": text[mark.start : mark.end], "kind": mark.kind, "first": i == 0})
        at = mark.end
    if at < len(text):
        runs.append({"text": text[at:], "kind": None})
    return runs


@router.get("/documents/{doc_id}/pages/{n}", include_in_schema=False)
def page_view(
    request: Request,
    doc_id: str,
    n: int,
    highlight: Highlights = (),
    quote_: Quotes = (),
    lang: Literal["sv", "en"] = "sv",
) -> HTMLResponse:
    """A page's text as an accessible HTML page, with the cited passage marked."""
    entry = _entry(request, doc_id)
    page = entry.page(n)
    if page is None:
        raise HTTPException(404, f"{entry.meta.title} har ingen sida {n}. / {entry.meta.title} has no page {n}.")
    marks = find_highlights(page.text, highlight, quote_)
    m = entry.meta

    def href(number: int, language: str = lang, keep: bool = False) -> str | None:
        if entry.page(number) is None:
            return None
        query = [("highlight", h) for h in highlight] + [("quote", q) for q in quote_] if keep else []
        if language != "sv":
            query.append(("lang", language))
        return f"/documents/{quote(entry.doc_id)}/pages/{number}" + (f"?{urlencode(query)}" if query else "")

    read = text(lang, f"page.read.{page.method}") + (f" – {page.note}" if page.note else "")
    other = "en" if lang == "sv" else "sv"
    file_url = _file_url(entry)
    return templates.TemplateResponse(
        request,
        "page.html",
        {
            "lang": lang,
            "title_key": None,
            "body_class": "page-view",
            "current": None,
            "skip_target": "page-text",
            "skip_key": "page.skip",
            "scripts": (),
            "document": m,
            "page": page,
            "total": len(entry.pages),
            "meta_rows": [
                (text(lang, "panel.type"), text(lang, f"type.{m.doc_type}") if m.doc_type else None),
                (text(lang, "panel.body"), m.body),
                (text(lang, "panel.date"), m.date or (str(m.year) if m.year else None)),
                (text(lang, "page.publisher"), m.publisher),
                (text(lang, "page.read"), read),
            ],
            "asked": bool(highlight or quote_),
            "marks": marks,
            "runs": _runs(page.text, marks),
            "previous_href": href(page.number - 1),
            "next_href": href(page.number + 1),
            "pdf_href": f"{file_url}#page={page.number}" if file_url and _original(entry) is not None else None,
            "other_lang": other,
            "other_href": href(page.number, other, keep=True),
        },
    )
