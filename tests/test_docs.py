"""The README documents what the code does: every setting, the two set-up commands."""

from __future__ import annotations

from assistant.settings import settings_table
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_settings_table_in_readme_matches_the_settings() -> None:
    assert settings_table() in README, "regenerate the README table with assistant.settings.settings_table()"


def test_readme_states_the_two_setup_commands_and_ci_runs_the_test_one() -> None:
    assert "bash scripts/run.sh" in README and "bash scripts/test.sh" in README
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
