"""A fake Slack Web API on 127.0.0.1 that records every call, and helpers to send signed requests to the app."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from fastapi.testclient import TestClient

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
PUBLIC_URL = "https://arkiv.example.se"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None = None


@dataclass(frozen=True)
class Fault:
    """How the fake answers one call when Slack misbehaves: after `hang` seconds, with HTTP `status` (a 5xx, or
    429 with Retry-After `retry_after`), or 200 with Slack's `{"ok": false, "error": error}`."""

    status: int = 200
    error: str | None = None
    hang: float = 0.0
    retry_after: int | None = None


@dataclass
class FakeSlack:
    """Slack's Web API as far as the bot uses it: auth.test, chat.*, conversations.replies, and response_url hooks.

    `threads[(channel, ts)]` is what conversations.replies returns; `fail[method] = "error"` makes a method answer
    `{"ok": false, "error": ...}` as Slack does. `fault(method, *faults)` queues misbehaviour for the next calls
    (one fault per call, then normal answers); `always[method] = Fault(...)` makes every call misbehave.
    `channels[id]` is what conversations.info says about a channel (public when absent).
    """

    calls: list[Call] = field(default_factory=list)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    fail: dict[str, str] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    always: dict[str, Fault] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    port: int = 0
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: int = 0

    # -- lifecycle --

    def start(self) -> None:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application()
            app.router.add_route("*", "/api/{method}", self._api)
            app.router.add_route("POST", "/hooks/{name}", self._hook)
            app.router.add_route("GET", "/socket", self._socket)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-slack", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Slack API did not start")

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.sockets.clear()
            self.threads.clear()
            self.fail.clear()
            self.faults.clear()
            self.always.clear()
            self.channels.clear()

    # -- what was called --

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def fault(self, method: str, *faults: Fault) -> None:
        with self._lock:
            self.faults.setdefault(method, []).extend(faults)

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        """The calls to `method` once there are `count` of them; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} call(s) to {method}; calls: {self.methods()}")

    # -- handlers --

    def _ts(self) -> str:
        with self._lock:
            self._counter += 1
            return f"1800000000.{self._counter:06d}"

    def _record(self, method: str, params: dict[str, Any], token: str | None) -> None:
        for name in ("blocks", "attachments"):
            if isinstance(params.get(name), str):
                params[name] = json.loads(params[name])
        with self._lock:
            self.calls.append(Call(method, params, token))

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or params.get("token")
        self._record(method, params, token)
        with self._lock:
            queued = self.faults.get(method)
            fault = queued.pop(0) if queued else self.always.get(method)
        if fault is not None:
            if fault.hang:
                await asyncio.sleep(fault.hang)
            if fault.status == 429:
                headers = {"Retry-After": str(fault.retry_after or 0)}
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
            if fault.status >= 500:
                return web.Response(status=fault.status, text="<html>Bad Gateway</html>", content_type="text/html")
            if fault.error:
                return web.json_response({"ok": False, "error": fault.error})
        if method in self.fail:
            return web.json_response({"ok": False, "error": self.fail[method]})
        return web.json_response(self._answer(method, params))

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://arkiv-test.slack.com/",
                "team": "Arkiv",
                "user": "arkiv",
                "team_id": "T1",
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = self._ts()
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"text": params.get("text"), "ts": ts, "bot_id": BOT_ID, "user": BOT_USER_ID},
            }
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._ts()}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        if method == "chat.delete":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "conversations.info":
            channel = str(params.get("channel"))
            info = {
                "id": channel,
                "is_channel": True,
                "is_private": False,
                "is_im": channel.startswith("D"),
                "is_mpim": False,
                **self.channels.get(channel, {}),
            }
            return {"ok": True, "channel": info}
        if method == "conversations.replies":
            messages = self.threads.get((str(params.get("channel")), str(params.get("ts"))), [])
            return {"ok": True, "messages": messages, "has_more": False}
        return {"ok": True}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then pass on what `push` sends; the client's acknowledgements are recorded."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        with self._lock:
            self.sockets.append(ws)
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self._record("socket", json.loads(message.data), None)
        with self._lock:
            self.sockets.remove(ws)
        return ws

    def push(self, envelope: dict[str, Any], timeout: float = 10.0) -> None:
        """Send an envelope to the connected Socket Mode client (waits for it to connect)."""
        deadline = time.monotonic() + timeout
        while not self.sockets:
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode client connected")
            time.sleep(0.02)
        ws = self.sockets[-1]
        asyncio.run_coroutine_threadsafe(ws.send_str(json.dumps(envelope, ensure_ascii=False)), self._loop).result(5)

    async def _hook(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        self._record("response_url", {**params, "hook": request.match_info["name"]}, None)
        return web.Response(text="ok")


# -- signed requests ------------------------------------------------------------------------------------------


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with a request: the timestamp and the v0 signature over both."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "unused",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": {"event_ts": event.get("ts"), **event},
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": BOT_USER_ID, "is_bot": True}],
        },
        ensure_ascii=False,
    )


def command_body(text: str, response_url: str, channel: str = "C1", user: str = "U1") -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": "T1",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "anna",
            "command": "/arkiv",
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def action_body(
    action_id: str,
    value: str,
    response_url: str,
    channel: str = "C1",
    user: str = "U2",
    message: dict[str, Any] | None = None,
) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user, "username": "bo"},
        "api_app_id": "A1",
        "channel": {"id": channel, "name": "general"},
        "container": {"type": "message", "channel_id": channel, "is_ephemeral": message is None},
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "arkiv_actions",
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }
    if message is not None:
        payload["message"] = message
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)})


def post_signed(
    client: TestClient,
    body: str,
    *,
    form: bool = False,
    secret: str = SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST a body to /slack/events as Slack would, signed with `secret`."""
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    all_headers = {"Content-Type": content_type, **sign(secret, body, timestamp), **(headers or {})}
    return client.post("/slack/events", content=body.encode(), headers=all_headers)
