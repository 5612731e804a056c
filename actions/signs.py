"""Teaching the warning signs: teen and carer paths, specific questions, what to do, talking to a child.

Pages are content keys ``signs.<audience>.<n>`` (n = 1, 2, ...), each short enough for a phone screen.
A free question that names a specific sign ("he wants me to delete our chats") is answered with that
sign's explanation: ``signs.topic.<name>`` entries carry ``keywords`` (regular expressions, per language).
"""

from __future__ import annotations

import re
from functools import cache
from typing import List, Optional, Tuple

from actions.base import CARER, TEEN, BeaconAction, Turn
from actions.content import DEFAULT_LANGUAGE, store
from actions.flow import FLOWS


def page_count(prefix: str) -> int:
    """Number of consecutive pages ``prefix.1``, ``prefix.2``, ... defined in English."""
    count = 0
    while store().has(f"{prefix}.{count + 1}", DEFAULT_LANGUAGE):
        count += 1
    return count


@cache
def _topics(language: str) -> Tuple[Tuple[str, Tuple[re.Pattern[str], ...]], ...]:
    found = []
    for key in store().keys(language):
        if key.startswith("signs.topic.") and key.count(".") == 2:
            patterns = tuple(re.compile(str(p), re.IGNORECASE) for p in store().raw(key, language).get("keywords") or [])
            found.append((key, patterns))
    return tuple(sorted(found))


def specific_topic(text: str, language: str) -> Optional[str]:
    """The ``signs.topic.*`` key whose keywords match ``text`` (user's language, then English)."""
    for lang in dict.fromkeys((language, DEFAULT_LANGUAGE)):
        for key, patterns in _topics(lang):
            if any(p.search(text) for p in patterns):
                return key
    return None


def send_page(turn: Turn, audience: str, page: int) -> None:
    """Page ``page`` of the audience's lesson with tell-me-more / what-can-I-do / menu buttons."""
    prefix = f"signs.{audience}"
    total = page_count(prefix)
    page = max(1, min(page, total))
    buttons_key = "signs.buttons" if page < total else "signs.buttons_last"
    turn.say(f"{prefix}.{page}", buttons_from=buttons_key)
    turn.set("signs_page", float(page))


class ActionWarningSigns(BeaconAction):
    """The warning signs for the user's audience, or the answer to a specific question."""

    def name(self) -> str:
        return "action_warning_signs"

    def respond(self, turn: Turn) -> None:
        topic = specific_topic(turn.text, turn.language)
        if topic:
            turn.say(topic, buttons_from="signs.buttons_topic")
            return
        send_page(turn, turn.audience, 1)


class ActionSignsInChild(BeaconAction):
    """A parent asks how to tell whether their child is being groomed: the carer lesson."""

    def name(self) -> str:
        return "action_signs_in_child"

    def respond(self, turn: Turn) -> None:
        if turn.tracker.get_slot("audience") is None:
            turn.set("audience", CARER)
        turn.audience = CARER
        topic = specific_topic(turn.text, turn.language)
        if topic:
            turn.say(topic, buttons_from="signs.buttons_topic")
            return
        send_page(turn, CARER, 1)


class ActionTellMeMore(BeaconAction):
    """The next page of the lesson the user is reading; under a quiz question or checkup step, that flow.

    "Next" typed right under a quiz question or a checkup step means the quiz or the checkup (its question
    or step is shown again), not the lesson. Anywhere else, including after the user stopped the quiz,
    it is the lesson as before.
    """

    def name(self) -> str:
        return "action_tell_me_more"

    def respond(self, turn: Turn) -> None:
        flow = FLOWS.get(turn.slot("flow") or "")
        if flow is not None and flow.ON_SCREEN_PAYLOAD in (turn.buttons_on_screen() or []):
            flow.resume(turn)
            return
        current = int(turn.slot("signs_page") or 0)
        if current >= page_count(f"signs.{turn.audience}"):
            turn.say("signs.end", buttons_from="signs.buttons_last")
            turn.set("signs_page", 0.0)
            return
        send_page(turn, turn.audience, current + 1)


class ActionWhatToDo(BeaconAction):
    """What to do when worried: trust your gut, evidence, block and report, tell someone, who to call."""

    def name(self) -> str:
        return "action_what_to_do"

    def respond(self, turn: Turn) -> None:
        turn.say(turn.key_for_audience("todo"))


class ActionTalkToChild(BeaconAction):
    """How a carer can start the conversation with their child."""

    def name(self) -> str:
        return "action_talk_to_child"

    def respond(self, turn: Turn) -> None:
        if turn.tracker.get_slot("audience") is None:
            turn.set("audience", CARER)
        turn.say("talk.carer")


def audiences() -> List[str]:
    """The audiences that have a lesson."""
    return [TEEN, CARER]
