"""What every Beacon action shares: the reply language, the audience, and saying a content key."""

from __future__ import annotations

import logging
from abc import abstractmethod
from typing import Any, Dict, List, Mapping, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.content import Message, refresh, store
from actions.language import resolve_language

logger = logging.getLogger(__name__)

TEEN = "teen"
CARER = "carer"
AUDIENCES = (TEEN, CARER)


class Turn:
    """One action run: the tracker read once, plus helpers to answer in the right language.

    Slot changes are collected in ``events`` so that an action returns them all at the end.
    """

    def __init__(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        self.dispatcher = dispatcher
        self.tracker = tracker
        self.message: Dict[str, Any] = tracker.latest_message or {}
        self.text: str = str(self.message.get("text") or "")
        self.metadata: Dict[str, Any] = self.message.get("metadata") or {}
        self.events: List[EventType] = []
        current = tracker.get_slot("language")
        self.language = resolve_language(self.text, current, self.metadata, self.entity("language"))
        if self.language != current:
            self.events.append(SlotSet("language", self.language))
        self.audience = self._audience()

    def _audience(self) -> str:
        audience = self.tracker.get_slot("audience")
        if audience in AUDIENCES:
            return audience
        hint = self.metadata.get("audience")
        return hint if hint in AUDIENCES else TEEN

    def entity(self, name: str) -> Optional[str]:
        """First value of entity ``name`` in the latest message (button payloads carry these)."""
        for entity in self.message.get("entities") or []:
            if entity.get("entity") == name and entity.get("value") not in (None, ""):
                return str(entity["value"])
        return None

    @property
    def intent(self) -> str:
        """Name of the latest intent."""
        return str((self.message.get("intent") or {}).get("name") or "")

    def slot(self, name: str) -> Any:
        """Current value of a slot, including changes made earlier in this turn."""
        for event in reversed(self.events):
            if event.get("event") == "slot" and event.get("name") == name:
                return event.get("value")
        return self.tracker.get_slot(name)

    def set(self, name: str, value: Any) -> None:
        """Queue a slot change."""
        self.events.append(SlotSet(name, value))

    def render(self, key: str, **values: Any) -> Message:
        """Render a content key in this turn's language."""
        return store().render(key, self.language, **values)

    def text_of(self, key: str, **values: Any) -> str:
        """Only the text of a content key in this turn's language."""
        return store().text(key, self.language, **values)

    def say(self, key: str, buttons_from: Optional[str] = None, **values: Any) -> None:
        """Send a content key; ``buttons_from`` borrows the buttons of another key."""
        message = self.render(key, **values)
        kwargs = message.as_kwargs()
        if buttons_from:
            kwargs["buttons"] = store().buttons(buttons_from, self.language)
        self.dispatcher.utter_message(**kwargs)

    def say_text(self, text: str, buttons: Optional[List[Dict[str, str]]] = None, **extra: Any) -> None:
        """Send text already assembled from content keys (e.g. a helpline list)."""
        kwargs: Dict[str, Any] = {"text": text}
        if buttons:
            kwargs["buttons"] = buttons
        kwargs.update(extra)
        self.dispatcher.utter_message(**kwargs)

    def buttons_on_screen(self) -> Optional[List[str]]:
        """The button payloads of the bot's last message before the latest user message.

        ``None`` when the tracker gives no evidence: no bot message since the user's previous message, a
        restart or new session in between, or a trimmed history.
        """
        seen_user = False
        for event in reversed(list(self.tracker.events or [])):
            kind = event.get("event")
            if kind == "user":
                if seen_user:
                    return None
                seen_user = True
            elif kind == "bot" and seen_user:
                buttons = (event.get("data") or {}).get("buttons") or []
                return [str(b.get("payload")) for b in buttons if isinstance(b, Mapping)]
            elif kind in ("restart", "session_started"):
                return None
        return None

    def key_for_audience(self, base: str) -> str:
        """``signs.intro`` → ``signs.intro.carer`` when that variant exists for a carer."""
        variant = f"{base}.{self.audience}"
        return variant if store().has(variant) else base


class BeaconAction(Action):
    """Base class: subclasses implement :meth:`respond` with a ready :class:`Turn`."""

    @abstractmethod
    def name(self) -> str:
        """The action's name as listed in domain.yml."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        refresh()  # pick up content edits (throttled; a no-op in production when nothing changed)
        turn = Turn(dispatcher, tracker)
        self.respond(turn)
        return turn.events

    @abstractmethod
    def respond(self, turn: Turn) -> None:
        """Answer the user; queue slot changes on ``turn``."""
