"""The case history API and page: GET /api/cases/{case_number}, GET /api/cases?q=, /cases/{case_number}."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from assistant.web.app import create_app
from tests.web.conftest import web_settings

CASE = quote("RJL 2022/258", safe="")


@pytest.fixture(scope="module")
def client(fixture_index: Any, assistant: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = web_settings(fixture_index, tmp_path_factory.mktemp("web-cases"))
    with TestClient(create_app(settings, assistant)) as c:
        yield c


def test_a_case_is_served_as_dated_steps_in_date_order_with_citations(client: TestClient) -> None:
    response = client.get(f"/api/cases/{CASE}")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["case_number"] == "RJL 2022/258"
    entries = data["entries"]
    dates = [e["date"] for e in entries]
    assert dates == sorted(dates) and {"2022-02-02", "2022-02-10"} <= set(dates)
    presidium = next(e for e in entries if e["paragraph"] == "29")
    assert presidium["kind"] == "förslag" and presidium["decision"].startswith("Presidiet föreslår nämnden")
    assert presidium["body"].startswith("Presidium")
    report = next(e for e in entries if e["kind"] == "tjänsteskrivelse")
    assert report["date"] == "2022-02-02" and "Smålands Turism AB 2 000 000 kr" in report["proposal"]
    # the citation has the answers' shape, and the page link opens the page view with the step marked
    cite = presidium["citation"]
    assert {
        "n",
        "text",
        "quotes",
        "document",
        "page_start",
        "page_end",
        "paragraph",
        "case_numbers",
        "chunk_id",
    } <= set(cite)
    assert cite["paragraph"] == "29" and "RJL 2022/258" in cite["case_numbers"]
    assert any("Bevilja Smålands Turism AB" in q for q in cite["quotes"])
    page = client.get(presidium["page_url"])
    assert page.status_code == 200 and "<mark" in page.text


def test_the_short_written_forms_find_the_same_case(client: TestClient) -> None:
    for form in ("rjl 2022/258", "Dnr 2022/258", "2022/258"):
        response = client.get("/api/cases/" + quote(form, safe=""))
        assert response.status_code == 200, form
        assert response.json()["case_number"] == "RJL 2022/258"


def test_an_unknown_case_is_a_404_in_the_one_error_shape(client: TestClient) -> None:
    for path in (f"/api/cases/{quote('RJL 2022/9999', safe='')}", "/api/cases/inte-ett-diarienummer"):
        response = client.get(path)
        assert response.status_code == 404
        body = response.json()
        assert body["error"]["code"] == "not_found" and body["error"]["message"]
    assert client.get(f"/cases/{quote('RJL 2022/9999', safe='')}").status_code == 404
    assert client.get("/api/cases/" + "9" * 200).status_code == 400


def test_cases_are_found_by_words_body_and_year(client: TestClient) -> None:
    found = client.get("/api/cases", params={"q": "besöksnäring"}).json()
    assert "RJL 2022/258" in [c["case_number"] for c in found["cases"]]
    assert found["cases"][0]["url"].startswith("/cases/")
    by_body = client.get("/api/cases", params={"q": "presidium 2022"}).json()
    assert "RJL 2022/258" in [c["case_number"] for c in by_body["cases"]]
    assert client.get("/api/cases", params={"q": "besöksnäring 2015"}).json()["cases"] == []
    assert client.get("/api/cases", params={"q": "x" * 500}).status_code == 422


def test_the_case_page_shows_the_timeline_accessibly_in_swedish_and_english(client: TestClient) -> None:
    response = client.get(f"/cases/{CASE}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="sv">' in html and "RJL 2022/258" in html and "Tidslinje" in html
    assert '<ol class="case-timeline"' in html and html.count('<li class="case-step') >= 3
    assert '<time datetime="2022-02-02">' in html and '<time datetime="2022-02-10">' in html
    assert html.index('datetime="2022-02-02"') < html.index('datetime="2022-02-10"')
    assert "§ 29" in html and "Presidiet föreslår nämnden" in html and "Förslag till beslut" in html
    assert "/documents/rjl_anna_2022-02/pages/" in html and "<script>" not in html and " onclick=" not in html
    english = client.get(f"/cases/{CASE}?lang=en").text
    assert '<html lang="en">' in english and "Timeline" in english and "Proposed decision" in english


# -- in the browser ------------------------------------------------------------------------------------------


def test_a_case_question_in_the_chat_links_to_the_case_page_with_its_timeline(page: Any) -> None:
    from tests.web.test_browser import CONTRAST, ask

    page.goto("/")
    turn = ask(page, "Vad har hänt i ärendet RJL 2022/258?")
    link = turn.locator(f'a.case-link[href="/cases/{CASE}"]').first
    link.wait_for()
    assert turn.locator("ol li").count() >= 3  # one list item per step, each with its citation chip
    assert turn.locator("ol li button.cite").count() >= 3
    link.click()
    page.wait_for_url(f"**/cases/{CASE}")
    steps = page.locator("ol.case-timeline > li")
    assert steps.count() >= 3
    assert page.locator("h1").inner_text().endswith("RJL 2022/258")
    assert page.evaluate(CONTRAST) == []
    page.locator("ol.case-timeline a.button").first.click()
    page.wait_for_url("**/documents/**/pages/**")
    assert page.locator("#page-text mark").count() >= 1
