"""Placeholder: the checkup flow is being written (answer/resume interface used by actions/flow.py)."""

from actions.base import Turn


def answer(turn: Turn) -> None:
    """Handle yes / no / not sure inside the checkup."""
    turn.say("flow.nothing_open")


def resume(turn: Turn) -> None:
    """Continue the checkup where the user left off."""
    turn.say("flow.nothing_open")
