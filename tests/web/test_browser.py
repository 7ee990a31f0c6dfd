"""The chat page in a real browser: headless Chromium (Debian's) driven by Playwright against the live app."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from assistant.feedback import FeedbackStore
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.browser

TOURISM = "Hur mycket pengar fick besöksnäringen?"
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
        turn.get_by_role("button", name="Kopiera svar").click()
        turn.get_by_text("Svaret är kopierat.").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "2 000 000 kr" in copied and "Källor:\n[1] Kallelse med presidiets protokollsutdrag" in copied
        assert "§ 29" in copied
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
