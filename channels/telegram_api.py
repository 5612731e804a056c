"""Calling the Bot API through python-telegram-bot, with the retries Telegram asks for.

* ``429 Too Many Requests`` → PTB raises :class:`telegram.error.RetryAfter`; wait what it says
  (capped, so a huge value cannot park a reply forever), then try again.
* 5xx, connection errors and timeouts → :class:`telegram.error.NetworkError` /
  :class:`telegram.error.TimedOut`; retry with exponential backoff.
* Everything else (400 Bad Request, 403 blocked by the user, invalid token) is final: retrying
  cannot help. Note that PTB's ``BadRequest`` is a subclass of ``NetworkError``.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional, TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut

logger = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one Bot API call.

    Attributes:
        tries: Attempts in total, the first included.
        base_delay: Backoff before the 2nd attempt after a network error; doubles each time.
        max_delay: Upper bound of one backoff.
        max_retry_after: Upper bound of one wait requested by a 429.
    """

    tries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Delay after failed attempt number ``attempt`` (1-based) of a network error."""
        return min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))


def retry_after_seconds(error: RetryAfter) -> float:
    """Seconds to wait for a :class:`RetryAfter`, whether PTB reports an int or a timedelta."""
    with warnings.catch_warnings():
        # PTB 22 warns that retry_after will become a timedelta; accept both forms quietly.
        warnings.simplefilter("ignore")
        value = error.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def is_retryable(error: BaseException) -> bool:
    """True for errors worth another attempt (429, 5xx, network trouble, timeouts)."""
    if isinstance(error, RetryAfter):
        return True
    if isinstance(error, BadRequest):
        return False
    return isinstance(error, TimedOut | NetworkError)


class SendFailed(Exception):
    """A Bot API call failed for good; ``cause`` is the last error, ``attempts`` how many were made."""

    def __init__(self, method: str, cause: BaseException, attempts: int) -> None:
        super().__init__(f"{method} failed after {attempts} attempt(s): {type(cause).__name__}")
        self.method = method
        self.cause = cause
        self.attempts = attempts


async def call_with_retry(
    method: str,
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy = RetryPolicy(),
    sleep: Optional[Sleep] = None,
) -> T:
    """Run ``call()`` (a fresh Bot API request each time) until it succeeds or ``policy`` gives up.

    Args:
        method: Bot API method name, for logs only.
        call: Zero-argument callable returning a new awaitable per attempt.
        policy: Attempts and delays.
        sleep: Replaces :func:`asyncio.sleep` (tests).

    Returns:
        What the call returned.

    Raises:
        SendFailed: After a final error; its ``cause`` is the PTB exception.
    """
    pause = sleep or asyncio.sleep
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except TelegramError as error:
            if not is_retryable(error) or attempt >= policy.tries:
                raise SendFailed(method, error, attempt) from error
            if isinstance(error, RetryAfter):
                delay = min(policy.max_retry_after, max(0.0, retry_after_seconds(error)))
            else:
                delay = policy.backoff(attempt)
            # No parameters in the log: they may hold message text and chat ids.
            logger.info("telegram: %s got %s, retry %d/%d in %.1f s",
                        method, type(error).__name__, attempt, policy.tries - 1, delay)
            await pause(delay)
