"""create_app: the FastAPI app, its lifespan, its middleware and its one error shape."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.access import TokenBook, Unauthorized
from assistant.audit import AuditLog
from assistant.errors import AssistantError, BadRequest
from assistant.service import Assistant, build_assistant
from assistant.settings import AssistantSettings
from assistant.slack import mount_slack
from indexer.errors import IndexerError

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
PRUNE_EVERY_S = 6 * 3600
GIL_SWITCH_S = 0.001
INDEX_POLL_S = 2.0
RETIRE_AFTER_S = 30.0
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}
UNAVAILABLE = (
    "Sökindexet svarar inte just nu; försök igen om en stund. / The search index is not answering right now; "
    "try again shortly."
)


def error_body(code: str, message: str) -> dict[str, Any]:
    """The one error shape of the API."""
    return {"error": {"code": code, "message": message}}


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return "bad_json", "Begäran är inte giltig JSON. / The request body is not valid JSON."
    if any(e.get("type") == "extra_forbidden" and "filters" in e.get("loc", ()) for e in errors):
        names = ", ".join(str(e["loc"][-1]) for e in errors if e.get("type") == "extra_forbidden")
        return "unknown_filter", f"Okänt filter: {names}. / Unknown filter: {names}."
    parts = []
    for e in errors[:5]:
        where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{where or 'body'}: {e.get('msg', 'invalid')}")
    message = "Ogiltig begäran. / Invalid request: " + "; ".join(parts)
    # a message echoes the input: keep it valid text (a lone surrogate cannot be encoded) and short
    return "invalid_request", message.encode("utf-8", "replace").decode("utf-8")[:1000]


def is_store_outage(exc: BaseException) -> bool:
    """Whether an error (or what caused it) is the Qdrant server being unreachable: a connection that failed or
    timed out, from qdrant-client or the HTTP and gRPC libraries under it."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        module = type(seen).__module__ or ""
        if isinstance(seen, (ConnectionError, TimeoutError)) or module.split(".")[0] in (
            "qdrant_client",
            "httpx",
            "httpcore",
            "grpc",
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _too_large(limit: int) -> str:
    return f"Begäran är för stor (högst {limit // 1024} kB). / The request is too large (at most {limit // 1024} kB)."


def reopen_index(assistant: Assistant, settings: AssistantSettings) -> Any:
    """Open the index now at the live path (after a rebuild's switch) and serve from it; returns the old store,
    for the caller to close once the requests that use it are done."""
    from indexer.catalog import Catalog
    from indexer.store import Manifest, make_store

    store = make_store(settings)
    store.open(Manifest(assistant.embedder.model_id, assistant.embedder.dimension))
    old = assistant.store
    assistant.store = store
    assistant.retriever.store = store
    assistant.catalog = Catalog(Path(settings.data_dir) / "catalog")
    assistant.__dict__.pop("known_bodies", None)  # a cached_property of the old catalog
    logger.info("serving the rebuilt index (%d chunks)", store.count())
    return old


def _let_go(store: Any) -> None:
    """Close a retired store. It was moved aside while open, so the engine may fail to flush it: nothing was
    written to it by the server, and the error is only logged."""
    try:
        store.close()
    except Exception as ex:  # noqa: BLE001 - read-only and retired: nothing to lose
        logger.info("the retired index was let go without a clean close: %s", ex)


DRAIN_BYTES = 8 * 1024 * 1024
"""A refused body up to this size is read and dropped before the 413 is sent (see DeclaredBodyLimit)."""


async def _drain(receive: Receive) -> None:
    read = 0
    while read <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class DeclaredBodyLimit:
    """A declared Content-Length over the limit is a 413 in the API's error shape, and the body is never parsed.
    (Bodies without a length, chunked ones, are counted by Starlette's limit as they arrive.)

    A body of up to DRAIN_BYTES is read and dropped first: a client still sending it would otherwise have its
    connection reset (a socket closed with unread data is reset), and the reset can reach it before the 413."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope.get("headers") or []).get(b"content-length", b"0")
            try:
                declared = int(length)
            except ValueError:
                declared = 0  # not a number: the server has refused it already
            if declared > self.limit:
                if declared <= DRAIN_BYTES:
                    await _drain(receive)
                response = JSONResponse(error_body("too_large", _too_large(self.limit)), status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """The security headers on every response: CSP without inline script, nosniff, no framing, no referrer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                headers.extend(
                    (k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present
                )
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(settings: AssistantSettings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """The app. With no assistant given, one is built over the index at startup."""
    settings = settings or AssistantSettings()
    from assistant.web.routes import HealthCache

    def prune() -> None:
        """Delete feedback and audit logs older than ARKIV_RETENTION_DAYS."""
        from assistant.feedback import FeedbackStore

        store = getattr(app.state, "feedback_store", None)
        if not isinstance(store, FeedbackStore):
            store = app.state.feedback_store = FeedbackStore(Path(settings.data_dir) / settings.feedback_db)
        store.prune(settings.retention_days)
        app.state.audit.prune()

    async def prune_daily() -> None:
        while True:
            await anyio.sleep(PRUNE_EVERY_S)
            await anyio.to_thread.run_sync(prune)

    async def watch_index() -> None:
        """Switch to a rebuilt index (`arkiv index --rebuild`) when its generation file changes."""
        from indexer.rebuild import generation, remove_retired

        seen = generation(settings.data_dir)
        while True:
            await anyio.sleep(INDEX_POLL_S)
            now = generation(settings.data_dir)
            if now == seen:
                continue
            seen = now
            try:
                old = await anyio.to_thread.run_sync(reopen_index, app.state.assistant, settings)
            except Exception:  # noqa: BLE001 - keep serving the index we have, and say why
                logger.exception("could not open the rebuilt index; still serving the previous one")
                continue
            app.state.health.at = 0.0
            await anyio.sleep(RETIRE_AFTER_S)  # requests that began on the old index finish on it
            await anyio.to_thread.run_sync(_let_go, old)
            await anyio.to_thread.run_sync(remove_retired, settings.data_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The event loop (health, parsing, streaming) shares the GIL with the workers' Python work; a shorter
        # switch interval lets it in within about a millisecond instead of five, per step it takes.
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))
        if getattr(app.state, "assistant", None) is None:
            app.state.assistant = build_assistant(settings)
        await anyio.to_thread.run_sync(prune)
        await anyio.to_thread.run_sync(app.state.health.refresh, app.state.assistant)
        async with anyio.create_task_group() as tg:
            tg.start_soon(prune_daily)
            if not settings.qdrant_url and hasattr(app.state.assistant, "retriever"):
                tg.start_soon(watch_index)
            yield
            tg.cancel_scope.cancel()

    docs = settings.api_docs
    app = FastAPI(
        title="Arkiv",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        max_body_size=MAX_BODY_BYTES,  # Starlette's limit: by Content-Length, and by counting chunked bodies
    )
    app.state.settings = settings
    app.state.assistant = assistant
    app.state.workers = anyio.CapacityLimiter(settings.workers)
    app.state.health = HealthCache()
    app.state.tokens = TokenBook(settings.tokens_file) if settings.tokens_file else None
    app.state.audit = AuditLog(
        Path(settings.data_dir) / settings.audit_dir,
        retention_days=settings.retention_days,
        log_questions=settings.log_questions,
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = _validation_message(exc)
        return JSONResponse(error_body(code, message), status_code=400 if code == "bad_json" else 422)

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse(error_body(exc.code, str(exc)), status_code=400)

    @app.exception_handler(Unauthorized)
    async def _unauthorized(request: Request, exc: Unauthorized) -> JSONResponse:
        return JSONResponse(
            error_body("unauthorized", str(exc)), status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
        }.get(exc.status_code, "http_error")
        message = _too_large(MAX_BODY_BYTES) if exc.status_code == 413 else str(exc.detail)
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(AssistantError)
    @app.exception_handler(IndexerError)
    async def _ours(request: Request, exc: Exception) -> JSONResponse:
        logger.error("request failed: %s", exc)
        return JSONResponse(error_body("unavailable", str(exc)), status_code=503)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_store_outage(exc):
            logger.error("the search index does not answer on %s: %s", request.url.path, type(exc).__name__)
            return JSONResponse(error_body("unavailable", UNAVAILABLE), status_code=503, headers={"Retry-After": "5"})
        logger.exception("unexpected error on %s", request.url.path)
        return JSONResponse(
            error_body("internal", "Något gick fel hos Arkiv. / Something went wrong in Arkiv."), status_code=500
        )

    from assistant.web.pages import router as pages_router
    from assistant.web.routes import router

    app.include_router(router)
    app.include_router(pages_router)
    from assistant.web.cases import router as cases_router  # case histories: /api/cases, /cases/{case_number}

    app.include_router(cases_router)
    mount_slack(app, settings)
    build_stack = app.build_middleware_stack
    # outside Starlette's own error middleware, so that a 500 gets the headers too
    app.build_middleware_stack = lambda: SecurityHeaders(DeclaredBodyLimit(build_stack()))  # type: ignore[method-assign]
    return app
