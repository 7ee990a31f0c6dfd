"""The Slack bot: Arkiv answers where staff and politicians already talk.

The slack-bolt adapter (the only module importing slack_bolt / slack_sdk). `format_blocks` turns an Answer into
Block Kit and is pure; `build_slack_app` makes the Bolt app; `mount_slack` adds POST /slack/events to the FastAPI
app (HTTP mode, signed requests) and, with an app-level token, connects over Socket Mode for the app's lifetime.

Handled: `app_mention` (answers in a thread, follow-ups use the thread), `message` in direct messages (`message.im`),
the `/arkiv` slash command (ephemeral, with a share button), and the block actions `arkiv_share`,
`arkiv_feedback_up`, `arkiv_feedback_down`. Every request is acknowledged before the archive is searched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from assistant.errors import BadRequest
from assistant.feedback import Feedback, FeedbackStore, Rating
from assistant.qtype import detect_language
from assistant.serialize import citation_json
from assistant.settings import AssistantSettings
from assistant.types import Answer, Language

if TYPE_CHECKING:
    from fastapi import FastAPI
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from assistant.access import Principal
    from assistant.service import Assistant

logger = logging.getLogger(__name__)

T = TypeVar("T")

COMMAND = "/arkiv"
EVENTS = ("app_mention", "message.im")
"""The event subscriptions the bot answers (slack/manifest.yaml lists the same)."""
SHARE_ACTION = "arkiv_share"
FEEDBACK_ACTIONS: dict[str, Rating] = {"arkiv_feedback_up": "up", "arkiv_feedback_down": "down"}
MAX_SOURCES = 20
MAX_SECTION_CHARS = 2900
MAX_HISTORY_TURNS = 10
DEDUPE_SECONDS = 15 * 60

TEXTS: dict[str, dict[Language, str]] = {
    "searching": {"sv": "Söker i arkivet…", "en": "Searching the archive…"},
    "error": {
        "sv": "Något gick fel när jag sökte i arkivet. Försök igen om en stund.",
        "en": "Something went wrong while searching the archive. Please try again in a while.",
    },
    "help": {
        "sv": "Ställ en fråga om arkivet, till exempel: ”Vilka beslut fattade nämnden om besöksnäringen 2022?”",
        "en": "Ask a question about the archive, for example: “Which decisions did the board make on tourism in 2022?”",
    },
    "sources": {"sv": "Källor", "en": "Sources"},
    "page": {"sv": "s.", "en": "p."},
    "not_found": {"sv": "Hittades inte i arkivet", "en": "Not found in the archive"},
    "searched": {"sv": "Sökte efter", "en": "Searched for"},
    "read_as": {"sv": "Tolkat som", "en": "Read as"},
    "more_sources": {"sv": "… och {n} källor till", "en": "… and {n} more sources"},
    "good": {"sv": "Bra svar", "en": "Good answer"},
    "bad": {"sv": "Dåligt svar", "en": "Bad answer"},
    "share": {"sv": "Dela i kanalen", "en": "Share in channel"},
    "shared_by": {"sv": "Delat av {user}, som frågade", "en": "Shared by {user}, who asked"},
    "thanks": {"sv": "Tack för din återkoppling!", "en": "Thank you for your feedback!"},
    "expired": {
        "sv": "Svaret finns inte kvar. Ställ frågan igen.",
        "en": "The answer is no longer available. Please ask again.",
    },
}


def _t(key: str, language: Language) -> str:
    return TEXTS[key][language]


# -- formatting (pure) -----------------------------------------------------------------------------------------


_USER_ID = re.compile(r"[UW][A-Z0-9]{1,20}")


def escape(text: str) -> str:
    """Text made safe for Slack's mrkdwn (Slack's three escapes: &, < and >), so that a user's `<!channel>`,
    `<@U…>` or `<https://…|label>` is shown as typed and pings or links nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_markdown(text: str) -> str:
    """Escaped answer text, with the common Markdown an LLM writes turned into Slack's mrkdwn."""
    text = escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)
    return re.sub(r"(?m)^#{1,6}\s+(.+)$", r"*\1*", text)


def source_url(
    public_url: str, doc_id: str, page: int, quote_text: str | None = None, language: Language = "sv"
) -> str:
    """The web app's view of one page of a document, with the cited passage marked."""
    url = f"{public_url.rstrip('/')}/documents/{quote(doc_id, safe='')}/pages/{page}"
    query = []
    if quote_text:
        query.append(("quote", quote_text[:300]))
    if language != "sv":
        query.append(("lang", language))
    return url + (f"?{urlencode(query)}#passage" if query else "")


def _pages(start: int, end: int, language: Language) -> str:
    label = _t("page", language)
    return f"{label} {start}" if end <= start else f"{label} {start}–{end}"


def source_line(n: int, citation: dict[str, Any], public_url: str, language: Language) -> str:
    """One numbered source: linked title, pages, §, case numbers and date."""
    doc = citation["document"]
    title = str(doc.get("title") or doc.get("source") or doc["id"])
    if len(title) > 150:
        title = title[:149] + "…"
    link_label = escape(title).replace("|", "¦")
    quotes = citation.get("quotes") or []
    url = source_url(public_url, doc["id"], citation["page_start"], quotes[0] if quotes else None, language)
    parts = [f"*[{n}]* <{escape(url)}|{link_label}>"]
    parts.append(_pages(citation["page_start"], citation["page_end"], language))
    if citation.get("paragraph"):
        parts.append(f"§ {escape(str(citation['paragraph']))}")
    if citation.get("case_numbers"):
        parts.append(escape(", ".join(citation["case_numbers"])))
    date = citation.get("date") or doc.get("date")
    if date:
        parts.append(escape(str(date)))
    return " · ".join(parts)


def _split(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Text in pieces no longer than Slack's section limit, split at paragraph, line or word boundaries."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit))
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_SECTION_CHARS]}]}


def _button(action_id: str, text: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def button_value(key: str, question: str) -> str:
    """What a button carries: the answer's key, and the question in case the answer has left the cache."""
    return json.dumps({"k": key, "q": question[:1500]}, ensure_ascii=False)


def format_blocks(
    answer: Answer,
    public_url: str,
    language: Language | None = None,
    *,
    key: str = "",
    share: bool = False,
    feedback: bool = True,
    shared_by: str | None = None,
) -> list[dict[str, Any]]:
    """The Block Kit message for an answer.

    Answered: the text with its [n] markers, then the numbered sources linking to the web app's page view.
    Not found: a distinct heading, what was searched and the nearest material. Buttons (feedback, and share for
    an ephemeral reply) carry `key`.
    """
    lang: Language = language or answer.language
    blocks: list[dict[str, Any]] = []
    if shared_by:
        user = f"<@{shared_by}>" if _USER_ID.fullmatch(shared_by) else escape(shared_by)
        blocks.append(_context(f"{_t('shared_by', lang).format(user=user)}: ”{escape(answer.question)}”"))
    if answer.status == "not_found":
        blocks.append(_context(f":mag: *{_t('not_found', lang)}*"))
        blocks.extend({"type": "section", "text": {"type": "mrkdwn", "text": p}} for p in _split(escape(answer.text)))
        searched = f"{_t('searched', lang)}: ”{escape(answer.query)}”"
        filters = answer.filters.to_dict()
        if filters:
            searched += " · " + escape(", ".join(f"{k}={v}" for k, v in filters.items()))
        blocks.append(_context(searched))
    else:
        text = _slack_markdown(answer.text)
        blocks.extend({"type": "section", "text": {"type": "mrkdwn", "text": p}} for p in _split(text))
        if answer.query and answer.query.strip() != answer.question.strip():
            blocks.append(_context(f"{_t('read_as', lang)}: ”{escape(answer.query)}”"))
        if answer.citations:
            blocks.append({"type": "divider"})
            lines = [source_line(c.n, citation_json(c), public_url, lang) for c in answer.citations[:MAX_SOURCES]]
            if len(answer.citations) > MAX_SOURCES:
                lines.append(_t("more_sources", lang).format(n=len(answer.citations) - MAX_SOURCES))
            body = f"*{_t('sources', lang)}*\n" + "\n".join(lines)
            blocks.extend(
                {"type": "section", "block_id": f"arkiv_sources_{i}", "text": {"type": "mrkdwn", "text": p}}
                for i, p in enumerate(_split(body))
            )
    if answer.notice:
        blocks.append(_context(f":information_source: {escape(answer.notice)}"))
    buttons: list[dict[str, Any]] = []
    value = button_value(key, answer.question)
    if share:
        buttons.append(_button(SHARE_ACTION, _t("share", lang), value, "primary"))
    if feedback:
        buttons.append(_button("arkiv_feedback_up", f":+1: {_t('good', lang)}", value))
        buttons.append(_button("arkiv_feedback_down", f":-1: {_t('bad', lang)}", value))
    if buttons:
        blocks.append({"type": "actions", "block_id": "arkiv_actions", "elements": buttons})
    return blocks


def fallback_text(answer: Answer) -> str:
    """The message's plain text (notifications, and the thread history a follow-up reads back)."""
    if answer.status == "not_found":
        return f"{_t('not_found', answer.language)}. {answer.text}"
    return answer.text


# -- reading Slack messages (pure) -----------------------------------------------------------------------------

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def clean_text(text: str) -> str:
    """A Slack message's text as a question: mentions removed, links as their labels, entities unescaped."""
    text = _MENTION.sub(" ", text or "")
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = re.sub(r"<#[A-Z0-9]+\|([^>]*)>", r"#\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def _is_status(text: str) -> bool:
    """Whether a bot message is a placeholder, an error or the help text rather than an answer."""
    core = re.sub(r"^:[a-z0-9_+-]+:\s*", "", text.strip())
    return any(core == TEXTS[k][lang] for k in ("searching", "error", "help") for lang in ("sv", "en"))


def thread_history(
    messages: Sequence[dict[str, Any]],
    *,
    bot_user_id: str | None,
    bot_id: str | None,
    before_ts: str,
    direct: bool,
) -> list[tuple[str, str]]:
    """A thread's earlier turns as (role, text): the bot's answers as assistant turns, questions as user turns.

    In a channel only the thread's first message and messages that mention the bot count as questions, so that
    people talking among themselves do not become the topic of a follow-up.
    """
    turns: list[tuple[str, str]] = []
    mention = f"<@{bot_user_id}" if bot_user_id else None
    for i, m in enumerate(messages):
        ts = str(m.get("ts", ""))
        if not ts or float(ts) >= float(before_ts):
            continue
        text = str(m.get("text") or "")
        mine = (bot_id is not None and m.get("bot_id") == bot_id) or (
            bot_user_id is not None and m.get("user") == bot_user_id
        )
        if mine:
            if text and not _is_status(text):
                turns.append(("assistant", text))
        elif m.get("bot_id") or m.get("subtype"):
            continue
        elif direct or i == 0 or (mention is not None and mention in text):
            question = clean_text(text)
            if question:
                turns.append(("user", question))
    return turns[-MAX_HISTORY_TURNS:]


# -- the bot -------------------------------------------------------------------------------------------------

API_TIMEOUT = 10
"""Seconds before one call to Slack's Web API counts as failed (slack_sdk's default is 30)."""
API_RETRIES = 2
"""Retries of one Web API call on a 5xx, a rate limit (after its Retry-After), a timeout or a lost connection."""
DELIVERY_DELAYS: tuple[float, ...] = (5.0, 30.0, 120.0, 600.0)
"""Seconds between further attempts to deliver an answer while Slack keeps failing (each with its own retries)."""
RESUME_SECONDS = 60 * 60
"""At startup, questions taken on but not answered (the process died) are answered if younger than this."""
EVENT_RETENTION_SECONDS = 7 * 24 * 3600
"""How long the ledger remembers an answered event (its question text is dropped as soon as it is answered)."""
IDENTITY_WAIT = 5.0
"""Seconds a listener (never an acknowledgement) waits for auth.test to learn the bot's own user id."""
CHANNEL_CACHE_SECONDS = 600
EVENTS_DB = "slack_events.sqlite3"
"""The ledger's SQLite file, under ARKIV_DATA_DIR."""


def retry_handlers() -> list[Any]:
    """slack_sdk's async retry handlers: connection errors and time-outs, rate limits, and every 5xx."""
    from aiohttp import ClientOSError, ServerConnectionError, ServerDisconnectedError
    from slack_sdk.http_retry.builtin_async_handlers import (
        AsyncConnectionErrorRetryHandler,
        AsyncRateLimitErrorRetryHandler,
        AsyncServerErrorRetryHandler,
    )
    from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

    class AnyServerErrorRetryHandler(AsyncServerErrorRetryHandler):
        """slack_sdk's handler retries 500 and 503 only; a proxy in front of Slack answers 502 and 504 too."""

        async def _can_retry_async(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
            return response is not None and 500 <= int(response.status_code) < 600

    backoff = BackoffRetryIntervalCalculator(backoff_factor=0.5)
    errors: list[type[Exception]] = [ServerConnectionError, ServerDisconnectedError, ClientOSError, TimeoutError]
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=API_RETRIES, interval_calculator=backoff, error_types=errors),
        AsyncRateLimitErrorRetryHandler(max_retry_count=API_RETRIES),
        AnyServerErrorRetryHandler(max_retry_count=API_RETRIES, interval_calculator=backoff),
    ]


def web_client(settings: AssistantSettings, token: str | None) -> AsyncWebClient:
    """A Web API client for ARKIV_SLACK_API_URL with a short time-out and the retry handlers."""
    from slack_sdk.web.async_client import AsyncWebClient

    return AsyncWebClient(
        token=token, base_url=settings.slack_api_url, timeout=API_TIMEOUT, retry_handlers=retry_handlers()
    )


def answerable(event: dict[str, Any]) -> bool:
    """Whether the bot answers this event: a mention, or a person's new message in a direct message."""
    if event.get("type") == "app_mention":
        return True
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
    )


def question_key(event: dict[str, Any]) -> str:
    """One question, one key: the mention and the message.im event for the same message share it."""
    return f"{event.get('channel')}:{event.get('ts')}"


class EventLedger:
    """The questions the bot has taken on, in a small SQLite file under ARKIV_DATA_DIR.

    A row per question (`question_key`): `pending` while it is being answered, then `answered` (or `failed`
    when Slack would not take the answer). An answered question is never answered again: not for a retry, a
    duplicate delivery nor after a restart. A pending one that this process is not working on (the process that
    took it died) is answered on Slack's retry or when the server starts (`pending`). The event, which holds the
    question's text, is kept only while pending; rows are deleted after `retention` seconds. Thread-safe.
    """

    def __init__(self, path: Path, retention: float = EVENT_RETENTION_SECONDS) -> None:
        import sqlite3

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.retention = retention
        self._lock = threading.Lock()
        self._inflight: set[str] = set()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS events (key TEXT PRIMARY KEY, event_id TEXT, state TEXT NOT NULL, "
            "event TEXT, placeholder TEXT, received REAL NOT NULL, updated REAL NOT NULL)"
        )
        self._pruned = 0.0
        self._closed = False
        self.prune()

    def take(self, key: str, event_id: str, event: dict[str, Any]) -> bool:
        """Whether to answer this question now; if so it is pending and this process's until `release`."""
        now = time.time()
        with self._lock:
            if self._closed:
                return False
            if now - self._pruned > 3600:
                self._prune_locked(now)
            row = self._db.execute("SELECT state FROM events WHERE key = ?", (key,)).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO events (key, event_id, state, event, received, updated) VALUES (?, ?, ?, ?, ?, ?)",
                    (key, event_id, "pending", json.dumps(event, ensure_ascii=False), now, now),
                )
            elif row[0] == "answered" or key in self._inflight:
                return False
            else:  # pending but nobody here is answering it, or failed before: answer it
                self._db.execute(
                    "UPDATE events SET state = 'pending', event = COALESCE(event, ?), updated = ? WHERE key = ?",
                    (json.dumps(event, ensure_ascii=False), now, key),
                )
            self._inflight.add(key)
            return True

    def claim(self, key: str) -> bool:
        """Take on a pending question found by `pending` (False when someone here already has it)."""
        with self._lock:
            if self._closed:
                return False
            if key in self._inflight:
                return False
            self._inflight.add(key)
            return True

    def set_placeholder(self, key: str, ts: str) -> None:
        with self._lock:
            if self._closed:
                return
            self._db.execute("UPDATE events SET placeholder = ?, updated = ? WHERE key = ?", (ts, time.time(), key))

    def placeholder(self, key: str) -> str | None:
        with self._lock:
            if self._closed:
                return None
            row = self._db.execute("SELECT placeholder FROM events WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row and row[0] else None

    def finish(self, key: str, state: str) -> None:
        """The question is answered (its text forgotten), or failed (kept, so that a retry may answer it)."""
        with self._lock:
            if self._closed:
                return
            if state == "answered":
                self._db.execute(
                    "UPDATE events SET state = ?, event = NULL, updated = ? WHERE key = ?", (state, time.time(), key)
                )
            else:
                self._db.execute("UPDATE events SET state = ?, updated = ? WHERE key = ?", (state, time.time(), key))

    def release(self, key: str) -> None:
        with self._lock:
            if self._closed:
                return
            self._inflight.discard(key)

    def state(self, key: str) -> str | None:
        with self._lock:
            if self._closed:
                return None
            row = self._db.execute("SELECT state FROM events WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def pending(self) -> list[tuple[str, float, dict[str, Any]]]:
        """Pending questions nobody here is answering: (key, received, event), oldest first."""
        with self._lock:
            if self._closed:
                return []
            rows = self._db.execute(
                "SELECT key, received, event FROM events WHERE state = 'pending' ORDER BY received"
            ).fetchall()
            return [(k, float(r), json.loads(e or "{}")) for k, r, e in rows if k not in self._inflight]

    def prune(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._prune_locked(time.time())

    def _prune_locked(self, now: float) -> None:
        self._db.execute("DELETE FROM events WHERE updated < ? AND state != 'pending'", (now - self.retention,))
        self._db.execute("DELETE FROM events WHERE received < ?", (now - self.retention,))
        self._pruned = now

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._db.close()


class TTLSet:
    """Keys seen in the last `seconds`; `add` says whether a key is new. Thread-safe."""

    def __init__(self, seconds: float = DEDUPE_SECONDS, max_size: int = 10_000) -> None:
        self.seconds = seconds
        self.max_size = max_size
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) < now or len(self._seen) >= self.max_size):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now + self.seconds
            return True

    def __contains__(self, key: str) -> bool:
        with self._lock:
            expires = self._seen.get(key)
            return expires is not None and expires >= time.monotonic()


@dataclass(frozen=True)
class Reply:
    """What to post for a question: an answer, or a short message when there is none."""

    answer: Answer | None
    text: str
    language: Language
    principal: Principal | None = None
    """Whom the answer was made for (what they may see)."""


def _provider(source: T | Callable[[], T]) -> Callable[[], T]:
    """A function that returns the thing: given as is, or built later (the web app builds its assistant at startup)."""
    if callable(source):
        return source
    return lambda: source


SubcommandHandler = Callable[["SlackBot", str, dict[str, Any], Any, Any, Any], Awaitable[None]]
"""`/arkiv <word> <rest>`: handler(bot, rest, command, ack, client, respond); it acknowledges itself."""

SUBCOMMANDS: dict[str, SubcommandHandler] = {}
"""The slash command's subcommands by their first word (lower case); anything else is a question."""


def subcommand(*names: str) -> Callable[[SubcommandHandler], SubcommandHandler]:
    """Register a handler for `/arkiv <name> …` (e.g. `@subcommand("hjälp", "help")`)."""

    def register(handler: SubcommandHandler) -> SubcommandHandler:
        for name in names:
            SUBCOMMANDS[name.lower()] = handler
        return handler

    return register


@subcommand("hjälp", "help")
async def _help_command(bot: SlackBot, rest: str, command: dict[str, Any], ack: Any, client: Any, respond: Any) -> None:
    language: Language = "en" if str(command.get("text", "")).strip().lower().startswith("help") else "sv"
    await ack(response_type="ephemeral", text=_t("help", language))


# -- case history (assistant/cases.py): `/arkiv ärende RJL 2022/258` posts the case's timeline --
@subcommand("ärende", "arende", "case")
async def _case_command(bot: SlackBot, rest: str, command: dict[str, Any], ack: Any, client: Any, respond: Any) -> None:
    from assistant.access import slack_principal
    from assistant.cases import case_index_for, format_case_blocks

    language: Language = "en" if str(command.get("text", "")).strip().lower().startswith("case") else "sv"
    await ack(response_type="ephemeral", text=f":hourglass_flowing_sand: {_t('searching', language)}")
    principal = slack_principal(command.get("user_id"), None, False, bot.settings)
    index = await asyncio.get_running_loop().run_in_executor(None, case_index_for, bot._assistant())
    case = index.resolve(rest) or rest
    steps = index.timeline(case, principal.visible_groups)
    blocks = format_case_blocks(case, steps, bot.settings.public_url, language)
    await _respond(respond, response_type="ephemeral", replace_original=False, text=escape(case), blocks=blocks)


# -- end case history --


class SlackBot:
    """The listeners' state: where answers come from, where feedback goes, recent answers, the event ledger."""

    def __init__(
        self,
        settings: AssistantSettings,
        assistant: Assistant | Callable[[], Assistant],
        feedback_store: FeedbackStore | Callable[[], FeedbackStore],
        client: AsyncWebClient,
        cache_size: int = 500,
        workers: int = 2,
    ) -> None:
        self.settings = settings
        self._assistant = _provider(assistant)
        self._feedback = _provider(feedback_store)
        self.client = client
        self.ledger = EventLedger(settings.data_dir / EVENTS_DB)
        self.seen = TTLSet()
        self.delivery_delays = DELIVERY_DELAYS
        self._answers: OrderedDict[str, tuple[Answer, Principal]] = OrderedDict()
        self._answers_lock = threading.Lock()
        self.cache_size = cache_size
        # Workers of its own: Slack's questions do not queue behind DNS lookups in the default executor.
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="arkiv-slack-ask")
        self._identity: dict[str, Any] | None = None
        self._identity_task: asyncio.Task[None] | None = None
        self._channels: dict[str, tuple[float, bool]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.ledger.close()

    # -- who the bot is (auth.test, never on the acknowledgement's path) --

    def identity_nowait(self) -> dict[str, Any]:
        """What auth.test said (user_id, bot_id), or {} while it is not known; starts the lookup if needed."""
        if self._identity is not None:
            return self._identity
        if self._identity_task is None or self._identity_task.done():
            self._identity_task = self.spawn(self._auth_test())
        return {}

    async def identity(self, wait: float = IDENTITY_WAIT) -> dict[str, Any]:
        """The bot's identity, waiting up to `wait` seconds for auth.test."""
        self.identity_nowait()
        task = self._identity_task
        if self._identity is None and task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), wait)
        return self._identity or {}

    async def _auth_test(self) -> None:
        try:
            response = await self.client.auth_test()
        except Exception as ex:  # noqa: BLE001 - logged; the next request tries again, answers go on without it
            logger.warning("slack: auth.test failed (%s); the bot's own id is not known yet", type(ex).__name__)
            return
        self._identity = {"user_id": response.get("user_id"), "bot_id": response.get("bot_id")}

    # -- answers --

    def remember(self, answer: Answer, principal: Principal) -> str:
        """Keep an answer for its buttons, with whom it was made for."""
        key = uuid.uuid4().hex[:16]
        with self._answers_lock:
            self._answers[key] = (answer, principal)
            while len(self._answers) > self.cache_size:
                self._answers.popitem(last=False)
        return key

    def recall(self, key: str) -> tuple[Answer, Principal] | None:
        with self._answers_lock:
            return self._answers.get(key)

    # -- who an answer is for (assistant/access.py) --

    async def channel_is_public(self, client: AsyncWebClient, channel: str, channel_type: str | None = None) -> bool:
        """Whether everyone in the workspace can read the channel. Direct messages and private channels are not;
        a channel Slack will not describe (conversations.info failed) counts as public."""
        if channel.startswith("D") or channel_type in ("im", "mpim", "group", "private"):
            return False
        if channel_type == "channel":
            return True
        cached = self._channels.get(channel)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            info = (await client.conversations_info(channel=channel)).get("channel") or {}
        except Exception as ex:  # noqa: BLE001 - unknown means public: it shows public documents only
            logger.warning("slack: conversations.info failed (%s); %s counts as a public channel", _why(ex), channel)
            return True
        public = not (info.get("is_private") or info.get("is_im") or info.get("is_mpim"))
        self._channels[channel] = (time.monotonic() + CHANNEL_CACHE_SECONDS, public)
        return public

    async def principal_for(
        self, client: AsyncWebClient, user: str | None, channel: str | None, channel_type: str | None = None
    ) -> Principal:
        """Who a reply in `channel` is for (None: an ephemeral reply only `user` sees)."""
        from assistant.access import slack_principal

        public = False if channel is None else await self.channel_is_public(client, channel, channel_type)
        return slack_principal(user, channel, public, self.settings)

    def _ask_blocking(self, question: str, history: Sequence[tuple[str, str]], principal: Principal) -> Answer:
        return self._assistant().ask(question, history, principal=principal)

    async def reply(self, question: str, history: Sequence[tuple[str, str]] = (), *, principal: Principal) -> Reply:
        """The answer from what `principal` may see, in a worker thread so that acknowledgements are never held
        up; errors become a reply."""
        language = detect_language(question)
        started = time.perf_counter()
        try:
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self._executor, self._ask_blocking, question, history, principal)
        except BadRequest as ex:
            return Reply(None, str(ex), language)
        except Exception:
            logger.exception("slack: answering failed for a question of %d characters", len(question))
            return Reply(None, _t("error", language), language)
        logger.info(
            "slack ask: status=%s cited=%d ms=%d",
            answer.status,
            len(answer.citations),
            (time.perf_counter() - started) * 1000,
        )
        return Reply(answer, fallback_text(answer), answer.language, principal)

    def message(self, reply: Reply, *, share: bool = False) -> dict[str, Any]:
        """chat.* arguments (text, blocks) for a reply; every text escaped, so nothing in it pings anyone."""
        if reply.answer is None or reply.principal is None:
            section = {"type": "section", "text": {"type": "mrkdwn", "text": escape(reply.text)}}
            return {"text": escape(reply.text), "blocks": [section]}
        key = self.remember(reply.answer, reply.principal)
        blocks = format_blocks(reply.answer, self.settings.public_url, key=key, share=share)
        return {"text": escape(reply.text)[:3000], "blocks": blocks}

    # -- questions in channels and direct messages --

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run `work` in the background, kept until done (and cancelled when the app stops)."""
        task: asyncio.Task[Any] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def answer_event(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        """A mention or a direct message the ledger gave us: answer it, and record that it was answered.

        A placeholder goes in the thread first and is then replaced by the answer. When Slack fails, each call is
        retried (`retry_handlers`); an answer that cannot replace its placeholder is posted anew and the
        placeholder deleted; while Slack is down, delivery is tried again after `delivery_delays`. Only then is the
        question recorded as failed, with an error in the log. A process that stops midway leaves the question
        pending, for the next start (`resume`) or Slack's retry.
        """
        key = question_key(event)
        try:
            delivered = await self._answer_event(key, event, client)
            self.ledger.finish(key, "answered" if delivered else "failed")
        except Exception:
            logger.exception("slack: answering a %s event failed", event.get("type"))
            language = _language_of(event)
            delivered = await self.deliver(client, event, self.ledger.placeholder(key), {"text": _t("error", language)})
            self.ledger.finish(key, "answered" if delivered else "failed")
        finally:
            self.ledger.release(key)

    async def _answer_event(self, key: str, event: dict[str, Any], client: AsyncWebClient) -> bool:
        channel = event["channel"]
        direct = event.get("channel_type") == "im"
        thread_ts = event.get("thread_ts") or event["ts"]
        question = clean_text(event.get("text", ""))
        language = _language_of(event)
        if not question:
            return await self.deliver(client, event, None, {"text": _t("help", language)})
        placeholder = self.ledger.placeholder(key)
        if placeholder is None:
            placeholder = await self._post_placeholder(client, channel, thread_ts, language)
            if placeholder:
                self.ledger.set_placeholder(key, placeholder)
        history: list[tuple[str, str]] = []
        if event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
            history = await self._history(client, channel, event, direct)
        principal = await self.principal_for(client, event.get("user"), channel, event.get("channel_type"))
        reply = await self.reply(question, history, principal=principal)
        return await self.deliver(client, event, placeholder, self.message(reply))

    async def _post_placeholder(
        self, client: AsyncWebClient, channel: str, thread_ts: str, language: Language
    ) -> str | None:
        try:
            posted = await client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=f":hourglass_flowing_sand: {_t('searching', language)}"
            )
        except Exception as ex:  # noqa: BLE001 - no placeholder is no reason not to answer; the answer is posted anew
            logger.warning("slack: the placeholder could not be posted (%s); answering without it", _why(ex))
            return None
        return str(posted.get("ts") or "") or None

    async def deliver(
        self, client: AsyncWebClient, event: dict[str, Any], placeholder: str | None, message: dict[str, Any]
    ) -> bool:
        """Put `message` in the event's thread: in place of the placeholder, or posted anew (and the placeholder
        deleted) when that fails. Tried again after each of `delivery_delays` while Slack fails. Whether it got
        there."""
        channel = str(event["channel"])
        thread_ts = str(event.get("thread_ts") or event["ts"])
        posted = False
        update_failed = placeholder is None
        placeholder_left = placeholder is not None
        for attempt, delay in enumerate((0.0, *self.delivery_delays)):
            if delay:
                await asyncio.sleep(delay)
            if not posted and not update_failed and placeholder is not None:
                try:
                    await client.chat_update(channel=channel, ts=placeholder, **message)
                    posted, placeholder_left = True, False
                except Exception as ex:  # noqa: BLE001 - recorded; the answer is posted anew instead
                    logger.warning(
                        "slack: chat.update of the placeholder failed (%s); posting the answer anew", _why(ex)
                    )
                    update_failed = True
            if not posted:
                try:
                    await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
                    posted = True
                except Exception as ex:  # noqa: BLE001 - recorded; tried again after the next delay
                    logger.warning("slack: posting the answer failed (%s), attempt %d", _why(ex), attempt + 1)
            if posted and placeholder_left and placeholder is not None:
                try:
                    await client.chat_delete(channel=channel, ts=placeholder)
                    placeholder_left = False
                except Exception as ex:  # noqa: BLE001 - recorded; tried again after the next delay
                    logger.warning("slack: deleting the placeholder failed (%s)", _why(ex))
            if posted and not placeholder_left:
                return True
        if posted:
            logger.error("slack: answered in %s, but the placeholder %s could not be removed", channel, placeholder)
            return True
        logger.error(
            "slack: the answer to the question at %s in %s could not be delivered after %d attempts; "
            "recorded as failed in %s",
            event.get("ts"),
            channel,
            len(self.delivery_delays) + 1,
            self.ledger.path,
        )
        return False

    async def resume(self) -> None:
        """Answer the questions a previous process took on and did not answer (younger than RESUME_SECONDS)."""
        now = time.time()
        for key, received, event in self.ledger.pending():
            if not self.ledger.claim(key):
                continue
            if now - received > RESUME_SECONDS or not event.get("channel") or not event.get("ts"):
                logger.error("slack: a question from %s was never answered and is too old to answer now", key)
                self.ledger.finish(key, "failed")
                self.ledger.release(key)
                continue
            logger.info("slack: answering a question left unanswered before the restart (%s)", key)
            await self.answer_event(event, self.client)

    async def _history(
        self, client: AsyncWebClient, channel: str, event: dict[str, Any], direct: bool
    ) -> list[tuple[str, str]]:
        try:
            replies = await client.conversations_replies(channel=channel, ts=event["thread_ts"], limit=100)
        except Exception as ex:  # noqa: BLE001 - a follow-up without its thread is still answered
            logger.warning("slack: could not read the thread, answering without it: %s", _why(ex))
            return []
        me = await self.identity()
        return thread_history(
            replies.get("messages") or [],
            bot_user_id=me.get("user_id"),
            bot_id=me.get("bot_id"),
            before_ts=event["ts"],
            direct=direct,
        )

    # -- the slash command and buttons --

    async def on_command(self, command: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        """/arkiv <fråga>: the answer as an ephemeral message with a share button, from what the asker may see."""
        question = clean_text(command.get("text", ""))
        principal = await self.principal_for(client, command.get("user_id"), None)
        reply = await self.reply(question, principal=principal)
        message = self.message(reply, share=reply.answer is not None)
        try:
            await client.chat_postEphemeral(channel=command["channel_id"], user=command["user_id"], **message)
            return
        except Exception as ex:  # noqa: BLE001 - the command's response_url works where the bot is not a member
            logger.info("slack: chat.postEphemeral failed (%s), answering via response_url", _why(ex))
        await _respond(respond, response_type="ephemeral", replace_original=False, **message)

    async def on_share(self, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        """The share button: the ephemeral answer, posted to the channel for everyone.

        The answer was made from what the asker may see; when the channel may see less (a public channel sees
        public documents only), the question is answered again from what the channel may see."""
        user = body["user"]["id"]
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id"))
        key, question = _parse_value(body)
        audience = await self.principal_for(client, user, channel)
        kept = self.recall(key)
        answer: Answer | None = None
        if kept is not None and kept[1].visible_groups <= audience.visible_groups:
            answer = kept[0]
        elif kept is not None or question:
            reply = await self.reply(kept[0].question if kept else question, principal=audience)
            answer = reply.answer
        if answer is None:
            await _respond(respond, response_type="ephemeral", replace_original=False, text=_t("expired", "sv"))
            return
        new_key = self.remember(answer, audience)
        text = escape(fallback_text(answer))[:3000]
        blocks = format_blocks(answer, self.settings.public_url, key=new_key, shared_by=user)
        try:
            await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except Exception as ex:  # noqa: BLE001 - the response_url can post where the bot may not
            logger.info("slack: chat.postMessage failed (%s), sharing via response_url", _why(ex))
            await _respond(respond, response_type="in_channel", replace_original=False, text=text, blocks=blocks)
        if body.get("response_url"):
            await _respond(respond, delete_original=True)

    async def on_feedback(self, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        """Thumbs up or down: a row in the feedback store beside the web page's, and a thank-you to the clicker."""
        rating = FEEDBACK_ACTIONS[action["action_id"]]
        user = body["user"]["id"]
        key, question = _parse_value(body)
        if not self.seen.add(f"feedback:{key}:{user}:{rating}"):
            return
        kept = self.recall(key)
        answer = kept[0] if kept is not None else None
        if answer is not None:
            fb = Feedback(
                rating=rating,
                question=answer.question,
                answer=answer.text,
                citations=[citation_json(c) for c in answer.citations],
                source="slack",
                query=answer.query,
                status=answer.status,
                user=user,
            )
        else:
            fb = Feedback(
                rating=rating,
                question=question,
                answer=str((body.get("message") or {}).get("text") or ""),
                source="slack",
                user=user,
            )
        store = self._feedback()
        await asyncio.to_thread(store.add, fb)
        logger.info("slack feedback: %s", rating)
        language = answer.language if answer is not None else detect_language(question)
        await _respond(respond, response_type="ephemeral", replace_original=False, text=_t("thanks", language))


def _language_of(event: dict[str, Any]) -> Language:
    question = clean_text(event.get("text", ""))
    return detect_language(question) if question else "sv"


def _why(ex: BaseException) -> str:
    """A failed Slack call in a few words for the log (Slack's error code, never a token)."""
    response = getattr(ex, "response", None)
    if response is not None:
        try:
            return f"{response.status_code} {response.get('error')}"
        except Exception:  # noqa: BLE001 - a response without the usual shape; its type is enough
            return type(ex).__name__
    return type(ex).__name__


async def _respond(respond: Any, **kwargs: Any) -> None:
    """A reply through the request's response_url, logged (never raised) when Slack will not take it."""
    try:
        await respond(**kwargs)
    except Exception as ex:  # noqa: BLE001 - nothing else can reach the user; the log says what was lost
        logger.error("slack: a reply via response_url failed (%s)", _why(ex))


def _parse_value(body: dict[str, Any]) -> tuple[str, str]:
    actions = body.get("actions") or [{}]
    try:
        data = json.loads(actions[0].get("value") or "{}")
    except json.JSONDecodeError:
        logger.warning("slack: a button value that is not ours: %.80s", actions[0].get("value"))
        data = {}
    if not isinstance(data, dict):
        data = {}
    return str(data.get("k") or ""), str(data.get("q") or "")


def _header(headers: dict[str, Any], name: str) -> str | None:
    values = headers.get(name)
    if isinstance(values, list | tuple):
        return str(values[0]) if values else None
    return str(values) if values is not None else None


# -- malformed requests -----------------------------------------------------------------------------------------


def _is_ts(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def malformed(body: dict[str, Any]) -> str | None:
    """What is wrong with a signed request's parsed body, or None when the bot can handle it."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "invalid Unicode"
    if "command" in body:
        if not all(isinstance(body.get(k), str) and body.get(k) for k in ("command", "channel_id", "user_id")):
            return "a slash command needs command, channel_id and user_id"
        return None
    if "ssl_check" in body:
        return None
    kind = body.get("type")
    if not isinstance(kind, str):
        return "no type"
    if kind == "url_verification":
        return None if isinstance(body.get("challenge"), str) else "no challenge"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "an event_callback needs an event with a type"
        if not isinstance(body.get("event_id"), str):
            return "no event_id"
        if event["type"] in ("app_mention", "message"):
            if not isinstance(event.get("channel"), str) or not _is_ts(event.get("ts")):
                return "a message event needs channel and ts"
            if "thread_ts" in event and not _is_ts(event["thread_ts"]):
                return "thread_ts is not a timestamp"
            if not isinstance(event.get("text", ""), str):
                return "text is not a string"
        return None
    if kind == "block_actions":
        user = body.get("user")
        actions = body.get("actions")
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            return "block_actions needs a user"
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return "block_actions needs actions"
        if not all(isinstance(a.get("action_id"), str) for a in actions):
            return "an action without action_id"
    return None


# -- the Bolt app -----------------------------------------------------------------------------------------------


def build_slack_app(
    settings: AssistantSettings,
    assistant: Assistant | Callable[[], Assistant],
    feedback_store: FeedbackStore | Callable[[], FeedbackStore],
    *,
    client: AsyncWebClient | None = None,
) -> AsyncApp:
    """The Bolt app with Arkiv's listeners (`app.arkiv` is its SlackBot). `client` defaults to one for the bot
    token at ARKIV_SLACK_API_URL, with the retry handlers.

    Bolt would call auth.test on the first request, before the acknowledgement; a Slack that hangs would then
    hold the acknowledgement for up to the client's time-out. So authorisation here is local (the configured
    token), and the bot's own ids are learned by auth.test in the background (`SlackBot.identity`).
    """
    from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
    from slack_bolt.authorization import AuthorizeResult
    from slack_bolt.response import BoltResponse
    from slack_sdk.web.async_client import AsyncWebClient

    if client is None:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        client = web_client(settings, token)
    token = client.token
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    bot = SlackBot(settings, assistant, feedback_store, client)
    # Bolt's client carries no token (else it would authorise by auth.test); `authorize` hands it out per request.
    bolt_client = AsyncWebClient(
        token=None, base_url=client.base_url, timeout=client.timeout, retry_handlers=client.retry_handlers
    )

    async def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        me = bot.identity_nowait()
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            bot_token=token,
            bot_user_id=me.get("user_id"),
            bot_id=me.get("bot_id"),
        )

    app = AsyncApp(
        name="arkiv",
        client=bolt_client,
        signing_secret=secret,
        authorize=authorize,
        logger=logging.getLogger("assistant.slack.bolt"),
    )
    app.arkiv = bot  # type: ignore[attr-defined]

    @app.middleware
    async def once(req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Any]) -> Any:
        """Each question is answered once: the ledger drops duplicates and retries of answered questions, and
        lets through a retry of one that was never answered."""
        body = req.body
        if body.get("type") == "event_callback":
            event = body.get("event") or {}
            if answerable(event):
                retry = _header(req.headers, "x-slack-retry-num")
                event_id = str(body.get("event_id") or "")
                if not bot.ledger.take(question_key(event), event_id, event):
                    reason = _header(req.headers, "x-slack-retry-reason")
                    logger.info("slack: %s already answered or being answered (retry %s, %s)", event_id, retry, reason)
                    return BoltResponse(status=200, body="")
        return await next()

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        await bot.answer_event(event, client)

    @app.event("message")
    async def on_message(event: dict[str, Any], client: AsyncWebClient) -> None:
        if answerable(event):
            await bot.answer_event(event, client)

    @app.command(COMMAND)
    async def on_command(ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        text = str(command.get("text") or "")
        word, _, rest = text.strip().partition(" ")
        handler = SUBCOMMANDS.get(word.lower())
        if handler is not None:
            await handler(bot, rest.strip(), command, ack, client, respond)
            return
        question = clean_text(text)
        if not question:
            await ack(response_type="ephemeral", text=_t("help", "sv"))
            return
        searching = _t("searching", detect_language(question))
        await ack(response_type="ephemeral", text=f":hourglass_flowing_sand: {searching} ”{escape(question)}”")
        await bot.on_command(command, client, respond)

    @app.action(SHARE_ACTION)
    async def on_share(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        await bot.on_share(body, client, respond)

    @app.action(re.compile(r"^arkiv_feedback_(up|down)$"))
    async def on_feedback(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        await bot.on_feedback(body, action, respond)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        logger.error("slack: a listener failed on a %s request", body.get("type"), exc_info=error)

    return app


def _lazy_feedback(app: FastAPI, settings: AssistantSettings) -> Callable[[], FeedbackStore]:
    """The web app's feedback store (app.state.feedback_store), opened on first use if the web page has not yet."""
    lock = threading.Lock()

    def get() -> FeedbackStore:
        with lock:
            store = getattr(app.state, "feedback_store", None)
            if not isinstance(store, FeedbackStore):
                store = FeedbackStore(settings.data_dir / settings.feedback_db)
                app.state.feedback_store = store
            return store

    return get


def mount_slack(app: FastAPI, settings: AssistantSettings, assistant: Assistant | None = None) -> None:
    """Turn the Slack bot on when configured: POST /slack/events (bot token and signing secret), and Socket Mode
    for the app's lifetime when SLACK_APP_TOKEN is set too. Without a bot token this does nothing.

    While the app runs, questions left unanswered by a previous process are answered (`SlackBot.resume`).
    """
    http = settings.slack_bot_token is not None and settings.slack_signing_secret is not None
    socket = settings.slack_bot_token is not None and settings.slack_app_token is not None
    if not (http or socket):
        logger.info("slack: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on)")
        return
    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
    from slack_bolt.request.internals import parse_body
    from slack_sdk.signature import SignatureVerifier
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    def get_assistant() -> Assistant:
        found = assistant or getattr(app.state, "assistant", None)
        if found is None:
            from assistant.errors import IndexNotReady

            raise IndexNotReady("The assistant is not ready yet.")
        return found

    bolt = build_slack_app(settings, get_assistant, _lazy_feedback(app, settings))
    bot: SlackBot = bolt.arkiv  # type: ignore[attr-defined]
    app.state.slack = bolt
    if http:
        handler = AsyncSlackRequestHandler(bolt)
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        verifier = SignatureVerifier(secret)

        def refuse(status: int, code: str, message: str) -> Response:
            return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)

        async def slack_events(request: Request) -> Response:
            raw = await request.body()
            timestamp = request.headers.get("x-slack-request-timestamp")
            signature = request.headers.get("x-slack-signature")
            if timestamp is not None and not timestamp.strip().isdigit():
                return refuse(400, "bad_timestamp", "X-Slack-Request-Timestamp är inte ett tal. / is not a number.")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return refuse(400, "bad_body", "Begäran är inte UTF-8. / The body is not UTF-8.")
            if not timestamp or not signature or not verifier.is_valid(text, timestamp, signature):
                return refuse(401, "invalid_signature", "Ogiltig eller gammal signatur. / Invalid or stale signature.")
            try:
                body = parse_body(text, request.headers.get("content-type"))
            except ValueError as ex:
                why = type(ex).__name__
                return refuse(400, "bad_body", f"Begäran kan inte läsas. / The body cannot be read ({why}).")
            problem = malformed(body) if isinstance(body, dict) else "not an object"
            if problem:
                return refuse(400, "bad_body", f"Begäran saknar något. / Malformed Slack request: {problem}.")
            return await handler.handle(request)

        app.add_route("/slack/events", slack_events, methods=["POST"], include_in_schema=False)
        logger.info("slack: HTTP mode at /slack/events")

    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with outer(a) as state:
            socket_handler = await start_socket_mode(bolt, settings) if socket else None
            bot.spawn(bot.resume())
            try:
                yield state
            finally:
                for task in list(bot._tasks):
                    task.cancel()
                if socket_handler is not None:
                    await socket_handler.close_async()  # type: ignore[no-untyped-call]
                bot.close()

    app.router.lifespan_context = lifespan


async def start_socket_mode(bolt: AsyncApp, settings: AssistantSettings) -> AsyncSocketModeHandler:
    """Connect the Bolt app to Slack over Socket Mode (SLACK_APP_TOKEN); close the handler to disconnect."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.web.async_client import AsyncWebClient

    if settings.slack_app_token is None:
        from indexer.errors import ConfigurationError

        raise ConfigurationError("Socket Mode needs SLACK_APP_TOKEN.")
    token = settings.slack_app_token.get_secret_value()
    handler = AsyncSocketModeHandler(
        bolt, app_token=token, web_client=AsyncWebClient(token=token, base_url=settings.slack_api_url)
    )
    await handler.connect_async()  # type: ignore[no-untyped-call]
    logger.info("slack: Socket Mode connected")
    return handler
