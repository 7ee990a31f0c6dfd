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
import json
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
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
    "shared_by": {"sv": "Delat av <@{user}>, som frågade", "en": "Shared by <@{user}>, who asked"},
    "thanks": {"sv": "Tack för din återkoppling!", "en": "Thank you for your feedback!"},
    "expired": {
        "sv": "Svaret finns inte kvar. Ställ frågan igen.",
        "en": "The answer is no longer available. Please ask again.",
    },
}


def _t(key: str, language: Language) -> str:
    return TEXTS[key][language]


# -- formatting (pure) -----------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Text made safe for Slack's mrkdwn: &, < and > escaped."""
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
        blocks.append(_context(f"{_t('shared_by', lang).format(user=shared_by)}: ”{escape(answer.question)}”"))
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
            lines = [
                source_line(c.n, citation_json(c), public_url, lang) for c in answer.citations[:MAX_SOURCES]
            ]
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


def _provider(source: T | Callable[[], T]) -> Callable[[], T]:
    """A function that returns the thing: given as is, or built later (the web app builds its assistant at startup)."""
    if callable(source):
        return source
    return lambda: source


class SlackBot:
    """The listeners' state: where answers come from, where feedback goes, recent answers and seen events."""

    def __init__(
        self,
        settings: AssistantSettings,
        assistant: Assistant | Callable[[], Assistant],
        feedback_store: FeedbackStore | Callable[[], FeedbackStore],
        lock: threading.Lock | None = None,
        cache_size: int = 500,
    ) -> None:
        self.settings = settings
        self._assistant = _provider(assistant)
        self._feedback = _provider(feedback_store)
        self.lock = lock or threading.Lock()
        self.seen = TTLSet()
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._answers_lock = threading.Lock()
        self.cache_size = cache_size
        # One worker of its own: questions queue here, not in the default executor that DNS lookups also use.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arkiv-slack-ask")

    # -- answers --

    def remember(self, answer: Answer) -> str:
        key = uuid.uuid4().hex[:16]
        with self._answers_lock:
            self._answers[key] = answer
            while len(self._answers) > self.cache_size:
                self._answers.popitem(last=False)
        return key

    def recall(self, key: str) -> Answer | None:
        with self._answers_lock:
            return self._answers.get(key)

    def _ask_blocking(self, question: str, history: Sequence[tuple[str, str]]) -> Answer:
        assistant = self._assistant()
        with self.lock:
            return assistant.ask(question, history)

    async def reply(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Reply:
        """The answer, in a worker thread so that acknowledgements are never held up; errors become a reply."""
        language = detect_language(question)
        started = time.perf_counter()
        try:
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self._executor, self._ask_blocking, question, history)
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
        return Reply(answer, fallback_text(answer), answer.language)

    def message(self, reply: Reply, *, share: bool = False) -> dict[str, Any]:
        """chat.* arguments (text, blocks) for a reply."""
        if reply.answer is None:
            section = {"type": "section", "text": {"type": "mrkdwn", "text": escape(reply.text)}}
            return {"text": reply.text, "blocks": [section]}
        key = self.remember(reply.answer)
        blocks = format_blocks(reply.answer, self.settings.public_url, key=key, share=share)
        return {"text": reply.text[:3000], "blocks": blocks}

    # -- listeners --

    async def on_message_event(self, event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]) -> None:
        """A mention in a channel or a direct message: a placeholder in the thread, then the answer in its place."""
        channel = event["channel"]
        direct = event.get("channel_type") == "im"
        thread_ts = event.get("thread_ts") or event["ts"]
        question = clean_text(event.get("text", ""))
        language = detect_language(question) if question else "sv"
        if not question:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=_t("help", language))
            return
        placeholder = await client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=f":hourglass_flowing_sand: {_t('searching', language)}"
        )
        history: list[tuple[str, str]] = []
        if event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
            history = await self._history(client, channel, event, context, direct)
        reply = await self.reply(question, history)
        await client.chat_update(channel=channel, ts=placeholder["ts"], **self.message(reply))

    async def _history(
        self, client: AsyncWebClient, channel: str, event: dict[str, Any], context: dict[str, Any], direct: bool
    ) -> list[tuple[str, str]]:
        from slack_sdk.errors import SlackApiError

        try:
            replies = await client.conversations_replies(channel=channel, ts=event["thread_ts"], limit=100)
        except SlackApiError as ex:
            logger.warning("slack: could not read the thread, answering without it: %s", ex.response.get("error"))
            return []
        return thread_history(
            replies.get("messages") or [],
            bot_user_id=context.get("bot_user_id"),
            bot_id=context.get("bot_id"),
            before_ts=event["ts"],
            direct=direct,
        )

    async def on_command(self, command: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        """/arkiv <fråga>: the answer as an ephemeral message with a share button."""
        from slack_sdk.errors import SlackApiError

        question = clean_text(command.get("text", ""))
        reply = await self.reply(question)
        message = self.message(reply, share=reply.answer is not None)
        try:
            await client.chat_postEphemeral(channel=command["channel_id"], user=command["user_id"], **message)
        except SlackApiError as ex:
            # The bot cannot post where it is not a member; the command's response_url always works.
            logger.info("slack: chat.postEphemeral failed (%s), answering via response_url", ex.response.get("error"))
            await respond(response_type="ephemeral", replace_original=False, **message)

    async def on_share(self, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        """The share button: the ephemeral answer, posted to the channel for everyone."""
        from slack_sdk.errors import SlackApiError

        user = body["user"]["id"]
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id"))
        key, question = _parse_value(body)
        answer = self.recall(key)
        if answer is None and question:
            reply = await self.reply(question)
            answer = reply.answer
        if answer is None:
            await respond(response_type="ephemeral", replace_original=False, text=_t("expired", "sv"))
            return
        new_key = self.remember(answer)
        text = fallback_text(answer)[:3000]
        blocks = format_blocks(answer, self.settings.public_url, key=new_key, shared_by=user)
        try:
            await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except SlackApiError as ex:
            logger.info("slack: chat.postMessage failed (%s), sharing via response_url", ex.response.get("error"))
            await respond(response_type="in_channel", replace_original=False, text=text, blocks=blocks)
        if body.get("response_url"):
            await respond(delete_original=True)

    async def on_feedback(self, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        """Thumbs up or down: a row in the feedback store beside the web page's, and a thank-you to the clicker."""
        rating = FEEDBACK_ACTIONS[action["action_id"]]
        user = body["user"]["id"]
        key, question = _parse_value(body)
        if not self.seen.add(f"feedback:{key}:{user}:{rating}"):
            return
        answer = self.recall(key)
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
        await respond(response_type="ephemeral", replace_original=False, text=_t("thanks", language))


def _parse_value(body: dict[str, Any]) -> tuple[str, str]:
    actions = body.get("actions") or [{}]
    try:
        data = json.loads(actions[0].get("value") or "{}")
    except json.JSONDecodeError:
        logger.warning("slack: a button value that is not ours: %.80s", actions[0].get("value"))
        data = {}
    return str(data.get("k") or ""), str(data.get("q") or "")


def _header(headers: dict[str, Any], name: str) -> str | None:
    values = headers.get(name)
    if isinstance(values, list | tuple):
        return str(values[0]) if values else None
    return str(values) if values is not None else None


def build_slack_app(
    settings: AssistantSettings,
    assistant: Assistant | Callable[[], Assistant],
    feedback_store: FeedbackStore | Callable[[], FeedbackStore],
    *,
    client: AsyncWebClient | None = None,
    lock: threading.Lock | None = None,
) -> AsyncApp:
    """The Bolt app with Arkiv's listeners. `client` defaults to one for the bot token at ARKIV_SLACK_API_URL."""
    from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
    from slack_bolt.response import BoltResponse
    from slack_sdk.web.async_client import AsyncWebClient

    if client is None:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        client = AsyncWebClient(token=token, base_url=settings.slack_api_url)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    bot = SlackBot(settings, assistant, feedback_store, lock)
    app = AsyncApp(name="arkiv", client=client, signing_secret=secret, logger=logging.getLogger("assistant.slack.bolt"))

    @app.middleware
    async def dedupe(req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Any]) -> Any:
        """Slack re-sends an event it thinks we missed; each event is answered once."""
        body = req.body
        if body.get("type") == "event_callback":
            event = body.get("event") or {}
            retry = _header(req.headers, "x-slack-retry-num")
            reason = _header(req.headers, "x-slack-retry-reason")
            event_id = str(body.get("event_id") or "")
            message = f"msg:{event.get('channel')}:{event.get('ts')}" if event.get("ts") else ""
            if retry is not None and (reason == "http_timeout" or f"event:{event_id}" in bot.seen):
                logger.info("slack: ignored retry %s of %s (%s)", retry, event_id, reason)
                return BoltResponse(status=200, body="")
            if event_id and not bot.seen.add(f"event:{event_id}"):
                logger.info("slack: ignored duplicate event %s", event_id)
                return BoltResponse(status=200, body="")
            if event.get("type") in ("app_mention", "message") and message and not bot.seen.add(message):
                logger.info("slack: ignored a second event for the same message (%s)", event.get("type"))
                return BoltResponse(status=200, body="")
        return await next()

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]) -> None:
        await _guarded(bot.on_message_event(event, client, context), client, event)

    @app.event("message")
    async def on_message(event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        await _guarded(bot.on_message_event(event, client, context), client, event)

    @app.command(COMMAND)
    async def on_command(ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        question = clean_text(command.get("text", ""))
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


async def _guarded(work: Any, client: AsyncWebClient, event: dict[str, Any]) -> None:
    """Run a reply; if posting itself fails, log the traceback and try a short reply in the thread."""
    try:
        await work
    except Exception:
        logger.exception("slack: replying to a %s event failed", event.get("type"))
        question = clean_text(event.get("text", ""))
        language = detect_language(question) if question else "sv"
        try:
            await client.chat_postMessage(
                channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text=_t("error", language)
            )
        except Exception:  # the error reply is best effort: Slack itself may be what failed
            logger.exception("slack: the error reply could not be posted either")


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
    for the app's lifetime when SLACK_APP_TOKEN is set too. Without a bot token this does nothing."""
    http = settings.slack_bot_token is not None and settings.slack_signing_secret is not None
    socket = settings.slack_bot_token is not None and settings.slack_app_token is not None
    if not (http or socket):
        logger.info("slack: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on)")
        return
    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
    from starlette.requests import Request
    from starlette.responses import Response

    def get_assistant() -> Assistant:
        found = assistant or getattr(app.state, "assistant", None)
        if found is None:
            from assistant.errors import IndexNotReady

            raise IndexNotReady("The assistant is not ready yet.")
        return found

    lock = getattr(app.state, "lock", None)
    bolt = build_slack_app(settings, get_assistant, _lazy_feedback(app, settings), lock=lock)
    app.state.slack = bolt
    if http:
        handler = AsyncSlackRequestHandler(bolt)

        async def slack_events(request: Request) -> Response:
            return await handler.handle(request)

        app.add_route("/slack/events", slack_events, methods=["POST"], include_in_schema=False)
        logger.info("slack: HTTP mode at /slack/events")
    if socket:
        outer = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(a: Any) -> AsyncIterator[Any]:
            async with outer(a) as state:
                handler = await start_socket_mode(bolt, settings)
                try:
                    yield state
                finally:
                    await handler.close_async()  # type: ignore[no-untyped-call]

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
