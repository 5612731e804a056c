"""Beacon on Telegram: a Rasa input/output channel built on python-telegram-bot.

Registered in ``credentials.yml`` as ``channels.telegram_channel.TelegramInput`` with no values: every
setting comes from the environment (see :class:`TelegramSettings` and docs/telegram.md).

How an update flows::

    Telegram ──POST /webhooks/telegram/webhook──▶ secret + shape checks ──▶ 200 at once
    Telegram ◀──getUpdates (TELEGRAM_MODE=polling)── Poller
                      both ▼
    UpdateHandler.accept(): once per update_id ──▶ background task ──▶ per-chat lock, rate limit
          ├─ /start /help /menu /language /helpline ──▶ Rasa payloads
          ├─ /forget ──▶ erase the tracker, confirm from content
          ├─ text ──▶ Rasa (a leading "/" is stripped: no intent injection)
          ├─ photo, sticker, voice, ... ──▶ "/offer_image" (never downloaded)
          └─ button press ──▶ answerCallbackQuery, then the button's payload ──▶ Rasa
    Rasa ──▶ TelegramOutput ──▶ sendMessage (inline keyboards, 4096-char chunks, retries)

Privacy: Rasa only sees ``pseudonym("telegram", chat_id)``; the real chat id lives in the
per-message :class:`TelegramOutput`. Logs carry pseudonyms and never message text, unless
``BEACON_DEBUG_LOG_TEXT=1`` on a developer machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple
from urllib.parse import urlsplit

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
    User,
)
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from actions.content import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, store
from actions.language import normalise_code
from channels.common import RateLimiter, erase_conversation, pseudonym
from channels.telegram_api import RetryPolicy, SendFailed, call_with_retry, retry_after_seconds
from channels.telegram_commands import MENU_COMMANDS, Action, parse_command, plain_text, route_text, safe_payload
from channels.telegram_state import CallbackData, KeyedLocks, RecentIds
from channels.telegram_text import is_https_url, link_lines, phone_number, split_text
from channels.telegram_webhook import (
    SECRET_HEADER,
    WebhookError,
    check_size,
    is_valid_secret,
    read_update,
    secret_matches,
)

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
#: Update types Beacon asks Telegram for; anything else that arrives is ignored with 200.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
#: Message attachments that are never downloaded: the bot answers with its "no images" advice.
MEDIA_FIELDS = ("photo", "video", "document", "sticker", "animation", "voice", "audio", "video_note",
                "paid_media", "story")
#: Personal data a user might share by accident; answered with a gentle privacy note.
PERSONAL_FIELDS = ("location", "contact", "venue")
OFFER_IMAGE_PAYLOAD = "/offer_image"
MENU_PAYLOAD = "/ask_menu"
AUDIENCE = "teen"
#: Background tasks allowed at once before the poller waits (webhook deliveries are bounded by Telegram).
MAX_PENDING_UPDATES = 1000

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def _flag(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return max(minimum, float(raw))
    except ValueError:
        logger.warning("telegram: %s=%r is not a number, using %s", name, raw, default)
        return default


@dataclass(frozen=True)
class TelegramSettings:
    """Everything the channel reads from the environment.

    Attributes:
        token: ``TELEGRAM_TOKEN`` from @BotFather; empty turns the channel off.
        webhook_secret: ``TELEGRAM_WEBHOOK_SECRET``, checked on every webhook request.
        webhook_url: ``TELEGRAM_WEBHOOK_URL``; when set, ``setWebhook`` is called at start-up.
        api_base_url: ``TELEGRAM_API_BASE_URL``, e.g. ``http://127.0.0.1:8081/bot`` for a local API.
        mode: ``TELEGRAM_MODE``: ``webhook`` (default) or ``polling``.
        log_text: ``BEACON_DEBUG_LOG_TEXT=1`` lets message text into debug logs.
        rate_per_minute: ``TELEGRAM_RATE_PER_MINUTE`` per chat (default 20).
        rate_burst: ``TELEGRAM_RATE_BURST`` per chat (default 10).
        poll_timeout: ``TELEGRAM_POLL_TIMEOUT``, long-poll seconds of ``getUpdates`` (default 25).
        set_commands: ``TELEGRAM_SET_COMMANDS`` (default on): publish the command menu at start-up.
        retry: Bot API retry policy (``TELEGRAM_RETRY_TRIES``, ``TELEGRAM_RETRY_BASE_DELAY``,
            ``TELEGRAM_MAX_RETRY_AFTER``).
    """

    token: str = ""
    webhook_secret: str = ""
    webhook_url: str = ""
    api_base_url: str = DEFAULT_API_BASE_URL
    mode: str = "webhook"
    log_text: bool = False
    rate_per_minute: float = 20.0
    rate_burst: int = 10
    poll_timeout: int = 25
    set_commands: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "TelegramSettings":
        """Read the settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        mode = (env.get("TELEGRAM_MODE") or "webhook").strip().lower()
        if mode not in ("webhook", "polling"):
            logger.warning("telegram: TELEGRAM_MODE=%r is unknown, using webhook", mode)
            mode = "webhook"
        return cls(
            token=(env.get("TELEGRAM_TOKEN") or "").strip(),
            webhook_secret=(env.get("TELEGRAM_WEBHOOK_SECRET") or "").strip(),
            webhook_url=(env.get("TELEGRAM_WEBHOOK_URL") or "").strip(),
            api_base_url=(env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL).strip(),
            mode=mode,
            log_text=_flag(env.get("BEACON_DEBUG_LOG_TEXT")),
            rate_per_minute=_number(env, "TELEGRAM_RATE_PER_MINUTE", 20.0, 1.0),
            rate_burst=int(_number(env, "TELEGRAM_RATE_BURST", 10, 1)),
            poll_timeout=int(_number(env, "TELEGRAM_POLL_TIMEOUT", 25, 0)),
            set_commands=_flag(env.get("TELEGRAM_SET_COMMANDS", "1")),
            retry=RetryPolicy(
                tries=int(_number(env, "TELEGRAM_RETRY_TRIES", 4, 1)),
                base_delay=_number(env, "TELEGRAM_RETRY_BASE_DELAY", 0.5, 0.0),
                max_retry_after=_number(env, "TELEGRAM_MAX_RETRY_AFTER", 30.0, 0.0),
            ),
        )

    @property
    def enabled(self) -> bool:
        """True when a token is configured."""
        return bool(self.token)

    @property
    def polling(self) -> bool:
        """True in ``getUpdates`` mode (no webhook)."""
        return self.mode == "polling"


def make_bot(settings: TelegramSettings) -> Bot:
    """A PTB :class:`telegram.Bot` for ``settings`` (not yet initialised)."""
    return Bot(
        settings.token,
        base_url=settings.api_base_url,
        request=HTTPXRequest(connection_pool_size=16, read_timeout=10.0, connect_timeout=5.0),
        get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=10.0),
    )


def configure_logging(log_text: bool) -> None:
    """Keep the token, chat ids and message text out of third-party logs; keep ours visible.

    httpx logs every request URL at INFO, and a Bot API URL contains the bot token; PTB logs call
    parameters (chat ids, text) at DEBUG. And ``rasa run`` sets its log level (``LOG_LEVEL``) on the
    ``rasa`` logger only, while loading TensorFlow/absl raises the root logger to WARNING: give the
    channel's own loggers Rasa's level so that its INFO lines still reach the log.
    """
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if not log_text:
        logging.getLogger("telegram").setLevel(logging.INFO)
    rasa_level = logging.getLevelName(os.environ.get("LOG_LEVEL", ""))
    if isinstance(rasa_level, int):
        for name in (__name__, "channels.telegram_api"):
            if logging.getLogger(name).level == logging.NOTSET:
                logging.getLogger(name).setLevel(rasa_level)


class TelegramOutput(OutputChannel):
    """Sends Rasa's replies to one Telegram chat.

    One instance per incoming message: it is the only place the real chat id is kept, and it goes
    away with the message.
    """

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        sender_id: str,
        language: Optional[str] = None,
        keys: Optional[CallbackData] = None,
        policy: RetryPolicy = RetryPolicy(),
        log_text: bool = False,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.sender_id = sender_id
        self.language = language or DEFAULT_LANGUAGE
        self.keys = keys if keys is not None else CallbackData()
        self.policy = policy
        self.log_text = log_text
        self.sent = 0  # messages delivered, for the caller's bookkeeping
        self.failed = 0  # messages given up on
        self._shown: List[str] = []  # this turn's texts, so links do not repeat numbers already sent

    @classmethod
    def name(cls) -> str:
        """Rasa's name for this output channel."""
        return CHANNEL

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send ``text`` (split when longer than Telegram allows)."""
        await self.send(text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send ``text`` with the buttons as an inline keyboard, one button per row."""
        await self.send(text, buttons)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        """Quick replies are shown like buttons."""
        await self.send(text, quick_replies)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """Send custom payloads Beacon's actions use: ``{"text"?, "links": [{"title", "url"}]}``.

        Anything else is logged and dropped: raw JSON is never shown to a user.
        """
        if not isinstance(json_message, dict):
            return
        lines = link_lines(json_message.get("links") or [], already_shown="\n".join(self._shown))
        heading = json_message.get("text")
        parts = ([heading.strip()] if isinstance(heading, str) and heading.strip() else []) + lines
        if parts:
            await self.send("\n".join(parts))
        elif not json_message.get("links"):  # (links whose numbers were already sent are simply done)
            logger.info("telegram: dropped a custom message it cannot show, for %s", self.sender_id)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Beacon sends no images; an https image URL is sent as a link, anything else dropped."""
        if is_https_url(image):
            await self.send(image)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        """Attachments are not part of Beacon's replies; dropped with a log line."""
        logger.info("telegram: dropped an attachment for %s", self.sender_id)

    def keyboard(self, buttons: Iterable[Mapping[str, Any]]) -> Tuple[Optional[InlineKeyboardMarkup], List[str]]:
        """Turn Rasa buttons into an inline keyboard (one per row) plus lines to append to the text.

        Buttons with a ``tel:`` URL become text lines: Telegram rejects ``tel:`` URL buttons.
        """
        rows: List[List[InlineKeyboardButton]] = []
        extra: List[str] = []
        for button in buttons or []:
            if not isinstance(button, Mapping):
                continue
            title = " ".join(str(button.get("title") or "").split())
            url = button.get("url")
            payload = button.get("payload")
            if url and is_https_url(url) and title:
                rows.append([InlineKeyboardButton(title, url=url)])
            elif url and phone_number(url):
                extra.extend(link_lines([{"title": title, "url": url}]))
            elif isinstance(payload, str) and payload and title:
                rows.append([InlineKeyboardButton(title, callback_data=self.keys.encode(payload))])
        return (InlineKeyboardMarkup(rows) if rows else None), extra

    async def send(self, text: Optional[str], buttons: Optional[Iterable[Mapping[str, Any]]] = None) -> bool:
        """Send one reply, in as many messages as its length needs; buttons go on the last one.

        Returns:
            ``True`` when every part was delivered. Failures are logged (without text), never raised:
            Rasa must not stop replying because one message failed.
        """
        markup, extra = self.keyboard(buttons or [])
        body = "\n".join(part for part in [(text or "").strip(), *extra] if part)
        if not body and markup is not None:
            body = store().text("telegram.buttons_only", self.language)
        chunks = split_text(body)
        self._shown.extend(chunks)
        delivered = True
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            delivered = await self._send_chunk(chunk, markup if last else None) and delivered
        return delivered

    async def _send_chunk(self, chunk: str, markup: Optional[InlineKeyboardMarkup]) -> bool:
        if self.log_text:
            logger.debug("telegram: to %s: %r", self.sender_id, chunk)
        try:
            await call_with_retry(
                "sendMessage",
                lambda: self.bot.send_message(
                    chat_id=self.chat_id,
                    text=chunk,
                    reply_markup=markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                ),
                self.policy,
            )
        except SendFailed as failure:
            self.failed += 1
            logger.error("telegram: a reply to %s was not delivered (%s after %d attempt(s))",
                         self.sender_id, type(failure.cause).__name__, failure.attempts)
            return False
        self.sent += 1
        return True


@dataclass(frozen=True)
class ChatContext:
    """Who an update is from, as far as the channel needs to know."""

    chat_id: int
    sender_id: str
    language: Optional[str]
    private: bool = True

    @classmethod
    def of(cls, chat: Optional[Chat], user: Optional[User]) -> Optional["ChatContext"]:
        """Context for a chat (or, without one, the user's private chat); ``None`` when unknown."""
        chat_id = chat.id if chat is not None else (user.id if user is not None else None)
        if chat_id is None:
            return None
        language = normalise_code(user.language_code) if user is not None else None
        private = chat is None or chat.type == Chat.PRIVATE
        return cls(chat_id=chat_id, sender_id=pseudonym(CHANNEL, chat_id), language=language, private=private)

    @property
    def metadata(self) -> Dict[str, Any]:
        """The message metadata Beacon's actions read."""
        metadata: Dict[str, Any] = {"audience": AUDIENCE, "channel": CHANNEL}
        if self.language:
            metadata["language"] = self.language
        return metadata


def _source(update: Update) -> Optional[Tuple[Optional[Chat], Optional[User]]]:
    """The chat and user an update comes from, for the update types Beacon handles."""
    if update.callback_query is not None:
        query = update.callback_query
        return (query.message.chat if query.message is not None else None), query.from_user
    for message in (update.message, update.edited_message):
        if message is not None:
            return message.chat, message.from_user
    return None


class UpdateHandler:
    """Turns Telegram updates into Rasa messages; shared by the webhook and the poller.

    Args:
        bot: The PTB bot used for replies.
        on_new_message: Rasa's callback (``app.ctx.agent.handle_message`` under the hood).
        settings: Channel settings.
        agent: Returns the Rasa agent (for ``/forget`` and the domain's intents), or ``None``.
    """

    def __init__(
        self,
        bot: Bot,
        on_new_message: OnNewMessage,
        settings: TelegramSettings,
        agent: Callable[[], Any] = lambda: None,
    ) -> None:
        self.bot = bot
        self.on_new_message = on_new_message
        self.settings = settings
        self.agent = agent
        self.username: Optional[str] = None  # set from getMe, to recognise "/cmd@ThisBot"
        self.keys = CallbackData()
        self._recent = RecentIds()
        self._limiter = RateLimiter(settings.rate_per_minute, settings.rate_burst)
        self._throttled: "OrderedDict[str, None]" = OrderedDict()
        self._locks = KeyedLocks()
        self._tasks: Set["asyncio.Task[None]"] = set()

    # -- intake ---------------------------------------------------------------------------------

    def accept(self, update: Update) -> bool:
        """Schedule ``update`` for handling unless its ``update_id`` was seen recently.

        Returns at once (the webhook answers 200 before Rasa has replied). Returns ``False`` for a
        duplicate.
        """
        if not self._recent.is_new(update.update_id):
            logger.info("telegram: update delivered again, ignored")
            return False
        task = asyncio.create_task(self.handle(update))
        self._tasks.add(task)  # keep a reference: the loop only holds weak ones
        task.add_done_callback(self._tasks.discard)
        return True

    @property
    def pending(self) -> int:
        """Updates being handled right now."""
        return len(self._tasks)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for updates in progress (on shutdown); cancel what is left after ``timeout``."""
        tasks = list(self._tasks)
        if not tasks:
            return
        done, still_running = await asyncio.wait(tasks, timeout=timeout)
        for task in still_running:
            task.cancel()
        if still_running:
            logger.warning("telegram: %d update(s) cancelled at shutdown", len(still_running))
            await asyncio.gather(*still_running, return_exceptions=True)

    async def handle(self, update: Update) -> None:
        """Handle one update completely. Never raises: one bad update must not affect others.

        The chat's lock is taken before the first ``await``: tasks start in arrival order and asyncio
        locks are fair, so one chat's updates are handled in the order Telegram sent them.
        """
        try:
            source = _source(update)
            if source is None:
                logger.debug("telegram: ignored an update of another type")
                return
            context = ChatContext.of(*source)
            if context is None:
                return
            async with self._locks.hold(context.chat_id):
                if update.callback_query is not None:
                    await self._on_callback(update.callback_query, context)
                elif update.message is not None:
                    await self._on_message(update.message, context)
                elif update.edited_message is not None:
                    await self._on_edited(context)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a handler must survive anything
            logger.error("telegram: handling an update failed (%s)", type(error).__name__,
                         exc_info=self.settings.log_text)

    # -- update types ---------------------------------------------------------------------------

    async def _on_message(self, message: Message, context: ChatContext) -> None:
        if not context.private:
            await self._on_group_message(message, context)
            return
        if not await self._admit(context):
            return
        if any(getattr(message, name, None) for name in MEDIA_FIELDS):
            # Never downloaded, never stored: no getFile, and the file id is not even logged.
            await self._to_rasa(context, OFFER_IMAGE_PAYLOAD)
            caption = plain_text(message.caption or "")
            if caption:  # a caption can carry a disclosure; it deserves an answer too
                await self._to_rasa(context, caption)
            return
        if any(getattr(message, name, None) for name in PERSONAL_FIELDS):
            await self._say(context, "telegram.personal_info")
            return
        if message.text is None:
            logger.debug("telegram: ignored a message without text from %s", context.sender_id)
            return
        route = route_text(message.text, self.username)
        if route is None:
            return
        if route.action is Action.FORGET:
            await self._forget(context)
        else:
            await self._to_rasa(context, route.text)

    async def _on_group_message(self, message: Message, context: ChatContext) -> None:
        """Beacon talks one-to-one only: what a young person tells it must not land in a group."""
        command = parse_command(message.text or "")
        if command is None or not command.is_for(self.username):
            return
        if await self._admit(context):
            await self._say(context, "telegram.private_only")

    async def _on_edited(self, context: ChatContext) -> None:
        """Edits are not re-processed (the reply to the original stands); a short note says so."""
        if context.private and await self._admit(context):
            await self._say(context, "telegram.edited")

    async def _on_callback(self, query: CallbackQuery, context: ChatContext) -> None:
        payload = self.keys.decode(query.data) if query.data else None
        expired = bool(query.data) and payload is None
        # Answer first, whatever happens next: until then the user's button shows a spinner.
        notice = store().text("telegram.button_expired", context.language or DEFAULT_LANGUAGE) if expired else None
        await self._answer(query, notice)
        if not context.private or not await self._admit(context):
            return
        if expired:
            await self._to_rasa(context, MENU_PAYLOAD)  # a fresh menu instead of a dead button
            return
        text = self._callback_text(payload or "")
        if text:
            await self._to_rasa(context, text)

    def _callback_text(self, payload: str) -> Optional[str]:
        """What a button press sends to Rasa: a vetted payload, or its text without slashes."""
        if payload.startswith("/"):
            vetted = safe_payload(payload, self._intents())
            if vetted is None:
                logger.warning("telegram: ignored a button payload Beacon does not offer")
            return vetted
        return plain_text(payload) or None

    # -- actions --------------------------------------------------------------------------------

    async def _admit(self, context: ChatContext) -> bool:
        """Per-chat rate limit; the first refused update of a burst gets one polite notice."""
        if self._limiter.allow(context.sender_id):
            self._throttled.pop(context.sender_id, None)
            return True
        logger.warning("telegram: rate limit hit by %s, update dropped", context.sender_id)
        if context.sender_id not in self._throttled:
            self._throttled[context.sender_id] = None
            while len(self._throttled) > 10_000:
                self._throttled.popitem(last=False)
            await self._say(context, "telegram.slow_down")
        return False

    def output(self, context: ChatContext) -> TelegramOutput:
        """A fresh output channel for one message of ``context``'s chat."""
        return TelegramOutput(self.bot, context.chat_id, context.sender_id, context.language, self.keys,
                              self.settings.retry, self.settings.log_text)

    async def _to_rasa(self, context: ChatContext, text: str) -> None:
        if self.settings.log_text:
            logger.debug("telegram: from %s: %r", context.sender_id, text)
        message = UserMessage(text, self.output(context), context.sender_id, input_channel=CHANNEL,
                              metadata=context.metadata)
        try:
            await self.on_new_message(message)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001
            logger.error("telegram: Rasa failed on a message from %s (%s)", context.sender_id,
                         type(error).__name__, exc_info=self.settings.log_text)

    async def _say(self, context: ChatContext, key: str, language: Optional[str] = None) -> None:
        """Send a content message of the channel itself (not a Rasa reply)."""
        rendered = store().render(key, language or context.language or DEFAULT_LANGUAGE)
        await self.output(context).send(rendered.text, rendered.buttons)

    async def _answer(self, query: CallbackQuery, text: Optional[str]) -> None:
        # Telegram refuses answers after ~15 s, so two quick tries are all that is worth it.
        policy = RetryPolicy(tries=2, base_delay=0.5, max_retry_after=3.0)
        try:
            await call_with_retry("answerCallbackQuery",
                                  lambda: self.bot.answer_callback_query(query.id, text=text), policy)
        except SendFailed as failure:
            logger.warning("telegram: answerCallbackQuery failed (%s)", type(failure.cause).__name__)

    async def _forget(self, context: ChatContext) -> None:
        """``/forget``: delete the stored conversation, then say so in the conversation's language."""
        agent = self.agent()
        language = await self._conversation_language(agent, context.sender_id) or context.language
        erased = False
        if agent is not None:
            try:
                erased = await erase_conversation(agent, context.sender_id)
            except Exception as error:  # noqa: BLE001
                logger.error("telegram: erasing %s failed (%s)", context.sender_id, type(error).__name__)
        logger.info("telegram: conversation of %s %s", context.sender_id, "erased" if erased else "NOT erased")
        await self._say(context, "telegram.forget_done" if erased else "telegram.forget_failed", language)

    @staticmethod
    async def _conversation_language(agent: Any, sender_id: str) -> Optional[str]:
        store_ = getattr(agent, "tracker_store", None)
        if store_ is None:
            return None
        try:
            tracker = await store_.retrieve(sender_id)
        except Exception:  # noqa: BLE001 - only a nicety; the hint language will do
            return None
        return normalise_code(tracker.get_slot("language")) if tracker is not None else None

    def _intents(self) -> Optional[Set[str]]:
        domain = getattr(self.agent(), "domain", None)
        intents = getattr(domain, "intents", None)
        return set(intents) if intents else None


class Poller:
    """``getUpdates`` long polling (``TELEGRAM_MODE=polling``), feeding :meth:`UpdateHandler.accept`."""

    def __init__(self, bot: Bot, handler: UpdateHandler, settings: TelegramSettings) -> None:
        self.bot = bot
        self.handler = handler
        self.settings = settings
        self.offset: Optional[int] = None

    async def run(self) -> None:
        """Poll until cancelled. Network trouble is retried with backoff; a bad token stops it."""
        failures = 0
        while True:
            while self.handler.pending >= MAX_PENDING_UPDATES:
                await asyncio.sleep(0.1)
            try:
                updates = await self.bot.get_updates(offset=self.offset, timeout=self.settings.poll_timeout,
                                                     allowed_updates=list(ALLOWED_UPDATES))
                failures = 0
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                logger.error("telegram: the token was rejected; polling stopped")
                return
            except RetryAfter as error:
                await asyncio.sleep(min(60.0, retry_after_seconds(error)))
                continue
            except Conflict:
                failures += 1
                logger.error("telegram: getUpdates conflict: another instance is polling or a webhook is set")
                await asyncio.sleep(min(30.0, 2.0 * failures))
                continue
            except (NetworkError, TelegramError, ValueError, TypeError, KeyError) as error:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                logger.warning("telegram: getUpdates failed (%s), retrying in %.1f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                continue
            for update in updates:
                self.offset = update.update_id + 1
                self.handler.accept(update)

    async def confirm(self) -> None:
        """Tell Telegram the updates fetched so far are done, so a restart does not repeat them."""
        if self.offset is None:
            return
        with contextlib.suppress(TelegramError, asyncio.TimeoutError):
            await asyncio.wait_for(self.bot.get_updates(offset=self.offset, timeout=0, limit=1), 5.0)


class TelegramRuntime:
    """The running channel: bot, handler, optional poller, start-up and shutdown."""

    def __init__(self, settings: TelegramSettings, on_new_message: OnNewMessage, bot: Optional[Bot] = None) -> None:
        configure_logging(settings.log_text)
        self.settings = settings
        self.bot = bot or make_bot(settings)
        self.app: Optional[Sanic] = None
        self.handler = UpdateHandler(self.bot, on_new_message, settings, agent=self._agent)
        self.poller = Poller(self.bot, self.handler, settings) if settings.polling else None
        self._tasks: List["asyncio.Task[Any]"] = []

    def _agent(self) -> Any:
        return getattr(self.app.ctx, "agent", None) if self.app is not None else None

    async def start(self, app: Sanic) -> None:
        """Sanic ``after_server_start``: begin start-up calls in the background (never blocks serving)."""
        self.app = app
        self._tasks.append(asyncio.create_task(self._start_up()))

    async def _start_up(self) -> None:
        await self._identify()
        # Reading the content files takes seconds; do it off the event loop, once, at start-up.
        pinned = self.handler.keys.pin(await asyncio.to_thread(_content_payloads))
        logger.debug("telegram: %d long button payloads mapped to short keys", pinned)
        if self.poller is not None:
            await self._api("deleteWebhook", lambda: self.bot.delete_webhook(drop_pending_updates=False))
            self._tasks.append(asyncio.create_task(self.poller.run()))
            logger.info("telegram: polling mode, getUpdates running")
        else:
            await self._set_webhook()
        if self.settings.set_commands:
            await self._set_commands()

    async def stop(self) -> None:
        """Sanic ``before_server_stop``: stop polling, finish updates in progress, close the client."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.handler.drain()
        if self.poller is not None:
            await self.poller.confirm()
        with contextlib.suppress(Exception):
            await self.bot.shutdown()
        logger.info("telegram: stopped")

    async def _api(self, method: str, call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await call_with_retry(method, call, self.settings.retry)
        except SendFailed as failure:
            logger.error("telegram: %s failed (%s)", method, type(failure.cause).__name__)
            return None

    async def _identify(self) -> None:
        try:
            await self.bot.initialize()  # getMe: checks the token, learns the bot's username
        except TelegramError as error:
            logger.error("telegram: getMe failed (%s); running without the bot's username", type(error).__name__)
            return
        self.handler.username = self.bot.username
        logger.info("telegram: connected as @%s", self.bot.username)

    async def _set_webhook(self) -> None:
        settings = self.settings
        if not settings.webhook_secret:
            logger.error("telegram: TELEGRAM_WEBHOOK_SECRET is not set: every webhook request will be refused (403)")
            return
        if not is_valid_secret(settings.webhook_secret):
            logger.error("telegram: TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")
        if not settings.webhook_url:
            logger.info("telegram: webhook mode; TELEGRAM_WEBHOOK_URL unset, so setWebhook is left to you")
            return
        if not settings.webhook_url.lower().startswith("https://"):
            logger.error("telegram: TELEGRAM_WEBHOOK_URL must be https; setWebhook skipped")
            return
        done = await self._api("setWebhook", lambda: self.bot.set_webhook(
            url=settings.webhook_url, secret_token=settings.webhook_secret,
            allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False))
        if done:
            logger.info("telegram: webhook set on %s", urlsplit(settings.webhook_url).hostname)

    async def _set_commands(self) -> None:
        """Publish the command menu: English as the default, then one list per language."""
        for language in (None, *SUPPORTED_LANGUAGES):
            commands = [BotCommand(name, _command_description(name, language or DEFAULT_LANGUAGE))
                        for name in MENU_COMMANDS]
            await self._api("setMyCommands",
                            lambda c=commands, lang=language: self.bot.set_my_commands(c, language_code=lang))


def _command_description(name: str, language: str) -> str:
    text = " ".join(store().text(f"telegram.command.{name}", language).split())
    return (text or name)[:256]


def _content_payloads() -> List[str]:
    """Every button payload in the content files, so their short keys survive restarts."""
    content = store()
    payloads: List[str] = []
    for language in content.languages:
        for key in list(content.keys(language)):
            buttons = content.raw(key, language).get("buttons")
            if isinstance(buttons, list):
                payloads.extend(button["payload"] for button in buttons
                                if isinstance(button, dict) and isinstance(button.get("payload"), str))
    return payloads


def parse_update(data: Dict[str, Any], bot: Bot) -> Optional[Update]:
    """An :class:`telegram.Update` for the types Beacon handles; ``None`` for any other type.

    Only the handled part is given to PTB, so an update type newer than the installed PTB (or one
    PTB is stricter about) is ignored with 200 instead of being refused and retried by Telegram.

    Raises:
        WebhookError: 400 when a handled update is malformed.
    """
    kind = next((key for key in ALLOWED_UPDATES if key in data), None)
    if kind is None:
        return None
    try:
        update = Update.de_json({"update_id": data["update_id"], kind: data[kind]}, bot)
    except Exception:  # noqa: BLE001 - PTB refused the shape: a 400 for the sender, never a 500
        raise WebhookError(400, "not a valid update") from None
    if not _well_typed(update):
        raise WebhookError(400, "not a valid update")
    return update


def _well_typed(update: Update) -> bool:
    """PTB does not check field types; the fields Beacon keys on must have the types the Bot API documents."""
    chat, user, query = update.effective_chat, update.effective_user, update.callback_query
    message = update.effective_message
    return ((chat is None or (isinstance(chat.id, int) and not isinstance(chat.id, bool)))
            and (user is None or (isinstance(user.id, int) and not isinstance(user.id, bool)))
            and (query is None or query.data is None or isinstance(query.data, str))
            and (message is None or message.text is None or isinstance(message.text, str)))


def _json(code: int, **body: Any) -> HTTPResponse:
    return response.json(body, status=code)


class TelegramInput(InputChannel):
    """Rasa input channel for Telegram (webhook at ``POST /webhooks/telegram/webhook``, or polling).

    Without ``TELEGRAM_TOKEN`` the channel stays off: one log line at start, and the webhook route
    answers 404 so a stray request never reaches Rasa.
    """

    def __init__(self, settings: Optional[TelegramSettings] = None) -> None:
        self.settings = settings or TelegramSettings.from_env()
        self.runtime: Optional[TelegramRuntime] = None
        configure_logging(self.settings.log_text)
        if not self.settings.enabled:
            logger.info("Telegram channel is off: TELEGRAM_TOKEN is not set")

    @classmethod
    def name(cls) -> str:
        """URL prefix and channel name: ``/webhooks/telegram/...``."""
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "InputChannel":
        """``credentials.yml`` holds no values for this channel; the environment does."""
        if credentials:
            logger.warning("telegram: values in credentials.yml are ignored; use environment variables")
        return cls()

    def get_output_channel(self) -> Optional[OutputChannel]:
        """No output channel without a message: Rasa only knows pseudonyms, not chat ids."""
        return None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Routes (``GET /``, ``POST /webhook``) and the start/stop listeners."""
        telegram_webhook = Blueprint(f"telegram_webhook_{type(self).__name__}", __name__)
        if self.settings.enabled:
            self.runtime = TelegramRuntime(self.settings, on_new_message)
            runtime = self.runtime

            async def _start(app: Sanic, _loop: Any) -> None:
                await runtime.start(app)

            async def _stop(_app: Sanic, _loop: Any) -> None:
                await runtime.stop()

            telegram_webhook.listener("after_server_start")(_start)
            telegram_webhook.listener("before_server_stop")(_stop)

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if self.runtime is None:
                return _json(404, status="off")
            return _json(200, status="ok", mode=self.settings.mode)

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return self.receive(request)

        return telegram_webhook

    def receive(self, request: Request) -> HTTPResponse:
        """One webhook request: authenticate, validate, schedule, answer 200 — all without awaiting Rasa."""
        runtime = self.runtime
        if runtime is None:
            return _json(404, ok=False, error="telegram channel is not configured")
        if self.settings.polling:
            return _json(404, ok=False, error="webhook is off (polling mode)")
        if not self.settings.webhook_secret:
            return _json(403, ok=False, error="webhook secret is not configured")
        if not secret_matches(self.settings.webhook_secret, request.headers.get(SECRET_HEADER)):
            return _json(403, ok=False, error="forbidden")
        try:
            check_size(request.headers.get("content-length"), request.body)
            data = read_update(request.body)
            update = parse_update(data, runtime.bot)
        except WebhookError as error:
            return _json(error.status, ok=False, error=error.reason)
        if update is None:
            return _json(200, ok=True, ignored=True)
        if runtime.app is None:
            runtime.app = request.app
        runtime.handler.accept(update)
        return _json(200, ok=True)
