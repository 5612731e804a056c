"""Load and ordering (issue #10): 200 concurrent conversations × numbered turns through the REST channel.

``make test`` runs 200 conversations × 5 turns (1,000 messages, 200 in flight) to keep CI short;
``make load`` runs the full 200 × 20 (``BEACON_LOAD_TURNS=20``).

Every request must succeed with a reply; afterwards the tracker store (SQLite) must hold, for every
conversation, exactly the 20 user messages in the order they were sent, none duplicated, each followed
by its own bot reply before the next user message.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
import uuid
from collections import defaultdict

import httpx
import pytest

from tools import stack as stack_tool

CONVERSATIONS = int(os.environ.get("BEACON_LOAD_CONVERSATIONS", "200"))
TURNS = int(os.environ.get("BEACON_LOAD_TURNS", "5"))


@pytest.fixture(scope="module")
def load_stack(model_path, tmp_path_factory):
    var = tmp_path_factory.mktemp("load")
    env = {"BEACON_DB_NAME": str(var / "load.db"), "BEACON_VAR_DIR": str(var)}
    with stack_tool.running_stack(var / "log", env=env) as running:
        yield running, var / "load.db"


async def _conversation(client: httpx.AsyncClient, sender: str, errors: list) -> None:
    for turn in range(TURNS):
        text = "/ask_menu" if turn == 0 else f"message {turn} of {sender}"
        try:
            response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
            if response.status_code != 200 or not response.json():
                errors.append((sender, turn, response.status_code))
        except httpx.HTTPError as exc:
            errors.append((sender, turn, repr(exc)))


def test_concurrent_conversations_keep_every_reply_in_order(load_stack):
    running, db_path = load_stack
    senders = [f"load-{uuid.uuid4().hex[:10]}" for _ in range(CONVERSATIONS)]
    errors: list = []

    async def drive() -> float:
        limits = httpx.Limits(max_connections=CONVERSATIONS, max_keepalive_connections=CONVERSATIONS)
        async with httpx.AsyncClient(base_url=running.servers[-1].url, timeout=180, limits=limits) as client:
            started = time.perf_counter()
            await asyncio.gather(*(_conversation(client, s, errors) for s in senders))
            return time.perf_counter() - started

    elapsed = asyncio.run(drive())
    print(f"\n{CONVERSATIONS * TURNS} messages in {elapsed:.1f} s ({CONVERSATIONS * TURNS / elapsed:.1f} msg/s), errors {len(errors)}")
    assert not errors, errors[:10]

    events = defaultdict(list)
    with sqlite3.connect(db_path) as db:
        for sender_id, type_name, data in db.execute("SELECT sender_id, type_name, data FROM events ORDER BY id"):
            if sender_id in senders and type_name in ("user", "bot"):
                events[sender_id].append((type_name, json.loads(data).get("text")))
    for sender in senders:
        sequence = events[sender]
        user_texts = [text for kind, text in sequence if kind == "user"]
        expected = ["/ask_menu"] + [f"message {turn} of {sender}" for turn in range(1, TURNS)]
        assert user_texts == expected, f"{sender}: user messages missing, duplicated or out of order"
        for index, (kind, _) in enumerate(sequence):
            if kind == "user":
                following = sequence[index + 1] if index + 1 < len(sequence) else None
                assert following and following[0] == "bot", f"{sender}: a user message has no reply before the next"
