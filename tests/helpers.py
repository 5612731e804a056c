"""Helpers for action tests: a rasa-sdk Tracker built from a dict, and running an action."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

DOMAIN: Dict[str, Any] = {}


def tracker(
    text: str = "",
    intent: str = "",
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    sender: str = "test-user",
    parse_data: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    """A Tracker whose latest message is ``text`` classified as ``intent``; ``parse_data`` adds more keys
    of the NLU result (e.g. what the safety net recorded), ``events`` the conversation so far."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
        "metadata": metadata or {},
        **(parse_data or {}),
    }
    return Tracker(sender, dict(slots or {}), latest, list(events or []), False, None, {}, "action_listen")


def run(action: Action, track: Tracker) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Run ``action`` and return (messages sent, events returned)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, DOMAIN))
    return dispatcher.messages, events


def payloads(message: Dict[str, Any]) -> List[str]:
    """The payloads of one message's buttons, in order."""
    return [b["payload"] for b in message.get("buttons") or []]


def texts(messages: List[Dict[str, Any]]) -> str:
    """All texts and button titles of a reply, joined."""
    parts = []
    for message in messages:
        parts.append(message.get("text") or "")
        parts.extend(b.get("title", "") for b in message.get("buttons") or [])
    return "\n".join(parts)


def slots_after(before: Dict[str, Any], events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The slots once ``events`` are applied (what Rasa sends with the next message)."""
    return {**before, **slot_events(events)}


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The slot values set by ``events`` (last one wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def shown_then_typed(message: Dict[str, Any], text: str) -> List[Dict[str, Any]]:
    """Tracker events: the bot sent ``message`` (as an action returns it), then the user typed ``text``."""
    bot = {"event": "bot", "text": message.get("text"), "data": {"buttons": message.get("buttons") or []}}
    return [bot, {"event": "action", "name": "action_listen"}, {"event": "user", "text": text}]
