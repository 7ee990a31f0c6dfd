"""Take the README's screenshots of a real answer (desktop and phone, light and dark) and measure answer times.

Serves the app over the index in ARKIV_DATA_DIR (run `arkiv index` first) on a free port of 127.0.0.1, drives
Debian's Chromium with Playwright, asks the questions below one by one in fresh conversations, and reads the
times the page itself records for each answer: from sending the question to the first streamed text
(data-ms-first-text) and to the complete answer (data-ms-done). Prints the medians as JSON.

With --layouts it also shows the answer in dark mode and on a phone (390 x 844), light and dark, next to --out
(screenshot-dark.png, screenshot-phone.png, screenshot-phone-dark.png).

Example: .venv/bin/python scripts/screenshot.py --out docs/screenshot-answer.png --runs 5 --layouts
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("screenshot")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOWN = (
    "Hur mycket föreslogs Träcentrum Nässjö Kompetensutveckling AB få för förlängningen av projektet InsTrä, "
    "och vilket diarienummer har ärendet?"
)
QUESTIONS = (
    "Hur mycket föreslogs Träcentrum Nässjö Kompetensutveckling AB få för förlängningen av projektet InsTrä?",
    "Vad föreslog presidiet i ärendet Unga akademiker?",
    "Hur lång uppsägningstid har överenskommelsen om samfinansiering av ShareMusic?",
    "Vilket diarienummer har ärendet Verksamhetsberättelse 2021 på nämndens dagordning?",
    "Hur många betalande besökare hade Smålands Musik och Teater 2021 jämfört med målvärdet?",
    "Vilket resultat redovisade Sjuhärads kommunalförbund för 2012?",
    "Vad kostar en ny simhall i Malmö 2030?",
)


@dataclass(frozen=True)
class Timing:
    question: str
    status: str
    first_text_ms: int
    done_ms: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve() -> tuple[str, Any, threading.Thread]:
    import uvicorn

    from assistant.service import build_assistant
    from assistant.settings import AssistantSettings
    from assistant.web.app import create_app

    settings = AssistantSettings()
    assistant = build_assistant(settings)
    port = _free_port()
    config = uvicorn.Config(create_app(settings, assistant), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit("the server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def fresh(page: Any, base: str) -> None:
    """The chat page with a new conversation (the page reopens the last one on load)."""
    page.goto(base + "/")
    page.locator("body[data-ready]").wait_for(state="attached")
    page.click("#new-conversation")


def ask(page: Any, question: str, turn: int = 1) -> Timing:
    page.fill("#question", question)
    page.press("#question", "Enter")
    article = page.locator("#conversation .turn").nth(turn - 1)
    article.and_(page.locator("[data-status]")).wait_for(timeout=120_000)
    return Timing(
        question,
        article.get_attribute("data-status") or "",
        int(article.get_attribute("data-ms-first-text") or -1),
        int(article.get_attribute("data-ms-done") or -1),
    )


LAYOUTS = (
    ("screenshot-dark.png", {"width": 1280, "height": 900}, "dark"),
    ("screenshot-phone.png", {"width": 390, "height": 844}, "light"),
    ("screenshot-phone-dark.png", {"width": 390, "height": 844}, "dark"),
)


def layouts(browser: Any, base: str, folder: Path, shown: str, not_found: str) -> list[Path]:
    """The answer in dark mode and on a phone: a conversation of two questions, the second not found."""
    out = []
    for name, viewport, scheme in LAYOUTS:
        phone = viewport["width"] < 640
        context = browser.new_context(viewport=viewport, color_scheme=scheme, is_mobile=phone, device_scale_factor=1)
        page = context.new_page()
        page.goto(base + "/")
        ask(page, shown)
        ask(page, not_found, turn=2)
        page.locator("#question").blur()
        if phone:
            page.locator("#conversation .turn").nth(0).locator(".answer").scroll_into_view_if_needed()
            page.fill("#question", "Och vem ska följa upp det?\nOch när?")
        else:
            page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(200)
        path = folder / name
        page.screenshot(path=str(path))
        out.append(path)
        context.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshot-answer.png"))
    parser.add_argument("--source-out", type=Path, default=Path("docs/screenshot-source.png"))
    parser.add_argument("--runs", type=int, default=5, help="questions to time (after one warm-up)")
    parser.add_argument("--shown", default=SHOWN, help="the question whose answer the screenshot shows")
    parser.add_argument("--ask", action="append", default=[], help="a question to time (repeat; default: built in)")
    parser.add_argument("--layouts", action="store_true", help="also dark mode and a phone, light and dark")
    parser.add_argument("--not-found", default=QUESTIONS[-1], help="a second question, shown in the layouts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from playwright.sync_api import sync_playwright

    base, server, thread = serve()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
            page = context.new_page()
            fresh(page, base)
            warm = ask(page, args.shown)
            logger.info("warm-up: first text %d ms, done %d ms", warm.first_text_ms, warm.done_ms)
            timings = []
            questions = tuple(args.ask) or QUESTIONS
            for question in (questions * args.runs)[: args.runs]:
                fresh(page, base)
                timing = ask(page, question)
                logger.info(
                    "%s: first text %d ms, done %d ms (%s)",
                    question,
                    timing.first_text_ms,
                    timing.done_ms,
                    timing.status,
                )
                timings.append(timing)

            fresh(page, base)
            shown = ask(page, args.shown)
            page.locator("#question").blur()
            page.evaluate("window.scrollTo(0, 0)")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            page.locator("#conversation .turn button.cite").first.click()
            page.locator("#source-pages mark").first.wait_for()
            page.wait_for_timeout(200)
            page.screenshot(path=str(args.source_out))
            if args.layouts:
                shots = layouts(browser, base, args.out.parent, args.shown, args.not_found)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    result = {
        "screenshot": str(args.out),
        "layouts": [str(p) for p in shots] if args.layouts else [],
        "source_screenshot": str(args.source_out),
        "shown": asdict(shown),
        "runs": len(timings),
        "first_text_ms_p50": statistics.median(t.first_text_ms for t in timings),
        "done_ms_p50": statistics.median(t.done_ms for t in timings),
        "timings": [asdict(t) for t in timings],
    }
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
