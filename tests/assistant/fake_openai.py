"""A small OpenAI-compatible chat server on 127.0.0.1, for tests: replies are queued, requests recorded.

    with FakeOpenAI() as server:
        server.enqueue("Nämnden beslutade att anta planen [1].")
        llm = OpenAILike(api_base=server.base_url, ...)

Serves POST /v1/chat/completions (stream false, or true as SSE chunks ending in `data: [DONE]`) and GET /v1/models.
A request with nothing queued gets HTTP 500, so a test never passes on a reply it did not ask for.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

MODEL = "fake-model"


@dataclass(frozen=True)
class Reply:
    """What the server does with the next chat request."""

    text: str = ""
    status: int = 200
    delay: float = 0.0
    """Seconds to wait before answering (before the first chunk when streaming)."""
    cut_after: int | None = None
    """Streaming: drop the connection after this many content pieces, in the middle of the body."""
    piece_chars: int | None = None
    """Streaming: send the text in pieces of this many characters instead of word by word."""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def content(self, role: str) -> str:
        """The text of all messages with this role, joined."""
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == role)


class FakeOpenAI:
    """The server; a context manager that starts it on a free port and stops it."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[RecordedRequest] = []
        self.dropped = 0
        """Replies the client hung up on before they were written (a timed-out client does)."""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def enqueue(
        self, text: str, *, delay: float = 0.0, cut_after: int | None = None, piece_chars: int | None = None
    ) -> None:
        """Queue a reply with this text."""
        with self._lock:
            self.replies.append(Reply(text=text, delay=delay, cut_after=cut_after, piece_chars=piece_chars))

    def enqueue_failure(self, status: int = 500, text: str = "upstream exploded") -> None:
        """Queue an HTTP error."""
        with self._lock:
            self.replies.append(Reply(text=text, status=status))

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def last(self) -> RecordedRequest:
        return self.chat_requests[-1]

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self.replies:
                return self.replies.popleft()
        return Reply(text="no reply was queued", status=500)

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _handler_for(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/v1/models":
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            with server._lock:
                server.requests.append(RecordedRequest("GET", self.path, dict(self.headers)))
            self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "arkiv-tests"}]})

        def do_POST(self) -> None:
            try:
                self._chat()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                with server._lock:
                    server.dropped += 1

        def _chat(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                return
            reply = server._next_reply(RecordedRequest("POST", self.path, dict(self.headers), body))
            if reply.delay:
                server._wait(reply.delay)
            if reply.status != 200:
                self._json(reply.status, {"error": {"message": reply.text, "type": "server_error"}})
            elif body.get("stream"):
                self._stream(reply, str(body.get("model", MODEL)))
            else:
                self._json(200, _completion(reply.text, str(body.get("model", MODEL))))

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, reply: Reply, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self._event(_chunk(model, {"role": "assistant", "content": ""}))
            if reply.piece_chars:
                pieces = [reply.text[i : i + reply.piece_chars] for i in range(0, len(reply.text), reply.piece_chars)]
            else:
                pieces = re.findall(r"\S+\s*|\s+", reply.text)
            for i, piece in enumerate(pieces):
                if reply.cut_after is not None and i >= reply.cut_after:
                    return  # the connection drops in the middle of the chunked body
                self._event(_chunk(model, {"content": piece}))
            self._event(_chunk(model, {}, finish_reason="stop"))
            self._send_chunk(b"data: [DONE]\n\n")
            self._send_chunk(b"")

        def _event(self, payload: dict[str, Any]) -> None:
            self._send_chunk(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n")

        def _send_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
