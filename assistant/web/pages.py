"""The web page: the chat at /, the documents page, page views, original files and feedback.

The pages are static HTML and vanilla JavaScript under `static/` (no build step). This router adds the JSON
they read (`/api/documents`, a page's text with the cited passage located), the views a citation opens
(`/documents/{id}/pages/{n}`, `/documents/{id}/file`) and feedback (`/api/feedback`, its export).
"""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from assistant.feedback import Feedback, FeedbackStore
from assistant.settings import AssistantSettings
from indexer.catalog import Catalog, CatalogEntry
from indexer.schema import DOC_TYPES

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
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


def _entry(request: Request, doc_id: str) -> CatalogEntry:
    entry = _catalog(request).get(doc_id) if _DOC_ID.match(doc_id) else None
    if entry is None:
        raise HTTPException(404, f"Okänt dokument: {doc_id}. / Unknown document: {doc_id}.")
    return entry


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


def find_highlights(text: str, passages: Sequence[str] = (), quotes: Sequence[str] = ()) -> list[Highlight]:
    """Non-overlapping runs of `text` to mark, in order; quotes win over the passage around them.

    Matching ignores differences in whitespace, so a chunk's text is found on the page it was cut from.
    """
    if not text:
        return []
    norm, index = _collapsed(text)
    level = [0] * len(text)
    for weight, needles in ((1, passages), (2, quotes)):
        for needle in needles:
            for start, end in _spans(norm, needle[:MAX_HIGHLIGHT_CHARS]):
                for i in range(index[start], index[end - 1] + 1):
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
    entries = list(_catalog(request).entries())
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


@router.post("/api/feedback", status_code=201)
def post_feedback(body: FeedbackRequest, request: Request) -> dict[str, Any]:
    comment = (body.comment or "").strip() or None
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
        )
    )
    logger.info("feedback %s stored: %s", fid, body.rating)
    return {"ok": True, "id": fid}


@router.get("/api/feedback/export")
def export_feedback(request: Request) -> dict[str, Any]:
    """Feedback as candidate evaluation cases (the gold set's shape), for a person to review."""
    cases = feedback_store(request).export_candidates()
    return {"version": 1, "count": len(cases), "cases": cases}


# -- HTML -----------------------------------------------------------------------------------------------------


@router.get("/", include_in_schema=False)
def chat_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/documents", include_in_schema=False)
def documents_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "documents.html", media_type="text/html")


_WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "skip": "Hoppa till sidans text",
        "nav": "Huvudmeny",
        "chat": "Fråga arkivet",
        "documents": "Dokument",
        "page_of": "Sida {n} av {total}",
        "type": "Typ",
        "body": "Organ",
        "date": "Datum",
        "publisher": "Utgivare",
        "source": "Fil",
        "read": "Inläsning",
        "read_text": "textlager",
        "read_ocr": "OCR (skannad sida, texten kan innehålla fel)",
        "read_skipped": "hoppades över",
        "text": "Sidans text",
        "marked": "Det citerade stycket är markerat.",
        "go_marked": "Gå till det markerade stycket",
        "not_marked": "Det citerade stycket hittades inte ordagrant på den här sidan.",
        "pages": "Sidor",
        "previous": "Föregående sida",
        "next": "Nästa sida",
        "pdf": "Öppna original-PDF",
        "empty": "Sidan har ingen text.",
        "other_lang": "English",
        "title": "{title}, sida {n} – Arkiv",
    },
    "en": {
        "skip": "Skip to the page text",
        "nav": "Main menu",
        "chat": "Ask the archive",
        "documents": "Documents",
        "page_of": "Page {n} of {total}",
        "type": "Type",
        "body": "Body",
        "date": "Date",
        "publisher": "Publisher",
        "source": "File",
        "read": "Read by",
        "read_text": "text layer",
        "read_ocr": "OCR (scanned page, the text may contain errors)",
        "read_skipped": "skipped",
        "text": "Text of the page",
        "marked": "The cited passage is highlighted.",
        "go_marked": "Go to the highlighted passage",
        "not_marked": "The cited passage was not found word for word on this page.",
        "pages": "Pages",
        "previous": "Previous page",
        "next": "Next page",
        "pdf": "Open the original PDF",
        "empty": "The page has no text.",
        "other_lang": "Svenska",
        "title": "{title}, page {n} – Arkiv",
    },
}

_TYPE_LABELS = {
    "sv": {
        "protokoll": "Protokoll",
        "kallelse": "Kallelse/dagordning",
        "tjansteskrivelse": "Tjänsteskrivelse",
        "arsredovisning": "Årsredovisning",
        "plan": "Plan",
        "ovrigt": "Övrigt",
    },
    "en": {
        "protokoll": "Minutes",
        "kallelse": "Notice/agenda",
        "tjansteskrivelse": "Official report",
        "arsredovisning": "Annual report",
        "plan": "Plan",
        "ovrigt": "Other",
    },
}


def _marked_text(text: str, marks: Sequence[Highlight]) -> str:
    parts: list[str] = []
    at = 0
    for i, mark in enumerate(marks):
        parts.append(html.escape(text[at : mark.start]))
        ident = ' id="passage" tabindex="-1"' if i == 0 else ""
        parts.append(f'<mark class="hl-{mark.kind}"{ident}>{html.escape(text[mark.start : mark.end])}</mark>')
        at = mark.end
    parts.append(html.escape(text[at:]))
    return "".join(parts)


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
    w = _WORDS[lang]
    e = html.escape
    marks = find_highlights(page.text, highlight, quote_)
    total = len(entry.pages)
    meta_rows = [
        (w["type"], _TYPE_LABELS[lang].get(entry.meta.doc_type, entry.meta.doc_type)),
        (w["body"], entry.meta.body),
        (w["date"], entry.meta.date or (str(entry.meta.year) if entry.meta.year else None)),
        (w["publisher"], entry.meta.publisher),
        (w["source"], entry.source),
        (w["read"], w[f"read_{page.method}"] + (f" – {page.note}" if page.note else "")),
    ]
    meta_html = "".join(f"<div><dt>{e(k)}</dt><dd>{e(str(v))}</dd></div>" for k, v in meta_rows if v)

    def link(number: int, label: str, rel: str) -> str:
        if entry.page(number) is None:
            return ""
        query = urlencode({"lang": lang}) if lang != "sv" else ""
        href = f"/documents/{quote(entry.doc_id)}/pages/{number}" + (f"?{query}" if query else "")
        return f'<a class="button secondary" rel="{rel}" href="{e(href)}">{e(label)}</a>'

    other = "en" if lang == "sv" else "sv"
    other_query = [("highlight", h) for h in highlight] + [("quote", q) for q in quote_] + [("lang", other)]
    other_href = f"/documents/{quote(entry.doc_id)}/pages/{page.number}?{urlencode(other_query)}"
    status = ""
    if highlight or quote_:
        status = (
            f'<p class="page-status found">{e(w["marked"])} <a href="#passage">{e(w["go_marked"])}</a></p>'
            if marks
            else f'<p class="page-status">{e(w["not_marked"])}</p>'
        )
    pdf = ""
    file_url = _file_url(entry)
    if file_url and _original(entry) is not None:
        pdf = f'<a class="button secondary" href="{e(file_url)}#page={page.number}">{e(w["pdf"])}</a>'
    body_text = _marked_text(page.text, marks) if page.text.strip() else f"<em>{e(w['empty'])}</em>"
    doc = f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(w["title"].format(title=entry.meta.title, n=page.number))}</title>
<link rel="icon" href="{FAVICON}" type="image/svg+xml">
<link rel="stylesheet" href="/static/style.css">
</head>
<body class="page-view">
<a class="skip-link" href="#page-text">{e(w["skip"])}</a>
<header class="site-header">
  <a class="brand" href="/"><span class="logo" aria-hidden="true">A</span><span>Arkiv</span></a>
  <nav class="site-nav" aria-label="{e(w["nav"])}">
    <a href="/">{e(w["chat"])}</a>
    <a href="/documents">{e(w["documents"])}</a>
  </nav>
  <a class="lang-switch" href="{e(other_href)}" lang="{other}" hreflang="{other}">{e(w["other_lang"])}</a>
</header>
<main id="main" class="container">
  <p class="eyebrow">{e(w["page_of"].format(n=page.number, total=total))}</p>
  <h1>{e(entry.meta.title)}</h1>
  <dl class="meta-list">{meta_html}</dl>
  {status}
  <nav class="page-nav" aria-label="{e(w["pages"])}">{link(page.number - 1, w["previous"], "prev")}
  {link(page.number + 1, w["next"], "next")}{pdf}</nav>
  <h2 class="visually-hidden" id="page-text-heading">{e(w["text"])}</h2>
  <div id="page-text" class="page-text" role="region" aria-labelledby="page-text-heading" tabindex="0">{body_text}</div>
</main>
</body>
</html>
"""
    return HTMLResponse(doc)
