"""The LLM answerer and rewriter against a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
import shutil
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answerers import Answerer
from assistant.errors import LLMUnavailable, PromptError
from assistant.generate import NO_ANSWER_MARKER, LLMAnswerer, LLMRewriter, make_llm
from assistant.prompts import PROMPTS_DIR
from assistant.settings import AssistantSettings
from assistant.types import Hit
from indexer.errors import ConfigurationError
from indexer.schema import Chunk, DocumentMeta
from tests.assistant.fake_openai import FakeOpenAI

QUESTION = "Vad beslutade regionstyrelsen om internkontrollplanen?"
ANSWER = (
    "Regionstyrelsen beslutade att anta internkontrollplanen för 2023 [1]. "
    "Uppföljningen rapporteras till revisionen i december [2]."
)

META = DocumentMeta(
    title="Protokoll regionstyrelsen 2022-05-03",
    doc_type="protokoll",
    body="Regionstyrelsen",
    date="2022-05-03",
    year=2022,
)
HITS = (
    Hit(
        chunk=Chunk(
            doc_id="rs-2022-05-03",
            ordinal=4,
            text="Regionstyrelsen beslutar att anta internkontrollplan 2023.",
            page_start=3,
            page_end=3,
            meta=META,
            source="region/2022/rs-2022-05-03.pdf",
            kind="paragraph",
            paragraph="23",
            case_numbers=("RJL 2022/258",),
            part="Beslut",
            date="2022-05-03",
        ),
        score=0.91,
        rank=1,
    ),
    Hit(
        chunk=Chunk(
            doc_id="ikp-2023",
            ordinal=0,
            text="Uppföljning av planen rapporteras till revisionen i december.",
            page_start=4,
            page_end=5,
            meta=DocumentMeta(title="Internkontrollplan 2023", doc_type="plan", year=2023),
            source="region/2023/ikp-2023.pdf",
        ),
        score=0.74,
        rank=2,
    ),
)


def settings_for(base_url: str | None, **changes: object) -> AssistantSettings:
    values: dict[str, object] = {"llm_base_url": base_url, "llm_model": "fake-model", "llm_timeout": 5.0}
    values.update(changes)
    return AssistantSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def answerer(server: FakeOpenAI) -> LLMAnswerer:
    llm = make_llm(settings_for(server.base_url))
    assert llm is not None
    return LLMAnswerer(llm)


@pytest.fixture
def rewriter(server: FakeOpenAI) -> LLMRewriter:
    llm = make_llm(settings_for(server.base_url))
    assert llm is not None
    return LLMRewriter(llm)


SLOW_REPLY = 8.0
"""Seconds a reply is held back in the timeout tests: far beyond the 0.3 s timeout, so that giving up in time
is told apart from waiting for the reply even on a loaded machine."""


def short_timeout(server: FakeOpenAI, seconds: float = 0.3) -> LLMAnswerer:
    llm = make_llm(settings_for(server.base_url, llm_timeout=seconds))
    assert llm is not None
    return LLMAnswerer(llm)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_fake_server_lists_its_model(server: FakeOpenAI) -> None:
    with urllib.request.urlopen(f"{server.base_url}/models", timeout=5) as response:
        listing = json.load(response)
    assert [m["id"] for m in listing["data"]] == ["fake-model"]
    assert server.requests[-1].path == "/v1/models"


# --- make_llm -------------------------------------------------------------------------------------------------


def test_no_endpoint_no_llm() -> None:
    assert make_llm(settings_for(None)) is None


def test_endpoint_without_model_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="ARKIV_LLM_MODEL"):
        make_llm(settings_for("http://127.0.0.1:9/v1", llm_model=None))


def test_the_configured_key_is_sent_and_the_environment_key_never_is(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    for key, expected in (("s3cret", "Bearer s3cret"), (None, "Bearer unused")):
        llm = make_llm(settings_for(server.base_url, llm_api_key=key))
        assert llm is not None
        server.enqueue(ANSWER)
        LLMAnswerer(llm).answer(QUESTION, HITS, "sv")
        assert server.last.headers.get("Authorization") == expected


# --- answering ------------------------------------------------------------------------------------------------


def test_answer_round_trip_keeps_citation_markers(server: FakeOpenAI, answerer: LLMAnswerer) -> None:
    checked: Answerer = answerer
    server.enqueue(ANSWER)
    assert checked.answer(QUESTION, HITS, "sv") == ANSWER
    assert answerer.name == "llm"
    body = server.last.body
    assert body["model"] == "fake-model"
    assert body["temperature"] == 0.0
    assert body.get("stream") in (None, False)
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_prompt_holds_the_numbered_passages_the_question_and_the_marker(
    server: FakeOpenAI, answerer: LLMAnswerer
) -> None:
    server.enqueue(ANSWER)
    answerer.answer(QUESTION, HITS, "sv")
    user = server.last.content("user")
    assert (
        "[1] Protokoll regionstyrelsen 2022-05-03, s. 3, § 23, RJL 2022/258, 2022-05-03\n"
        "Regionstyrelsen beslutar att anta internkontrollplan 2023." in user
    )
    assert "[2] Internkontrollplan 2023, s. 4–5\nUppföljning av planen rapporteras" in user
    assert user.index("[1]") < user.index("[2]") < user.index(QUESTION)
    system = server.last.content("system")
    assert NO_ANSWER_MARKER in system
    assert "ENDAST" in system


def test_english_questions_get_the_english_instructions(server: FakeOpenAI, answerer: LLMAnswerer) -> None:
    server.enqueue("The board adopted the internal control plan for 2023 [1].")
    answer = answerer.answer("What did the regional board decide?", HITS, "en")
    assert answer == "The board adopted the internal control plan for 2023 [1]."
    assert "Answer ONLY from the numbered passages" in server.last.content("system")
    assert "Question: What did the regional board decide?" in server.last.content("user")


def test_stream_round_trip_in_several_pieces(server: FakeOpenAI, answerer: LLMAnswerer) -> None:
    server.enqueue(ANSWER)
    pieces = list(answerer.stream(QUESTION, HITS, "sv"))
    assert len(pieces) > 3
    assert "".join(pieces) == ANSWER
    assert server.last.body["stream"] is True
    assert "[1] Protokoll regionstyrelsen" in server.last.content("user")


def test_no_hits_is_no_answer_without_asking(server: FakeOpenAI, answerer: LLMAnswerer) -> None:
    assert answerer.answer(QUESTION, (), "sv") == ""
    assert list(answerer.stream(QUESTION, (), "sv")) == []
    assert server.chat_requests == []


@pytest.mark.parametrize(
    "reply",
    [
        NO_ANSWER_MARKER,
        f"  {NO_ANSWER_MARKER}.\n",
        f"**{NO_ANSWER_MARKER}**",
        f"Utdragen säger inget om vem som var ordförande. {NO_ANSWER_MARKER}",
        f"<think>Utdrag [1] handlar om planen, inte om ordföranden.</think>\n{NO_ANSWER_MARKER}",
    ],
)
def test_the_no_answer_marker_means_no_answer(server: FakeOpenAI, answerer: LLMAnswerer, reply: str) -> None:
    server.enqueue(reply)
    assert answerer.answer("Vem var ordförande?", HITS, "sv") == ""
    server.enqueue(reply, piece_chars=3)
    assert list(answerer.stream("Vem var ordförande?", HITS, "sv")) == []


def test_a_partial_answer_keeps_its_citations_and_loses_the_marker(server: FakeOpenAI, answerer: LLMAnswerer) -> None:
    reply = f"Planen antogs den 3 maj 2022 [1]. Vem som var ordförande framgår inte. {NO_ANSWER_MARKER}"
    expected = "Planen antogs den 3 maj 2022 [1]. Vem som var ordförande framgår inte."
    server.enqueue(reply)
    assert answerer.answer(QUESTION, HITS, "sv") == expected
    server.enqueue(reply, piece_chars=2)
    streamed = "".join(answerer.stream(QUESTION, HITS, "sv"))
    assert NO_ANSWER_MARKER not in streamed
    assert streamed.strip() == expected


@pytest.mark.parametrize("piece_chars", [1, 2, 5, 9])
@pytest.mark.parametrize(
    "reply",
    [
        ANSWER,
        "<think>Jag läser [1] först.</think>Planen antogs [1].",
        "Svaret står inte med hänvisning, men det står här.",
        "INGET beslut fattades om budgeten [2]; INGET_SVA är inte markören.",
    ],
)
def test_stream_and_answer_agree_however_the_text_is_split(
    server: FakeOpenAI, answerer: LLMAnswerer, reply: str, piece_chars: int
) -> None:
    server.enqueue(reply)
    whole = answerer.answer(QUESTION, HITS, "sv")
    server.enqueue(reply, piece_chars=piece_chars)
    assert "".join(answerer.stream(QUESTION, HITS, "sv")).strip() == whole
    assert "<think>" not in whole


def test_stream_stopped_early_leaves_the_endpoint_usable(server: FakeOpenAI, answerer: LLMAnswerer) -> None:
    server.enqueue(ANSWER)
    pieces = answerer.stream(QUESTION, HITS, "sv")
    assert next(pieces)
    pieces.close()  # type: ignore[attr-defined]
    server.enqueue(ANSWER)
    assert answerer.answer(QUESTION, HITS, "sv") == ANSWER


# --- failures -------------------------------------------------------------------------------------------------


def test_timeout_is_unavailable_and_fails_fast(server: FakeOpenAI) -> None:
    answerer = short_timeout(server)
    server.enqueue(ANSWER, delay=SLOW_REPLY)
    started = time.perf_counter()
    with pytest.raises(LLMUnavailable, match="(?i)timed out"):
        answerer.answer(QUESTION, HITS, "sv")
    assert time.perf_counter() - started < SLOW_REPLY / 2
    assert len(server.chat_requests) == 1


def test_stream_timeout_is_raised_before_any_text(server: FakeOpenAI) -> None:
    answerer = short_timeout(server)
    server.enqueue(ANSWER, delay=SLOW_REPLY)
    received: list[str] = []
    started = time.perf_counter()
    with pytest.raises(LLMUnavailable, match="(?i)timed out"):
        for piece in answerer.stream(QUESTION, HITS, "sv"):
            received.append(piece)
    assert received == []
    assert time.perf_counter() - started < SLOW_REPLY / 2
    assert len(server.chat_requests) == 1


def test_http_500_is_unavailable_without_retries(server: FakeOpenAI, answerer: LLMAnswerer) -> None:
    server.enqueue_failure(500)
    with pytest.raises(LLMUnavailable, match="500"):
        answerer.answer(QUESTION, HITS, "sv")
    server.enqueue_failure(500)
    received: list[str] = []
    with pytest.raises(LLMUnavailable, match="500"):
        for piece in answerer.stream(QUESTION, HITS, "sv"):
            received.append(piece)
    assert received == []
    assert len(server.chat_requests) == 2


def test_refused_connection_is_unavailable() -> None:
    llm = make_llm(settings_for(f"http://127.0.0.1:{free_port()}/v1", llm_timeout=1.0))
    assert llm is not None
    answerer = LLMAnswerer(llm)
    with pytest.raises(LLMUnavailable, match="Connection"):
        answerer.answer(QUESTION, HITS, "sv")
    with pytest.raises(LLMUnavailable):
        next(iter(answerer.stream(QUESTION, HITS, "sv")))


def test_a_stream_cut_midway_raises_after_the_pieces_it_gave(server: FakeOpenAI, answerer: LLMAnswerer) -> None:
    server.enqueue(ANSWER, cut_after=8)
    received: list[str] = []
    with pytest.raises(LLMUnavailable, match="after") as info:
        for piece in answerer.stream(QUESTION, HITS, "sv"):
            received.append(piece)
    assert received
    assert ANSWER.startswith("".join(received))
    assert f"after {len(''.join(received))} characters" in str(info.value)


@pytest.mark.parametrize("reply", ["", "   \n", "<think>Jag hann inte klart"])
def test_a_reply_without_an_answer_is_unavailable(server: FakeOpenAI, answerer: LLMAnswerer, reply: str) -> None:
    server.enqueue(reply)
    with pytest.raises(LLMUnavailable):
        answerer.answer(QUESTION, HITS, "sv")
    server.enqueue(reply)
    received: list[str] = []
    with pytest.raises(LLMUnavailable):
        for piece in answerer.stream(QUESTION, HITS, "sv"):
            received.append(piece)
    assert received == []


def test_a_template_with_other_variables_fails_at_start(tmp_path: Path, server: FakeOpenAI) -> None:
    for path in PROMPTS_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    edited = tmp_path / "answer.en.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("$passages", "$context"), encoding="utf-8")
    llm = make_llm(settings_for(server.base_url))
    assert llm is not None
    with pytest.raises(PromptError, match="answer.en.yaml"):
        LLMAnswerer(llm, prompts_dir=tmp_path)
    assert LLMRewriter(llm, prompts_dir=tmp_path)


# --- rewriting follow-ups -------------------------------------------------------------------------------------

HISTORY = (
    ("user", "Vad beslutade regionstyrelsen om internkontrollplanen 2023?"),
    ("assistant", "Regionstyrelsen antog internkontrollplanen för 2023 den 3 maj 2022 [1]."),
)


def test_rewriter_makes_a_standalone_query_from_the_history(server: FakeOpenAI, rewriter: LLMRewriter) -> None:
    server.enqueue("Vem var ordförande i regionstyrelsen när internkontrollplanen 2023 antogs?")
    query = rewriter.rewrite("Vem var ordförande då?", HISTORY, "sv")
    assert query == "Vem var ordförande i regionstyrelsen när internkontrollplanen 2023 antogs?"
    user = server.last.content("user")
    assert "Användare: Vad beslutade regionstyrelsen om internkontrollplanen 2023?" in user
    assert "Arkiv: Regionstyrelsen antog internkontrollplanen för 2023 den 3 maj 2022." in user
    assert "[1]" not in user
    assert "Följdfråga: Vem var ordförande då?" in user
    assert server.last.body["max_tokens"] <= 256


def test_rewriter_takes_only_the_query_line(server: FakeOpenAI, rewriter: LLMRewriter) -> None:
    server.enqueue('<think>Det syftar på planen.</think>\n\nSökfråga: "Vem var ordförande 2022?"\nFörklaring: ...')
    assert rewriter.rewrite("Vem var ordförande då?", HISTORY, "sv") == "Vem var ordförande 2022?"
    server.enqueue("Standalone search query: Who chaired the regional board in May 2022?")
    assert rewriter.rewrite("Who chaired it?", HISTORY, "en") == "Who chaired the regional board in May 2022?"
    assert "Follow-up question: Who chaired it?" in server.last.content("user")
    assert "User: Vad beslutade" in server.last.content("user")


def test_rewriter_without_history_returns_the_question_unasked(server: FakeOpenAI, rewriter: LLMRewriter) -> None:
    assert rewriter.rewrite("  Vad kostade bygget?  ", (), "sv") == "Vad kostade bygget?"
    assert server.chat_requests == []


def test_rewriter_keeps_the_last_turns_only(server: FakeOpenAI, rewriter: LLMRewriter) -> None:
    history = [("user" if i % 2 == 0 else "assistant", f"tur nummer {i}") for i in range(10)]
    server.enqueue("fristående fråga")
    rewriter.rewrite("Och sedan?", history, "sv")
    user = server.last.content("user")
    assert "tur nummer 3" not in user
    assert "tur nummer 4" in user and "tur nummer 9" in user


@pytest.mark.parametrize("reply", [None, "", '""'])
def test_rewriter_failure_is_unavailable(server: FakeOpenAI, rewriter: LLMRewriter, reply: str | None) -> None:
    if reply is None:
        server.enqueue_failure(503)
    else:
        server.enqueue(reply)
    with pytest.raises(LLMUnavailable):
        rewriter.rewrite("Vem var ordförande då?", HISTORY, "sv")
