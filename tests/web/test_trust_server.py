"""A server that never hangs: an aborted stream stops its answer and frees everything at once, and /api/health
answers fast while every worker is busy. The real app served by uvicorn on 127.0.0.1; the assistant behind it is
a fake whose work takes known time (so that the test measures the server, not the answerer)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from assistant.access import ANONYMOUS, Principal
from assistant.types import Answer

STREAM_EVENTS = 50
STEP_S = 0.1


@dataclass
class Record:
    started: int = 0
    closed: int = 0
    events: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Store:
    def count(self, filt: Any = None) -> int:
        return 7


class _Catalog:
    def __init__(self, folder: Path) -> None:
        self.folder = folder


class SlowAssistant:
    """Streams STREAM_EVENTS pieces, STEP_S apart (5 s in all); asks burn the CPU for `cpu_s` (holding the GIL,
    as the Python parts of answering do)."""

    def __init__(self, folder: Path, cpu_s: float = 1.0) -> None:
        self.catalog = _Catalog(folder)
        self.store = _Store()
        self.record = Record()
        self.cpu_s = cpu_s

    def health(self) -> dict[str, int]:
        return {"documents": 0, "chunks": 7}

    def ask_stream(
        self, question: str, history: Any = (), filters: Any = None, principal: Principal = ANONYMOUS
    ) -> Iterator[tuple[str, Any]]:
        with self.record.lock:
            self.record.started += 1
        sent = 0
        try:
            yield "meta", {"query": question, "filters": {}, "language": "sv"}
            for _ in range(STREAM_EVENTS):
                time.sleep(STEP_S)
                sent += 1
                yield "text", "ord "
            yield "answer", Answer(question=question, query=question, text="ord", status="answered")
        finally:
            with self.record.lock:
                self.record.closed += 1
                self.record.events.append(sent)

    def ask(self, question: str, history: Any = (), filters: Any = None, principal: Principal = ANONYMOUS) -> Answer:
        end = time.perf_counter() + self.cpu_s
        x = 0
        while time.perf_counter() < end:
            x += sum(range(200))
        return Answer(question=question, query=question, text="svar", status="answered")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int, SlowAssistant]]:
    import uvicorn

    from assistant.settings import AssistantSettings
    from assistant.web.app import create_app

    (tmp_path / "catalog").mkdir()
    fake = SlowAssistant(tmp_path / "catalog")
    settings = AssistantSettings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, fake), host="127.0.0.1", port=port, log_level="warning")
    )  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield "127.0.0.1", port, fake
    server.should_exit = True
    thread.join(timeout=10)


def _get(host: str, port: int, path: str, timeout: float = 10) -> tuple[int, float, bytes]:
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, time.perf_counter() - t0, r.read()
    finally:
        c.close()


def _post(host: str, port: int, path: str, body: dict[str, Any], timeout: float = 30) -> int:
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def test_an_aborted_stream_stops_its_answer_and_holds_nothing(served: tuple[str, int, SlowAssistant]) -> None:
    host, port, fake = served
    for _ in range(4):  # clients that give up after the first event
        c = http.client.HTTPConnection(host, port, timeout=10)
        c.request(
            "POST", "/api/ask/stream", json.dumps({"question": "Vad beslutades?"}), {"Content-Type": "application/json"}
        )
        response = c.getresponse()
        assert response.status == 200
        response.read(20)
        c.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        c.close()
    status, took, _ = _get(host, port, "/api/health")
    assert status == 200 and took < 0.5, took
    deadline = time.monotonic() + 3
    while fake.record.closed < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    # every aborted answer was closed within a few steps, not run to its end (50 steps)
    assert fake.record.closed == 4 and max(fake.record.events) < 20, fake.record
    # and the server still answers a whole stream
    assert _post(host, port, "/api/ask", {"question": "Vad beslutades?"}) == 200


def test_health_stays_fast_while_every_worker_is_busy(served: tuple[str, int, SlowAssistant]) -> None:
    host, port, fake = served
    stop = time.monotonic() + 6
    errors: list[int] = []
    health: list[float] = []

    def client() -> None:
        while time.monotonic() < stop:
            status = _post(host, port, "/api/ask", {"question": "Vad beslutades om budgeten?"})
            if status != 200:
                errors.append(status)

    def prober() -> None:
        while time.monotonic() < stop:
            status, took, body = _get(host, port, "/api/health")
            assert status == 200 and json.loads(body)["chunks"] == 7
            health.append(took)
            time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(8)] + [threading.Thread(target=prober)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    health.sort()
    p95 = health[int(0.95 * (len(health) - 1))]
    assert not errors and len(health) > 10
    # Health never waits for an answer: far under one answer's time even at p95. (The 100 ms target is measured
    # by `arkiv load` on a quiet machine; this machine may be shared, so the test asserts what the design
    # guarantees, not a figure that depends on its neighbours.)
    assert p95 < 0.5 * fake.cpu_s, f"health p95 {p95 * 1000:.0f} ms"


def test_a_client_sending_a_body_over_the_limit_reads_the_413(served: tuple[str, int, SlowAssistant]) -> None:
    """The refused body is read and dropped before the answer. A server that answers and closes while the client
    is still sending resets the connection (a socket closed with unread data is reset), and the client, here one
    that pauses mid-body as a slow network does, loses the 413 to "connection reset"."""
    host, port, _ = served
    body = b'{"question": "' + b"a" * 1_000_000 + b'"}'
    head = f"POST /api/ask HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(head.encode() + body[:200_000])
        time.sleep(0.5)  # the rest of the body is still on its way
        sock.sendall(body[200_000:])
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line.split()[1] == b"413"
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["error"]["code"] == "too_large"
