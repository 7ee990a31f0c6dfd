"""The LLM answerer and follow-up rewriter: any OpenAI-compatible chat endpoint, through llama-index.

The only module that imports llama-index's LLM classes. Every endpoint failure (refused connection, HTTP error,
timeout, an empty or malformed reply) becomes `LLMUnavailable`, so the service can fall back to the extractive
answerer.

Streaming contract (`LLMAnswerer.stream`): the request is sent on the first `next()`, and text is held back until
the model's first [n] citation. So a refused connection, an HTTP error, a timeout before the first token, and a reply
that is empty or only a <think> block all raise `LLMUnavailable` before anything was yielded: the caller can fall back
cleanly. If the endpoint fails after that (connection dropped, a token overdue), `LLMUnavailable` is raised from the
iterator after some pieces; its message says how many characters had been streamed. Those pieces are an incomplete
answer, and the caller (which knows what it received) must replace them, not append to them.

The no-answer marker: the answer prompts tell the model to write `NO_ANSWER_MARKER` when the passages do not hold
the answer. An output with the marker and without any [n] citation is "" (from `answer`) and nothing (from
`stream`); the marker itself is never passed on.
"""

from __future__ import annotations

import gc
import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.llms import LLM, ChatMessage, MessageRole
from llama_index.llms.openai_like import OpenAILike

from assistant.errors import LLMUnavailable, PromptError
from assistant.prompts import PromptTemplate, format_passages, format_units, load_prompt
from assistant.settings import AssistantSettings
from assistant.types import Hit, Language
from indexer.errors import ConfigurationError

logger = logging.getLogger(__name__)

NO_ANSWER_MARKER = "INGET_SVAR"
"""What the answer prompts tell the model to write when the passages do not hold the answer."""

ANSWER_MAX_TOKENS = 1024
REWRITE_MAX_TOKENS = 128
LANGUAGES: tuple[Language, ...] = ("sv", "en")

_CITATION = re.compile(r"\[\d+(?:\s*[,–-]\s*\d+)*\]")
_HISTORY_CITATION = re.compile(r"\s*" + _CITATION.pattern)
_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
_QUERY_LABEL = re.compile(
    r"^(?:fristående sökfråga|sökfråga|standalone search query|search query|query)\s*:\s*", re.IGNORECASE
)
_HISTORY_ROLES: dict[str, dict[str, str]] = {
    "sv": {"user": "Användare", "assistant": "Arkiv"},
    "en": {"user": "User", "assistant": "Arkiv"},
}


def make_llm(settings: AssistantSettings) -> LLM | None:
    """The chat endpoint the settings describe; None when ARKIV_LLM_BASE_URL is unset.

    No retries (the service falls back instead of waiting), temperature 0, chat completions API.
    ARKIV_LLM_TIMEOUT bounds each wait: for the connection, for the whole reply, and, when streaming, for the first
    token and for each gap between tokens (not the whole stream).
    Without ARKIV_LLM_API_KEY a placeholder key is sent, never OPENAI_API_KEY from the environment.
    """
    if not settings.llm_base_url:
        return None
    if not settings.llm_model:
        raise ConfigurationError("ARKIV_LLM_MODEL must name the model when ARKIV_LLM_BASE_URL is set")
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "unused"
    try:
        llm: LLM = OpenAILike(
            model=settings.llm_model,
            api_base=settings.llm_base_url,
            api_key=api_key,
            timeout=settings.llm_timeout,
            max_retries=0,
            temperature=0.0,
            is_chat_model=True,
            is_function_calling_model=False,
        )
    except ValueError as ex:
        raise ConfigurationError(f"cannot use LLM {settings.llm_model!r} at {settings.llm_base_url}: {ex}") from ex
    return llm


class LLMAnswerer:
    """Answers from numbered passages with an LLM, citing [n]; implements the Answerer protocol."""

    name = "llm"

    def __init__(
        self, llm: LLM, *, prompts_dir: Path | None = None, max_tokens: int | None = ANSWER_MAX_TOKENS
    ) -> None:
        self.llm = llm
        self.max_tokens = max_tokens
        self._prompts: dict[str, PromptTemplate] = {
            lang: _checked(load_prompt("answer", lang, prompts_dir), {"question", "passages", "no_answer"})
            for lang in LANGUAGES
        }

    def answer(
        self, question: str, hits: Sequence[Hit], language: Language, units: Mapping[int, Sequence[str]] | None = None
    ) -> str:
        """The whole answer with [n] markers; "" when the model says the passages do not hold it.

        `units`: the selector's chosen units per hit index; the model then reads those instead of whole passages."""
        if not hits:
            return ""
        started = time.perf_counter()
        raw = _chat(self.llm, self._messages(question, hits, language, units), "answer", self.max_tokens)
        answer_filter = _AnswerFilter()
        text = (answer_filter.feed(raw) + answer_filter.finish()).strip()
        if not text and not answer_filter.saw_marker:
            raise _unavailable(self.llm, "answer", None, 0, f"no answer in the reply {raw[:200]!r}")
        logger.debug(
            "llm answer: hits=%d chars=%d no_answer=%s ms=%d",
            len(hits),
            len(text),
            answer_filter.saw_marker and not text,
            (time.perf_counter() - started) * 1000,
        )
        return text

    def stream(
        self, question: str, hits: Sequence[Hit], language: Language, units: Mapping[int, Sequence[str]] | None = None
    ) -> Iterator[str]:
        """The answer in pieces as the model writes them; see the module docstring for failures."""
        if not hits:
            return
        messages = self._messages(question, hits, language, units)
        answer_filter = _AnswerFilter()
        received = yielded = 0
        started = time.perf_counter()
        responses: Any = None
        finished = False
        try:
            try:
                responses = iter(self.llm.stream_chat(messages, **_limit(self.max_tokens)))
            except Exception as ex:
                raise _unavailable(self.llm, "stream", ex, yielded) from ex
            while True:
                try:
                    response = next(responses)
                except StopIteration:
                    finished = True
                    break
                except Exception as ex:
                    raise _unavailable(self.llm, "stream", ex, yielded) from ex
                delta = response.delta or ""
                received += len(delta)
                piece = answer_filter.feed(delta)
                if piece:
                    yielded += len(piece)
                    yield piece
        finally:
            close = getattr(responses, "close", None)
            if close is not None:
                close()
            if not finished:
                # Stopped early, the client library's own stream object is left to the garbage collector, whose
                # finaliser closes the HTTP response under the connection pool's lock: run at the wrong moment
                # (inside the next request, which holds that lock) it deadlocks. Collect now, while none is held.
                gc.collect()
        if not received:
            raise _unavailable(self.llm, "stream", None, yielded, "the reply was empty")
        tail = answer_filter.finish()
        if not (yielded or tail.strip() or answer_filter.saw_marker):
            raise _unavailable(self.llm, "stream", None, yielded, "no answer in the reply")
        if tail:
            yield tail
        logger.debug(
            "llm stream: hits=%d chars=%d no_answer=%s ms=%d",
            len(hits),
            yielded + len(tail),
            answer_filter.saw_marker and not (yielded or tail),
            (time.perf_counter() - started) * 1000,
        )

    def _messages(
        self, question: str, hits: Sequence[Hit], language: Language, units: Mapping[int, Sequence[str]] | None = None
    ) -> list[ChatMessage]:
        passages = format_units(hits, units) if units else format_passages(hits)
        system, user = _prompt(self._prompts, language).render(
            question=question.strip(), passages=passages, no_answer=NO_ANSWER_MARKER
        )
        return _chat_messages(system, user)


class LLMRewriter:
    """Turns a follow-up question and the conversation so far into a standalone search query."""

    def __init__(
        self,
        llm: LLM,
        *,
        prompts_dir: Path | None = None,
        max_turns: int = 6,
        max_turn_chars: int = 600,
        max_tokens: int | None = REWRITE_MAX_TOKENS,
    ) -> None:
        self.llm = llm
        self.max_turns = max_turns
        self.max_turn_chars = max_turn_chars
        self.max_tokens = max_tokens
        self._prompts: dict[str, PromptTemplate] = {
            lang: _checked(load_prompt("rewrite", lang, prompts_dir), {"question", "history"}) for lang in LANGUAGES
        }

    def rewrite(self, question: str, history: Sequence[tuple[str, str]], language: Language) -> str:
        """The standalone query; the question itself when there is no history."""
        if not history:
            return question.strip()
        system, user = _prompt(self._prompts, language).render(
            history=self.format_history(history, language), question=question.strip()
        )
        raw = _chat(self.llm, _chat_messages(system, user), "rewrite", self.max_tokens)
        query = _first_line(_strip_think(raw))
        if not query:
            raise _unavailable(self.llm, "rewrite", None, 0, f"no query in the reply {raw[:200]!r}")
        logger.debug("llm rewrite: %r -> %r", question, query)
        return query

    def format_history(self, history: Sequence[tuple[str, str]], language: Language) -> str:
        """The last turns as 'Role: content' lines, citation markers removed and long turns shortened."""
        labels = _HISTORY_ROLES.get(language, _HISTORY_ROLES["sv"])
        lines = []
        for role, content in list(history)[-self.max_turns :]:
            text = " ".join(_HISTORY_CITATION.sub("", content).split())
            if len(text) > self.max_turn_chars:
                text = text[: self.max_turn_chars].rsplit(" ", 1)[0] + " …"
            lines.append(f"{labels.get(role, role.capitalize())}: {text}")
        return "\n".join(lines)


class _AnswerFilter:
    """Holds back model output that may still turn out to be a no-answer, a <think> block or the marker.

    Text is passed on from the first [n] citation; before that it is held, and dropped at the end if the model
    wrote the marker. A leading <think>…</think> block is dropped. The marker is never passed on.
    """

    def __init__(self) -> None:
        self._pending = ""
        self._think_done = False
        self._cited = False
        self.saw_marker = False

    def feed(self, delta: str) -> str:
        self._pending += delta
        return self._drain(final=False)

    def finish(self) -> str:
        return self._drain(final=True)

    def _drain(self, final: bool) -> str:
        if not self._think_done:
            head = self._pending.lstrip()
            if head.startswith(_THINK_OPEN):
                end = head.find(_THINK_CLOSE)
                if end < 0:
                    if final:
                        self._pending = ""
                    return ""
                self._pending = head[end + len(_THINK_CLOSE) :]
                self._think_done = True
            elif not final and _THINK_OPEN.startswith(head):
                return ""
            else:
                self._think_done = True
        if NO_ANSWER_MARKER in self._pending:
            self.saw_marker = True
            self._pending = self._pending.replace(NO_ANSWER_MARKER, "")
        if not self._cited:
            if _CITATION.search(self._pending):
                self._cited = True
            elif not final:
                return ""
            elif self.saw_marker:
                self._pending = ""
                return ""
        keep = 0 if final else _marker_prefix_len(self._pending)
        out = self._pending[: len(self._pending) - keep]
        self._pending = self._pending[len(self._pending) - keep :]
        return out


def _marker_prefix_len(text: str) -> int:
    """Length of the longest end of `text` that the marker starts with."""
    for size in range(min(len(text), len(NO_ANSWER_MARKER) - 1), 0, -1):
        if NO_ANSWER_MARKER.startswith(text[-size:]):
            return size
    return 0


def _chat_messages(system: str, user: str) -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.SYSTEM, content=system), ChatMessage(role=MessageRole.USER, content=user)]


def _chat(llm: LLM, messages: list[ChatMessage], what: str, max_tokens: int | None) -> str:
    try:
        response = llm.chat(messages, **_limit(max_tokens))
        content = response.message.content
    except Exception as ex:
        raise _unavailable(llm, what, ex, 0) from ex
    if not content or not content.strip():
        raise _unavailable(llm, what, None, 0, "the reply was empty")
    return content


def _limit(max_tokens: int | None) -> dict[str, int]:
    return {"max_tokens": max_tokens} if max_tokens else {}


def _unavailable(llm: LLM, what: str, ex: Exception | None, yielded: int, reason: str | None = None) -> LLMUnavailable:
    """The error for a failed call, naming the endpoint and what went wrong (never the key)."""
    if reason is None and ex is not None:
        detail = " ".join(str(ex).split())
        reason = f"{type(ex).__name__}: {detail[:300]}" if detail else type(ex).__name__
    where = f"{getattr(llm, 'model', '?')} at {getattr(llm, 'api_base', '?')}"
    after = f" after {yielded} characters had been streamed" if yielded else ""
    logger.debug("llm %s failed (%s)%s: %s", what, where, after, reason, exc_info=ex is not None)
    return LLMUnavailable(f"LLM {what} failed ({where}){after}: {reason}")


def _checked(template: PromptTemplate, expected: set[str]) -> PromptTemplate:
    if template.variables != expected:
        raise PromptError(
            f"{template.source}: uses {sorted(template.variables)}, the caller fills in exactly {sorted(expected)}"
        )
    return template


def _prompt(prompts: dict[str, PromptTemplate], language: str) -> PromptTemplate:
    return prompts.get(language, prompts["sv"])


def _strip_think(text: str) -> str:
    head = text.lstrip()
    if head.startswith(_THINK_OPEN):
        end = head.find(_THINK_CLOSE)
        return "" if end < 0 else head[end + len(_THINK_CLOSE) :]
    return text


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = _QUERY_LABEL.sub("", line.strip().strip("*`").strip())
        line = line.strip().strip("\"'“”«»`").strip()
        if line:
            return line
    return ""
