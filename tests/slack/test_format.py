"""Slack formatting and message reading as pure functions: no Slack, no index."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from assistant.slack import clean_text, escape, fallback_text, format_blocks, thread_history
from assistant.types import Answer, Citation, Filters, Hit
from indexer.schema import Chunk, DocumentMeta

URL = "https://arkiv.example.se/"


def chunk(**changes: Any) -> Chunk:
    values: dict[str, Any] = {
        "doc_id": "rjl_anna_2022-02",
        "ordinal": 7,
        "text": "Presidiet föreslår nämnden att bevilja Smålands Turism AB 2 000 000 kr.",
        "page_start": 6,
        "page_end": 6,
        "meta": DocumentMeta(title="Kallelse & protokollsutdrag <NAN>", doc_type="kallelse", date="2022-02-23"),
        "source": "rjl/2022/rjl_anna_2022-02.txt",
        "paragraph": "29",
        "case_numbers": ("RJL 2022/258", "2022/258"),
        "date": "2022-02-10",
    }
    values.update(changes)
    return Chunk(**values)


def answered(text: str = "Smålands Turism AB beviljas 2 000 000 kr [1].", **changes: Any) -> Answer:
    hit = Hit(chunk(), 0.9, 1)
    values: dict[str, Any] = {
        "question": "Hur mycket fick Smålands Turism?",
        "query": "Hur mycket fick Smålands Turism?",
        "text": text,
        "status": "answered",
        "citations": (Citation(1, hit),),
        "hits": (hit,),
    }
    values.update(changes)
    return Answer(**values)


def texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_an_answer_shows_its_text_then_numbered_linked_sources() -> None:
    blocks = format_blocks(answered(), URL, "sv", key="k1")
    sections = section_texts(blocks)
    assert sections[0] == "Smålands Turism AB beviljas 2 000 000 kr [1]."
    sources = sections[-1]
    assert sources.startswith("*Källor*\n")
    line = sources.splitlines()[1]
    assert line.startswith("*[1]* <https://arkiv.example.se/documents/rjl_anna_2022-02/pages/6|")
    assert "Kallelse &amp; protokollsutdrag &lt;NAN&gt;>" in line  # title escaped inside the link
    assert " · s. 6 · § 29 · RJL 2022/258 · 2022-02-10" in line  # the bare key is not shown beside the full form
    assert blocks[-1]["type"] == "actions"
    assert [b["action_id"] for b in blocks[-1]["elements"]] == ["arkiv_feedback_up", "arkiv_feedback_down"]
    assert json.loads(blocks[-1]["elements"][0]["value"]) == {"k": "k1", "q": "Hur mycket fick Smålands Turism?"}


def test_a_page_range_and_english_labels() -> None:
    hit = Hit(chunk(page_start=3, page_end=4, paragraph=None, case_numbers=(), date=None), 0.9, 1)
    answer = answered(citations=(Citation(2, hit),), language="en")
    sources = section_texts(format_blocks(answer, URL))[-1]
    assert sources.startswith("*Sources*\n")
    expected = "/pages/3?lang=en#passage|Kallelse &amp; protokollsutdrag &lt;NAN&gt;> · p. 3–4 · 2022-02-23"
    assert sources.endswith(expected)


def test_a_source_links_to_the_page_view_with_the_cited_passage_marked() -> None:
    hit = Hit(chunk(), 0.9, 1)
    answer = answered(citations=(Citation(1, hit, ("Bevilja Smålands Turism AB 2 000 000 kr & mer",)),))
    line = section_texts(format_blocks(answer, URL, "sv"))[-1].splitlines()[1]
    url = line.split("<", 1)[1].split("|", 1)[0]
    assert url == (
        "https://arkiv.example.se/documents/rjl_anna_2022-02/pages/6"
        "?quote=Bevilja+Sm%C3%A5lands+Turism+AB+2+000+000+kr+%26+mer#passage"
    )
    english = format_blocks(replace(answer, language="en"), URL)
    assert "#passage" in texts(english) and "&amp;lang=en#passage" in texts(english)  # & escaped for mrkdwn


def test_the_not_found_variant_is_distinct_and_says_what_was_searched() -> None:
    answer = Answer(
        question="Vad kostar simhallen?",
        query="Vad kostar simhallen?",
        text="Arkivet innehåller inget som besvarar frågan.",
        status="not_found",
        filters=Filters(year_from=2022, year_to=2022),
    )
    blocks = format_blocks(answer, URL, "sv", key="k2")
    assert blocks[0] == {"type": "context", "elements": [{"type": "mrkdwn", "text": ":mag: *Hittades inte i arkivet*"}]}
    assert "Källor" not in texts(blocks)
    assert "Sökte efter: ”Vad kostar simhallen?” · year_from=2022, year_to=2022" in texts(blocks)
    assert fallback_text(answer).startswith("Hittades inte i arkivet.")
    assert format_blocks(answered(), URL, "sv")[0]["type"] == "section"


def test_answer_text_is_escaped_and_markdown_bold_becomes_slack_bold() -> None:
    blocks = format_blocks(answered("**Beslut:** A & B <fick> 5 kr [1]."), URL, "sv")
    assert section_texts(blocks)[0] == "*Beslut:* A &amp; B &lt;fick&gt; 5 kr [1]."
    assert escape("<@U1> & co") == "&lt;@U1&gt; &amp; co"


def test_a_long_answer_is_split_within_slacks_section_limit() -> None:
    long = " ".join(["Mening om beslutet [1]."] * 400)
    blocks = format_blocks(answered(long), URL, "sv")
    sections = section_texts(blocks)
    assert len(sections) >= 4
    assert all(len(s) <= 3000 for s in sections)
    assert "".join(sections[:-1]).replace(" ", "") == long.replace(" ", "")


def test_share_and_notice_and_shared_by() -> None:
    answer = answered(notice="Språkmodellen svarade inte.", query="Smålands Turism – hur mycket?")
    blocks = format_blocks(answer, URL, "sv", key="k3", share=True)
    assert blocks[-1]["elements"][0]["action_id"] == "arkiv_share"
    assert "Tolkat som: ”Smålands Turism – hur mycket?”" in texts(blocks)
    assert ":information_source: Språkmodellen svarade inte." in texts(blocks)
    shared = format_blocks(answer, URL, "sv", shared_by="U1", feedback=False)
    assert shared[0]["elements"][0]["text"].startswith("Delat av <@U1>, som frågade: ”Hur mycket fick")
    assert all(b["type"] != "actions" for b in shared)


def test_clean_text_strips_mentions_and_unescapes() -> None:
    assert clean_text("<@UBOT> Vad beslutade  nämnden om &lt;X&gt; &amp; Y?") == "Vad beslutade nämnden om <X> & Y?"
    assert clean_text("<@UBOT|arkiv> se <https://x.se/a|protokollet> i <#C1|general>") == "se protokollet i #general"
    assert clean_text("<@UBOT>") == ""


def test_thread_history_keeps_questions_to_the_bot_and_its_answers() -> None:
    messages = [
        {"user": "U1", "text": "Hur gick det med besöksnäringen?", "ts": "1.000100"},
        {"user": "UBOT", "bot_id": "BBOT", "text": ":hourglass_flowing_sand: Söker i arkivet…", "ts": "1.000150"},
        {"user": "UBOT", "bot_id": "BBOT", "text": "Smålands Turism fick 2 000 000 kr [1].", "ts": "1.000200"},
        {"user": "U2", "text": "Intressant!", "ts": "1.000300"},
        {"bot_id": "BOTHER", "text": "En annan bot", "ts": "1.000350"},
        {"user": "U1", "text": "<@UBOT> Och vilket år?", "ts": "1.000400"},
        {"user": "U1", "text": "<@UBOT> Och sedan?", "ts": "1.000500"},
    ]
    history = thread_history(messages, bot_user_id="UBOT", bot_id="BBOT", before_ts="1.000500", direct=False)
    assert history == [
        ("user", "Hur gick det med besöksnäringen?"),
        ("assistant", "Smålands Turism fick 2 000 000 kr [1]."),
        ("user", "Och vilket år?"),
    ]
    direct = thread_history(messages, bot_user_id="UBOT", bot_id="BBOT", before_ts="1.000500", direct=True)
    assert ("user", "Intressant!") in direct
