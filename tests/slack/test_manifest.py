"""The Slack app manifest in the repository asks for what the bot handles, and points Slack at /slack/events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from assistant.slack import COMMAND, EVENTS

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yaml"


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return data


def test_the_manifest_subscribes_to_the_events_the_bot_answers() -> None:
    settings = manifest()["settings"]
    assert tuple(settings["event_subscriptions"]["bot_events"]) == EVENTS
    assert settings["interactivity"]["is_enabled"] is True


def test_every_request_url_is_the_slack_events_endpoint() -> None:
    data = manifest()
    urls = [
        data["settings"]["event_subscriptions"]["request_url"],
        data["settings"]["interactivity"]["request_url"],
        *(c["url"] for c in data["features"]["slash_commands"]),
    ]
    assert urls and all(u == "https://arkiv.example.se/slack/events" for u in urls)
    assert [c["command"] for c in data["features"]["slash_commands"]] == [COMMAND]


def test_the_manifest_asks_for_the_scopes_the_bot_uses() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "im:read",
        "channels:history",
        "groups:history",
        "channels:read",
        "groups:read",
        "mpim:read",
    } <= scopes
    assert manifest()["features"]["app_home"]["messages_tab_enabled"] is True  # people can write to the bot
