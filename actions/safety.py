"""The safety net's replies: care first, then the emergency number and helplines, then next steps.

Crisis replies never clear the state of a flow (quiz, checkup): the user can pick it up afterwards.
"""

from __future__ import annotations

from typing import Dict, List, Optional

from actions import helplines
from actions.base import CARER, BeaconAction, Turn
from actions.content import store
from actions.session import resume_buttons
from actions.signposting import current_country, remember_country, send_helplines

CRISIS_TYPES = ("other_self_harm", "self_harm", "sextortion", "meeting", "abuse", "danger")
SELF_HARM_TYPES = ("other_self_harm", "self_harm")
CHECK_IN = "check_in"  # components.safety_net.CHECK_IN: an uncertain classifier guess
# components.safety_net.CRISIS_ABOUT_KEY / SOMEONE_ELSE / ABOUT_SOMEONE_ELSE_CATEGORIES: the message tells
# about a friend's or sibling's danger. A teen then gets the reply for someone worried about a friend.
CRISIS_ABOUT_KEY = "crisis_about"
SOMEONE_ELSE = "someone_else"
ABOUT_SOMEONE_ELSE_CATEGORIES = ("sextortion", "meeting", "abuse", "danger")
OTHER_HARM = "other_harm"  # the content keys crisis.other_harm.teen and crisis.next.other_harm.teen
# components.safety_net.SAFETY_NET_KEY: parse-data key saying which pattern category fired and what the
# classifier had understood before the net stepped in. (Actions do not import the NLU components.)
SAFETY_NET_KEY = "safety_net"


def crisis_country(turn: Turn) -> Optional[str]:
    """The country to give numbers for: named, remembered, or implied by a one-country language."""
    country = current_country(turn)
    if country in helplines.known_countries():
        return country
    return helplines.COUNTRY_BY_LANGUAGE.get(turn.language)


def question_button(turn: Turn, kind: str) -> List[Dict[str, str]]:
    """The button back to the question the message also asked, if a crisis pattern overrode one.

    "My child talks to an adult on Discord, what signs should I look for?" gets the crisis reply first
    (safety rule 2); this keeps the question one tap away instead of dropping it. The classifier's
    intent is read from what the safety net recorded; only topics with a button in
    ``crisis.follow_up`` qualify (none for fallback, small talk or crisis), and a sextortion question
    answered by the sextortion reply, which already carries the steps, gets none.
    """
    asked = (turn.message.get(SAFETY_NET_KEY) or {}).get("classifier_intent")
    if not isinstance(asked, str) or (kind == "sextortion" and asked == "ask_sextortion"):
        return []
    buttons = store().buttons(turn.key_for_audience("crisis.follow_up"), turn.language)
    return [button for button in buttons if button.get("payload") == f"/{asked}"][:1]


def closing_buttons(turn: Turn, kind: Optional[str] = None) -> List[Dict[str, str]]:
    """The question the message also asked (after a crisis reply), "Continue where we were" when a flow is
    open, then the way back to the menu."""
    buttons: List[Dict[str, str]] = question_button(turn, kind) if kind else []
    buttons.extend(resume_buttons(turn))
    buttons.extend(store().buttons("menu.back", turn.language))
    return buttons


def send_image_removal(turn: Turn, country: Optional[str], intro: str = "removal.intro") -> None:
    """Image-removal tools that fit the user's country (Report Remove is UK-only), after ``intro``."""
    tools = helplines.image_removal_tools(country)
    lines = [turn.text_of(f"removal.{tool.id}", url=tool.url) for tool in tools]
    turn.say_text("\n\n".join([turn.text_of(intro), *lines]))


class ActionCrisis(BeaconAction):
    """Answer a message that signals danger, a meeting, abuse, sextortion or self-harm."""

    def name(self) -> str:
        return "action_crisis"

    def respond(self, turn: Turn) -> None:
        kind = turn.entity("crisis_type")
        if kind == CHECK_IN:
            self.check_in(turn)
            return
        if kind not in CRISIS_TYPES:
            kind = "danger"
        if kind == "other_self_harm" and turn.audience == CARER:
            kind = "self_harm"  # a carer's "she says she wants to die" is about the child in their care
        country = crisis_country(turn)
        remember_country(turn, current_country(turn))
        emergency = helplines.emergency_number(country)
        someone_else = self.about_someone_else(turn, kind)
        opening = f"crisis.{OTHER_HARM}.teen" if someone_else else turn.key_for_audience(f"crisis.{kind}")
        turn.say(opening, emergency=emergency)
        send_helplines(turn, country, crisis=True, listening_only=kind in SELF_HARM_TYPES)
        self.next_steps(turn, kind, country, someone_else)
        if not country:
            turn.say("crisis.which_country", buttons_from="helplines.change_country")
        # For someone else's sextortion the reply has no sextortion steps, so the question's button stays.
        turn.say_text(turn.text_of("crisis.closing"), buttons=closing_buttons(turn, OTHER_HARM if someone_else else kind))

    @staticmethod
    def about_someone_else(turn: Turn, kind: str) -> bool:
        """A teen telling about a friend's or sibling's danger (a carer's replies already speak of "the child").

        Their reply thanks them for caring, says it is not the friend's fault, and tells them how to help
        without carrying it alone; it also says that if it is in fact happening to them, the same is true.
        """
        return (turn.audience != CARER and kind in ABOUT_SOMEONE_ELSE_CATEGORIES
                and turn.message.get(CRISIS_ABOUT_KEY) == SOMEONE_ELSE)

    @staticmethod
    def next_steps(turn: Turn, kind: str, country: Optional[str], someone_else: bool) -> None:
        """What to do next: sextortion's steps and image removal, or the steps for this kind of crisis."""
        if someone_else:
            turn.say(f"crisis.next.{OTHER_HARM}.teen")
            if kind == "sextortion":
                send_image_removal(turn, country, intro="removal.intro.someone_else")
        elif kind == "sextortion":
            turn.say(turn.key_for_audience("sextortion.steps"))
            send_image_removal(turn, country)
        else:
            next_steps = turn.key_for_audience(f"crisis.next.{kind}")
            turn.say(next_steps if store().has(next_steps) else turn.key_for_audience("crisis.next"))

    @staticmethod
    def check_in(turn: Turn) -> None:
        """The classifier suspects a crisis but is unsure: ask, with the emergency number and a one-tap way
        to the full crisis reply, rather than answer a guess with one."""
        emergency = helplines.emergency_number(crisis_country(turn))
        turn.say(turn.key_for_audience("crisis.check_in"), emergency=emergency, buttons_from="crisis.check_in.buttons")


class ActionSextortion(BeaconAction):
    """"What is sextortion / what do I do?": the guidance, without assuming an emergency."""

    def name(self) -> str:
        return "action_sextortion"

    def respond(self, turn: Turn) -> None:
        country = crisis_country(turn)
        turn.say(turn.key_for_audience("sextortion.intro"))
        turn.say(turn.key_for_audience("sextortion.steps"))
        send_image_removal(turn, country)
        send_helplines(turn, country, crisis=False)
        turn.say_text(turn.text_of("crisis.closing"), buttons=closing_buttons(turn))


class ActionOfferImage(BeaconAction):
    """A photo, video or sticker arrived (or was offered): never needed, never kept; what to do if asked."""

    def name(self) -> str:
        return "action_offer_image"

    def respond(self, turn: Turn) -> None:
        turn.say(turn.key_for_audience("image.not_needed"))
        turn.say(turn.key_for_audience("image.if_asked"), buttons_from="image.buttons")
