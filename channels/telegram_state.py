"""Small, bounded, in-memory state the Telegram channel keeps between updates.

Everything here lives in one Rasa process and is lost on restart by design (nothing about a user is
written to disk by the channel). With several Sanic workers each keeps its own copy; see
docs/telegram.md.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from collections import OrderedDict
from typing import AsyncIterator, Dict, Hashable, Iterable, List, Optional, Tuple

#: Telegram's limit for ``InlineKeyboardButton.callback_data``, in bytes.
CALLBACK_DATA_LIMIT = 64


class RecentIds:
    """Remembers the last ``size`` update ids, so a retried webhook delivery is handled once.

    Telegram re-sends an update when it did not get a 2xx in time; ids only grow, so a bounded
    window is enough.
    """

    def __init__(self, size: int = 4096) -> None:
        if size < 1:
            raise ValueError("size must be positive")
        self.size = size
        self._ids: "OrderedDict[int, None]" = OrderedDict()

    def is_new(self, update_id: int) -> bool:
        """Record ``update_id``; ``True`` the first time it is seen, ``False`` on repeats."""
        if update_id in self._ids:
            self._ids.move_to_end(update_id)
            return False
        self._ids[update_id] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._ids)


class CallbackData:
    """Fits Rasa button payloads into Telegram's 64-byte ``callback_data``.

    Short payloads travel as they are. Longer ones (e.g. ``/set_language{"language":"lt"}`` with a
    few entities) are replaced by ``"k:" + 16 characters of their SHA-256``; the key is deterministic,
    so payloads :meth:`pin`-ned at start-up (every button in the content files) still resolve after
    a restart. Payloads seen only at run time are kept in a bounded LRU.
    """

    PREFIX = "k:"

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._pinned: Dict[str, str] = {}
        self._recent: "OrderedDict[str, str]" = OrderedDict()

    @classmethod
    def key_for(cls, payload: str) -> str:
        """The short key of ``payload`` (always the same for the same payload)."""
        digest = hashlib.sha256(payload.encode("utf-8")).digest()
        return cls.PREFIX + base64.urlsafe_b64encode(digest).decode("ascii")[:16]

    @classmethod
    def fits(cls, payload: str) -> bool:
        """True when ``payload`` can be sent as ``callback_data`` unchanged."""
        return len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT and not payload.startswith(cls.PREFIX)

    def encode(self, payload: str) -> str:
        """The ``callback_data`` to send for ``payload``."""
        if self.fits(payload):
            return payload
        key = self.key_for(payload)
        if key not in self._pinned:
            self._recent.pop(key, None)
            self._recent[key] = payload
            while len(self._recent) > self.max_entries:
                self._recent.popitem(last=False)
        return key

    def decode(self, data: str) -> Optional[str]:
        """The payload behind ``callback_data``; ``None`` for a key that is unknown or expired."""
        if not data.startswith(self.PREFIX):
            return data
        if data in self._pinned:
            return self._pinned[data]
        payload = self._recent.get(data)
        if payload is not None:
            self._recent.move_to_end(data)
        return payload

    def pin(self, payloads: Iterable[str]) -> int:
        """Keep the keys of ``payloads`` for the life of the process; returns how many needed a key."""
        count = 0
        for payload in payloads:
            if isinstance(payload, str) and not self.fits(payload):
                self._pinned[self.key_for(payload)] = payload
                count += 1
        return count

    def __len__(self) -> int:
        return len(self._pinned) + len(self._recent)


class KeyedLocks:
    """One :class:`asyncio.Lock` per key (a chat), dropped when nobody holds or waits for it.

    Webhook updates are answered at once and handled in background tasks; holding the chat's lock
    keeps one chat's messages in arrival order (asyncio locks are FIFO) while chats run in parallel.
    """

    def __init__(self) -> None:
        self._locks: Dict[Hashable, Tuple[asyncio.Lock, List[int]]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """``async with locks.hold(chat):`` runs the block alone for that chat."""
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._locks.pop(key, None)

    def __len__(self) -> int:
        return len(self._locks)
