"""The assistant over a real index of the fixture corpus: retrieval, answers, not-found, follow-ups, LLM fallback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assistant.errors import BadRequest
from assistant.query import parse_question, rewrite_follow_up
from assistant.service import Assistant
from assistant.types import Filters
from tests.assistant.fake_openai import FakeOpenAI

TOURISM = "Hur mycket beviljades Smålands Turism för nationell marknadsföring 2022?"


# -- reading the question ----------------------------------------------------------------------------------------


def test_filters_are_parsed_from_the_question() -> None:
    parsed = parse_question("Vad stod i årsredovisningen för 2012 om Navet?")
    assert (parsed.filters.year_from, parsed.filters.year_to, parsed.filters.doc_type) == (2012, 2012, "arsredovisning")
    parsed = parse_question("Vad beslutades i ärende Dnr RJL 2022/258, § 29?")
    assert parsed.filters.case_number == "RJL 2022/258"
    assert parsed.paragraphs == ("29",)
    assert parsed.years == ()  # the year inside a case number is not a year filter
    assert parse_question("Beslut mellan 2020 och 2022").filters.year_from == 2020
    body = parse_question("Vad beslutade direktionen?", ["Direktionen", "Nämnd för arbetsmarknad"]).filters.body
    assert body == "Direktionen"


def test_follow_up_is_rewritten_from_the_previous_question_by_rule() -> None:
    history = [("user", "Vad beslutade presidiet om stöttning av besöksnäringen?"), ("assistant", "Presidiet ...")]
    query = rewrite_follow_up("Och hur mycket fick de?", history)
    assert "besöksnäringen" in query and "hur mycket" in query
    assert "Vad beslutade" not in query  # only what the follow-up lacks, never the whole question
    assert rewrite_follow_up("Vilka kontroller gör administrativ chef i internkontrollplanen?", history).startswith(
        "Vilka"
    )


# -- retrieval ---------------------------------------------------------------------------------------------------


def test_case_number_finds_its_chunks_first_in_any_spelling(assistant: Assistant) -> None:
    for spelling in ("RJL 2022/258", "Dnr 2022/258", "rjl 2022/258"):
        hits = assistant.search(f"Vad gäller {spelling}?", k=5)
        assert hits[0].reason == "exact"
        assert all("2022/258" in h.chunk.case_numbers for h in hits if h.reason == "exact")


def test_paragraph_lookup(assistant: Assistant) -> None:
    hits = assistant.search("Vad beslutades under § 27?", k=3)
    assert hits[0].chunk.paragraph == "27" and hits[0].reason == "exact"


def test_explicit_filters_restrict_the_search(assistant: Assistant) -> None:
    only_plan = assistant.search("kontroll", k=10, filters=Filters(doc_type="plan"))
    assert only_plan and {h.chunk.meta.doc_type for h in only_plan} == {"plan"}
    in_2012 = assistant.search("förbundet verksamhet", k=10, filters=Filters(year_from=2012, year_to=2012))
    assert in_2012 and all(h.chunk.meta.year == 2012 for h in in_2012)
    nothing = assistant.search("förbundet", k=10, filters=Filters(year_from=1990, year_to=1991))
    assert nothing == []


def test_list_question_gathers_every_matching_paragraph(assistant: Assistant) -> None:
    plan = assistant.plan("Vilka projekt behandlade presidiet?")
    hits, _ = assistant.retrieve(plan)
    paragraphs = {h.chunk.paragraph for h in hits if h.chunk.paragraph}
    assert paragraphs == {"23", "27", "29"}  # every § the fixture's protocol extract holds


# -- answers -----------------------------------------------------------------------------------------------------


def test_amount_question_is_answered_with_a_checkable_citation(assistant: Assistant) -> None:
    answer = assistant.ask(TOURISM)
    assert answer.status == "answered"
    assert "2 000 000" in answer.text and "[1]" in answer.text
    cited = answer.citations[0].hit.chunk
    assert "2022/258" in cited.case_numbers and "2 000 000" in cited.text
    assert cited.page_start >= 1 and cited.meta.title


def test_every_marker_refers_to_a_citation(assistant: Assistant) -> None:
    import re

    answer = assistant.ask("Vad gäller RJL 2022/258?")
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers and markers == {c.n for c in answer.citations}


def test_unanswerable_question_is_not_found_and_says_what_was_searched(assistant: Assistant) -> None:
    answer = assistant.ask("Vad beslutade kommunfullmäktige om den nya simhallen 2019?")
    assert answer.status == "not_found" and not answer.citations
    assert "simhallen" in answer.query and "2019" in answer.text  # what was searched: the query and the filters
    assert answer.text.startswith("Arkivet innehåller inget")


def test_english_question_gets_an_english_answer(assistant: Assistant) -> None:
    answer = assistant.ask("How much money was granted to Smålands Turism for national marketing?")
    assert answer.language == "en"
    if answer.status == "answered":
        assert "2 000 000" in answer.text
    else:
        assert answer.text.startswith("The archive holds nothing")


def test_follow_up_searches_the_standalone_query_and_keeps_filters(assistant: Assistant) -> None:
    history = [("user", "Vad föreslog presidiet om stöttning av besöksnäringen 2022?"), ("assistant", "...")]
    answer = assistant.ask("Och hur mycket pengar gällde det?", history)
    assert "besöksnäringen" in answer.query
    assert answer.filters.year_from == 2022
    assert answer.status == "answered" and "2 000 000" in answer.text


def test_bad_questions_are_bad_requests(assistant: Assistant) -> None:
    with pytest.raises(BadRequest):
        assistant.ask("   ")
    with pytest.raises(BadRequest):
        assistant.ask("x" * 2001)


def test_stream_yields_meta_text_and_the_final_answer(assistant: Assistant) -> None:
    events = list(assistant.ask_stream(TOURISM))
    kinds = [k for k, _ in events]
    assert kinds[0] == "meta" and kinds[-1] == "answer" and "text" in kinds
    streamed = "".join(d for k, d in events if k == "text")
    assert streamed.strip() == events[-1][1].text.strip()


# -- the LLM answerer, through a fake OpenAI-compatible endpoint --------------------------------------------------


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def llm_assistant(fixture_index: Any, fake_openai: Any) -> Assistant:
    from assistant.service import build_assistant

    settings, indexer = fixture_index
    llm_settings = settings.model_copy(
        update={"llm_base_url": fake_openai.base_url, "llm_model": "test-model", "llm_timeout": 2.0}
    )
    return build_assistant(llm_settings, store=indexer.store, embedder=indexer.embedder)


def test_llm_answer_is_verified_unsupported_sentences_and_bad_markers_dropped(
    llm_assistant: Assistant, fake_openai: Any
) -> None:
    fake_openai.enqueue(
        "Presidiet föreslog att Smålands Turism AB beviljas 2 000 000 kr [1]. "
        "Beslutet fattades enhälligt av kommunfullmäktige i Stockholm [1]. "
        "Dessutom beviljades 9 miljoner kronor till en ny arena [9]."
    )
    answer = llm_assistant.ask(TOURISM)
    assert answer.status == "answered" and answer.answerer == "llm"
    assert "2 000 000" in answer.text
    assert "Stockholm" not in answer.text and "[9]" not in answer.text and "arena" not in answer.text
    prompt = fake_openai.last.content("user")
    assert TOURISM in prompt and "2 000 000" in prompt


def test_llm_failure_falls_back_to_the_extractive_answer_with_a_notice(
    llm_assistant: Assistant, fake_openai: Any
) -> None:
    fake_openai.enqueue_failure(500)
    answer = llm_assistant.ask(TOURISM)
    assert answer.status == "answered" and answer.answerer == "extractive"
    assert answer.notice and "Språkmodellen" in answer.notice
    assert "2 000 000" in answer.text


def test_llm_reads_the_selected_units_and_a_reversed_decision_is_dropped(
    llm_assistant: Assistant, fake_openai: Any
) -> None:
    from assistant.prompts import format_passages

    fake_openai.enqueue(
        "Presidiet föreslog att bevilja Smålands Turism AB 2 000 000 kr [1]. "
        "Nämnden avslog Smålands Turism AB:s ansökan [1]."
    )
    answer = llm_assistant.ask(TOURISM)
    prompt = fake_openai.last.content("user")
    assert "Bevilja Smålands Turism AB 2 000 000 kr" in prompt
    assert len(prompt) < len(format_passages(answer.hits))  # the chosen units, not every passage whole
    assert "2 000 000" in answer.text and "avslog" not in answer.text


def test_an_assistant_for_an_llm_endpoint_is_built_from_its_url(fixture_index: Any, fake_openai: Any) -> None:
    from assistant.service import build_assistant_for_llm

    settings, indexer = fixture_index
    built = build_assistant_for_llm(
        settings, fake_openai.base_url, "test-model", store=indexer.store, embedder=indexer.embedder
    )
    fake_openai.enqueue("Smålands Turism AB föreslogs få 2 000 000 kr [1].")
    answer = built.ask(TOURISM)
    assert answer.answerer == "llm" and "2 000 000" in answer.text
