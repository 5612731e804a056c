"""Shared by every Beacon channel: pseudonymous ids, input hygiene, rate limits, conversation erasure."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Any, Awaitable, Collection, Optional, Set

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
# Messages longer than this are cut before NLU: nobody types more, and featurising megabytes is a DoS.
MAX_TEXT_CHARS = int(os.environ.get("BEACON_MAX_TEXT_CHARS", "2000"))


def _load_id_key() -> bytes:
    """The key for pseudonymous ids: ``BEACON_ID_KEY``, else a random key kept in ``var/id_key``.

    A stable key matters: a new key would orphan every stored conversation.
    """
    configured = os.environ.get("BEACON_ID_KEY")
    if configured:
        return configured.encode()
    path = Path(os.environ.get("BEACON_VAR_DIR", ROOT / "var")) / "id_key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it a moment ago: use that one
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key


_ID_KEY: Optional[bytes] = None


def pseudonym(channel: str, raw_id: Any) -> str:
    """A stable, keyed pseudonym for a channel's user id; the raw id is never stored by Rasa."""
    global _ID_KEY
    if _ID_KEY is None:
        _ID_KEY = _load_id_key()
    digest = hmac.new(_ID_KEY, f"{channel}:{raw_id}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}-{digest[:32]}"


def clean_text(text: Any) -> str:
    """Make user text safe for NLU: a string, no control characters, bounded length."""
    if not isinstance(text, str):
        return ""
    kept = []
    for char in text[: MAX_TEXT_CHARS * 2]:
        category = unicodedata.category(char)
        if char in "\n\t ":
            kept.append(" ")
        elif category in ("Cc", "Cs", "Co", "Cn") or category == "Cf":
            continue  # controls, surrogates, private use, zero-width and bidi overrides
        else:
            kept.append(char)
    cleaned = " ".join("".join(kept).split())
    return cleaned[:MAX_TEXT_CHARS]


# The shape of Beacon's button payloads: /intent plus an optional flat JSON object of entities.
_PAYLOAD = re.compile(r"^/([A-Za-z_][A-Za-z0-9_]{0,63})(\{.*\})?$", re.DOTALL)


def plain_text(text: str) -> str:
    """User text made safe for NLU: cleaned, and never starting with ``/`` (no intent injection)."""
    return clean_text(text).lstrip("/ ").strip()


def safe_payload(payload: str, intents: Optional[Collection[str]] = None) -> Optional[str]:
    """Return ``payload`` when it is a well-formed Rasa payload, else ``None``.

    Callback data comes from the user's Telegram client, which could be modified; only accept the
    shape Beacon's buttons use: ``/intent`` plus an optional flat JSON object of scalar entities,
    and (when ``intents`` is given) only intents the domain knows.
    """
    match = _PAYLOAD.match(payload or "")
    if not match:
        return None
    intent, entities = match.groups()
    if intents is not None and intent not in intents:
        return None
    if entities:
        try:
            values = json.loads(entities)
        except ValueError:
            return None
        if not isinstance(values, dict) or not all(
            isinstance(key, str) and isinstance(value, str | int | float | bool) for key, value in values.items()
        ):
            return None
    return payload



class RateLimiter:
    """Token bucket per key, bounded in memory (oldest keys are forgotten first)."""

    def __init__(self, rate_per_minute: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: "OrderedDict[str, tuple[float, float]]" = OrderedDict()

    def allow(self, key: str, now: Optional[float] = None) -> bool:
        """Take one token for ``key``; False when the bucket is empty."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed


def _unwrap(store: Any) -> Any:
    """Rasa wraps the configured tracker store in a FailSafeTrackerStore; reach the real one."""
    return getattr(store, "_tracker_store", store)


async def erase_conversation(agent: Any, sender_id: str) -> bool:
    """Delete every stored event of ``sender_id`` (the user's right to erasure).

    Works for the in-memory, SQL and Redis tracker stores that Beacon configures. Holds the
    conversation's lock so that no message is being processed while its history disappears.
    """
    processor = getattr(agent, "processor", None)
    store = _unwrap(getattr(agent, "tracker_store", None))
    if store is None:
        return False
    lock_store = getattr(processor, "lock_store", None) or getattr(agent, "lock_store", None)

    async def _delete() -> bool:
        from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, SQLTrackerStore

        if isinstance(store, SQLTrackerStore):
            with store.session_scope() as session:
                session.query(store.SQLEvent).filter_by(sender_id=sender_id).delete()
                session.commit()
            return True
        if isinstance(store, InMemoryTrackerStore):
            store.store.pop(sender_id, None)
            return True
        if isinstance(store, RedisTrackerStore):
            store.red.delete(store.key_prefix + sender_id)
            return True
        logger.error("erasure is not implemented for %s", type(store).__name__)
        return False

    if lock_store is not None:
        async with lock_store.lock(sender_id):
            return await _delete()
    return await _delete()


def safe_fallback(language: Optional[str]) -> list:
    """Replies for when Beacon could not answer (action server down or slow, storage failure).

    Never silence: a short apology plus the emergency number and where to find a helpline, from content.
    """
    from actions.content import store
    from actions.language import normalise_code

    lang = normalise_code(language) or "en"
    message = store().render("fallback.unavailable", lang)
    return [{"recipient_id": None, "text": message.text, **({"buttons": message.buttons} if message.buttons else {})}]


_BACKGROUND: Set["asyncio.Future[Any]"] = set()  # strong references: asyncio keeps only weak ones


async def within(processing: Awaitable[Any], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``processing``; True when it finished in time.

    A slow turn is *not* cancelled: cancelling mid-turn would drop the user's message from the tracker
    (Rasa saves at the end of a turn). It finishes in the background, so the conversation stays whole
    and in order (the next message waits for it on the conversation lock); the caller answers the
    user with a safe reply meanwhile. Exceptions propagate when they happen in time, else are logged.
    """
    task = asyncio.ensure_future(processing)
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
        return True
    except asyncio.TimeoutError:
        _BACKGROUND.add(task)
        task.add_done_callback(_finished_late)
        return False


def _finished_late(task: "asyncio.Future[Any]") -> None:
    _BACKGROUND.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("a slow turn failed after its reply timeout: %r", task.exception())

