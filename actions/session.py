"""Conversation basics: greeting with bot disclosure, audience, menu, help, language, restart."""

from __future__ import annotations

import os
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import AllSlotsReset, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import AUDIENCES, CARER, TEEN, BeaconAction, Turn
from actions.content import SUPPORTED_LANGUAGES, store

FLOW_SLOTS = ("flow", "quiz_order", "quiz_index", "quiz_score", "checkup_platform", "checkup_step",
              "checkup_done", "checkup_skipped", "signs_page", "helpline_page", "helpline_order")


def send_menu(turn: Turn) -> None:
    """The main menu for the user's audience."""
    turn.say(turn.key_for_audience("menu.main"))


def resume_buttons(turn: Turn) -> List[Dict[str, str]]:
    """"Continue where we were" when a quiz or checkup is open (its state lives in slots), else nothing."""
    if turn.slot("flow") in ("quiz", "checkup"):
        return store().buttons("flow.resume_button", turn.language)
    return []


class ActionGreet(BeaconAction):
    """First contact: say plainly that this is a bot and what it is not, then ask who is writing."""

    def name(self) -> str:
        return "action_greet"

    def respond(self, turn: Turn) -> None:
        turn.say("greet.disclosure")
        if turn.tracker.get_slot("audience") in AUDIENCES:
            send_menu(turn)
        else:
            turn.say("greet.ask_audience")


class ActionSetAudience(BeaconAction):
    """Remember whether a young person or a parent/carer is writing, then show their menu."""

    def name(self) -> str:
        return "action_set_audience"

    def respond(self, turn: Turn) -> None:
        audience = CARER if turn.intent == "i_am_carer" else TEEN
        turn.set("audience", audience)
        turn.audience = audience
        turn.say(f"audience.confirm.{audience}")
        send_menu(turn)


class ActionMenu(BeaconAction):
    """The main menu, at any moment."""

    def name(self) -> str:
        return "action_menu"

    def respond(self, turn: Turn) -> None:
        send_menu(turn)


class ActionHelp(BeaconAction):
    """What Beacon can do and how to move around."""

    def name(self) -> str:
        return "action_help"

    def respond(self, turn: Turn) -> None:
        turn.say("help.text")
        send_menu(turn)


class ActionGoodbye(BeaconAction):
    def name(self) -> str:
        return "action_goodbye"

    def respond(self, turn: Turn) -> None:
        turn.say("goodbye.text")


class ActionThanks(BeaconAction):
    def name(self) -> str:
        return "action_thanks"

    def respond(self, turn: Turn) -> None:
        turn.say("thanks.text", buttons_from="menu.back")


class ActionBotChallenge(BeaconAction):
    """"Are you a real person?": an honest answer and the people who can talk now."""

    def name(self) -> str:
        return "action_bot_challenge"

    def respond(self, turn: Turn) -> None:
        from actions.safety import crisis_country
        from actions.signposting import send_helplines

        turn.say("bot.disclosure")
        send_helplines(turn, crisis_country(turn))


class ActionOutOfScope(BeaconAction):
    """Something Beacon cannot help with: a kind answer and the menu, never silence."""

    def name(self) -> str:
        return "action_out_of_scope"

    def respond(self, turn: Turn) -> None:
        turn.say("oos.text")
        send_menu(turn)


class ActionSetLanguage(BeaconAction):
    """Switch language (button, "/language it", "parla italiano"), or show the choice."""

    def name(self) -> str:
        return "action_set_language"

    def respond(self, turn: Turn) -> None:
        chosen = turn.entity("language")
        if chosen in SUPPORTED_LANGUAGES:
            turn.language = chosen
            turn.set("language", chosen)
            turn.say("language.switched")
            send_menu(turn)
            return
        if turn.text and not turn.text.startswith("/"):
            # "parla italiano": the detector already chose this turn's language from the text.
            turn.set("language", turn.language)
            turn.say("language.switched")
            send_menu(turn)
            return
        turn.say("language.choose")


class ActionRestartConversation(BeaconAction):
    """Start over (overrides Rasa's ``action_restart``): forget flow state and audience, keep the language."""

    def name(self) -> str:
        return "action_restart"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        turn = Turn(dispatcher, tracker)
        turn.say("restart.done")
        turn.say("greet.disclosure")
        turn.say("greet.ask_audience")
        return [Restarted(), AllSlotsReset(), SlotSet("language", turn.language)]


def retention_days() -> str:
    """``BEACON_RETENTION_DAYS`` as users read it ("30", "7.5"); ``channels/retention.py`` does the deleting."""
    days = float(os.environ.get("BEACON_RETENTION_DAYS", "30"))
    return str(int(days)) if days.is_integer() else str(days)


class ActionDeleteConversation(BeaconAction):
    """What Beacon keeps of a conversation and how to erase it on this channel (the channels do the erasing).

    Answers "delete my chat" as well as "is this private? / do you save my messages?": safety rule 6 asks
    the bot to say what it keeps and that it cannot contact anyone.
    """

    def name(self) -> str:
        return "action_delete_conversation"

    def respond(self, turn: Turn) -> None:
        turn.say(turn.key_for_audience("privacy.kept"), days=retention_days())
        channel = str(turn.metadata.get("channel") or "other")
        key = f"delete.how.{channel}" if store().has(f"delete.how.{channel}") else "delete.how.other"
        turn.say(key)


class ActionNotUnderstood(BeaconAction):
    """The classifier was unsure (or the text was keyboard mash): say so and ask to rephrase.

    Not the out-of-scope answer ("I can't help with that"): an unclear message may be someone trying to say
    that something online worries them, so the reply says it matters and keeps the helplines one tap away
    (the menu), and an open quiz or checkup one tap away too.
    """

    def name(self) -> str:
        return "action_not_understood"

    def respond(self, turn: Turn) -> None:
        turn.say_text(turn.text_of(turn.key_for_audience("fallback.not_understood")), buttons=resume_buttons(turn))
        send_menu(turn)


class ActionDefaultFallback(ActionNotUnderstood):
    """Core could not decide what to do: the same answer as an unclear message, never silence."""

    def name(self) -> str:
        return "action_default_fallback"
