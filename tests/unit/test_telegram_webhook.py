"""The webhook: secret check, body validation, start-up/shutdown listeners, polling mode.

The checks are tested as pure functions, then through a real in-process Sanic server with the
channel's blueprint mounted where Rasa mounts it (``/webhooks/telegram``), talking to the fake Bot
API. Rasa itself is a recorder here; tests/integration/test_telegram.py covers the real stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional

import httpx
import pytest
import yaml
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from channels.telegram_api import RetryPolicy
from channels.telegram_channel import TelegramInput, TelegramSettings
from channels.telegram_webhook import (
    MAX_BODY_BYTES,
    SECRET_HEADER,
    WebhookError,
    is_valid_secret,
    read_update,
    secret_matches,
)
from tests.integration import fake_bot_api as tg
from tests.integration.fake_bot_api import FakeBotApi
from tools.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-Token_42"
CHAT = 424_200_101


# -- pure checks --------------------------------------------------------------------------------


def test_secret_comparison() -> None:
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(SECRET, SECRET + "x")
    assert not secret_matches(SECRET, "")
    assert not secret_matches(SECRET, None)
    assert not secret_matches("", "")  # an unconfigured secret lets nothing in
    assert not secret_matches(None, "anything")
    assert not secret_matches(SECRET, "sëcret")  # non-ASCII header values do not crash


def test_valid_secret_format() -> None:
    assert is_valid_secret(SECRET)
    assert not is_valid_secret("has space") and not is_valid_secret("") and not is_valid_secret("x" * 257)


@pytest.mark.parametrize("body,status", [
    (b"", 400),
    (b"not json", 400),
    (b"\xff\xfe{}", 400),  # invalid UTF-8
    (b"[]", 400),
    (b'"update"', 400),
    (b"{}", 400),
    (b'{"update_id": "1"}', 400),
    (b'{"update_id": true}', 400),
    (b'{"update_id": -5}', 400),
    (b'{"update_id": 1, "message": "hi"}', 400),
    (b'{"update_id": 1, "message": null}', 400),
    (b"[" * 100_000 + b"]" * 100_000, 400),  # deep nesting must not crash the decoder
    (b'{"update_id": 1, "x": {"y": "' + b"a" * MAX_BODY_BYTES + b'"}}', 413),
])
def test_bad_bodies_are_refused(body: bytes, status: int) -> None:
    with pytest.raises(WebhookError) as refused:
        read_update(body)
    assert refused.value.status == status


def test_good_body() -> None:
    update = tg.text_update(CHAT, "hello")
    assert read_update(json.dumps(update).encode()) == update


def test_credentials_register_the_channel_without_values() -> None:
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    assert "channels.telegram_channel.TelegramInput" in credentials
    assert not credentials["channels.telegram_channel.TelegramInput"]  # settings come from the environment


def test_settings_from_environment() -> None:
    settings = TelegramSettings.from_env({
        "TELEGRAM_TOKEN": " 1:x ", "TELEGRAM_MODE": "Polling", "TELEGRAM_RATE_BURST": "3",
        "TELEGRAM_RATE_PER_MINUTE": "oops", "BEACON_DEBUG_LOG_TEXT": "1", "TELEGRAM_SET_COMMANDS": "0"})
    assert settings.token == "1:x" and settings.polling and settings.rate_burst == 3
    assert settings.rate_per_minute == 20.0 and settings.log_text and not settings.set_commands
    assert TelegramSettings.from_env({"TELEGRAM_MODE": "carrier-pigeon"}).mode == "webhook"
    assert not TelegramSettings.from_env({}).enabled
    assert TelegramSettings.from_env({}).api_base_url == "https://api.telegram.org/bot"


# -- through a real Sanic server ----------------------------------------------------------------


class Rasa:
    """Stands in for ``app.ctx.agent.handle_message``: records and answers "ok" via the output channel."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await asyncio.sleep(self.delay)
        await message.output_channel.send_response(message.sender_id, {"text": "ok"})

    @property
    def texts(self) -> List[str]:
        return [m.text or "" for m in self.received]


class Server:
    """A Sanic app with the channel mounted, on a free port, listeners run like ``rasa run`` does."""

    def __init__(self, channel: TelegramInput, rasa: Rasa) -> None:
        self.channel = channel
        self.rasa = rasa
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks/telegram"
        # Sanic 21.12 rewrites ("touches up") its own methods when an app starts; a second app in
        # the same process breaks unless test mode keeps the originals.
        Sanic.test_mode = True
        self.app = Sanic(f"telegram_test_{uuid.uuid4().hex[:8]}", configure_logging=False)
        self.app.ctx.agent = None
        self.app.blueprint(channel.blueprint(rasa), url_prefix="/webhooks/telegram")
        self._server: Any = None

    async def __aenter__(self) -> "Server":
        self._server = await self.app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True,
                                                     access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()

    async def post(self, body: Any, secret: Optional[str] = SECRET, raw: Optional[bytes] = None,
                   headers: Optional[Dict[str, str]] = None) -> httpx.Response:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if secret is not None:
            all_headers[SECRET_HEADER] = secret
        content = raw if raw is not None else json.dumps(body).encode()
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(f"{self.url}/webhook", content=content, headers=all_headers)


async def until(predicate: Any, timeout: float = 10.0) -> Any:
    """Poll ``predicate()`` without blocking the event loop the server runs on."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake
        assert fake.forbidden == []


def settings_for(api: FakeBotApi, **overrides: Any) -> TelegramSettings:
    values: Dict[str, Any] = dict(token=api.token, api_base_url=api.base_url, webhook_secret=SECRET,
                                  webhook_url="https://beacon.example.org/webhooks/telegram/webhook",
                                  set_commands=False, poll_timeout=1, retry=RetryPolicy(tries=3, base_delay=0.05))
    values.update(overrides)
    return TelegramSettings(**values)


@contextlib.asynccontextmanager
async def serving(settings: TelegramSettings, rasa: Optional[Rasa] = None) -> AsyncIterator[Server]:
    async with Server(TelegramInput(settings), rasa or Rasa()) as server:
        yield server


async def test_without_token_the_channel_is_off(caplog: pytest.LogCaptureFixture) -> None:
    rasa = Rasa()
    with caplog.at_level(logging.INFO):
        async with serving(TelegramSettings(), rasa) as server:
            response = await server.post(tg.text_update(CHAT, "hi"))
            async with httpx.AsyncClient() as client:
                health = await client.get(f"{server.url}/")
    assert response.status_code == 404 and response.json()["ok"] is False
    assert health.status_code == 404
    assert rasa.received == []
    assert [r.getMessage() for r in caplog.records if "TELEGRAM_TOKEN" in r.getMessage()] == [
        "Telegram channel is off: TELEGRAM_TOKEN is not set"]


async def test_start_up_sets_the_webhook_with_the_secret(api: FakeBotApi) -> None:
    async with serving(settings_for(api, set_commands=True)):
        await until(lambda: len(api.calls_of("setMyCommands")) == 7)
    [call] = api.calls_of("setWebhook")
    assert call.params["url"] == "https://beacon.example.org/webhooks/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    languages = [c.params.get("language_code") for c in api.calls_of("setMyCommands")]
    assert languages == [None, "en", "it", "el", "lt", "nl", "fr"]
    assert [c["command"] for c in api.calls_of("setMyCommands")[3].params["commands"]] == [
        "start", "help", "menu", "language", "helpline", "forget"]
    assert api.calls_of("deleteWebhook") == []  # a restart must not unhook a running deployment


async def test_secret_is_required(api: FakeBotApi) -> None:
    rasa = Rasa()
    async with serving(settings_for(api), rasa) as server:
        missing = await server.post(tg.text_update(CHAT, "hi"), secret=None)
        wrong = await server.post(tg.text_update(CHAT, "hi"), secret="guess")
        wrong_and_malformed = await server.post(None, secret="guess", raw=b"{nope")
        empty = await server.post(tg.text_update(CHAT, "hi"), secret="")
    assert [r.status_code for r in (missing, wrong, wrong_and_malformed, empty)] == [403, 403, 403, 403]
    assert all(r.json()["ok"] is False for r in (missing, wrong))
    assert rasa.received == []


async def test_webhook_mode_without_secret_refuses_everything(api: FakeBotApi,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    rasa = Rasa()
    with caplog.at_level(logging.ERROR):
        async with serving(settings_for(api, webhook_secret=""), rasa) as server:
            response = await server.post(tg.text_update(CHAT, "hi"), secret="")
            also = await server.post(tg.text_update(CHAT, "hi"), secret="anything")
            await until(lambda: "TELEGRAM_WEBHOOK_SECRET is not set" in caplog.text)
    assert response.status_code == 403 and also.status_code == 403
    assert api.calls_of("setWebhook") == []  # never register a webhook that anyone could call
    assert rasa.received == []


async def test_bad_requests_get_json_errors_not_500(api: FakeBotApi) -> None:
    rasa = Rasa()
    async with serving(settings_for(api), rasa) as server:
        results = {
            "malformed": await server.post(None, raw=b"{nope"),
            "utf8": await server.post(None, raw=b'{"update_id": 1, "message": {"text": "\xff"}}'),
            "array": await server.post([1, 2]),
            "type": await server.post({"update_id": "12"}),
            "field": await server.post({"update_id": 12, "message": "hello"}),
            "ptb": await server.post({"update_id": 13, "message": {"text": "no chat, no date"}}),
            "big": await server.post(None, raw=b'{"update_id": 1, "pad": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'),
        }
    statuses = {name: response.status_code for name, response in results.items()}
    assert statuses == {"malformed": 400, "utf8": 400, "array": 400, "type": 400, "field": 400, "ptb": 400,
                        "big": 413}
    assert all(response.json()["ok"] is False for response in results.values())
    assert rasa.received == []


async def test_update_is_answered_at_once_and_handled_in_the_background(api: FakeBotApi) -> None:
    rasa = Rasa(delay=1.5)  # a slow Rasa turn
    async with serving(settings_for(api), rasa) as server:
        started = time.monotonic()
        response = await server.post(tg.text_update(CHAT, "/start"))
        assert response.status_code == 200 and response.json() == {"ok": True}
        assert time.monotonic() - started < 1.0
        await until(lambda: api.sent_to(CHAT))
    assert rasa.texts == ["/greet"]


async def test_repeated_update_id_is_processed_once(api: FakeBotApi) -> None:
    rasa = Rasa()
    update = tg.text_update(CHAT, "hello")
    async with serving(settings_for(api), rasa) as server:
        responses = [await server.post(update) for _ in range(3)]
        await until(lambda: api.sent_to(CHAT))
        await asyncio.sleep(0.3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert rasa.texts == ["hello"] and len(api.sent_to(CHAT)) == 1


async def test_other_update_types_get_200(api: FakeBotApi) -> None:
    rasa = Rasa()
    poll = {"update_id": tg.next_update_id(), "poll": {"id": "5", "question": "Lunch?", "options": []}}
    async with serving(settings_for(api), rasa) as server:
        responses = [await server.post(tg.my_chat_member_update(CHAT)), await server.post(poll),
                     await server.post({"update_id": tg.next_update_id(), "brand_new_type": {"x": 1}})]
        await asyncio.sleep(0.2)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert rasa.received == [] and api.calls_of("sendMessage") == []


async def test_shutdown_finishes_updates_in_progress(api: FakeBotApi) -> None:
    rasa = Rasa(delay=0.5)
    async with serving(settings_for(api), rasa) as server:
        assert (await server.post(tg.text_update(CHAT, "last words"))).status_code == 200
        await until(lambda: rasa.received)
    # The server stopped only after the reply went out.
    assert [c.text for c in api.sent_to(CHAT)] == ["ok"]


async def test_polling_mode(api: FakeBotApi, caplog: pytest.LogCaptureFixture) -> None:
    rasa = Rasa()
    settings = settings_for(api, mode="polling", webhook_url="")
    with caplog.at_level(logging.INFO):
        async with serving(settings, rasa) as server:
            await until(lambda: api.calls_of("getUpdates"))
            first = tg.text_update(CHAT, "/help")
            api.queue_update(first)
            api.queue_update(tg.photo_update(CHAT))
            await until(lambda: len(api.sent_to(CHAT)) == 2)
            webhook = await server.post(tg.text_update(CHAT, "via webhook"))
    assert webhook.status_code == 404  # no webhook in polling mode
    assert rasa.texts == ["/ask_help", "/offer_image"]
    assert api.calls_of("deleteWebhook") and not api.calls_of("setWebhook")
    offsets = [c.params.get("offset") for c in api.calls_of("getUpdates")]
    assert offsets[-1] == first["update_id"] + 2  # the last batch was confirmed at shutdown
    assert "telegram: stopped" in caplog.text


async def test_polling_survives_api_errors(api: FakeBotApi) -> None:
    api.fail_next("getUpdates", 2, status=502)
    rasa = Rasa()
    async with serving(settings_for(api, mode="polling", webhook_url=""), rasa):
        api.queue_update(tg.text_update(CHAT, "still here"))
        await until(lambda: api.sent_to(CHAT), timeout=15)
    assert rasa.texts == ["still here"]
    assert [c.status for c in api.calls_of("getUpdates")][:3] == [502, 502, 200]
