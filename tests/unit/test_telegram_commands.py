"""Command mapping, plain-text routing (no intent injection) and button payload vetting."""

from __future__ import annotations

import pytest

from channels.telegram_commands import Action, Route, parse_command, route_text, safe_payload

BOT = "BeaconTestBot"


@pytest.mark.parametrize("text,payload", [
    ("/start", "/greet"),
    ("/help", "/ask_help"),
    ("/menu", "/ask_menu"),
    ("/helpline", "/ask_helpline"),
    ("/language", "/set_language"),
    ("/language it", '/set_language{"language":"it"}'),
    ("/language el-GR", '/set_language{"language":"el"}'),
    ("/language FR", '/set_language{"language":"fr"}'),
    ("/language klingon", "/set_language"),  # unknown code: the picker
    ("/START", "/greet"),
    (f"/start@{BOT}", "/greet"),
    (f"/menu@{BOT.lower()}", "/ask_menu"),
    ("/start deep-link-payload", "/greet"),  # deep-link parameters never reach the NLU
    ("  /help  ", "/ask_help"),
])
def test_commands_map_to_payloads(text: str, payload: str) -> None:
    assert route_text(text, BOT) == Route(Action.RASA, payload)


def test_forget_is_handled_by_the_channel() -> None:
    assert route_text("/forget", BOT) == Route(Action.FORGET)
    assert route_text(f"/forget@{BOT}", BOT) == Route(Action.FORGET)


def test_username_unknown_accepts_any_addressee() -> None:
    assert route_text("/start@Whatever", None) == Route(Action.RASA, "/greet")


@pytest.mark.parametrize("text,plain", [
    ("/greet", "greet"),  # a domain intent typed by hand is just a word
    ('/crisis{"crisis_type": "x"}', 'crisis{"crisis_type": "x"}'),
    ('/set_language{"language":"it"}', 'set_language{"language":"it"}'),
    ("//start", "start"),
    ("/ /greet", "greet"),
    ("/start@SomeOtherBot", "start@SomeOtherBot"),  # addressed to another bot: plain text
    ("/restart please", "restart please"),
    ("hello /start", "hello /start"),
    ("\u202e/greet", "greet"),  # a bidi override is removed, then the slash
])
def test_other_slash_text_becomes_plain_text(text: str, plain: str) -> None:
    route = route_text(text, BOT)
    assert route == Route(Action.RASA, plain)
    assert not route.text.startswith("/")


def test_plain_text_is_cleaned() -> None:
    assert route_text("  hi\u200b  there\n\nfriend ", BOT) == Route(Action.RASA, "hi there friend")


@pytest.mark.parametrize("text", ["", "   ", "/", "///", "\u200b"])
def test_nothing_to_send(text: str) -> None:
    assert route_text(text, BOT) is None


def test_parse_command_parts() -> None:
    command = parse_command("/Language@BeaconTestBot  lt extra")
    assert command is not None
    assert (command.name, command.addressee, command.argument) == ("language", "BeaconTestBot", "lt extra")
    assert command.is_for("beacontestbot") and not command.is_for("OtherBot")
    assert parse_command("hello") is None
    assert parse_command("/" + "x" * 33) is None  # longer than Telegram allows


@pytest.mark.parametrize("payload,ok", [
    ("/ask_menu", True),
    ('/set_language{"language":"lt"}', True),
    ('/inform_country{"country":"IT","page":2}', True),
    ("/not_in_domain", False),
    ('/ask_menu{"x": {"nested": 1}}', False),
    ('/ask_menu{"x": [1]}', False),
    ("/ask_menu{not json}", False),
    ('/ask_menu["list"]', False),
    ("ask_menu", False),
    ("/ask menu", False),
    ("", False),
])
def test_safe_payload(payload: str, ok: bool) -> None:
    intents = {"ask_menu", "set_language", "inform_country"}
    assert (safe_payload(payload, intents) == payload) is ok


def test_safe_payload_without_a_domain_checks_shape_only() -> None:
    assert safe_payload("/anything", None) == "/anything"
    assert safe_payload("/any thing", None) is None
