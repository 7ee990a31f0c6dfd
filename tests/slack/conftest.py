"""Slack fixtures: the fake Web API, settings pointing at it, and the app under test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.slack.fake_slack import PUBLIC_URL, SECRET, TOKEN, FakeSlack


@pytest.fixture(scope="session")
def _fake_slack_server() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_slack(_fake_slack_server: FakeSlack) -> Iterator[FakeSlack]:
    _fake_slack_server.reset()
    yield _fake_slack_server
    _fake_slack_server.reset()


@pytest.fixture
def slack_settings(tmp_path: Path, fake_slack: FakeSlack) -> Any:
    from assistant.settings import AssistantSettings

    return AssistantSettings(
        data_dir=tmp_path,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        slack_api_url=f"{fake_slack.url}/api/",
        public_url=PUBLIC_URL,
        _env_file=None,
    )


@pytest.fixture
def make_client(slack_settings: Any) -> Iterator[Any]:
    """Start the app (over a given assistant) as Slack would reach it; closed at the end of the test."""
    from assistant.web.app import create_app

    opened: list[TestClient] = []

    def make(assistant: Any, settings: Any = None) -> TestClient:
        client = TestClient(create_app(settings or slack_settings, assistant=assistant))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def slack_client(make_client: Any, assistant: Any) -> TestClient:
    """The app over the fixture index's real assistant."""
    return make_client(assistant)
