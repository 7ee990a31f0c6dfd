"""The chat page in a real browser: headless Chromium (Debian's) driven by Playwright against the live app."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from assistant.feedback import FeedbackStore
from tests.web.conftest import LiveServer, web_settings

pytestmark = pytest.mark.browser

TOURISM = "Hur mycket beviljades Smålands Turism?"
TOURISM_FULL = "Vad föreslog presidiet om stöd till besöksnäringen inför sommaren 2022?"
FOLLOW_UP = "Och ur vilket anslag ska det finansieras?"
NOT_IN_ARCHIVE = "Vad kostar en ny simhall i Malmö 2030?"


def ask(page: Any, question: str, *, turn: int = 1) -> Any:
    """Type a question, send it with Enter, and wait until the answer has arrived; returns the turn."""
    page.fill("#question", question)
    page.press("#question", "Enter")
    article = page.locator("#conversation .turn").nth(turn - 1)
    article.and_(page.locator("[data-status]")).wait_for(timeout=60_000)
    return article


def active(page: Any) -> dict[str, Any]:
    """What has keyboard focus, and whether its focus outline is visible."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const s = getComputedStyle(el);
            return {
                tag: el.tagName.toLowerCase(), id: el.id, cls: el.className || "",
                text: (el.textContent || "").trim().slice(0, 80),
                inDialog: !!el.closest("dialog[open]"),
                outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2,
            };
        }"""
    )


def test_ask_shows_the_streamed_answer_with_a_citation(page: Any) -> None:
    page.goto("/")
    assert page.get_attribute("html", "lang") == "sv"
    turn = ask(page, TOURISM)
    assert turn.get_attribute("data-status") == "answered"
    answer = turn.locator(".answer-text")
    assert "2 000 000 kr" in answer.inner_text()
    chip = answer.locator("button.cite").first
    assert chip.inner_text() == "1" and "Källa 1: Kallelse med presidiets protokollsutdrag" in chip.get_attribute(
        "aria-label"
    )
    # the answer came as server-sent events, read while streaming
    assert int(turn.get_attribute("data-text-events")) >= 1
    assert 0 < int(turn.get_attribute("data-ms-first-text")) <= int(turn.get_attribute("data-ms-done"))
    assert turn.locator(".searched").inner_text().strip().startswith("Sökte efter:")
    assert TOURISM in turn.locator(".searched q").inner_text()
    sources = turn.locator(".sources")
    assert sources.locator("h4").inner_text().lower() == "källor"
    assert "§ 29" in sources.inner_text() and "RJL 2022/258" in sources.inner_text()
    log = page.locator("#conversation")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    assert log.get_attribute("aria-busy") == "false"


def test_source_panel_shows_the_passage_on_its_page_and_opens_the_page(page: Any) -> None:
    page.goto("/")
    turn = ask(page, TOURISM)
    chip = turn.locator("button.cite").first
    chip.click()
    dialog = page.locator("#source-panel")
    assert dialog.is_visible()
    assert page.locator("#source-title").inner_text().startswith("Kallelse med presidiets protokollsutdrag")
    meta = page.locator("#source-meta").inner_text()
    for expected in ("Kallelse/dagordning", "Nämnd för arbetsmarknad", "2022-02-10", "§ 29", "RJL 2022/258", "6"):
        assert expected in meta
    page.locator("#source-pages mark").first.wait_for()
    assert any("2 000 000 kr" in m for m in page.locator("#source-pages mark.hl-quote").all_inner_texts())
    mark = page.locator("#source-pages mark").first
    # the page's own text is shown around the passage, and the mark is scrolled into view
    assert "Sammanfattning" in page.locator("#source-pages").inner_text()
    box, panel = mark.bounding_box(), page.locator("#source-pages").bounding_box()
    assert panel["y"] <= box["y"] and box["y"] + box["height"] <= panel["y"] + panel["height"]
    href = page.get_attribute("#open-page", "href")
    assert href.startswith("/documents/rjl_anna_2022-02/pages/6?highlight=")
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert active(page)["cls"] == "cite"

    page.goto(href)
    assert page.get_attribute("html", "lang") == "sv"
    assert page.locator("h1").inner_text().startswith("Kallelse med presidiets protokollsutdrag")
    assert page.locator("main .eyebrow").text_content() == "Sida 6 av 9"
    assert "Diarienummer: RJL 2022/258" in page.locator("mark#passage").inner_text()
    assert any("2 000 000 kr" in m for m in page.locator("mark.hl-quote").all_inner_texts())


def test_follow_up_sends_the_conversation_and_shows_the_query_searched(page: Any) -> None:
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/api/ask/stream") else None)
    page.goto("/")
    ask(page, TOURISM_FULL)
    second = ask(page, FOLLOW_UP, turn=2)
    assert [len(body["history"]) for body in sent] == [0, 2]
    assert sent[1]["history"][0] == {"role": "user", "content": TOURISM_FULL}
    assert sent[1]["history"][1]["role"] == "assistant" and sent[1]["history"][1]["content"]
    searched = second.locator(".searched q").inner_text()
    assert searched != FOLLOW_UP and "besöksnäring" in searched  # rewritten to stand alone
    assert second.get_attribute("data-status") == "answered"
    assert "utvecklingsmedel" in second.locator(".answer-text").inner_text()

    page.click("#new-conversation")
    assert page.locator("#conversation .turn").count() == 0
    assert page.locator("#empty-state").is_visible()
    assert active(page)["id"] == "question"
    ask(page, TOURISM)
    assert len(sent[2]["history"]) == 0


def test_not_found_says_what_was_searched_and_shows_the_parsed_filters(page: Any) -> None:
    page.goto("/")
    turn = ask(page, NOT_IN_ARCHIVE)
    assert turn.get_attribute("data-status") == "not_found"
    box = turn.locator(".answer.not-found")
    assert box.locator(".nf-title").inner_text() == "Hittades inte i arkivet"
    searched = box.locator(".nf-searched").inner_text()
    assert NOT_IN_ARCHIVE in searched and "år 2030" in searched
    assert turn.locator("button.cite").count() == 0 and turn.locator(".sources").count() == 0
    # the filters parsed from the question are shown beside the controls, and can be taken over by them
    assert "år 2030" in page.locator("#parsed-filters").inner_text()
    page.click("#use-parsed")
    page.locator("#filters summary").click()
    assert page.input_value("#year-from") == "2030" and page.input_value("#year-to") == "2030"
    assert page.locator("#filters-count").inner_text() == "2 aktiva"


def test_filters_from_the_controls_are_sent_and_applied(page: Any) -> None:
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/api/ask/stream") else None)
    page.goto("/")
    page.locator("#filters summary").click()
    page.fill("#year-from", "2012")
    page.fill("#year-to", "2012")
    page.select_option("#type-filter", "arsredovisning")
    page.locator("#body-filter option", has_text="Direktionen").wait_for(state="attached")
    page.select_option("#body-filter", "Direktionen")
    turn = ask(page, "Vilket resultat redovisade förbundet?")
    assert sent[0]["filters"] == {
        "year_from": 2012,
        "year_to": 2012,
        "body": "Direktionen",
        "doc_type": "arsredovisning",
    }
    chips = turn.locator(".searched").inner_text()
    assert "år 2012" in chips and "typ: Årsredovisning" in chips and "organ: Direktionen" in chips


def test_feedback_with_a_comment_is_stored(page: Any, live_server: LiveServer) -> None:
    page.goto("/")
    turn = ask(page, TOURISM)
    thumbs_down = turn.get_by_role("button", name="Nej, svaret var inte till hjälp")
    assert turn.get_by_text("Var svaret till hjälp?").is_visible()
    thumbs_down.click()
    assert thumbs_down.get_attribute("aria-pressed") == "true"
    turn.get_by_label("Kommentar (valfri)").fill("Källan borde vara beslutet, inte kallelsen.")
    turn.get_by_role("button", name="Skicka omdöme").click()
    turn.get_by_text("Tack! Ditt omdöme är sparat.").wait_for()
    store = FeedbackStore(live_server.feedback_db)
    try:
        stored = [f for f in store.all() if f.comment == "Källan borde vara beslutet, inte kallelsen."]
    finally:
        store.close()
    assert len(stored) == 1
    fb = stored[0]
    assert fb.rating == "down" and fb.question == TOURISM and fb.status == "answered" and fb.source == "web"
    assert "2 000 000 kr" in fb.answer and fb.citations[0]["document"]["id"] == "rjl_anna_2022-02"
    assert fb.query == TOURISM and fb.created_at > 0


def test_copy_answer_puts_the_answer_and_its_sources_on_the_clipboard(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(base_url=live_server.url)
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        page = context.new_page()
        page.goto("/")
        turn = ask(page, TOURISM)
        turn.get_by_role("button", name="Kopiera svar med källor").click()
        turn.get_by_text("Svaret och källorna är kopierade.").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        # formatted for a case document: the question, the answer with its [n], then each source in full
        lines = copied.splitlines()
        assert lines[0] == f"Fråga: {TOURISM}" and re.fullmatch(r"Svar från Arkiv, \d{4}-\d{2}-\d{2}:", lines[2])
        assert "2 000 000 kr" in lines[3] and "[1]" in lines[3]
        source = lines[lines.index("Källor:") + 1]
        assert source.startswith("[1] Kallelse med presidiets protokollsutdrag")
        for part in ("Nämnd för arbetsmarknad", "2022-02-10", "§ 29", "dnr RJL 2022/258", "s. 6"):
            assert part in source
        assert ".txt" not in copied
    finally:
        context.close()


def test_keyboard_only_path(page: Any) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    focused = active(page)
    assert focused["cls"] == "skip-link" and focused["outline"] and page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert active(page)["id"] == "question"
    page.keyboard.type(TOURISM)
    page.keyboard.press("Enter")
    page.locator("#conversation .turn[data-status]").wait_for(timeout=60_000)

    # Tab on from the question (past the end of the page and round again) to the citation chip;
    # every stop shows where focus is
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = active(page)
        if focused["tag"] == "body":  # focus passing from the end of the page back to its start
            continue
        assert focused["outline"], f"no visible focus on {focused}"
        if focused["cls"] == "cite":
            break
    else:
        pytest.fail("the citation chip cannot be reached with Tab")
    page.keyboard.press("Enter")
    page.locator("#source-pages mark").first.wait_for()
    assert active(page)["inDialog"] and active(page)["id"] == "close-source"
    stops = []
    for _ in range(6):  # the page behind the open panel is inert: focus only moves within the panel
        page.keyboard.press("Tab")
        focused = active(page)
        assert focused["inDialog"] or focused["tag"] == "body", f"focus left the panel: {focused}"
        stops.append(focused["id"] or focused["cls"])
    assert {"close-source", "open-page", "source-pages"} <= set(stops)
    page.keyboard.press("Escape")
    assert not page.locator("#source-panel").is_visible()
    assert active(page)["cls"] == "cite"

    # on to the feedback, all by keyboard
    for _ in range(20):
        page.keyboard.press("Tab")
        if active(page)["cls"].startswith("icon-button thumb") and "Ja" in (
            page.evaluate("document.activeElement.getAttribute('aria-label')") or ""
        ):
            break
    else:
        pytest.fail("the thumbs-up button cannot be reached with Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # thumbs down
    page.keyboard.press("Tab")  # the comment
    assert active(page)["tag"] == "textarea"
    page.keyboard.type("Bra, med rätt paragraf.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text("Tack! Ditt omdöme är sparat.").wait_for()


def test_language_switch_is_visible_and_remembered(page: Any) -> None:
    page.goto("/")
    switch = page.locator("#lang-switch")
    assert switch.inner_text() == "English" and switch.get_attribute("lang") == "en"
    switch.click()
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "Ask the archive"
    assert page.get_by_label("Your question").is_visible()
    assert page.locator("#send").inner_text() == "Send"
    page.reload()
    assert page.get_attribute("html", "lang") == "en" and page.locator("#lang-switch").inner_text() == "Svenska"
    turn = ask(page, NOT_IN_ARCHIVE)
    assert turn.locator(".nf-title").inner_text() == "Not found in the archive"
    page.click("#lang-switch")
    assert page.get_attribute("html", "lang") == "sv"
    assert turn.locator(".nf-title").inner_text() == "Hittades inte i arkivet"


def test_documents_page_lists_what_is_indexed_and_searches_titles(page: Any) -> None:
    page.goto("/documents")
    rows = page.locator("#doc-rows tr")
    rows.first.wait_for()
    assert rows.count() == 3
    assert page.locator("#doc-count").inner_text() == "Visar 3 av 3 dokument."
    kallelse = page.locator("tr[data-doc-id='rjl_anna_2022-02']")
    cells = kallelse.locator("td").all_inner_texts()
    kind, body, date, pages, chunks, read = cells
    assert (kind, body, date, pages) == (
        "Kallelse/dagordning",
        "Nämnd för arbetsmarknad, näringsliv och attraktivitet",
        "2022-02-23",
        "9",
    )
    assert int(chunks) > 5 and "9 textlager" in read
    page.get_by_label("Sök på titel").fill("internkontroll")
    page.locator("#doc-count", has_text="Visar 1 av 3").wait_for()
    assert rows.count() == 1 and "Internkontrollplan 2023" in rows.first.inner_text()
    rows.first.get_by_role("link").first.click()
    assert page.locator("h1").inner_text().startswith("Internkontrollplan 2023")


CONTRAST = (Path(__file__).parent / "contrast.js").read_text(encoding="utf-8")


def test_text_contrast_meets_wcag_aa(page: Any) -> None:
    page.goto("/")
    page.locator("#filters summary").click()
    ask(page, TOURISM)
    ask(page, NOT_IN_ARCHIVE, turn=2)
    page.locator("#conversation .turn").first.get_by_role("button", name=re.compile("svaret var till hjälp")).click()
    assert page.evaluate(CONTRAST) == []
    page.locator("button.cite").first.click()
    page.locator("#source-pages mark").first.wait_for()
    assert page.evaluate(CONTRAST) == []
    page.goto("/documents")
    page.locator("#doc-rows tr").first.wait_for()
    assert page.evaluate(CONTRAST) == []


# -- conversations, stop, progress, sources, phone and dark mode ---------------------------------------------

HANDKASSA = "Hur ofta kontrolleras handkassan?"
WITHDRAWN = "Besöksnäringen fick dessutom fem miljoner kronor i extra bidrag."


def test_conversations_are_kept_reopened_renamed_and_deleted(page: Any) -> None:
    page.goto("/")
    assert page.locator("#conversation-list li").count() == 0 and page.locator("#conv-empty").is_visible()
    ask(page, TOURISM)
    first = page.locator("#conversation-list li")
    assert first.count() == 1 and TOURISM in first.inner_text()
    assert first.locator(".conv-open").get_attribute("aria-current") == "true"

    # reloading keeps the open conversation: the answer, its sources and its citations work as before
    page.reload()
    turn = page.locator("#conversation .turn")
    turn.first.and_(page.locator("[data-status]")).wait_for()
    assert turn.count() == 1 and "2 000 000 kr" in turn.locator(".answer-text").inner_text()
    turn.locator("button.cite").first.click()
    page.locator("#source-pages mark").first.wait_for()
    page.keyboard.press("Escape")
    # a follow-up after the reload still carries the conversation
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/api/ask/stream") else None)
    ask(page, FOLLOW_UP, turn=2)
    assert len(sent[0]["history"]) == 2 and sent[0]["history"][0]["content"] == TOURISM

    page.click("#new-conversation")
    assert page.locator("#conversation .turn").count() == 0
    ask(page, NOT_IN_ARCHIVE)
    items = page.locator("#conversation-list li")
    assert items.count() == 2 and NOT_IN_ARCHIVE in items.first.inner_text()  # the newest first
    assert "2 frågor" in items.nth(1).inner_text()

    # back to the first one
    items.nth(1).locator(".conv-open").click()
    assert page.locator("#conversation .turn").count() == 2
    assert TOURISM in page.locator("#conversation .turn .question-text").first.inner_text()
    assert items.nth(1).locator(".conv-open").get_attribute("aria-current") == "true"

    # rename it, by keyboard; the name survives a reload
    items.nth(1).get_by_role("button", name=f"Byt namn på {TOURISM}").click()
    field = page.get_by_label("Nytt namn")
    assert field.evaluate("el => el === document.activeElement")
    field.fill("Stöd till besöksnäringen")
    field.press("Enter")
    page.get_by_role("button", name="Byt namn på Stöd till besöksnäringen").wait_for()
    page.reload()
    page.locator("#conversation .turn[data-status]").first.wait_for()
    assert page.locator("#conversation .turn").count() == 2  # still the renamed one, open
    assert (
        page.locator("#conversation-list .conv-open[aria-current=true]")
        .inner_text()
        .startswith("Stöd till besöksnäringen")
    )

    # delete it: the list and the page forget it
    page.get_by_role("button", name="Ta bort Stöd till besöksnäringen").click()
    assert page.locator("#conversation-list li").count() == 1
    assert page.locator("#conversation .turn").count() == 0 and page.locator("#empty-state").is_visible()
    page.get_by_text("Konversationen ”Stöd till besöksnäringen” är borttagen.").wait_for(state="attached")
    page.reload()
    assert page.locator("#conversation-list li").count() == 1
    assert "Stöd till besöksnäringen" not in page.locator("#conversation-list").inner_text()


def test_not_found_lists_the_nearest_passages_as_links(page: Any) -> None:
    page.goto("/")
    turn = ask(page, NOT_IN_ARCHIVE)
    links = turn.locator(".nf-nearby a")
    assert links.count() >= 1
    href = links.first.get_attribute("href")
    assert re.match(r"^/documents/[\w.-]+/pages/\d+\?highlight=", href)
    assert ".txt" not in turn.locator(".nf-nearby").inner_text()  # documents by title, never by file name
    links.first.click()
    page.wait_for_url(re.compile(r"/documents/"))
    assert page.locator("mark#passage").count() == 1
    assert page.locator(".page-status.found").is_visible()
    page.go_back()
    page.locator("#conversation .turn[data-status=not_found]").wait_for()  # the conversation is still there


def test_a_table_row_citation_opens_its_page_with_the_row_marked(page: Any) -> None:
    # a table row is indexed as "Column: value; ...", which is not on the page word for word
    hits = page.request.post("/api/search", data={"query": HANDKASSA, "k": 5}).json()["hits"]
    row = next(h for h in hits if h["text"].startswith("Granskningsområde: Handkassa"))
    # the page view a citation of it opens (the same link the source panel and the nearest passages give)
    query = urlencode({"highlight": row["text"][:1500]})
    page.goto(f"/documents/{row['document']['id']}/pages/{row['page_start']}?{query}#passage")
    assert page.locator(".page-status.found").is_visible()  # not "was not found on this page"
    assert page.locator("mark#passage").inner_text().startswith("11. Handkassa")
    marked = " ".join(page.locator("main mark").all_inner_texts())
    assert "Handkassan ska vara korrekt" in marked and "bokfört belopp" in marked
    assert "Representation" not in marked  # the row before, which the passage does not hold, is not


def test_sources_are_grouped_by_document_and_named_by_title(page: Any) -> None:
    page.goto("/")
    turn = ask(page, "Vilka kontroller gör administrativ chef i internkontrollplanen?")
    cited = turn.locator(".sources .source-item")
    docs = turn.locator(".sources .source-doc")
    assert cited.count() >= 2 and docs.count() == 1  # two citations of one document: the document once
    assert docs.locator("h5").inner_text().startswith("Internkontrollplan 2023")
    meta = docs.locator(".source-meta").inner_text()
    assert "Plan" in meta
    assert all(re.search(r"s\. \d+", text) for text in cited.all_inner_texts())
    shown = turn.locator(".sources").inner_text()
    assert ".txt" not in shown and "internkontrollplan_2023" not in shown


# -- a server whose answers come slowly: progress, withdrawal and stop ---------------------------------------


class SlowAssistant:
    """The real assistant, streaming its text a word at a time, with a first sentence that the verified answer
    does not keep (as a language model's draft may have); records whether the stream ran to its end."""

    def __init__(self, inner: Any, delay: float) -> None:
        self._inner = inner
        self.delay = delay
        self.finished = threading.Event()
        self.closed = threading.Event()
        self.hold = False
        """When set, the first text waits for `release` (so a test can look at the page between the events)."""
        self.release = threading.Event()
        self.pieces = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def ask_stream(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        self.finished.clear()
        self.closed.clear()
        self.pieces = 0
        try:
            drafted = False
            for kind, data in self._inner.ask_stream(*args, **kwargs):
                if kind == "text" and not drafted:
                    drafted = True
                    if self.hold:
                        self.release.wait(timeout=30)
                    time.sleep(self.delay)
                    yield "text", WITHDRAWN + " "
                if kind == "text":
                    for word in re.split(r"(?<= )", data):
                        time.sleep(self.delay)
                        self.pieces += 1
                        yield "text", word
                    continue
                yield kind, data
            self.finished.set()
        finally:
            self.closed.set()


def _serve(app: Any) -> tuple[str, Any, threading.Thread]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="arkiv-slow-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the slow test server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture(scope="module")
def slow(fixture_index: Any, assistant: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from assistant.web.app import create_app

    slow_assistant = SlowAssistant(assistant, delay=0.15)
    url, server, thread = _serve(
        create_app(web_settings(fixture_index, tmp_path_factory.mktemp("slow")), slow_assistant)
    )
    slow_assistant.url = url
    yield slow_assistant
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def slow_page(browser: Any, slow: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE", base_url=slow.url)
    context.set_default_timeout(30_000)
    errors: list[str] = []
    p = context.new_page()
    p.on("pageerror", lambda ex: errors.append(str(ex)))
    yield p
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_the_stream_shows_sources_first_then_the_text_then_citations(slow_page: Any, slow: Any) -> None:
    page = slow_page
    page.goto("/")
    slow.hold = True  # the answer's text waits until the page has been looked at
    slow.release.clear()
    try:
        page.fill("#question", TOURISM)
        page.press("#question", "Enter")
        turn = page.locator("#conversation .turn").first
        found = turn.locator(".sources.found")
        found.wait_for()
        # the source panel fills before any answer text, grouped by document and named by title
        assert turn.get_attribute("data-text-events") is None and turn.get_attribute("data-status") is None
        assert "Kallelse med presidiets protokollsutdrag" in found.inner_text()
        assert re.search(r"Hittade \d+ stycken i \d+ dokument", turn.locator(".answer-text").inner_text())
    finally:
        slow.hold = False
        slow.release.set()
    # then the text as it is produced, piece by piece
    page.wait_for_function("() => Number(document.querySelector('.turn').dataset.textEvents || 0) >= 3")
    assert turn.get_attribute("data-status") is None and WITHDRAWN in turn.locator(".answer-text").inner_text()
    turn.and_(page.locator("[data-status]")).wait_for(timeout=60_000)
    assert int(turn.get_attribute("data-ms-sources")) <= int(turn.get_attribute("data-ms-first-text"))
    assert int(turn.get_attribute("data-text-events")) > 3
    # then citations and done: the drafted sentence the verified answer dropped is withdrawn, visibly
    assert WITHDRAWN not in turn.locator(".answer-text").inner_text()
    assert turn.locator(".withdrawn del").inner_text() == WITHDRAWN
    assert turn.locator(".withdrawn").inner_text().startswith("Tillbakadraget")
    assert turn.locator(".sources.found").count() == 0 and turn.locator(".sources button.source-item").count() >= 1
    assert turn.locator(".answer-text button.cite").count() >= 1 and slow.finished.is_set()


def test_stop_cancels_the_answer_and_the_server_stops_working_on_it(slow_page: Any, slow: Any) -> None:
    page = slow_page
    page.goto("/")
    page.fill("#question", TOURISM)
    page.press("#question", "Enter")
    stop = page.get_by_role("button", name="Stoppa")
    assert stop.is_visible() and not page.locator("#send").is_visible()
    page.wait_for_function("() => Number(document.querySelector('.turn')?.dataset.textEvents || 0) >= 2")
    stop.click()
    turn = page.locator("#conversation .turn").first
    turn.and_(page.locator("[data-status=stopped]")).wait_for()
    assert "Svaret avbröts innan det var klart." in turn.inner_text()
    assert page.locator("#send").is_visible() and not stop.is_visible()
    # the server stopped producing the answer: its stream was closed before the end
    assert slow.closed.wait(10) and not slow.finished.is_set()
    produced = slow.pieces
    time.sleep(1)
    assert slow.pieces == produced
    # the stopped turn is kept with the conversation, and a new question works
    page.reload()
    page.locator("#conversation .turn[data-status=stopped]").wait_for()
    ask(page, NOT_IN_ARCHIVE, turn=2)


# -- phone, dark mode, accessibility ------------------------------------------------------------------------


def test_on_a_phone_the_composer_grows_but_stays_within_a_fifth_of_the_screen(
    browser: Any, live_server: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto("/")
        page.locator("body[data-ready]").wait_for(state="attached")
        form, box = page.locator("#ask-form"), page.locator("#question")
        empty = box.bounding_box()["height"]
        assert form.bounding_box()["height"] <= 844 / 5
        box.fill("En fråga som är lång.")
        for _ in range(3):
            box.press("Shift+Enter")
            box.type("Ännu en rad i frågan.")
        three = box.bounding_box()["height"]
        assert three > empty * 1.5  # it grew with the text
        for _ in range(12):
            box.press("Shift+Enter")
            box.type("Fler rader.")
        assert form.bounding_box()["height"] <= 844 / 5  # and stops at a fifth of the screen, then scrolls
        assert box.evaluate("el => el.scrollHeight > el.clientHeight")
        # the conversations are one tap away
        toggle = page.get_by_role("button", name="Konversationer")
        assert toggle.get_attribute("aria-expanded") == "false" and not page.locator("#conversations").is_visible()
        toggle.click()
        assert page.locator("#conversations").is_visible()
    finally:
        context.close()


def _axe(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in results.response["violations"]]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_and_contrast_meets_aa_in_light_and_dark(
    browser: Any, live_server: LiveServer, scheme: str
) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme=scheme, base_url=live_server.url
    )
    try:
        page = context.new_page()
        page.goto("/")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(15, 20, 26)") == (scheme == "dark")  # dark mode follows the system setting
        page.locator("#filters summary").click()
        ask(page, TOURISM)
        ask(page, NOT_IN_ARCHIVE, turn=2)
        assert _axe(page) == []
        assert page.evaluate(CONTRAST) == []
        page.locator("button.cite").first.click()
        page.locator("#source-pages mark").first.wait_for()
        assert _axe(page) == []
        assert page.evaluate(CONTRAST) == []
        href = page.get_attribute("#open-page", "href")
        page.goto(href)
        assert _axe(page) == []
        assert page.evaluate(CONTRAST) == []
        page.goto("/documents")
        page.locator("#doc-rows tr").first.wait_for()
        assert _axe(page) == []
        assert page.evaluate(CONTRAST) == []
    finally:
        context.close()
