"""Answers that depend on where the conversation stands: yes/no/not sure, and "continue where we were".

A flow (quiz or checkup) keeps all its state in slots, so any action server replica can continue it and
a crisis reply in between leaves it intact. Each flow module exposes ``answer(turn)``, ``resume(turn)`` and
``ON_SCREEN_PAYLOAD``, a payload of the buttons under its current question or step.
"""

from __future__ import annotations

from actions import checkup, quiz
from actions.base import BeaconAction, Turn
from actions.session import send_menu

FLOWS = {"quiz": quiz, "checkup": checkup}


class ActionAnswer(BeaconAction):
    """"yes" / "no" / "not sure" (typed or pressed) go to the open flow; outside a flow, the menu."""

    def name(self) -> str:
        return "action_answer"

    def respond(self, turn: Turn) -> None:
        module = FLOWS.get(turn.slot("flow") or "")
        if module is not None:
            module.answer(turn)
            return
        turn.say("flow.nothing_open")
        send_menu(turn)


class ActionContinueFlow(BeaconAction):
    """"Continue my checkup / the quiz": pick up exactly where the user left off."""

    def name(self) -> str:
        return "action_continue_flow"

    def respond(self, turn: Turn) -> None:
        module = FLOWS.get(turn.slot("flow") or "")
        if module is not None:
            module.resume(turn)
            return
        if turn.slot("checkup_platform"):
            checkup.resume(turn)
            return
        turn.say("flow.nothing_open")
        send_menu(turn)
