"""Actions that point people to helplines: by country, by audience, "more", and the country choice."""

from __future__ import annotations

from typing import Dict, List, Optional

from actions import helplines
from actions.base import BeaconAction, Turn
from actions.content import store

LABEL_KEYS = ("open_24_7", "check_website", "check_hours")
# How the first page of helplines was chosen (slot helpline_order), so "more" continues the same list.
PLAIN, CRISIS, LISTENING = "plain", "crisis", "listening"


def labels(language: str) -> Dict[str, str]:
    """Kind names and caveats used to format helpline lines, in ``language``."""
    content = store()
    found = {key: content.text(f"helplines.{key}", language) for key in LABEL_KEYS}
    for kind in ("emergency", "child_helpline", "carer_helpline", "missing_children", "online_safety_helpline",
                 "abuse_report_hotline", "police_report", "image_removal"):
        found[f"kind.{kind}"] = content.text(f"helplines.kind.{kind}", language)
    return found


def current_country(turn: Turn) -> Optional[str]:
    """Country from this message's text or button, else the remembered one."""
    from_entity = turn.entity("country")
    if from_entity and (from_entity in helplines.known_countries() or from_entity == "OTHER"):
        return from_entity
    from_text, _ = helplines.country_from_text(turn.text)
    if from_text:
        return from_text
    return turn.slot("country")


def remember_country(turn: Turn, country: Optional[str]) -> None:
    if country and country != turn.tracker.get_slot("country"):
        turn.set("country", country)


def country_buttons(turn: Turn) -> List[Dict[str, str]]:
    """One button per offered country plus "another country"."""
    buttons = [{"title": turn.text_of(f"country.{code}"), "payload": f'/inform_country{{"country":"{code}"}}'}
               for code in helplines.OFFERED_COUNTRIES]
    buttons.append({"title": turn.text_of("country.OTHER"), "payload": '/inform_country{"country":"OTHER"}'})
    return buttons


def helpline_text(turn: Turn, code: Optional[str], shown: List[helplines.Service], crisis: bool) -> str:
    """The list of ``shown`` services, with header and caveats, from content (``code``: a known country)."""
    names = labels(turn.language)
    lines = [helplines.format_service(service, names) for service in shown]
    if code:
        header = turn.text_of("helplines.header", country=turn.text_of(f"country.{code}"))
    else:
        header = turn.text_of("helplines.header_unknown")
    body = "\n".join(lines)
    extra = []
    if not code and any(s.id == "child_helpline_116111" for s in shown):
        extra.append(turn.text_of("helplines.116111_caveat"))
    if not crisis:
        extra.append(turn.text_of("helplines.confidential"))
    return "\n\n".join(part for part in [header, body, *extra] if part)


def helpline_buttons(turn: Turn, more_to_show: bool) -> List[Dict[str, str]]:
    """"More services" when a next page exists, then "change country"."""
    buttons = []
    if more_to_show:
        buttons.extend(store().buttons("helplines.more_button", turn.language))
    buttons.extend(store().buttons("helplines.change_country", turn.language))
    return buttons


def send_helplines(turn: Turn, country: Optional[str], crisis: bool = False, page: int = 0,
                   extra_buttons: Optional[List[Dict[str, str]]] = None, listening_only: bool = False) -> bool:
    """Send the helpline block; tap-to-call links go along for channels that render them.

    ``listening_only``: a self-harm reply leaves reporting lines off its first page. Returns False, sending
    nothing, when ``page`` 1 is asked for and the list has no second page.
    """
    code = country if country in helplines.known_countries() else None
    first, rest = helplines.select(code, turn.audience, turn.language, crisis=crisis, listening_only=listening_only)
    shown = first if page == 0 else rest
    if page and not shown:
        return False
    turn.set("helpline_page", float(page))  # what "more" continues from
    if page == 0:
        turn.set("helpline_order", LISTENING if listening_only else CRISIS if crisis else PLAIN)
    buttons = helpline_buttons(turn, more_to_show=bool(rest) and page == 0) + (extra_buttons or [])
    turn.say_text(helpline_text(turn, code, shown, crisis), buttons=buttons,
                  json_message={"links": helplines.tel_links(shown)} if shown else None)
    return True


class ActionHelplines(BeaconAction):
    """"Who can I call?": the best services for the country and audience, at most three first."""

    def name(self) -> str:
        return "action_helplines"

    def respond(self, turn: Turn) -> None:
        country = current_country(turn)
        remember_country(turn, country)
        if not country:
            turn.say("helplines.ask_country")
            turn.say_text(turn.text_of("helplines.choose_country"), buttons=country_buttons(turn))
            send_helplines(turn, None)
            return
        send_helplines(turn, country)
        turn.say("helplines.after", buttons_from="menu.back")


class ActionSetCountry(BeaconAction):
    """The user named or picked a country: remember it and show its services."""

    def name(self) -> str:
        return "action_set_country"

    def respond(self, turn: Turn) -> None:
        # Only what this message says counts: a bare "change country" button must show the choice.
        country = turn.entity("country") or helplines.country_from_text(turn.text)[0]
        if country not in helplines.known_countries() and country != "OTHER":
            turn.say_text(turn.text_of("helplines.choose_country"), buttons=country_buttons(turn))
            return
        remember_country(turn, country)
        turn.say("helplines.country_saved",
                 country=turn.text_of(f"country.{country}") if country != "OTHER" else turn.text_of("country.OTHER"))
        send_helplines(turn, country)


class ActionMoreHelplines(BeaconAction):
    """The services that did not fit on the first page."""

    def name(self) -> str:
        return "action_more_helplines"

    def respond(self, turn: Turn) -> None:
        if turn.tracker.get_slot("helpline_page") is None:
            # "Which helplines are there?" can read as "what other helplines are there?": with no list
            # shown yet in this conversation, "the rest" would skip the best services, so show them first.
            ActionHelplines().respond(turn)
            return
        # The rest of the list last shown: after a crisis or self-harm reply its order differs from a plain one.
        order = turn.tracker.get_slot("helpline_order") or PLAIN
        shown = send_helplines(turn, current_country(turn), crisis=order in (CRISIS, LISTENING),
                               listening_only=order == LISTENING, page=1)
        if not shown:
            turn.say("helplines.no_more", buttons_from="menu.back")
