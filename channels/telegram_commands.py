"""What a Telegram text or button press means for Beacon: commands, plain text, button payloads.

The rule that keeps users from steering the bot: only the commands below and payloads of buttons
the bot itself offered become Rasa intents. Any other text that starts with ``/`` is sent as plain
text (slashes stripped), so ``/crisis{"x": 1}`` typed by hand is just words to the NLU.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Dict, Optional

from actions.language import normalise_code
from channels.common import clean_text, plain_text, safe_payload  # noqa: F401 - re-exported

#: Telegram commands → Rasa payloads. ``/language`` and ``/forget`` are handled specially.
COMMAND_PAYLOADS: Dict[str, str] = {
    "start": "/greet",
    "help": "/ask_help",
    "menu": "/ask_menu",
    "language": "/set_language",
    "helpline": "/ask_helpline",
}
FORGET_COMMAND = "forget"
#: The commands shown in Telegram's menu, in order (descriptions live in content ``telegram.command.*``).
MENU_COMMANDS = ("start", "help", "menu", "language", "helpline", "forget")

# Telegram command syntax: 1-32 of [A-Za-z0-9_], optionally "@BotUsername", then arguments.
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?$", re.DOTALL)
# A Rasa payload: "/intent" optionally followed by a JSON object of entities.


class Action(str, Enum):
    """What to do with an incoming text."""

    RASA = "rasa"  #: send ``Route.text`` to Rasa
    FORGET = "forget"  #: erase the conversation, then confirm


@dataclass(frozen=True)
class Command:
    """A parsed ``/command@Bot argument``."""

    name: str
    addressee: Optional[str]
    argument: str

    def is_for(self, bot_username: Optional[str]) -> bool:
        """True unless the command names another bot (``/start@SomeOtherBot``)."""
        if not self.addressee or not bot_username:
            return True
        return self.addressee.lower() == bot_username.lower()


@dataclass(frozen=True)
class Route:
    """The decision for one incoming text."""

    action: Action
    text: str = ""


def parse_command(text: str) -> Optional[Command]:
    """Parse ``/name``, ``/name@Bot`` and ``/name args``; ``None`` when ``text`` is not a command."""
    match = _COMMAND.match(text.strip()) if text else None
    if not match:
        return None
    name, addressee, argument = match.groups()
    return Command(name=name.lower(), addressee=addressee, argument=(argument or "").strip())


def route_text(text: str, bot_username: Optional[str] = None) -> Optional[Route]:
    """Decide what an incoming text message means.

    Args:
        text: The message text as Telegram delivered it.
        bot_username: This bot's username, to recognise ``/cmd@ThisBot`` (``None``: accept any).

    Returns:
        A :class:`Route`, or ``None`` when there is nothing to send (blank text, a lone ``/``).
    """
    cleaned = clean_text(text)
    if not cleaned:
        return None
    command = parse_command(cleaned)
    if command is not None and command.is_for(bot_username):
        if command.name == FORGET_COMMAND:
            return Route(Action.FORGET)
        if command.name == "language":
            return Route(Action.RASA, language_payload(command.argument))
        if command.name in COMMAND_PAYLOADS:
            # Arguments are dropped on purpose: "/start <deep-link>" must not reach the NLU.
            return Route(Action.RASA, COMMAND_PAYLOADS[command.name])
    remaining = plain_text(cleaned)
    return Route(Action.RASA, remaining) if remaining else None


def language_payload(argument: str) -> str:
    """``/language it`` → ``/set_language{"language": "it"}``; no or unknown code → the picker."""
    words = argument.split()
    code = normalise_code(words[0]) if words else None
    if code:
        return "/set_language" + json.dumps({"language": code}, separators=(",", ":"))
    return "/set_language"
