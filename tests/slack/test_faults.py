"""Slack that keeps its word: Slack's API failing, hanging or rate limiting; retries and restarts; hostile text;
malformed signed requests. The assistant here is a fast stand-in, so that only the bot's behaviour is timed."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import quote

import pytest

import assistant.slack as slack
from assistant.errors import BadRequest
from assistant.types import Answer
from tests.slack.fake_slack import (
    BOT_USER_ID,
    SECRET,
    FakeSlack,
    Fault,
    command_body,
    event_body,
    post_signed,
)

QUESTION = "Hur mycket fick Smålands Turism?"


class CannedAssistant:
    """Answers at once, naming the question in its text (as a not-found answer does), and records the questions."""

    def __init__(self) -> None:
        self.questions: list[str] = []
        self._lock = threading.Lock()

    def ask(self, question: str, history: Any = (), filters: Any = None, **kwargs: Any) -> Answer:
        with self._lock:
            self.questions.append(question)
        return Answer(
            question=question,
            query=question,
            text=f"Arkivet innehåller inget som besvarar ”{question}”.",
            status="not_found",
        )


def mention(text: str, ts: str, event_id: str, channel: str = "C1") -> str:
    event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER_ID}> {text}", "ts": ts, "channel": channel}
    return event_body(event, event_id)


def retry_headers(n: int = 1, reason: str = "http_error") -> dict[str, str]:
    return {"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": reason}


def answer_texts(fake: FakeSlack) -> list[str]:
    """The plain text of every message posted or updated (placeholders included)."""
    return [c.params.get("text", "") for c in fake.calls if c.method in ("chat.postMessage", "chat.update")]


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short time-outs and delays, so that a Slack that keeps failing is given up on within a test."""
    monkeypatch.setattr(slack, "API_TIMEOUT", 1, raising=False)
    monkeypatch.setattr(slack, "DELIVERY_DELAYS", (0.2, 0.2), raising=False)


# -- Slack's API failing ------------------------------------------------------------------------------------------


def test_a_5xx_on_the_update_is_retried_and_the_answer_replaces_the_placeholder(
    make_client: Any, fake_slack: FakeSlack
) -> None:
    client = make_client(CannedAssistant())
    fake_slack.fault("chat.update", Fault(status=503), Fault(status=502))
    assert post_signed(client, mention(QUESTION, "1700000100.000100", "Ev-5xx")).status_code == 200
    updates = fake_slack.wait_for("chat.update", 3)
    assert "Smålands Turism" in updates[-1].params["text"]
    time.sleep(0.3)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # the placeholder only: no error message, no repost
    assert not fake_slack.calls_to("chat.delete")


def test_a_rate_limited_call_waits_for_retry_after_and_goes_through(make_client: Any, fake_slack: FakeSlack) -> None:
    client = make_client(CannedAssistant())
    fake_slack.fault("chat.postMessage", Fault(status=429, retry_after=0))
    assert post_signed(client, mention(QUESTION, "1700000101.000100", "Ev-429")).status_code == 200
    posts = fake_slack.wait_for("chat.postMessage", 2)
    assert all("Söker i arkivet" in p.params["text"] for p in posts)  # the same placeholder, tried twice
    assert "Smålands Turism" in fake_slack.wait_for("chat.update")[0].params["text"]


def test_a_timed_out_call_is_retried(make_client: Any, fake_slack: FakeSlack, quick: None) -> None:
    client = make_client(CannedAssistant())
    fake_slack.fault("chat.update", Fault(hang=1.5))
    assert post_signed(client, mention(QUESTION, "1700000102.000100", "Ev-hang")).status_code == 200
    updates = fake_slack.wait_for("chat.update", 2, timeout=15)
    assert updates[0].params["ts"] == updates[1].params["ts"]
    time.sleep(0.3)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_when_the_placeholder_cannot_be_updated_the_answer_is_posted_anew_and_the_placeholder_goes(
    make_client: Any, fake_slack: FakeSlack, quick: None
) -> None:
    client = make_client(CannedAssistant())
    fake_slack.always["chat.update"] = Fault(status=500)
    assert post_signed(client, mention(QUESTION, "1700000103.000100", "Ev-anew")).status_code == 200
    placeholder, answer = (c.params for c in fake_slack.wait_for("chat.postMessage", 2, timeout=15))
    assert "Söker i arkivet" in placeholder["text"]
    assert "Smålands Turism" in answer["text"] and answer["thread_ts"] == "1700000103.000100"
    assert answer["blocks"]
    deleted = fake_slack.wait_for("chat.delete")[0].params
    placeholder_ts = fake_slack.calls_to("chat.update")[0].params["ts"]
    assert (deleted["channel"], deleted["ts"]) == ("C1", placeholder_ts)


def test_while_slack_is_down_the_answer_is_delivered_when_it_comes_back(
    make_client: Any, fake_slack: FakeSlack, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack, "API_RETRIES", 0, raising=False)
    client = make_client(CannedAssistant())
    fake_slack.fault("chat.postMessage", *[Fault(status=503)] * 3)  # the placeholder, then two tries of the answer
    assert post_signed(client, mention(QUESTION, "1700000104.000100", "Ev-down")).status_code == 200
    posts = fake_slack.wait_for("chat.postMessage", 4, timeout=15)
    assert "Smålands Turism" in posts[-1].params["text"]
    assert not fake_slack.calls_to("chat.update")  # there was no placeholder to update
    bot = client.app.state.slack.arkiv
    deadline = time.monotonic() + 5
    while bot.ledger.state("C1:1700000104.000100") != "answered" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bot.ledger.state("C1:1700000104.000100") == "answered"


def test_a_question_slack_never_takes_is_logged_and_answered_on_slacks_retry(
    make_client: Any,
    fake_slack: FakeSlack,
    quick: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(slack, "API_RETRIES", 0, raising=False)
    client = make_client(CannedAssistant())
    fake_slack.always["chat.postMessage"] = Fault(status=500)
    body = mention(QUESTION, "1700000105.000100", "Ev-lost")
    with caplog.at_level(logging.ERROR, logger="assistant.slack"):
        assert post_signed(client, body).status_code == 200
        fake_slack.wait_for("chat.postMessage", 4, timeout=15)  # placeholder + 3 attempts at the answer
        deadline = time.monotonic() + 5
        bot = client.app.state.slack.arkiv
        while bot.ledger.state("C1:1700000105.000100") != "failed" and time.monotonic() < deadline:
            time.sleep(0.05)
    assert bot.ledger.state("C1:1700000105.000100") == "failed"
    assert any("could not be delivered" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)

    del fake_slack.always["chat.postMessage"]
    assert post_signed(client, body, headers=retry_headers(1)).status_code == 200
    answer = fake_slack.wait_for("chat.update")[0].params
    assert "Smålands Turism" in answer["text"]


def test_acknowledgements_stay_fast_while_slacks_api_hangs(make_client: Any, fake_slack: FakeSlack) -> None:
    """After a restart Bolt would call auth.test before the first acknowledgement; here Slack hangs on it."""
    fake_slack.always["auth.test"] = Fault(hang=8)
    client = make_client(CannedAssistant())
    started = time.perf_counter()
    assert post_signed(client, mention(QUESTION, "1700000106.000100", "Ev-ack")).status_code == 200
    mention_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    response = post_signed(client, command_body(QUESTION, f"{fake_slack.url}/hooks/ack"), form=True)
    command_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200 and "Söker i arkivet" in response.json()["text"]
    assert mention_ms < 3000 and command_ms < 3000, (mention_ms, command_ms)
    assert "Smålands Turism" in fake_slack.wait_for("chat.update")[0].params["text"]
    assert fake_slack.wait_for("chat.postEphemeral")


# -- retries, duplicates and restarts -----------------------------------------------------------------------------


def test_an_answered_question_is_not_answered_again_after_a_restart(make_client: Any, fake_slack: FakeSlack) -> None:
    body = mention(QUESTION, "1700000107.000100", "Ev-restart")
    first = make_client(CannedAssistant())
    assert post_signed(first, body).status_code == 200
    fake_slack.wait_for("chat.update")
    first.__exit__(None, None, None)

    canned = CannedAssistant()
    second = make_client(canned)  # a new process would open the same ledger under ARKIV_DATA_DIR
    assert post_signed(second, body, headers=retry_headers(1, "http_timeout")).status_code == 200
    assert post_signed(second, body, headers=retry_headers(2)).status_code == 200
    assert post_signed(second, body).status_code == 200
    time.sleep(0.5)
    assert canned.questions == []
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert len(fake_slack.calls_to("chat.update")) == 1


def test_a_question_taken_on_by_a_process_that_died_is_answered_at_the_next_start(
    make_client: Any, fake_slack: FakeSlack, slack_settings: Any
) -> None:
    event = json.loads(mention(QUESTION, "1700000108.000100", "Ev-died"))["event"]
    ledger = slack.EventLedger(slack_settings.data_dir / slack.EVENTS_DB)
    assert ledger.take(slack.question_key(event), "Ev-died", event)
    ledger.close()  # the process stops here, before answering

    canned = CannedAssistant()
    make_client(canned)
    posts = fake_slack.wait_for("chat.postMessage")
    assert posts[0].params["thread_ts"] == "1700000108.000100"
    assert "Smålands Turism" in fake_slack.wait_for("chat.update")[0].params["text"]
    assert canned.questions == [QUESTION]


def test_slack_questions_are_answered_side_by_side(make_client: Any, fake_slack: FakeSlack) -> None:
    """No lock around the assistant: a slow question does not hold up the next one."""
    barrier = threading.Barrier(2, timeout=10)

    class Meeting(CannedAssistant):
        def ask(self, question: str, history: Any = (), filters: Any = None, **kwargs: Any) -> Answer:
            barrier.wait()  # both questions must be in the assistant at once
            return super().ask(question, history, filters)

    client = make_client(Meeting())
    assert post_signed(client, mention(QUESTION, "1700000109.000100", "Ev-a")).status_code == 200
    assert post_signed(client, mention("Vad kostade bron?", "1700000109.000200", "Ev-b")).status_code == 200
    updates = fake_slack.wait_for("chat.update", 2, timeout=20)
    assert all("Arkivet innehåller inget" in u.params["text"] for u in updates)


# -- users' text is escaped ---------------------------------------------------------------------------------------

HOSTILE = "<!channel> <!here|here> Vad beslutade <!subteam^S1> om <https://evil.example|banken> & <#C9|x>?"


def all_strings(node: Any) -> list[str]:
    """Every string Slack would render (a button's value is data for the bot, never shown)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() if k != "value" for s in all_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in all_strings(v)]
    return []


def assert_no_pings(texts: list[str]) -> None:
    for text in texts:
        for special in ("<!channel", "<!here", "<!subteam", "<!everyone", "<https://evil", "<#C9"):
            assert special not in text, text


def test_a_users_text_is_escaped_wherever_it_is_echoed(make_client: Any, fake_slack: FakeSlack) -> None:
    client = make_client(CannedAssistant())
    # Slack sends text with &, < and > of the user's own typing already escaped, and specials as <!…>.
    raw = HOSTILE.replace("&", "&amp;")
    assert post_signed(client, mention(raw, "1700000110.000100", "Ev-ping")).status_code == 200
    update = fake_slack.wait_for("chat.update")[0].params
    assert "&lt;!channel&gt;" in update["text"]  # shown as typed
    ack = post_signed(client, command_body(raw, f"{fake_slack.url}/hooks/ping"), form=True)
    ephemeral = fake_slack.wait_for("chat.postEphemeral")[0].params
    posted = [c.params for c in fake_slack.calls if c.method.startswith("chat.")]
    assert_no_pings([s for p in posted for s in all_strings(p)] + all_strings(ack.json()))
    assert "&lt;!channel&gt;" in json.dumps(ephemeral, ensure_ascii=False)


def test_an_error_message_that_quotes_the_question_is_escaped_too(make_client: Any, fake_slack: FakeSlack) -> None:
    class Refusing(CannedAssistant):
        def ask(self, question: str, history: Any = (), filters: Any = None, **kwargs: Any) -> Answer:
            raise BadRequest(f"Okänt organ i ”{question}”.")

    client = make_client(Refusing())
    assert post_signed(client, mention(HOSTILE, "1700000111.000100", "Ev-refuse")).status_code == 200
    update = fake_slack.wait_for("chat.update")[0].params
    assert "Okänt organ" in update["text"]
    assert_no_pings(all_strings(update))


# -- malformed signed requests ------------------------------------------------------------------------------------


def signed_post(client: Any, raw: bytes, content_type: str = "application/json", timestamp: str | None = None) -> Any:
    """POST raw bytes to /slack/events, signed over those bytes as Slack signs them."""
    ts = str(int(time.time())) if timestamp is None else timestamp
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
    return client.post("/slack/events", content=raw, headers=headers)


MALFORMED = {
    "bad json": (b'{"type": "event_callback", "event": ', "application/json"),
    "a json list": (b"[1, 2]", "application/json"),
    "no event": (b'{"type": "event_callback", "event_id": "Ev-x"}', "application/json"),
    "event without a type": (
        b'{"type": "event_callback", "event_id": "Ev-x", "event": {"text": "x"}}',
        "application/json",
    ),
    "mention without channel": (
        b'{"type": "event_callback", "event_id": "Ev-x", "event": {"type": "app_mention", "ts": "1.2"}}',
        "application/json",
    ),
    "mention with a text timestamp": (
        b'{"type": "event_callback", "event_id": "Ev-x", '
        b'"event": {"type": "app_mention", "channel": "C1", "ts": "yesterday"}}',
        "application/json",
    ),
    "a lone surrogate": (
        b'{"type": "event_callback", "event_id": "Ev-x", '
        b'"event": {"type": "app_mention", "channel": "C1", "ts": "1.2", "text": "\\ud800"}}',
        "application/json",
    ),
    "not utf-8": (b'{"type": "url_verification", "challenge": "\xff\xfe"}', "application/json"),
    "command without user": (b"command=%2Farkiv&channel_id=C1&text=hej", "application/x-www-form-urlencoded"),
    "payload that is not json": (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    "action without actions": (
        b"payload=" + quote('{"type": "block_actions", "user": {"id": "U1"}}').encode(),
        "application/x-www-form-urlencoded",
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_signed_but_malformed_request_is_a_400(make_client: Any, fake_slack: FakeSlack, name: str) -> None:
    client = make_client(CannedAssistant())
    raw, content_type = MALFORMED[name]
    response = signed_post(client, raw, content_type)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_body"
    time.sleep(0.2)
    assert not [m for m in fake_slack.methods() if m.startswith("chat.")]


def test_a_non_numeric_timestamp_is_a_400_and_a_bad_signature_still_a_401(
    make_client: Any, fake_slack: FakeSlack
) -> None:
    client = make_client(CannedAssistant())
    raw = mention(QUESTION, "1700000112.000100", "Ev-ts").encode()
    response = signed_post(client, raw, timestamp="tisdag")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_timestamp"
    forged = client.post(
        "/slack/events",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )
    assert forged.status_code == 401
    garbage = client.post("/slack/events", content=b"{not json", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 401  # unsigned: refused before it is read
    time.sleep(0.2)
    assert not [m for m in fake_slack.methods() if m.startswith("chat.")]


# -- the slash command's subcommands ------------------------------------------------------------------------------


def test_a_registered_subcommand_gets_its_words_and_other_text_is_a_question(
    make_client: Any, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    async def echo(bot: Any, rest: str, command: dict[str, Any], ack: Any, client: Any, respond: Any) -> None:
        seen.append(rest)
        await ack(response_type="ephemeral", text=f"ok {slack.escape(rest)}")

    monkeypatch.setitem(slack.SUBCOMMANDS, "prov", echo)
    canned = CannedAssistant()
    client = make_client(canned)
    response = post_signed(client, command_body("Prov RJL 2022/258", f"{fake_slack.url}/hooks/s"), form=True)
    assert response.json()["text"] == "ok RJL 2022/258" and seen == ["RJL 2022/258"]
    help_text = post_signed(client, command_body("hjälp", f"{fake_slack.url}/hooks/h"), form=True).json()["text"]
    assert "Ställ en fråga om arkivet" in help_text
    post_signed(client, command_body("provning av vatten?", f"{fake_slack.url}/hooks/q"), form=True)
    fake_slack.wait_for("chat.postEphemeral")
    assert canned.questions == ["provning av vatten?"]
