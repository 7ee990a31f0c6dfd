"""The HTTP API: /api/health, /api/search, /api/ask, /api/ask/stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from assistant.serialize import answer_json, citation_json, hit_json
from assistant.service import Assistant, validate_question
from assistant.types import Filters
from assistant.web.models import AskRequest, SearchRequest

router = APIRouter(prefix="/api")


def get_assistant(request: Request) -> Assistant:
    assistant: Assistant = request.app.state.assistant
    return assistant


def _filters(model: Any) -> Filters | None:
    return model.to_filters() if model is not None else None


@router.get("/health")
def health(request: Request, assistant: Assistant = Depends(get_assistant)) -> dict[str, Any]:
    with request.app.state.lock:
        counts = assistant.health()
    return {"status": "ok", **counts}


@router.post("/search")
def search(body: SearchRequest, request: Request, assistant: Assistant = Depends(get_assistant)) -> dict[str, Any]:
    with request.app.state.lock:
        hits = assistant.search(body.query, body.k, _filters(body.filters))
    return {"hits": [hit_json(h) for h in hits[: body.k]]}


@router.post("/ask")
def ask(body: AskRequest, request: Request, assistant: Assistant = Depends(get_assistant)) -> dict[str, Any]:
    history = [(t.role, t.content) for t in body.history]
    with request.app.state.lock:
        answer = assistant.ask(body.question, history, _filters(body.filters))
    return answer_json(answer)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/ask/stream")
def ask_stream(body: AskRequest, request: Request, assistant: Assistant = Depends(get_assistant)) -> StreamingResponse:
    """The answer as server-sent events: meta, text pieces, notice, citations, then done with the whole response."""
    history = [(t.role, t.content) for t in body.history]
    filters = _filters(body.filters)
    lock = request.app.state.lock
    validate_question(body.question)  # a bad question is a 4xx before the stream starts

    def events() -> Iterator[str]:
        with lock:
            for kind, data in assistant.ask_stream(body.question, history, filters):
                if kind == "answer":
                    yield _sse("citations", [citation_json(c) for c in data.citations])
                    yield _sse("done", answer_json(data))
                elif kind == "text":
                    yield _sse("text", {"text": data})
                else:
                    yield _sse(kind, data)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
