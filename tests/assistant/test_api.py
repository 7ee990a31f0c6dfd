"""The HTTP API contract clients rely on, and its one error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.web.app import create_app

TOURISM = "Hur mycket beviljades Smålands Turism för nationell marknadsföring 2022?"


@pytest.fixture(scope="module")
def client(fixture_index: Any, assistant: Any) -> Iterator[TestClient]:
    settings, _ = fixture_index
    with TestClient(create_app(settings, assistant), raise_server_exceptions=False) as c:
        yield c


def assert_error(response: Any, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"] and "Traceback" not in response.text
    if code:
        assert body["error"]["code"] == code


def test_health(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["documents"] == 3 and body["chunks"] > 10


def test_search_contract(client: TestClient) -> None:
    body = client.post("/api/search", json={"query": "Smålands Turism marknadsföring", "k": 3}).json()
    assert 1 <= len(body["hits"]) <= 3
    hit = body["hits"][0]
    assert {
        "rank",
        "score",
        "text",
        "document",
        "page_start",
        "page_end",
        "section",
        "paragraph",
        "case_numbers",
    } <= set(hit)
    assert {"id", "title", "source", "type", "date"} <= set(hit["document"])
    assert hit["rank"] == 1 and isinstance(hit["score"], float) and isinstance(hit["case_numbers"], list)
    assert hit["document"]["source"].endswith(".txt")


def test_search_with_filters(client: TestClient) -> None:
    body = client.post("/api/search", json={"query": "kontroll", "filters": {"doc_type": "plan"}}).json()
    assert body["hits"] and {h["document"]["type"] for h in body["hits"]} == {"plan"}


def test_ask_contract(client: TestClient) -> None:
    body = client.post("/api/ask", json={"question": TOURISM}).json()
    assert body["status"] == "answered"
    assert "[1]" in body["answer"] and body["query"] == TOURISM
    assert body["filters"] == {"year_from": 2022, "year_to": 2022}
    c = body["citations"][0]
    assert c["n"] == 1 and "2 000 000" in c["text"]
    assert {"document", "page_start", "page_end", "section", "paragraph", "case_numbers"} <= set(c)
    assert "RJL 2022/258" in c["case_numbers"]


def test_ask_with_history_and_not_found(client: TestClient) -> None:
    history = [
        {"role": "user", "content": "Vad föreslog presidiet om stöttning av besöksnäringen 2022?"},
        {"role": "assistant", "content": "Presidiet föreslog ..."},
    ]
    body = client.post("/api/ask", json={"question": "Och hur mycket gällde det?", "history": history}).json()
    assert "besöksnäringen" in body["query"] and body["status"] == "answered"
    missing = client.post("/api/ask", json={"question": "Vad kostade den nya simhallen i Ulricehamn 2019?"}).json()
    assert missing["status"] == "not_found" and missing["citations"] == []


def test_stream_sends_text_citations_and_the_whole_response(client: TestClient) -> None:
    with client.stream("POST", "/api/ask/stream", json={"question": TOURISM}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = "".join(response.iter_text())
    events = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    kinds = [k for k, _ in events]
    assert kinds[0] == "meta" and "text" in kinds and kinds[-2:] == ["citations", "done"]
    done = events[-1][1]
    assert done["status"] == "answered" and done["citations"]
    assert "".join(d["text"] for k, d in events if k == "text").strip() == done["answer"].strip()


@pytest.mark.parametrize(
    ("path", "payload", "status", "code"),
    [
        ("/api/ask", {"question": ""}, 400, "empty_question"),
        ("/api/ask", {"question": "   "}, 400, "empty_question"),
        ("/api/ask", {"question": "x" * 2001}, 400, "question_too_long"),
        ("/api/ask", {"question": 42}, 422, "invalid_request"),
        ("/api/ask", {}, 422, "invalid_request"),
        ("/api/ask", {"question": "hej", "filters": {"colour": "blå"}}, 422, "unknown_filter"),
        ("/api/ask", {"question": "hej", "filters": {"year_from": "tjugo"}}, 422, "invalid_request"),
        ("/api/ask", {"question": "hej", "history": [{"role": "system", "content": "x"}]}, 422, "invalid_request"),
        ("/api/ask/stream", {"question": ""}, 400, "empty_question"),
        ("/api/search", {"query": "hej", "k": 0}, 422, "invalid_request"),
        ("/api/search", {"query": ["a"]}, 422, "invalid_request"),
    ],
)
def test_bad_input_gets_a_4xx_in_the_one_error_shape(
    client: TestClient, path: str, payload: dict[str, Any], status: int, code: str
) -> None:
    assert_error(client.post(path, json=payload), status, code)


def test_bad_json_and_unknown_routes(client: TestClient) -> None:
    bad = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(bad, 400, "bad_json")
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.get("/api/ask"), 405)
