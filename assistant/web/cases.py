"""Case histories on the web: GET /api/cases?q=, GET /api/cases/{case_number} and the case page /cases/{case_number}.

A case number holds a slash ("RJL 2022/258"): clients send it percent-encoded, and the routes take the rest of the
path. Every read is limited to the documents the caller may see.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from assistant.cases import case_index_for, case_json, case_url, groups_of
from assistant.web.pages import templates

router = APIRouter()

MAX_CASE_CHARS = 80

_WORDS = {
    "sv": {
        "title": "Ärende {case} – Arkiv",
        "eyebrow": "Ärendets gång",
        "heading": "Ärende",
        "timeline": "Tidslinje",
        "undated": "Odaterat",
        "body": "Organ",
        "paragraph": "Paragraf",
        "subject": "Rubrik",
        "document": "Dokument",
        "page": "sida",
        "decision": "Beslut",
        "proposal": "Förslag till beslut",
        "open": "Visa sidan",
        "bodies": "Organ",
        "period": "Period",
        "steps": "Antal steg",
        "unknown": "Okänt ärende: {case}. / Unknown case: {case}.",
        "bad": "Ogiltigt diarienummer. / Invalid case number.",
    },
    "en": {
        "title": "Case {case} – Arkiv",
        "eyebrow": "The course of the case",
        "heading": "Case",
        "timeline": "Timeline",
        "undated": "Undated",
        "body": "Body",
        "paragraph": "Section",
        "subject": "Subject",
        "document": "Document",
        "page": "page",
        "decision": "Decision",
        "proposal": "Proposed decision",
        "open": "Show the page",
        "bodies": "Bodies",
        "period": "Period",
        "steps": "Steps",
        "unknown": "Okänt ärende: {case}. / Unknown case: {case}.",
        "bad": "Ogiltigt diarienummer. / Invalid case number.",
    },
}


def _groups(request: Request) -> tuple[str, ...]:
    """The caller's visible groups (the request's identity where the app resolves one; else public only)."""
    try:
        from assistant.web.routes import get_principal
    except ImportError:  # an app without identities: public only
        return groups_of(None)
    return groups_of(get_principal(request))


def _case(request: Request, case_number: str, lang: Literal["sv", "en"]) -> dict[str, Any]:
    if not case_number.strip() or len(case_number) > MAX_CASE_CHARS:
        raise HTTPException(400, _WORDS[lang]["bad"])
    index = case_index_for(request.app.state.assistant)
    data = case_json(index, case_number, _groups(request), lang)
    if data is None:
        raise HTTPException(404, _WORDS[lang]["unknown"].format(case=case_number))
    return data


@router.get("/api/cases")
def find_cases(
    request: Request, q: str = Query("", max_length=200), limit: int = Query(50, ge=1, le=200)
) -> dict[str, Any]:
    """Cases found by words (subject, decision), body or year, or by their number in any written form."""
    index = case_index_for(request.app.state.assistant)
    found = index.search(q, _groups(request), limit)
    return {
        "query": q,
        "count": len(found),
        "cases": [{**s.to_json(), "url": case_url(s.case_number)} for s in found],
    }


@router.get("/api/cases/{case_number:path}")
def get_case(request: Request, case_number: str, lang: Literal["sv", "en"] = "sv") -> dict[str, Any]:
    """A case's steps in date order, each with its body, date, §, kind, decision and a citation."""
    return _case(request, case_number, lang)


def _kind_class(kind: str) -> str:
    folded = unicodedata.normalize("NFKD", kind)
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


@router.get("/cases/{case_number:path}", include_in_schema=False)
def case_page(request: Request, case_number: str, lang: Literal["sv", "en"] = "sv") -> HTMLResponse:
    """A case's timeline as an accessible HTML page (Swedish first; ?lang=en for English)."""
    data = _case(request, case_number, lang)
    w = {k: v.format(case=data["case_number"]) for k, v in _WORDS[lang].items()}
    entries = [{**e, "kind_class": _kind_class(e["kind"])} for e in data["entries"]]
    period = " – ".join(dict.fromkeys(d for d in (data["first_date"], data["last_date"]) if d))
    other = "en" if lang == "sv" else "sv"
    other_href = case_url(data["case_number"]) + ("?lang=en" if other == "en" else "")
    return templates.TemplateResponse(
        request,
        "case.html",
        {
            "lang": lang,
            "title_key": None,
            "body_class": "case-page",
            "current": None,
            "skip_target": "main",
            "skip_key": "skip.main",
            "scripts": (),
            "w": w,
            "case": {**data, "entries": entries},
            "meta_rows": [
                (w["bodies"], ", ".join(data["bodies"])),
                (w["period"], period),
                (w["steps"], str(len(entries))),
            ],
            "other_lang": other,
            "other_href": other_href,
        },
    )


__all__ = ["case_page", "find_cases", "get_case", "router"]
