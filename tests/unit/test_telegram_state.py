"""Update de-duplication, callback short keys and per-chat ordering."""

from __future__ import annotations

import asyncio
from typing import List

import pytest

from channels.telegram_state import CALLBACK_DATA_LIMIT, CallbackData, KeyedLocks, RecentIds


def test_each_update_id_is_new_once() -> None:
    recent = RecentIds(size=3)
    assert recent.is_new(1) and recent.is_new(2)
    assert not recent.is_new(1)
    assert recent.is_new(3) and recent.is_new(4)  # 1 was refreshed, so 2 is the oldest and goes
    assert len(recent) == 3
    assert recent.is_new(2)
    assert not recent.is_new(4)


def test_recent_ids_stay_bounded() -> None:
    recent = RecentIds(size=100)
    for update_id in range(10_000):
        assert recent.is_new(update_id)
    assert len(recent) == 100
    assert not recent.is_new(9_999)
    assert recent.is_new(0)


def test_short_payloads_travel_unchanged() -> None:
    keys = CallbackData()
    payload = '/set_language{"language":"it"}'
    assert keys.encode(payload) == payload
    assert keys.decode(payload) == payload
    assert len(keys) == 0


def test_long_payloads_get_a_short_key() -> None:
    keys = CallbackData()
    payload = '/inform_country{"country":"GB","audience":"carer","page":"3","source":"helpline-list"}'
    assert len(payload.encode()) > CALLBACK_DATA_LIMIT
    data = keys.encode(payload)
    assert data.startswith("k:") and len(data.encode()) <= CALLBACK_DATA_LIMIT
    assert keys.decode(data) == payload
    assert keys.encode(payload) == data  # deterministic


def test_byte_length_counts_not_characters() -> None:
    keys = CallbackData()
    greek = "/x" + "α" * 40  # 42 characters, 82 bytes
    assert keys.encode(greek).startswith("k:")


def test_payload_that_looks_like_a_key_is_mapped_too() -> None:
    keys = CallbackData()
    data = keys.encode("k:abc")
    assert data != "k:abc"
    assert keys.decode(data) == "k:abc"


def test_unknown_keys_are_expired() -> None:
    assert CallbackData().decode("k:AAAAAAAAAAAAAAAA") is None


def test_lru_forgets_the_oldest_runtime_keys() -> None:
    keys = CallbackData(max_entries=2)
    payloads = [f"/intent{{\"value\":\"{'x' * 60}{i}\"}}" for i in range(3)]
    data = [keys.encode(p) for p in payloads]
    assert keys.decode(data[0]) is None
    assert keys.decode(data[1]) == payloads[1] and keys.decode(data[2]) == payloads[2]


def test_pinned_keys_survive_restarts_and_eviction() -> None:
    long_payload = "/ask_menu" + '{"from":"' + "y" * 80 + '"}'
    before_restart = CallbackData().encode(long_payload)
    keys = CallbackData(max_entries=1)
    assert keys.pin(["/short", long_payload, 42]) == 1  # type: ignore[list-item]
    for i in range(5):
        keys.encode("/z" + "z" * 70 + str(i))
    assert keys.decode(before_restart) == long_payload


async def test_keyed_locks_keep_order_per_chat_and_clean_up() -> None:
    locks = KeyedLocks()
    events: List[str] = []

    async def work(chat: int, label: str, delay: float) -> None:
        async with locks.hold(chat):
            events.append(f"{label}-start")
            await asyncio.sleep(delay)
            events.append(f"{label}-end")

    await asyncio.gather(work(1, "a1", 0.05), work(1, "a2", 0.0), work(2, "b1", 0.01))
    assert events.index("a1-end") < events.index("a2-start")  # same chat: one after the other
    assert events.index("b1-start") < events.index("a1-end")  # other chat: in parallel
    assert len(locks) == 0


async def test_keyed_lock_is_released_on_error() -> None:
    locks = KeyedLocks()
    with pytest.raises(RuntimeError):
        async with locks.hold("chat"):
            raise RuntimeError("boom")
    assert len(locks) == 0
