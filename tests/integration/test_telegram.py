"""Beacon on Telegram, end to end: real Rasa + action servers, the fake Bot API in between.

One Rasa server in webhook mode serves the whole module (start-up takes ~20 s); the polling test
starts a second Rasa server that shares the action server. Replies are observed as the fake Bot
API records them; every wait polls with a timeout instead of sleeping a fixed time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from actions.content import store
from actions.language import detect_language
from channels.telegram_webhook import SECRET_HEADER
from tests.integration import fake_bot_api as tg
from tests.integration.fake_bot_api import Call, FakeBotApi
from tools import stack as stack_tool

SECRET = "beacon-test-secret_0123456789"
ID_KEY = "telegram-integration-test-key"
WEBHOOK_URL = "https://beacon.example.org/webhooks/telegram/webhook"
# Chat ids are distinctive so that a leak into logs or the database cannot go unnoticed.
_chat_ids = iter(range(7_310_000_001, 7_310_999_999))


def new_chat() -> int:
    return next(_chat_ids)


def pseudonym(chat_id: int) -> str:
    """What channels.common.pseudonym("telegram", chat_id) gives with BEACON_ID_KEY=ID_KEY."""
    digest = hmac.new(ID_KEY.encode(), f"telegram:{chat_id}".encode(), hashlib.sha256).hexdigest()
    return f"telegram-{digest[:32]}"


@dataclass
class Beacon:
    """The running stack and the ways to reach it."""

    stack: stack_tool.Stack
    api: FakeBotApi
    var: Path
    env: Dict[str, str]
    credentials: Path
    model: Path

    @property
    def url(self) -> str:
        return self.stack.servers[-1].url

    @property
    def rasa_log(self) -> Path:
        return self.stack.servers[-1].log

    def post(self, update: Any, secret: Optional[str] = SECRET,
             raw: Optional[bytes] = None) -> Tuple[int, Dict[str, Any]]:
        """POST to the webhook like Telegram does; returns (status, JSON body)."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        data = raw if raw is not None else json.dumps(update).encode()
        request = urllib.request.Request(f"{self.url}/webhooks/telegram/webhook", data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def send(self, update: Dict[str, Any]) -> None:
        status, body = self.post(update)
        assert (status, body) == (200, {"ok": True})

    def turn(self, chat_id: int, update: Dict[str, Any], timeout: float = 30.0) -> List[Call]:
        """Send ``update`` and return every message the bot sends back for it."""
        before = len(self.api.sent_to(chat_id))
        self.send(update)
        return self.replies(chat_id, before, timeout)

    def replies(self, chat_id: int, before: int, timeout: float = 30.0, quiet: float = 0.8) -> List[Call]:
        """Messages to ``chat_id`` after the first ``before``, once the bot has gone quiet."""
        self.api.wait_for_replies(chat_id, after=before, timeout=timeout)
        count, stable_since = -1, time.monotonic()
        while time.monotonic() - stable_since < quiet:
            current = len(self.api.sent_to(chat_id))
            if current != count:
                count, stable_since = current, time.monotonic()
            time.sleep(0.05)
        return self.api.sent_to(chat_id)[before:]

    def events(self, chat_id: int, type_name: Optional[str] = None) -> List[sqlite3.Row]:
        """Tracker events stored for ``chat_id``'s pseudonym in the SQLite tracker store."""
        with sqlite3.connect(self.var / "beacon.db") as db:
            db.row_factory = sqlite3.Row
            query = "SELECT * FROM events WHERE sender_id = ?" + (" AND type_name = ?" if type_name else "")
            return db.execute(query, (pseudonym(chat_id), type_name) if type_name else (pseudonym(chat_id),)).fetchall()


def everything(calls: List[Call]) -> str:
    """All texts and button titles of some sendMessage calls."""
    parts = []
    for call in calls:
        parts.append(call.text)
        parts.extend(button.get("text", "") for row in call.keyboard for button in row)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake
        assert fake.forbidden == [], "getFile was called: user media must never be downloaded"


def telegram_stack(api: FakeBotApi, var: Path) -> Iterator[Beacon]:
    """The real stack with the Telegram channel pointed at ``api``, state under ``var``."""
    model = stack_tool.ensure_model(quiet=True)
    # Only the channels these tests need: REST (the stack's readiness probe) and Telegram, exactly
    # as credentials.yml registers it (no values; everything from the environment).
    credentials = var / "credentials.yml"
    credentials.write_text("rest:\nchannels.telegram_channel.TelegramInput:\n", encoding="utf-8")
    env = {
        "BEACON_DB_NAME": str(var / "beacon.db"),
        "BEACON_VAR_DIR": str(var),
        "BEACON_ID_KEY": ID_KEY,
        "TELEGRAM_TOKEN": api.token,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_URL": WEBHOOK_URL,
        "TELEGRAM_API_BASE_URL": api.base_url,
    }
    with stack_tool.running_stack(var / "log", env=env, credentials=str(credentials)) as running:
        yield Beacon(running, api, var, env, credentials, model)


@pytest.fixture(scope="module")
def beacon(api: FakeBotApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Beacon]:
    yield from telegram_stack(api, tmp_path_factory.mktemp("telegram-var"))


def test_start_up_registers_the_webhook_with_its_secret(beacon: Beacon) -> None:
    [call] = beacon.api.wait_for(lambda _: beacon.api.calls_of("setWebhook"), timeout=20)
    assert call.params["url"] == WEBHOOK_URL and call.params["secret_token"] == SECRET
    beacon.api.wait_for(lambda _: len(beacon.api.calls_of("setMyCommands")) == 7, timeout=20)


def test_start_greets_with_an_inline_keyboard_and_buttons_lead_on(beacon: Beacon) -> None:
    chat = new_chat()
    greeting = beacon.turn(chat, tg.text_update(chat, "/start"))
    assert "chatbot" in everything(greeting).lower()  # the bot says it is a bot
    keyboards = [c.keyboard for c in greeting if c.keyboard]
    assert keyboards, "the greeting offers a choice as inline buttons"
    button = keyboards[-1][0][0]
    assert 1 <= len(button["callback_data"].encode()) <= 64

    before = len(beacon.api.sent_to(chat))
    press = tg.callback_update(chat, button["callback_data"])
    beacon.send(press)
    next_step = beacon.replies(chat, before)
    [answer] = [c for c in beacon.api.calls_of("answerCallbackQuery")
                if c.params["callback_query_id"] == press["callback_query"]["id"]]
    assert answer.at <= next_step[0].at  # the button's spinner stops first
    assert everything(next_step).strip()
    assert len(beacon.events(chat, "user")) == 2


def test_italian_speaker_gets_italian(beacon: Beacon) -> None:
    chat = new_chat()
    replies = beacon.turn(chat, tg.text_update(chat, "Ciao! Ho bisogno di aiuto per una cosa che mi è successa online",
                                               language_code="it"))
    assert detect_language(everything(replies)) == "it"


def test_crisis_message_gets_the_emergency_number(beacon: Beacon) -> None:
    chat = new_chat()
    replies = beacon.turn(chat, tg.text_update(chat, "someone is threatening to share my nudes unless I pay"))
    assert "112" in everything(replies).replace(" ", "")


def test_photo_gets_the_safe_reply_and_is_never_downloaded(beacon: Beacon) -> None:
    chat = new_chat()
    replies = beacon.turn(chat, tg.photo_update(chat))
    assert beacon.api.calls_of("getFile") == []
    # The same answer Beacon gives to /offer_image on any channel.
    rest = urllib.request.Request(f"{beacon.url}/webhooks/rest/webhook", headers={"Content-Type": "application/json"},
                                  data=json.dumps({"sender": f"rest-{chat}", "message": "/offer_image"}).encode())
    with urllib.request.urlopen(rest, timeout=30) as response:
        expected = [m["text"] for m in json.loads(response.read()) if m.get("text")]
    # (REST splits a text into one message per paragraph; Telegram keeps it as one message.)
    assert " ".join(" ".join(c.text for c in replies).split()) == " ".join(" ".join(expected).split())
    stored = json.dumps([dict(row) for row in beacon.events(chat)])
    assert "file_id" not in stored and "AgACAgQ" not in stored  # nothing about the photo is kept


def test_webhook_secret_is_checked(beacon: Beacon) -> None:
    chat = new_chat()
    assert beacon.post(tg.text_update(chat, "hi"), secret=None)[0] == 403
    assert beacon.post(tg.text_update(chat, "hi"), secret="wrong-secret")[0] == 403
    assert beacon.post(tg.text_update(chat, "hi"), secret=SECRET[:-1])[0] == 403


def test_malformed_bodies_get_400(beacon: Beacon) -> None:
    status, body = beacon.post(None, raw=b'{"update_id": 1, "message": ')
    assert status == 400 and body["ok"] is False
    assert beacon.post(None, raw=b"[1, 2, 3]")[0] == 400
    assert beacon.post(None, raw=b"\xc3\x28")[0] == 400
    assert beacon.post(tg.my_chat_member_update(new_chat()))[0] == 200  # other update types: ignored


def test_repeated_update_is_processed_once(beacon: Beacon) -> None:
    chat = new_chat()
    update = tg.text_update(chat, "hello")
    beacon.send(update)
    beacon.send(update)  # Telegram retries when it did not see a 200 in time
    first = beacon.replies(chat, 0)
    beacon.send(update)
    time.sleep(1.0)
    assert len(beacon.api.sent_to(chat)) == len(first)
    assert len(beacon.events(chat, "user")) == 1


@pytest.mark.parametrize("status,retry_after", [(429, 1), (500, None)])
def test_bot_api_errors_are_retried(beacon: Beacon, status: int, retry_after: Optional[int]) -> None:
    chat = new_chat()
    beacon.api.fail_next("sendMessage", 1, status=status, retry_after=retry_after)
    replies = beacon.turn(chat, tg.text_update(chat, "/menu"))
    attempts = beacon.api.calls_of("sendMessage", chat)
    assert attempts[0].status == status and attempts[1].ok
    assert attempts[1].text == attempts[0].text  # the same message, delivered on the retry
    if retry_after:
        assert attempts[1].at - attempts[0].at >= retry_after - 0.05
    assert replies


def test_forget_erases_the_conversation(beacon: Beacon) -> None:
    chat = new_chat()
    beacon.turn(chat, tg.text_update(chat, "/start"))
    assert beacon.events(chat)
    [reply] = beacon.turn(chat, tg.text_update(chat, "/forget"))
    assert reply.text == store().text("telegram.forget_done", "en")
    assert beacon.events(chat) == []  # nothing of the conversation is left in the tracker store
    again = beacon.turn(chat, tg.text_update(chat, "/start"))
    assert "chatbot" in everything(again).lower()  # greeted as someone new
    assert len(beacon.events(chat, "user")) == 1


def test_no_raw_ids_or_text_are_stored_or_logged(beacon: Beacon) -> None:
    chat = new_chat()
    words = "my teacher's friend keeps messaging me at night"
    beacon.turn(chat, tg.text_update(chat, words))
    with sqlite3.connect(beacon.var / "beacon.db") as db:
        senders = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}
        dump = "\n".join(str(row) for row in db.execute("SELECT sender_id, data FROM events"))
    assert pseudonym(chat) in senders
    assert str(chat) not in dump  # the chat id exists only in memory, for the reply
    log = beacon.rasa_log.read_text(encoding="utf-8", errors="replace")
    assert words not in log and str(chat) not in log
    assert beacon.api.token not in log


def test_polling_mode_delivers_updates(beacon: Beacon, api: FakeBotApi) -> None:
    env = {**beacon.env, "TELEGRAM_MODE": "polling", "TELEGRAM_WEBHOOK_URL": "", "TELEGRAM_POLL_TIMEOUT": "1"}
    action_port = beacon.stack.servers[0].port
    # The same model as the webhook server: no retraining if the training data changed meanwhile.
    polling = stack_tool.start_rasa(stack_tool.free_port(), action_port, beacon.var / "log", model=beacon.model,
                                    credentials=str(beacon.credentials), env=env)
    try:
        api.wait_for(lambda _: api.calls_of("deleteWebhook"), timeout=30)
        chat = new_chat()
        api.queue_update(tg.text_update(chat, "/help"))
        replies = beacon.replies(chat, 0)
        assert everything(replies).strip()
        assert len(beacon.events(chat, "user")) == 1
    finally:
        polling.stop()
    assert polling.process.returncode == 0  # a clean stop, not a kill
    last = api.calls_of("getUpdates")[-1]
    assert last.params.get("timeout") == 0 and last.params["offset"] > 0  # the last batch was confirmed
    log = polling.log.read_text(encoding="utf-8", errors="replace")
    assert "telegram: polling mode" in log and "telegram: stopped" in log
