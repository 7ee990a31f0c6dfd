"""create_app: the FastAPI app, its lifespan and its one error shape."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import AssistantError, BadRequest
from assistant.service import Assistant, build_assistant
from assistant.settings import AssistantSettings
from assistant.slack import mount_slack
from indexer.errors import IndexerError

logger = logging.getLogger(__name__)


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
    return "invalid_request", "Ogiltig begäran. / Invalid request: " + "; ".join(parts)


def create_app(settings: AssistantSettings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """The app. With no assistant given, one is built over the index at startup."""
    settings = settings or AssistantSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "assistant", None) is None:
            app.state.assistant = build_assistant(settings)
        yield

    app = FastAPI(title="Arkiv", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.assistant = assistant
    app.state.lock = threading.Lock()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = _validation_message(exc)
        return JSONResponse(error_body(code, message), status_code=400 if code == "bad_json" else 422)

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse(error_body(exc.code, str(exc)), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(AssistantError)
    @app.exception_handler(IndexerError)
    async def _ours(request: Request, exc: Exception) -> JSONResponse:
        logger.error("request failed: %s", exc)
        return JSONResponse(error_body("unavailable", str(exc)), status_code=503)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
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
    return app
