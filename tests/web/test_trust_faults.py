"""A Qdrant server that does not answer: /api/health says degraded and requests get 503 with a message,
never a 500 or a hang."""

from __future__ import annotations

import socket
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import FakeEmbedder


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_qdrant_server_is_degraded_and_503(tmp_path: Path) -> None:
    from qdrant_client import QdrantClient

    from assistant.service import build_assistant
    from assistant.settings import AssistantSettings
    from assistant.web.app import create_app
    from indexer.store import ClientStore

    url = f"http://127.0.0.1:{_closed_port()}"
    settings = AssistantSettings(data_dir=tmp_path, qdrant_url=url, _env_file=None)  # type: ignore[call-arg]
    store = ClientStore(QdrantClient(url=url, timeout=2), "arkiv")
    assistant = build_assistant(settings, store=store, embedder=FakeEmbedder())  # type: ignore[arg-type]
    with TestClient(create_app(settings, assistant), raise_server_exceptions=False) as c:
        health = c.get("/api/health")
        assert health.status_code == 200 and health.json()["status"] == "degraded" and health.json()["message"]
        for path, body in (("/api/search", {"query": "budget"}), ("/api/ask", {"question": "Vad kostade bron?"})):
            response = c.post(path, json=body)
            assert response.status_code == 503, response.text
            error = response.json()["error"]
            assert error["code"] == "unavailable" and "svarar inte" in error["message"]
            assert "Traceback" not in response.text and url not in response.text
        with c.stream("POST", "/api/ask/stream", json={"question": "Vad kostade bron?"}) as response:
            text = "".join(response.iter_text())
        assert "event: error" in text and "svarar inte" in text
