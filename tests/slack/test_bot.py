"""The Slack bot end to end: signed requests in, calls to a fake Slack Web API out, answers from the real index."""

from __future__ import annotations

import json
import logging
import re
import statistics
import time
from typing import Any

import pytest

from tests.slack.fake_slack import (
    BOT_ID,
    BOT_USER_ID,
    PUBLIC_URL,
    FakeSlack,
    action_body,
    command_body,
    event_body,
    post_signed,
)

logger = logging.getLogger(__name__)

QUESTION = "Hur mycket pengar beviljades Smålands Turism?"


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text a person sees in the blocks."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def mention(text: str, *, ts: str, event_id: str, thread_ts: str | None = None, channel: str = "C1") -> str:
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": "U1",
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": channel,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event_body(event, event_id)


def settle(seconds: float = 0.5) -> None:
    """Give background work a moment to (wrongly) post something."""
    time.sleep(seconds)


# -- answering ------------------------------------------------------------------------------------------------


def test_a_mention_gets_a_threaded_answer_with_numbered_sources(slack_client: Any, fake_slack: FakeSlack) -> None:
    response = post_signed(slack_client, mention(QUESTION, ts="1700000000.000100", event_id="Ev-mention"))
    assert response.status_code == 200

    placeholder = fake_slack.wait_for("chat.postMessage")[0].params
    assert placeholder["channel"] == "C1"
    assert placeholder["thread_ts"] == "1700000000.000100"
    assert "Söker i arkivet…" in placeholder["text"]

    update = fake_slack.wait_for("chat.update")[0]
    assert update.token == "xoxb-test-token"
    assert update.params["channel"] == "C1"
    assert update.params["ts"].startswith("1800000000.")  # the placeholder, updated in place
    shown = blocks_text(update.params["blocks"])
    assert "2 000 000" in shown
    assert "[1]" in shown
    assert "Källor" in shown
    assert "§ 29" in shown
    assert "RJL 2022/258" in shown
    assert "s. 6" in shown
    assert re.search(rf"<{re.escape(PUBLIC_URL)}/documents/[\w.-]+/pages/6(\?quote=[^|#]+#passage)?\|Kallelse", shown)
    assert "2 000 000" in update.params["text"]  # the plain text a notification shows
    assert {"arkiv_feedback_up", "arkiv_feedback_down"} <= set(buttons(update.params["blocks"]))
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_direct_message_gets_an_answer_in_its_thread(slack_client: Any, fake_slack: FakeSlack) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D1",
        "user": "U1",
        "text": QUESTION,
        "ts": "1700000001.000100",
    }
    assert post_signed(slack_client, event_body(event, "Ev-dm")).status_code == 200

    placeholder = fake_slack.wait_for("chat.postMessage")[0].params
    assert placeholder["channel"] == "D1"
    assert placeholder["thread_ts"] == "1700000001.000100"
    update = fake_slack.wait_for("chat.update")[0].params
    assert update["channel"] == "D1"
    assert "2 000 000" in blocks_text(update["blocks"])


def test_the_bots_own_and_edited_messages_in_a_dm_are_not_answered(slack_client: Any, fake_slack: FakeSlack) -> None:
    own = {
        "type": "message",
        "channel_type": "im",
        "channel": "D1",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "text": "Presidiet föreslår …",
        "ts": "1700000002.000100",
    }
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel_type": "im",
        "channel": "D1",
        "ts": "1700000002.000200",
        "message": {"text": QUESTION},
    }
    assert post_signed(slack_client, event_body(own, "Ev-own")).status_code == 200
    assert post_signed(slack_client, event_body(edited, "Ev-edit")).status_code == 200
    settle()
    assert not [m for m in fake_slack.methods() if m.startswith("chat.")]


def test_a_follow_up_in_a_thread_is_answered_with_the_threads_history(slack_client: Any, fake_slack: FakeSlack) -> None:
    parent = "1700000003.000100"
    fake_slack.threads[("C1", parent)] = [
        {"type": "message", "user": "U1", "text": f"<@{BOT_USER_ID}> {QUESTION}", "ts": parent},
        {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": "1700000003.000200",
            "text": "Presidiet föreslår nämnden att bevilja Smålands Turism AB 2 000 000 kr [1].",
            "thread_ts": parent,
        },
        {
            "type": "message",
            "user": "U3",
            "text": "Tack, bra att veta!",
            "ts": "1700000003.000300",
            "thread_ts": parent,
        },
        {
            "type": "message",
            "user": "U1",
            "text": f"<@{BOT_USER_ID}> Och vilket diarienummer har det ärendet?",
            "ts": "1700000003.000400",
            "thread_ts": parent,
        },
    ]
    body = mention(
        "Och vilket diarienummer har det ärendet?", ts="1700000003.000400", thread_ts=parent, event_id="Ev-follow"
    )
    assert post_signed(slack_client, body).status_code == 200

    replies = fake_slack.wait_for("conversations.replies")[0].params
    assert (replies["channel"], replies["ts"]) == ("C1", parent)
    placeholder = fake_slack.wait_for("chat.postMessage")[0].params
    assert placeholder["thread_ts"] == parent
    shown = blocks_text(fake_slack.wait_for("chat.update")[0].params["blocks"])
    assert "Tolkat som" in shown and "Smålands Turism" in shown  # the follow-up was read with its topic
    assert "Tack, bra att veta" not in shown
    assert "RJL 2022/258" in shown


def test_a_question_the_archive_cannot_answer_gets_the_not_found_variant(
    slack_client: Any, fake_slack: FakeSlack
) -> None:
    body = mention("Vad kostar en ny simhall i Göteborg?", ts="1700000004.000100", event_id="Ev-nf")
    assert post_signed(slack_client, body).status_code == 200

    update = fake_slack.wait_for("chat.update")[0].params
    shown = blocks_text(update["blocks"])
    assert "Hittades inte i arkivet" in shown
    assert "Sökte efter: ”Vad kostar en ny simhall i Göteborg?”" in shown
    assert "Källor" not in shown
    assert "Hittades inte i arkivet" in update["text"]


def test_an_english_question_gets_english_labels(slack_client: Any, fake_slack: FakeSlack) -> None:
    body = mention(
        "What did the council decide about the new swimming pool in Malmö?", ts="1700000005.000100", event_id="Ev-en"
    )
    assert post_signed(slack_client, body).status_code == 200
    assert "Searching the archive…" in fake_slack.wait_for("chat.postMessage")[0].params["text"]
    shown = blocks_text(fake_slack.wait_for("chat.update")[0].params["blocks"])
    assert "Not found in the archive" in shown  # the fixture archive holds no swimming pool
    assert "Searched for: ”What did the council decide about the new swimming pool in Malmö?”" in shown
    assert "Hittades inte" not in shown


def test_an_empty_mention_gets_help_instead_of_a_search(slack_client: Any, fake_slack: FakeSlack) -> None:
    body = event_body(
        {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER_ID}>", "ts": "1700000006.000100", "channel": "C1"},
        "Ev-empty",
    )
    assert post_signed(slack_client, body).status_code == 200
    posted = fake_slack.wait_for("chat.postMessage")[0].params
    assert posted["thread_ts"] == "1700000006.000100"
    assert "Ställ en fråga om arkivet" in posted["text"]
    settle(0.3)
    assert not fake_slack.calls_to("chat.update")


class BrokenAssistant:
    def ask(self, question: str, history: Any = (), filters: Any = None, principal: Any = None) -> Any:
        raise RuntimeError("the store went away")


def test_a_failure_while_answering_becomes_a_short_swedish_reply_in_the_thread(
    make_client: Any, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(BrokenAssistant())
    assert post_signed(client, mention(QUESTION, ts="1700000007.000100", event_id="Ev-broken")).status_code == 200
    update = fake_slack.wait_for("chat.update")[0].params
    assert update["text"] == "Något gick fel när jag sökte i arkivet. Försök igen om en stund."
    assert "store went away" not in json.dumps(update)
    assert any(
        "store went away" in (r.exc_text or "") or (r.exc_info and "store went away" in str(r.exc_info[1]))
        for r in caplog.records
    )


# -- the slash command and its share button -------------------------------------------------------------------


def test_the_slash_command_answers_ephemerally_and_share_posts_it_to_the_channel(
    slack_client: Any, fake_slack: FakeSlack
) -> None:
    hook = f"{fake_slack.url}/hooks/command-1"
    response = post_signed(slack_client, command_body(QUESTION, hook), form=True)
    assert response.status_code == 200
    assert "Söker i arkivet…" in response.json()["text"]  # the immediate ephemeral acknowledgement

    ephemeral = fake_slack.wait_for("chat.postEphemeral")[0].params
    assert (ephemeral["channel"], ephemeral["user"]) == ("C1", "U1")
    assert "2 000 000" in blocks_text(ephemeral["blocks"])
    share = buttons(ephemeral["blocks"])["arkiv_share"]
    assert share["text"]["text"] == "Dela i kanalen"
    assert not fake_slack.calls_to("chat.postMessage")  # nothing public until shared

    click = action_body("arkiv_share", share["value"], f"{fake_slack.url}/hooks/share-1", user="U1")
    assert post_signed(slack_client, click, form=True).status_code == 200
    shared = fake_slack.wait_for("chat.postMessage")[0].params
    assert shared["channel"] == "C1"
    shown = blocks_text(shared["blocks"])
    assert "2 000 000" in shown and "RJL 2022/258" in shown
    assert "<@U1>" in shown  # who shared it, and what was asked
    assert "arkiv_share" not in buttons(shared["blocks"])
    deleted = fake_slack.wait_for("response_url")[0].params
    assert deleted["hook"] == "share-1" and deleted["delete_original"] is True


def test_the_slash_command_answers_through_response_url_where_the_bot_is_not_a_member(
    slack_client: Any, fake_slack: FakeSlack
) -> None:
    fake_slack.fail["chat.postEphemeral"] = "channel_not_found"
    hook = f"{fake_slack.url}/hooks/command-2"
    assert post_signed(slack_client, command_body(QUESTION, hook, channel="G9"), form=True).status_code == 200
    answer = fake_slack.wait_for("response_url")[0].params
    assert answer["hook"] == "command-2"
    assert answer["response_type"] == "ephemeral"
    assert "2 000 000" in blocks_text(answer["blocks"])


def test_sharing_where_the_bot_may_not_post_goes_through_response_url(slack_client: Any, fake_slack: FakeSlack) -> None:
    assert (
        post_signed(
            slack_client, command_body(QUESTION, f"{fake_slack.url}/hooks/c4", channel="G9"), form=True
        ).status_code
        == 200
    )
    share = buttons(fake_slack.wait_for("chat.postEphemeral")[0].params["blocks"])["arkiv_share"]
    fake_slack.fail["chat.postMessage"] = "not_in_channel"
    click = action_body("arkiv_share", share["value"], f"{fake_slack.url}/hooks/share-2", channel="G9", user="U1")
    assert post_signed(slack_client, click, form=True).status_code == 200
    hooks = fake_slack.wait_for("response_url", 2)
    shared, deleted = hooks[0].params, hooks[1].params
    assert shared["response_type"] == "in_channel" and "2 000 000" in blocks_text(shared["blocks"])
    assert deleted["delete_original"] is True


def test_the_slash_command_without_a_question_explains_itself(slack_client: Any, fake_slack: FakeSlack) -> None:
    response = post_signed(slack_client, command_body("  ", f"{fake_slack.url}/hooks/c3"), form=True)
    assert response.status_code == 200
    assert "Ställ en fråga om arkivet" in response.json()["text"]
    settle(0.3)
    assert not [m for m in fake_slack.methods() if m != "auth.test"]


# -- retries, duplicates and signatures -----------------------------------------------------------------------


def test_a_retry_of_an_event_does_not_produce_a_second_answer(slack_client: Any, fake_slack: FakeSlack) -> None:
    body = mention(QUESTION, ts="1700000008.000100", event_id="Ev-retry")
    assert post_signed(slack_client, body).status_code == 200
    fake_slack.wait_for("chat.update")
    for n in ("1", "2"):
        retry = post_signed(slack_client, body, headers={"X-Slack-Retry-Num": n, "X-Slack-Retry-Reason": "http_error"})
        assert retry.status_code == 200
    settle()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert len(fake_slack.calls_to("chat.update")) == 1


def test_a_timeout_retry_of_an_event_never_received_is_answered(slack_client: Any, fake_slack: FakeSlack) -> None:
    """The first delivery went elsewhere (or was lost): Slack's retry is the only chance to answer the question."""
    body = mention(QUESTION, ts="1700000009.000100", event_id="Ev-timeout")
    headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert post_signed(slack_client, body, headers=headers).status_code == 200
    assert "2 000 000" in blocks_text(fake_slack.wait_for("chat.update")[0].params["blocks"])
    assert post_signed(slack_client, body, headers={**headers, "X-Slack-Retry-Num": "2"}).status_code == 200
    settle()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert len(fake_slack.calls_to("chat.update")) == 1


def test_a_duplicate_event_id_does_not_produce_a_second_answer(slack_client: Any, fake_slack: FakeSlack) -> None:
    assert post_signed(slack_client, mention(QUESTION, ts="1700000010.000100", event_id="Ev-dup")).status_code == 200
    assert post_signed(slack_client, mention(QUESTION, ts="1700000010.000100", event_id="Ev-dup")).status_code == 200
    fake_slack.wait_for("chat.update")
    settle()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_bad_signature_gets_401_and_no_work(slack_client: Any, fake_slack: FakeSlack) -> None:
    body = mention(QUESTION, ts="1700000011.000100", event_id="Ev-forged")
    assert post_signed(slack_client, body, secret="not-the-secret").status_code == 401
    stale = int(time.time()) - 10 * 60
    assert post_signed(slack_client, body, timestamp=stale).status_code == 401
    unsigned = slack_client.post("/slack/events", content=body.encode(), headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    settle()
    assert fake_slack.methods() == []


def test_slacks_url_verification_is_answered(slack_client: Any, fake_slack: FakeSlack) -> None:
    body = json.dumps({"token": "unused", "challenge": "abc123", "type": "url_verification"})
    response = post_signed(slack_client, body)
    assert response.status_code == 200
    assert response.json() == {"challenge": "abc123"}


# -- feedback -------------------------------------------------------------------------------------------------


def test_thumbs_down_is_stored_with_the_web_feedback_as_slack_feedback(
    slack_client: Any, fake_slack: FakeSlack, slack_settings: Any
) -> None:
    from assistant.feedback import FeedbackStore

    assert post_signed(slack_client, mention(QUESTION, ts="1700000012.000100", event_id="Ev-fb")).status_code == 200
    update = fake_slack.wait_for("chat.update")[0].params
    down = buttons(update["blocks"])["arkiv_feedback_down"]
    message = {"type": "message", "ts": update["ts"], "text": update["text"], "blocks": update["blocks"]}
    click = action_body("arkiv_feedback_down", down["value"], f"{fake_slack.url}/hooks/fb-1", message=message)
    assert post_signed(slack_client, click, form=True).status_code == 200
    assert post_signed(slack_client, click, form=True).status_code == 200  # a double click counts once

    thanks = fake_slack.wait_for("response_url")[0].params
    assert thanks["text"] == "Tack för din återkoppling!" and thanks["response_type"] == "ephemeral"
    settle(0.3)
    rows = FeedbackStore(slack_settings.data_dir / slack_settings.feedback_db).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.source, row.rating, row.user, row.status) == ("slack", "down", "U2", "answered")
    assert row.question == QUESTION
    assert "2 000 000" in row.answer
    assert row.citations and row.citations[0]["case_numbers"] == ["RJL 2022/258"]


# -- configuration and speed ----------------------------------------------------------------------------------


def test_without_slack_tokens_there_is_no_slack_endpoint(tmp_path: Any, assistant: Any) -> None:
    from fastapi.testclient import TestClient

    from assistant.settings import AssistantSettings
    from assistant.web.app import create_app

    settings = AssistantSettings(data_dir=tmp_path, SLACK_BOT_TOKEN=None, SLACK_SIGNING_SECRET=None, _env_file=None)
    with TestClient(create_app(settings, assistant=assistant)) as client:
        assert client.post("/slack/events", content=b"{}").status_code in (404, 405)


def test_requests_are_acknowledged_well_within_three_seconds(slack_client: Any, fake_slack: FakeSlack) -> None:
    """Mentions and slash commands are acknowledged before the archive is searched, even while it is busy."""
    post_signed(slack_client, mention("Internkontrollplan", ts="1700000013.000001", event_id="Ev-warm"))
    fake_slack.wait_for("chat.update")
    mentions, commands = [], []
    for i in range(10):
        body = mention(QUESTION, ts=f"1700000014.{i:06d}", event_id=f"Ev-ack-{i}")
        started = time.perf_counter()
        assert post_signed(slack_client, body).status_code == 200
        mentions.append((time.perf_counter() - started) * 1000)
        body = command_body(QUESTION, f"{fake_slack.url}/hooks/ack-{i}")
        started = time.perf_counter()
        assert post_signed(slack_client, body, form=True).status_code == 200
        commands.append((time.perf_counter() - started) * 1000)
    fake_slack.wait_for("chat.update", 11, timeout=120)
    fake_slack.wait_for("chat.postEphemeral", 10, timeout=120)
    median_mention, median_command = statistics.median(mentions), statistics.median(commands)
    logger.warning(
        "ack ms: app_mention median %.1f max %.1f; /arkiv median %.1f max %.1f",
        median_mention,
        max(mentions),
        median_command,
        max(commands),
    )
    assert max(mentions + commands) < 3000
    assert median_mention < 1000 and median_command < 1000


def test_socket_mode_answers_a_mention_without_an_http_endpoint(
    make_client: Any, fake_slack: FakeSlack, assistant: Any, tmp_path: Any
) -> None:
    from assistant.settings import AssistantSettings

    settings = AssistantSettings(
        data_dir=tmp_path,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_APP_TOKEN="xapp-test-token",
        SLACK_SIGNING_SECRET=None,
        slack_api_url=f"{fake_slack.url}/api/",
        public_url=PUBLIC_URL,
        _env_file=None,
    )
    client = make_client(assistant, settings)
    assert fake_slack.wait_for("apps.connections.open")[0].token == "xapp-test-token"
    payload = json.loads(mention(QUESTION, ts="1700000015.000100", event_id="Ev-socket"))
    fake_slack.push(
        {"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False, "payload": payload}
    )

    acks = [c.params for c in fake_slack.wait_for("socket") if c.params.get("envelope_id") == "env-1"]
    assert acks
    update = fake_slack.wait_for("chat.update")[0]
    assert update.token == "xoxb-test-token"
    assert "2 000 000" in blocks_text(update.params["blocks"])
    assert client.post("/slack/events", content=b"{}").status_code in (404, 405)
