"""`/arkiv ärende RJL 2022/258`: a case's timeline as Slack Block Kit, formatted by a pure function."""

from __future__ import annotations

from typing import Any

from assistant.cases import case_command, format_case_blocks
from indexer.cases import CaseEntry

PUBLIC_URL = "https://arkiv.example.se"


def step(date: str | None, kind: str, **kw: Any) -> CaseEntry:
    base: dict[str, Any] = dict(
        case_number="RJL 2022/258",
        doc_id="kallelse",
        source="kallelse.txt",
        title="Kallelse 2022-02-23",
        doc_type="kallelse",
        page=39,
        page_end=39,
        date=date,
        body="Presidium",
        paragraph=None,
        kind=kind,
        heading="Stöttning besöksnäring 2022",
        decision=None,
        proposal=None,
        text="Diarienummer: RJL 2022/258",
        chunk={},
        position=(1, 0),
    )
    base.update(kw)
    return CaseEntry(**base)


STEPS = [
    step("2022-02-02", "tjänsteskrivelse", page=40, proposal="Nämnden beviljar Smålands Turism AB 2 000 000 kr"),
    step(
        "2022-02-10",
        "förslag",
        paragraph="29",
        decision="Presidiet föreslår nämnden\n1. Bevilja Smålands Turism AB <2 000 000 kr>",
    ),
]


def test_the_timeline_is_a_header_one_section_per_step_and_a_link_to_the_case_page() -> None:
    blocks = format_case_blocks("RJL 2022/258", STEPS, PUBLIC_URL)
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Ärende RJL 2022/258"}}
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == 2
    first, second = (s["text"]["text"] for s in sections)
    assert first.startswith("*2022-02-02* · Tjänsteskrivelse") and "2 000 000 kr" in first
    assert second.startswith("*2022-02-10* · Förslag till beslut · Presidium, § 29")
    assert "&lt;2 000 000 kr&gt;" in second  # Slack's control characters are escaped
    assert f"<{PUBLIC_URL}/documents/kallelse/pages/39?highlight=" in second and "s. 39>" in second
    button = blocks[-1]["elements"][0]
    assert button["url"] == f"{PUBLIC_URL}/cases/RJL%202022%2F258"
    assert format_case_blocks("RJL 2022/258", STEPS, PUBLIC_URL) == blocks  # pure


def test_english_and_an_empty_timeline() -> None:
    blocks = format_case_blocks("RJL 2022/258", STEPS, PUBLIC_URL, "en")
    assert blocks[0]["text"]["text"] == "Case RJL 2022/258"
    assert "Proposed decision" in blocks[3]["text"]["text"]
    empty = format_case_blocks("RJL 2031/1", [], PUBLIC_URL)
    assert len(empty) == 1 and "RJL 2031/1" in empty[0]["text"]["text"]


def test_the_case_subcommand_is_read_from_the_command_text() -> None:
    assert case_command("ärende RJL 2022/258") == "RJL 2022/258"
    assert case_command("  Ärende   Dnr 2022/258 ") == "Dnr 2022/258"
    assert case_command("case RJL 2022/258") == "RJL 2022/258"
    assert case_command("Vad beslutade presidiet?") is None


def test_the_case_subcommand_posts_the_timeline_from_the_index(slack_client: Any, fake_slack: Any) -> None:
    from tests.slack.fake_slack import command_body, post_signed

    hook = f"{fake_slack.url}/hooks/case-1"
    response = post_signed(slack_client, command_body("ärende RJL 2022/258", hook), form=True)
    assert response.status_code == 200
    posted = fake_slack.wait_for("response_url")[0].params
    assert posted["hook"] == "case-1" and posted["response_type"] == "ephemeral"
    blocks = posted["blocks"]
    assert blocks[0]["text"]["text"] == "Ärende RJL 2022/258"
    steps = [b["text"]["text"] for b in blocks if b.get("block_id", "").startswith("arkiv_case_step_")]
    dates = [s.split("*")[1] for s in steps]
    assert len(steps) >= 3 and dates == sorted(dates) and {"2022-02-02", "2022-02-10"} <= set(dates)
    assert any("§ 29" in s and "Presidiet föreslår nämnden" in s for s in steps)
