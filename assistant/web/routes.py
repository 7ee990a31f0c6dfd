"""The HTTP API: /api/health, /api/search, /api/ask, /api/ask/stream.

No lock is held in the web layer. Searching and answering run on worker threads (at most ARKIV_WORKERS at a time;
the embedded store is safe to read from many threads, and the one writer is the indexer in its own process).
The event loop itself only parses, checks who is asking and answers /api/health from cached counts, so health
stays fast however busy the workers are. A stream runs its answer on a worker and hands each event to the
client; when the client goes away, the worker stops at the next event and closes the answer's generator.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from assistant.access import Principal, principal_from_headers
from assistant.audit import AuditLog
from assistant.errors import AssistantError
from assistant.serialize import answer_json, citation_json, hit_json
from assistant.service import Assistant, validate_question
from assistant.types import Answer, Filters
from assistant.web.models import AskRequest, SearchRequest
from indexer.errors import IndexerError

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api")

T = TypeVar("T")
HEALTH_TTL_S = 15.0
"""How old the counts /api/health reports may be; they are refreshed in the background."""


def get_assistant(request: Request) -> Assistant:
    assistant: Assistant = request.app.state.assistant
    return assistant


def get_principal(request: Request) -> Principal:
    """Who is asking (Unauthorized, a 401, for an unknown API token)."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is None:
        cached = principal_from_headers(request.headers, request.app.state.settings, request.app.state.tokens)
        request.state.principal = cached
    return cached


def get_audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


async def run_work(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run blocking work on a worker thread; waiting for a free worker is cancelled when the client leaves."""
    limiter: anyio.CapacityLimiter = request.app.state.workers
    return await anyio.to_thread.run_sync(fn, *args, limiter=limiter)


def _filters(model: Any) -> Filters | None:
    return model.to_filters() if model is not None else None


# -- health ---------------------------------------------------------------------------------------------------


class HealthCache:
    """Counts for /api/health, computed off the request path and at most every HEALTH_TTL_S seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refreshing = False
        self.counts: dict[str, int] | None = None
        self.error: str | None = None
        self.at = 0.0

    def refresh(self, assistant: Assistant) -> None:
        try:
            catalog = assistant.catalog.folder
            documents = sum(1 for _ in catalog.glob("*.json")) if catalog.exists() else 0
            counts = {"documents": documents, "chunks": assistant.store.count()}
            error = None
        except Exception as ex:  # noqa: BLE001 - an unreachable store is reported as degraded, not raised
            logger.warning("health: the index does not answer: %s", ex)
            counts, error = self.counts or {}, f"{type(ex).__name__}: the index does not answer"
        with self._lock:
            self.counts, self.error, self.at = counts, error, time.monotonic()
            self._refreshing = False

    def stale(self) -> bool:
        with self._lock:
            if self._refreshing or time.monotonic() - self.at < HEALTH_TTL_S:
                return False
            self._refreshing = True
            return True


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Liveness and what the index holds; answered from cached counts, never waiting on search work."""
    assistant: Assistant | None = getattr(request.app.state, "assistant", None)
    cache: HealthCache = request.app.state.health
    if assistant is None:
        return {"status": "starting"}
    if cache.counts is None:
        await anyio.to_thread.run_sync(cache.refresh, assistant)
    elif cache.stale():
        threading.Thread(target=cache.refresh, args=(assistant,), name="arkiv-health", daemon=True).start()
    status = "degraded" if cache.error else "ok"
    body: dict[str, Any] = {"status": status, **(cache.counts or {})}
    if cache.error:
        body["message"] = "Sökindexet svarar inte just nu. / The search index is not answering right now."
    return body


# -- search and ask -------------------------------------------------------------------------------------------


def _shown(answer: Answer) -> list[str]:
    """The documents an answer shows: its citations, or the nearest passages of a not_found answer."""
    if answer.status == "answered":
        return [c.hit.chunk.doc_id for c in answer.citations]
    return [h.chunk.doc_id for h in answer.hits[:3]]


@router.post("/search")
async def search(body: SearchRequest, request: Request) -> dict[str, Any]:
    principal = get_principal(request)
    assistant = get_assistant(request)
    hits = await run_work(request, assistant.search, body.query, body.k, _filters(body.filters), principal)
    shown = hits[: body.k]
    get_audit(request).record(principal, "search", documents=[h.chunk.doc_id for h in shown], question=body.query)
    return {"hits": [hit_json(h) for h in shown]}


@router.post("/ask")
async def ask(body: AskRequest, request: Request) -> dict[str, Any]:
    principal = get_principal(request)
    assistant = get_assistant(request)
    history = [(t.role, t.content) for t in body.history]
    answer = await run_work(request, assistant.ask, body.question, history, _filters(body.filters), principal)
    get_audit(request).record(principal, "ask", documents=_shown(answer), question=body.question, status=answer.status)
    return public_answer_json(answer)


def public_answer_json(answer: Answer) -> dict[str, Any]:
    """The answer for the API. A not-found answer does not repeat what was asked (`question` and `query` are
    null): the asker has it, and a question about material they may not see can hold its confidential names
    and personal data, which an answer would only spread into proxies, caches and logs."""
    body = answer_json(answer)
    if answer.status != "answered":
        body["question"] = None
        body["query"] = None
    return body


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


_DONE = object()


class WorkerStream:
    """Items of a blocking generator, produced on a worker thread and handed to the event loop as they come.

    `close()` (called when the response ends for any reason, a client that went away included) tells the worker
    to stop: it does so at the generator's next item and closes the generator there, in its own thread; if the
    work has not started yet (all workers busy), it never starts. Nothing is locked across the client's I/O.
    """

    def __init__(self, request: Request, make: Callable[[], Iterator[Any]]) -> None:
        self._request = request
        self._make = make
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._stop = threading.Event()
        self._task: asyncio.Future[None] | None = None
        self.stopped_early = False

    def _work(self, loop: asyncio.AbstractEventLoop) -> None:
        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(self._queue.put_nowait, item)
            except RuntimeError:  # the loop has closed (shutdown): nobody is listening any more
                self._stop.set()

        if self._stop.is_set():
            return
        gen = self._make()
        try:
            for item in gen:
                if self._stop.is_set():
                    self.stopped_early = True
                    logger.info("stream: the client left; the answer was stopped")
                    break
                put(item)
        except BaseException as ex:  # noqa: BLE001 - handed to the consumer, which raises it
            put(ex)
        finally:
            if isinstance(gen, Generator):
                gen.close()
            put(_DONE)

    def __aiter__(self) -> WorkerStream:
        return self

    async def __anext__(self) -> Any:
        if self._task is None:
            self._task = asyncio.ensure_future(run_work(self._request, self._work, asyncio.get_running_loop()))
            self._task.add_done_callback(lambda t: t.cancelled() or t.exception())
        item = await self._queue.get()
        if item is _DONE:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()  # still waiting for a free worker: it never starts


@router.post("/ask/stream")
async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
    """The answer as server-sent events: meta, text pieces, notice, citations, then done with the whole response."""
    principal = get_principal(request)
    assistant = get_assistant(request)
    audit = get_audit(request)
    history = [(t.role, t.content) for t in body.history]
    filters = _filters(body.filters)
    validate_question(body.question)  # a bad question is a 4xx before the stream starts

    async def events() -> AsyncIterator[str]:
        stream = WorkerStream(request, lambda: assistant.ask_stream(body.question, history, filters, principal))
        try:
            async for kind, data in stream:
                if kind == "answer":
                    audit.record(
                        principal, "stream", documents=_shown(data), question=body.question, status=data.status
                    )
                    yield _sse("citations", [citation_json(c) for c in data.citations])
                    yield _sse("done", public_answer_json(data))
                elif kind == "text":
                    yield _sse("text", {"text": data})
                elif kind == "meta":  # the query searched comes with "done", and only for an answer
                    yield _sse(kind, {**data, "query": None})
                else:
                    yield _sse(kind, data)
        except (AssistantError, IndexerError) as ex:  # the response has started: the error is the last event
            logger.error("stream failed: %s", ex)
            yield _sse("error", {"code": "unavailable", "message": str(ex)})
        except Exception as ex:
            from assistant.web.app import UNAVAILABLE, is_store_outage

            if not is_store_outage(ex):
                raise
            yield _sse("error", {"code": "unavailable", "message": UNAVAILABLE})
        finally:
            stream.close()

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
