"""Fixtures for the web page: an app over the fixture index, a live server, headless Chromium."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass(frozen=True)
class LiveServer:
    url: str
    feedback_db: Path


def web_settings(fixture_index: Any, data_dir: Path) -> Any:
    """The fixture index's settings, with app data (feedback) in a folder of the test's own."""
    settings, _ = fixture_index
    return settings.model_copy(update={"data_dir": data_dir})


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(fixture_index: Any, assistant: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app (create_app) served by uvicorn on 127.0.0.1 in a thread, over the fixture index."""
    import uvicorn

    from assistant.web.app import create_app

    settings = web_settings(fixture_index, tmp_path_factory.mktemp("web-data"))
    assistant.ask("Hur mycket beviljades Smålands Turism?")  # load the lazy parts before anything is timed
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, assistant), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="arkiv-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", Path(settings.data_dir) / settings.feedback_db)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (scripts/setup.sh --dev installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception as ex:  # noqa: BLE001 - a browser that cannot start is a skip, with the reason
        playwright.stop()
        pytest.skip(f"Chromium did not start: {ex}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (no stored language) on the live server; fails the test on a JavaScript error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE", base_url=live_server.url)
    context.set_default_timeout(30_000)
    errors: list[str] = []
    p = context.new_page()
    p.on("pageerror", lambda ex: errors.append(str(ex)))
    yield p
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
