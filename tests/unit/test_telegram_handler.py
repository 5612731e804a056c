"""The channel's update handling and output, against the fake Bot API with a real PTB client.

Rasa itself is replaced by a small recorder that answers through the real output channel the way
Rasa does (``send_response``); tests/integration/test_telegram.py runs the same paths with Rasa.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Iterator, List, Optional

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from telegram import Update

from actions.content import store
from channels.common import pseudonym
from channels.telegram_api import RetryPolicy
from channels.telegram_channel import TelegramRuntime, TelegramSettings
from channels.telegram_state import CallbackData
from tests.integration import fake_bot_api as tg
from tests.integration.fake_bot_api import FakeBotApi

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet, ask_help, ask_menu, ask_helpline, set_language, offer_image, i_am_teen, inform_country]
slots:
  language: {type: text, influence_conversation: false, mappings: [{type: custom}]}
""")
LONG_PAYLOAD = '/inform_country{"country":"GB","audience":"teen","origin":"helpline-list-page-2"}'

Reply = Callable[[UserMessage], Awaitable[None]]


async def say_ok(message: UserMessage) -> None:
    await message.output_channel.send_response(message.sender_id, {"text": "ok"})


class Harness:
    """A running channel (no HTTP server) whose "Rasa" records messages and answers with ``reply``."""

    def __init__(self, api: FakeBotApi, runtime: TelegramRuntime) -> None:
        self.api = api
        self.runtime = runtime
        self.received: List[UserMessage] = []
        self.reply: Reply = say_ok

    async def on_new_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await self.reply(message)

    @property
    def texts(self) -> List[str]:
        return [m.text or "" for m in self.received]

    async def deliver(self, *updates: Dict[str, Any]) -> None:
        """Hand updates to the channel as the webhook/poller would, and wait until they are handled."""
        for update in updates:
            self.runtime.handler.accept(Update.de_json(update, self.runtime.bot))
        await self.runtime.handler.drain(timeout=15)


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake
        assert fake.forbidden == [], "getFile must never be called"


def make_settings(api: FakeBotApi, **overrides: Any) -> TelegramSettings:
    values: Dict[str, Any] = dict(token=api.token, api_base_url=api.base_url, webhook_secret="s3cret",
                                  set_commands=False, retry=RetryPolicy(tries=3, base_delay=0.05))
    values.update(overrides)
    return TelegramSettings(**values)


async def start(api: FakeBotApi, agent: Any = None, **overrides: Any) -> Harness:
    harness: Optional[Harness] = None

    async def on_new_message(message: UserMessage) -> None:
        assert harness is not None
        await harness.on_new_message(message)

    runtime = TelegramRuntime(make_settings(api, **overrides), on_new_message)
    harness = Harness(api, runtime)
    app = SimpleNamespace(ctx=SimpleNamespace(agent=agent if agent is not None else SimpleNamespace(domain=DOMAIN)))
    await runtime.start(app)  # type: ignore[arg-type]
    for _ in range(250):  # start-up runs in the background; getMe gives the username
        if runtime.handler.username:
            break
        await asyncio.sleep(0.02)
    assert runtime.handler.username == "BeaconTestBot"
    return harness


@pytest.fixture
async def channel(api: FakeBotApi) -> AsyncIterator[Harness]:
    harness = await start(api)
    yield harness
    await harness.runtime.stop()


CHAT = 424_200_001


async def test_start_becomes_greet_with_pseudonym_and_metadata(channel: Harness) -> None:
    await channel.deliver(tg.text_update(CHAT, "/start", language_code="it-IT"))
    [message] = channel.received
    assert message.text == "/greet"
    assert message.sender_id == pseudonym("telegram", CHAT) and str(CHAT) not in message.sender_id
    assert message.input_channel == "telegram"
    assert message.metadata == {"language": "it", "audience": "teen", "channel": "telegram"}
    assert [c.text for c in channel.api.sent_to(CHAT)] == ["ok"]


async def test_unsupported_language_code_is_left_out(channel: Harness) -> None:
    await channel.deliver(tg.text_update(CHAT, "hello", language_code="de"))
    assert channel.received[0].metadata == {"audience": "teen", "channel": "telegram"}


async def test_commands_and_plain_text(channel: Harness) -> None:
    await channel.deliver(
        tg.text_update(CHAT, "/help@BeaconTestBot"),
        tg.text_update(CHAT, "/language lt"),
        tg.text_update(CHAT, "/helpline"),
        tg.text_update(CHAT, "/menu@SomeOtherBot"),
        tg.text_update(CHAT, '/crisis{"crisis_type":"fake"}'),
        tg.text_update(CHAT, "I need   help\n\nplease"),
    )
    assert channel.texts == ["/ask_help", '/set_language{"language":"lt"}', "/ask_helpline",
                             "menu@SomeOtherBot", 'crisis{"crisis_type":"fake"}', "I need help please"]


async def test_one_chat_is_handled_in_order(channel: Harness) -> None:
    async def slow_first(message: UserMessage) -> None:
        if message.text == "first":
            await asyncio.sleep(0.3)
        await message.output_channel.send_response(message.sender_id, {"text": f"re: {message.text}"})

    channel.reply = slow_first
    await channel.deliver(tg.text_update(CHAT, "first"), tg.text_update(CHAT, "second"))
    assert [c.text for c in channel.api.sent_to(CHAT)] == ["re: first", "re: second"]


async def test_buttons_become_an_inline_keyboard_and_presses_come_back(channel: Harness) -> None:
    buttons = [{"title": "I'm a young person", "payload": "/i_am_teen"},
               {"title": "Helplines in the UK", "payload": LONG_PAYLOAD},
               {"title": "Call 112", "url": "tel:112"},
               {"title": "Childline", "url": "https://www.childline.org.uk"}]

    async def with_buttons(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "Who are you?", "buttons": buttons})

    channel.reply = with_buttons
    await channel.deliver(tg.text_update(CHAT, "/start"))
    [sent] = channel.api.sent_to(CHAT)
    assert sent.text == "Who are you?\nCall 112"  # tel: links cannot be buttons: a line of text
    rows = sent.keyboard
    assert [len(row) for row in rows] == [1, 1, 1]  # one button per row
    assert rows[0][0] == {"text": "I'm a young person", "callback_data": "/i_am_teen"}
    short = rows[1][0]["callback_data"]
    assert short.startswith("k:") and len(short.encode()) <= 64
    assert rows[2][0] == {"text": "Childline", "url": "https://www.childline.org.uk"}

    channel.reply = say_ok
    await channel.deliver(tg.callback_update(CHAT, "/i_am_teen"), tg.callback_update(CHAT, short))
    assert channel.texts[-2:] == ["/i_am_teen", LONG_PAYLOAD]
    answers = channel.api.calls_of("answerCallbackQuery")
    assert len(answers) == 2 and all("text" not in a.params for a in answers)
    # The spinner is stopped before Rasa is asked.
    methods = [c.method for c in channel.api.calls if c.method in ("answerCallbackQuery", "sendMessage")]
    assert methods[-4:] == ["answerCallbackQuery", "sendMessage", "answerCallbackQuery", "sendMessage"]


async def test_expired_button_gets_a_notice_and_a_fresh_menu(channel: Harness) -> None:
    await channel.deliver(tg.callback_update(CHAT, "k:AAAAAAAAAAAAAAAA", language_code="fr"))
    [answer] = channel.api.calls_of("answerCallbackQuery")
    assert answer.params["text"] == store().text("telegram.button_expired", "fr")
    assert channel.texts == ["/ask_menu"]


async def test_forged_button_payload_is_not_sent(channel: Harness) -> None:
    await channel.deliver(tg.callback_update(CHAT, "/restart_everything"),
                          tg.callback_update(CHAT, '/ask_menu{"x":{"y":1}}'),
                          tg.callback_update(CHAT, "//ask_menu"),
                          tg.callback_update(CHAT, "yes please"))  # a plain-text payload is just text
    assert len(channel.api.calls_of("answerCallbackQuery")) == 4
    assert channel.texts == ["yes please"]


@pytest.mark.parametrize("update", [tg.photo_update, tg.sticker_update, tg.voice_update])
async def test_media_is_never_downloaded(channel: Harness, update: Callable[[int], Dict[str, Any]]) -> None:
    await channel.deliver(update(CHAT))
    assert channel.texts == ["/offer_image"]
    assert channel.api.calls_of("getFile") == []


async def test_media_caption_is_answered_as_text(channel: Harness) -> None:
    await channel.deliver(tg.photo_update(CHAT, caption="/greet he says send more"))
    assert channel.texts == ["/offer_image", "greet he says send more"]


async def test_location_gets_a_privacy_note_and_is_not_kept(channel: Harness) -> None:
    await channel.deliver(tg.location_update(CHAT))
    assert channel.received == []
    [sent] = channel.api.sent_to(CHAT)
    assert sent.text == store().text("telegram.personal_info", "en")


async def test_edited_message_gets_a_short_note(channel: Harness) -> None:
    await channel.deliver(tg.edited_update(CHAT, "actually he wants to meet", language_code="nl"))
    assert channel.received == []
    assert [c.text for c in channel.api.sent_to(CHAT)] == [store().text("telegram.edited", "nl")]


async def test_groups_get_a_private_only_note_for_commands_only(channel: Harness) -> None:
    group = -100_424_200_777
    await channel.deliver(tg.group_command_update(group, CHAT),
                          tg.group_command_update(group, CHAT, text="just chatting"),
                          tg.group_command_update(group, CHAT, text="/start@SomeOtherBot"))
    assert channel.received == []
    assert [c.text for c in channel.api.sent_to(group)] == [store().text("telegram.private_only", "en")]


async def test_other_update_types_are_ignored(channel: Harness) -> None:
    channel_post = {"message_id": 7, "date": 1700000000, "text": "/start",
                    "chat": {"id": -100_424_200_999, "title": "News", "type": "channel"}}
    await channel.deliver(tg.my_chat_member_update(CHAT),
                          {"update_id": tg.next_update_id(), "channel_post": channel_post})
    assert channel.received == [] and channel.api.calls_of("sendMessage") == []


async def test_repeated_update_id_is_handled_once(channel: Harness) -> None:
    update = tg.text_update(CHAT, "hello")
    await channel.deliver(update, update, dict(update))
    assert channel.texts == ["hello"]


async def test_flood_is_dropped_with_one_notice(api: FakeBotApi) -> None:
    harness = await start(api, rate_burst=3, rate_per_minute=1)
    try:
        await harness.deliver(*[tg.text_update(CHAT, f"spam {i}") for i in range(8)])
        assert harness.texts == ["spam 0", "spam 1", "spam 2"]
        notices = [c for c in api.sent_to(CHAT) if c.text == store().text("telegram.slow_down", "en")]
        assert len(notices) == 1
        await harness.deliver(tg.text_update(CHAT + 1, "another chat is not affected"))
        assert harness.texts[-1] == "another chat is not affected"
    finally:
        await harness.runtime.stop()


async def test_long_replies_are_split_and_buttons_go_last(channel: Harness) -> None:
    paragraphs = ["First part. " * 250, "Second part. " * 250]

    async def long_reply(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {
            "text": "\n\n".join(paragraphs), "buttons": [{"title": "Menu", "payload": "/ask_menu"}]})

    channel.reply = long_reply
    await channel.deliver(tg.text_update(CHAT, "tell me everything"))
    sent = channel.api.sent_to(CHAT)
    assert [c.text for c in sent] == [p.strip() for p in paragraphs]
    assert sent[0].keyboard == [] and sent[1].keyboard == [[{"text": "Menu", "callback_data": "/ask_menu"}]]


async def test_custom_links_and_unknown_custom(channel: Harness) -> None:
    async def custom(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"custom": {"links": [
            {"title": "Telefono Azzurro", "url": "https://azzurro.it"},
            {"title": "Telefono Azzurro (call)", "url": "tel:19696"},
            {"title": "bad", "url": "javascript:alert(1)"}]}})
        await message.output_channel.send_response(message.sender_id, {"custom": {"something": "else"}})

    channel.reply = custom
    await channel.deliver(tg.text_update(CHAT, "numbers please"))
    assert [c.text for c in channel.api.sent_to(CHAT)] == [
        "Telefono Azzurro: https://azzurro.it\nTelefono Azzurro (call): 19696"]


async def test_helpline_links_do_not_repeat_numbers_in_the_text(channel: Harness) -> None:
    async def helplines(message: UserMessage) -> None:
        # What Beacon's helpline action sends: the list as text, tap-to-call links as custom JSON.
        await message.output_channel.send_response(message.sender_id, {
            "text": "Telefono Azzurro: 19696\n114 Emergenza Infanzia: 114",
            "custom": {"links": [{"title": "Telefono Azzurro: 19696", "url": "tel:19696"},
                                 {"title": "114 Emergenza Infanzia: 114", "url": "tel:114"}]}})

    channel.reply = helplines
    await channel.deliver(tg.text_update(CHAT, "/helpline"))
    assert [c.text for c in channel.api.sent_to(CHAT)] == ["Telefono Azzurro: 19696\n114 Emergenza Infanzia: 114"]


async def test_undeliverable_reply_is_logged_without_text(channel: Harness, caplog: pytest.LogCaptureFixture) -> None:
    channel.api.fail_next("sendMessage", 5, status=502)
    secret = "my very private message"
    with caplog.at_level(logging.INFO):
        await channel.deliver(tg.text_update(CHAT, secret))
    assert channel.api.sent_to(CHAT) == []
    assert any("not delivered" in r.getMessage() for r in caplog.records)
    assert len(channel.api.calls_of("sendMessage")) == 3  # tries=3 in these tests
    assert all(secret not in r.getMessage() and str(CHAT) not in r.getMessage() for r in caplog.records)


async def test_rasa_failure_does_not_break_the_channel(channel: Harness) -> None:
    async def broken(message: UserMessage) -> None:
        if message.text == "boom":
            raise RuntimeError("boom")
        await say_ok(message)

    channel.reply = broken
    await channel.deliver(tg.text_update(CHAT, "boom"), tg.text_update(CHAT, "still there?"))
    assert [c.text for c in channel.api.sent_to(CHAT)] == ["ok"]


async def test_forget_erases_the_tracker_and_answers_in_its_language(api: FakeBotApi) -> None:
    tracker_store = InMemoryTrackerStore(DOMAIN)
    sender = pseudonym("telegram", CHAT)
    tracker = DialogueStateTracker.from_events(sender, [UserUttered("ciao"), SlotSet("language", "it")],
                                               slots=DOMAIN.slots)
    await tracker_store.save(tracker)
    harness = await start(api, agent=SimpleNamespace(tracker_store=tracker_store, domain=DOMAIN))
    try:
        await harness.deliver(tg.text_update(CHAT, "/forget", language_code="en"))
        assert sender not in tracker_store.store
        assert harness.received == []  # handled by the channel, not by Rasa
        assert [c.text for c in api.sent_to(CHAT)] == [store().text("telegram.forget_done", "it")]
    finally:
        await harness.runtime.stop()


async def test_forget_without_a_tracker_store_says_it_failed(api: FakeBotApi) -> None:
    harness = await start(api, agent=SimpleNamespace(domain=DOMAIN))
    try:
        await harness.deliver(tg.text_update(CHAT, "/forget", language_code="el"))
        assert [c.text for c in api.sent_to(CHAT)] == [store().text("telegram.forget_failed", "el")]
    finally:
        await harness.runtime.stop()


async def test_logs_hold_no_text_and_no_raw_ids(api: FakeBotApi, caplog: pytest.LogCaptureFixture) -> None:
    secret = "he asked me for photos"
    caplog.set_level(logging.DEBUG, logger="channels.telegram_channel")
    with caplog.at_level(logging.DEBUG):
        harness = await start(api, rate_burst=2, rate_per_minute=1)
        await harness.deliver(tg.text_update(CHAT, secret), tg.photo_update(CHAT, caption=secret),
                              tg.text_update(CHAT, secret), tg.callback_update(CHAT, "k:unknownunknownu"))
        await harness.runtime.stop()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "rate limit" in logged
    assert secret not in logged and str(CHAT) not in logged
    assert api.token not in logged  # httpx would log request URLs, which contain the token


async def test_debug_flag_lets_text_into_debug_logs(api: FakeBotApi, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="channels.telegram_channel"):
        harness = await start(api, log_text=True)
        await harness.deliver(tg.text_update(CHAT, "visible when debugging"))
        await harness.runtime.stop()
    assert "visible when debugging" in caplog.text


async def test_content_payloads_are_pinned_at_start(channel: Harness) -> None:
    long_ones = [p for p in _all_content_payloads() if not CallbackData.fits(p)]
    for payload in long_ones:
        assert channel.runtime.handler.keys.decode(CallbackData.key_for(payload)) == payload


def _all_content_payloads() -> List[str]:
    content = store()
    return [b["payload"] for lang in content.languages for key in content.keys(lang)
            for b in (content.raw(key, lang).get("buttons") or []) if isinstance(b, dict) and "payload" in b]
