"""Retries of Bot API calls, against the fake Bot API with a real python-telegram-bot client."""

from __future__ import annotations

import time
from typing import AsyncIterator, Iterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from channels.telegram_api import RetryPolicy, SendFailed, call_with_retry, is_retryable, retry_after_seconds
from tests.integration.fake_bot_api import FakeBotApi

FAST = RetryPolicy(tries=4, base_delay=0.05, max_delay=0.2, max_retry_after=5.0)


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url) as client:
        yield client


def _send(bot: Bot, text: str = "hello"):  # noqa: ANN202 - a call factory
    return lambda: bot.send_message(chat_id=77, text=text)


async def test_429_waits_retry_after_then_delivers(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", 1, status=429, retry_after=1, description="Too Many Requests: retry after 1")
    started = time.monotonic()
    message = await call_with_retry("sendMessage", _send(bot), FAST)
    assert time.monotonic() - started >= 0.95  # honoured retry_after, not the short backoff
    assert message.text == "hello"
    assert [c.status for c in api.calls_of("sendMessage")] == [429, 200]


async def test_retry_after_is_capped(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", 1, status=429, retry_after=3600)
    started = time.monotonic()
    await call_with_retry("sendMessage", _send(bot), RetryPolicy(tries=2, max_retry_after=0.2))
    assert time.monotonic() - started < 5


async def test_5xx_is_retried_with_backoff(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", 2, status=500)
    api.fail_next("sendMessage", 1, status=502)
    await call_with_retry("sendMessage", _send(bot), FAST)
    calls = api.calls_of("sendMessage")
    assert [c.status for c in calls] == [500, 500, 502, 200]
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:])]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.09 and gaps[2] >= 0.18  # 0.05, 0.1, 0.2


async def test_gives_up_after_the_last_try(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", 10, status=503)
    with pytest.raises(SendFailed) as failure:
        await call_with_retry("sendMessage", _send(bot), FAST)
    assert failure.value.attempts == 4
    assert isinstance(failure.value.cause, NetworkError)
    assert len(api.calls_of("sendMessage")) == 4


@pytest.mark.parametrize("status,error", [(400, BadRequest), (403, Forbidden)])
async def test_client_errors_are_final(api: FakeBotApi, bot: Bot, status: int, error: type) -> None:
    api.fail_next("sendMessage", 1, status=status, description="Forbidden: bot was blocked by the user")
    with pytest.raises(SendFailed) as failure:
        await call_with_retry("sendMessage", _send(bot), FAST)
    assert isinstance(failure.value.cause, error) and failure.value.attempts == 1
    assert len(api.calls_of("sendMessage")) == 1


async def test_connection_refused_is_retried_then_reported() -> None:
    with FakeBotApi() as gone:
        base_url = gone.base_url  # a port that is closed once the fake stops
    bot = Bot("123:ABC", base_url=base_url)
    with pytest.raises(SendFailed) as failure:
        await call_with_retry("sendMessage", _send(bot), RetryPolicy(tries=2, base_delay=0.01))
    assert failure.value.attempts == 2 and isinstance(failure.value.cause, NetworkError)


def test_classification() -> None:
    assert is_retryable(RetryAfter(3)) and is_retryable(TimedOut()) and is_retryable(NetworkError("502"))
    assert not is_retryable(BadRequest("message is too long"))
    assert not is_retryable(Forbidden("blocked"))
    assert retry_after_seconds(RetryAfter(7)) == 7.0


def test_backoff_doubles_and_is_bounded() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
