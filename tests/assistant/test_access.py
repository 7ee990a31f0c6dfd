"""Identity: proxy headers only when configured, hashed API tokens, Slack users and channels mapped to groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.access import (
    ANONYMOUS,
    Principal,
    TokenBook,
    Unauthorized,
    hash_token,
    parse_groups,
    principal_from_headers,
    slack_principal,
)
from assistant.settings import AssistantSettings


def settings(**kw: object) -> AssistantSettings:
    return AssistantSettings(_env_file=None, **kw)  # type: ignore[arg-type]


def test_everyone_sees_public_and_the_anonymous_only_public() -> None:
    assert ANONYMOUS.visible_groups == {"public"}
    assert not ANONYMOUS.sees(["hr"]) and ANONYMOUS.sees(["public"])
    anna = Principal("anna", frozenset({"hr"}), "proxy")
    assert anna.visible_groups == {"hr", "public"} and anna.sees(["hr", "ekonomi"])
    assert not anna.is_admin("arkiv-admin") and Principal("x", frozenset({"arkiv-admin"})).is_admin("arkiv-admin")


def test_proxy_headers_are_ignored_unless_configured() -> None:
    headers = {"x-forwarded-user": "anna", "x-forwarded-groups": "hr, staff ,,"}
    assert principal_from_headers(headers, settings()) == ANONYMOUS
    p = principal_from_headers(headers, settings(auth="proxy"))
    assert p == Principal("anna", frozenset({"hr", "staff"}), "proxy")
    # groups without a user are not an identity
    assert principal_from_headers({"x-forwarded-groups": "hr"}, settings(auth="proxy")) == ANONYMOUS


def test_malformed_group_names_are_dropped() -> None:
    assert parse_groups("hr,<script>,a b,ekonomi") == {"hr", "ekonomi"}
    assert parse_groups(None) == frozenset()


def test_tokens_are_stored_hashed_and_unknown_ones_refused(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    path.write_text(f'[[token]]\nname = "rapport"\nsha256 = "{hash_token("s3cret")}"\ngroups = ["hr"]\n')
    book = TokenBook(path)
    s = settings(auth="proxy")
    p = principal_from_headers({"authorization": "Bearer s3cret"}, s, book)
    assert p == Principal("rapport", frozenset({"hr"}), "token")
    assert "s3cret" not in path.read_text()
    with pytest.raises(Unauthorized):
        principal_from_headers({"authorization": "Bearer wrong"}, s, book)
    with pytest.raises(Unauthorized):
        principal_from_headers({"authorization": "Bearer s3cret"}, s, None)
    # the file is reread when it changes: a revoked token stops working
    path.write_text("")
    with pytest.raises(Unauthorized):
        principal_from_headers({"authorization": "Bearer s3cret"}, s, book)


def test_a_malformed_tokens_file_accepts_no_token(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    path.write_text("[[token]\nsha256 = 'x'")
    assert TokenBook(path).lookup("anything") is None
    assert TokenBook(tmp_path / "missing.toml").lookup("anything") is None


def test_slack_public_channels_see_public_only() -> None:
    s = settings(slack_user_groups={"U1": ["hr", "staff"]}, slack_channel_groups={"G9": ["hr"]})
    assert slack_principal("U1", "C1", True, s).visible_groups == {"public"}
    assert slack_principal("U1", "D1", False, s).visible_groups == {"hr", "staff", "public"}
    assert slack_principal("U1", None, False, s).visible_groups == {"hr", "staff", "public"}
    assert slack_principal("U1", "G9", False, s).visible_groups == {"hr", "public"}
    assert slack_principal("U1", "G8", False, s).visible_groups == {"public"}  # an unmapped private channel
    assert slack_principal("U2", "G9", False, s).visible_groups == {"public"}  # a user without groups


def test_slack_mapping_reads_json_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARKIV_SLACK_USER_GROUPS", '{"U1": ["hr"]}')
    assert slack_principal("U1", "D1", False, settings()).groups == {"hr"}


def test_arkiv_token_prints_the_token_once_and_an_entry_with_its_hash(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from indexer.cli import main

    result = CliRunner().invoke(main, ["token", "rapport", "--group", "hr"])
    assert result.exit_code == 0, result.output
    token = result.stderr.split(": ")[-1].strip()
    (tmp_path / "tokens.toml").write_text(result.stdout)
    assert token not in result.stdout
    found = TokenBook(tmp_path / "tokens.toml").lookup(token)
    assert found == Principal("rapport", frozenset({"hr"}), "token")
    assert CliRunner().invoke(main, ["token", "x", "--group", "a,b"]).exit_code == 1


def test_feedback_and_audit_logs_are_kept_only_for_the_retention(tmp_path: Path) -> None:
    import time

    from assistant.audit import AuditLog
    from assistant.feedback import Feedback, FeedbackStore

    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.add(Feedback(rating="up", question="gammal?", answer="x", created_at=time.time() - 100 * 86400))
    store.add(Feedback(rating="up", question="ny?", answer="x"))
    assert store.prune(90) == 1 and [f.question for f in store.all()] == ["ny?"]
    store.close()

    folder = tmp_path / "audit"
    folder.mkdir()
    (folder / "audit-2000-01-01.jsonl").write_text('{"user": "old"}\n')
    log = AuditLog(folder, retention_days=90)
    anna = Principal("anna", frozenset({"hr"}), "proxy")
    log.record(anna, "ask", documents=["d1", "d1", "d2"], question="Vad tjänar Zebulon?")
    assert not (folder / "audit-2000-01-01.jsonl").exists()
    [entry] = log.entries()
    assert entry["user"] == "anna" and entry["documents"] == ["d1", "d2"] and "question" not in entry
    AuditLog(folder, log_questions=True).record(anna, "ask", question="Vad tjänar Zebulon?")
    assert log.entries()[-1]["question"] == "Vad tjänar Zebulon?"
