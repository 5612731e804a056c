"""Privacy checkups, platform by platform (issue #7): actions run with rasa-sdk's CollectingDispatcher on
Trackers built from dicts, plus checks of the checkup content (metadata, parity, lengths, links, facts)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import checkup
from actions.checkup import ActionCheckup, ActionCheckupStep
from actions.content import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, placeholders, store
from actions.flow import ActionAnswer, ActionContinueFlow
from tests.helpers import payloads

ROOT = Path(__file__).resolve().parents[2]
FACTS = ROOT.parent / "shared" / "facts" / "content-facts.md"
PLATFORMS = ("instagram", "tiktok", "snapchat", "whatsapp", "discord", "roblox", "youtube", "telegram", "fortnite")
AUDIENCES = ("teen", "carer")
MAX_CHARS = 500
STEP_PARTS = ("title", "teen", "carer", "where")


# --- a conversation in slots ---------------------------------------------------------------------


class Chat:
    """A user talking to the checkup actions; slots carry over between turns as Rasa would send them."""

    def __init__(self, language: Optional[str] = "en", audience: str = "teen", **slots: Any) -> None:
        self.slots: Dict[str, Any] = {"language": language, "audience": audience, **slots}
        self.messages: List[Dict[str, Any]] = []

    def _run(self, action, text: str, intent: str, entities: Optional[List[Dict[str, Any]]] = None):
        tracker = Tracker.from_dict({
            "sender_id": "checkup-test",
            "slots": dict(self.slots),
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 1.0},
                               "entities": entities or [], "metadata": {}},
            "events": [],
            "latest_action_name": "action_listen",
        })
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, tracker, {}))
        self.slots.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
        self.messages = dispatcher.messages
        return self.messages

    def choose(self, platform: str):
        return self._run(ActionCheckup(), f'/privacy_checkup{{"platform":"{platform}"}}', "privacy_checkup",
                         [{"entity": "platform", "value": platform}])

    def ask(self, text: str):
        return self._run(ActionCheckup(), text, "privacy_checkup")

    def press(self, intent: str):
        return self._run(ActionCheckupStep(), f"/{intent}", intent)

    def answer(self, intent: str):
        return self._run(ActionAnswer(), f"/{intent}", intent)

    def resume(self):
        return self._run(ActionContinueFlow(), "/continue_flow", "continue_flow")

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)

    @property
    def payloads(self) -> List[str]:
        return [b["payload"] for m in self.messages for b in m.get("buttons") or []]


def text_of(key: str, language: str = "en", **values: Any) -> str:
    return store().text(key, language, **values)


def title(platform: str, step: str, language: str = "en") -> str:
    return text_of(f"checkup.{platform}.{step}.title", language)


def steps_of(platform: str) -> List[str]:
    return [s.id for s in checkup.platforms()[platform].steps]


def checkup_keys(language: str) -> set:
    return {k for k in store().keys(language) if k.startswith("checkup.")}


# --- metadata ------------------------------------------------------------------------------------


def test_every_required_platform_has_two_to_four_steps():
    found = checkup.platforms()
    assert set(PLATFORMS) <= set(found)
    for platform in PLATFORMS:
        assert 2 <= len(found[platform].steps) <= 4, platform


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_step_has_last_checked_and_source(platform):
    item = checkup.platforms()[platform]
    assert item.help_url.startswith("https://")
    for step in item.steps:
        assert isinstance(step.last_checked, dt.date), step.id
        assert step.last_checked <= dt.date(2026, 11, 29), step.id
        assert step.source.startswith("https://"), step.id
        assert step.refs, f"{platform}.{step.id} names no fact keys"


@pytest.mark.skipif(not FACTS.exists(), reason="shared facts file not available")
def test_every_link_and_fact_key_comes_from_the_facts_file():
    facts = FACTS.read_text(encoding="utf-8")
    references = facts[facts.index("## References"):]
    for item in checkup.platforms().values():
        for url in {item.help_url, *(s.help_url for s in item.steps if s.help_url), *(s.source for s in item.steps)}:
            assert url in references, f"{item.id}: {url} is not in the facts references"
        for step in item.steps:
            for ref in step.refs:
                assert f"- {ref}" in references, f"{item.id}.{step.id}: unknown reference {ref}"


def test_stale_steps_lists_old_steps_only():
    stale = {(s.platform, s.step) for s in checkup.stale_steps(dt.date(2026, 11, 29))}
    assert ("tiktok", "direct_messages") in stale  # source from Feb 2022
    assert ("youtube", "uploads_live") in stale  # Aug 2021
    assert ("tiktok", "private_account") not in stale  # checked against the facts on 2026-11-29
    assert ("discord", "server_dms") not in stale  # May 2026
    assert checkup.stale_steps("2026-11-29", max_age_days=100_000) == []
    everything = checkup.stale_steps(dt.date(2028, 1, 1))
    assert len(everything) == sum(len(p.steps) for p in checkup.platforms().values())
    assert all(s.source.startswith("https://") and isinstance(s.last_checked, dt.date) for s in everything)


def test_stale_steps_are_shown_with_the_check_the_help_page_caveat(monkeypatch):
    monkeypatch.setattr(checkup, "_today", lambda: dt.date(2030, 1, 1))
    chat = Chat()
    chat.choose("discord")  # not a ⚠ step, but by 2030 its menu path is years old
    assert text_of("checkup.note.weak") in chat.text and "https://" in chat.text


# --- content -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_key_parity_placeholders_payloads_and_review_marks(language):
    english = checkup_keys(DEFAULT_LANGUAGE)
    theirs = checkup_keys(language)
    assert theirs == english, f"missing {sorted(english - theirs)[:5]}, extra {sorted(theirs - english)[:5]}"
    for key in english:
        en, other = store().raw(key, DEFAULT_LANGUAGE), store().raw(key, language)
        assert placeholders(str(other.get("text", ""))) == placeholders(str(en.get("text", ""))), key
        assert payloads(other) == payloads(en), key
        for button_en, button in zip(en.get("buttons") or [], other.get("buttons") or []):
            assert placeholders(button["title"]) == placeholders(button_en["title"]), key
        if language != DEFAULT_LANGUAGE:
            assert other.get("review") == "native", f"{language}:{key} is not marked review: native"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_step_has_all_texts_and_keywords(language):
    for platform in PLATFORMS:
        for step in steps_of(platform):
            for part in STEP_PARTS:
                key = f"checkup.{platform}.{step}.{part}"
                assert store().has(key, language), f"{language}:{key}"
            keywords = store().raw(f"checkup.{platform}.{step}.title", language).get("keywords") or []
            assert keywords, f"{language}:{platform}.{step} has no keywords"
            for pattern in keywords:
                re.compile(checkup.normalise(str(pattern)))
        assert store().has(f"checkup.{platform}.intro.carer", language), f"{language}:{platform} has no carer tools"


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED_LANGUAGES if lang != DEFAULT_LANGUAGE])
def test_translations_are_not_copies_of_english(language):
    same = [k for k in checkup_keys(DEFAULT_LANGUAGE)
            if k.endswith((".teen", ".carer", ".where")) and text_of(k, language) == text_of(k)]
    assert not same, f"{language} copies English in {same[:5]}"


def test_no_phone_numbers_in_checkup_content():
    phone = re.compile(r"(?<![\w/=.-])\+?\d[\d .\-]{5,}\d")
    for language in SUPPORTED_LANGUAGES:
        for key in checkup_keys(language):
            text = re.sub(r"https://\S+", "", str(store().raw(key, language).get("text", "")))
            assert not phone.search(text), f"{language}:{key} looks like it has a phone number"
            assert "tel:" not in text


# --- the complete walkthrough of every platform in every language ----------------------------------


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_complete_walkthrough(platform, language, audience, caplog):
    name = checkup.platforms()[platform].name
    chat = Chat(language, audience)
    with caplog.at_level(logging.WARNING, logger="actions.content"):
        chat.choose(platform)
        assert chat.slots["flow"] == "checkup" and chat.slots["checkup_platform"] == platform
        intro = text_of(f"checkup.intro.{audience}", language, platform=name, count=len(steps_of(platform)))
        assert intro in chat.text
        if audience == "carer":
            assert text_of(f"checkup.{platform}.intro.carer", language) in chat.text
        pressed = {"checkup_done": [], "checkup_skip": []}
        for index, step in enumerate(steps_of(platform)):
            assert chat.slots["checkup_step"] == float(index)
            assert text_of(f"checkup.{platform}.{step}.{audience}", language) in chat.text
            assert text_of(f"checkup.{platform}.{step}.where", language) in chat.text
            where_message = chat.messages[-1]
            assert payloads(where_message) == ["/checkup_done", "/checkup_skip", "/checkup_cant_find"]
            notes = (text_of("checkup.note.menus", language), text_of("checkup.note.weak", language))
            assert any(note in where_message["text"] for note in notes), "a menu path without the menus note"
            for message in chat.messages:
                assert len(message["text"]) <= MAX_CHARS, f"{len(message['text'])} chars: {message['text'][:80]}"
                assert not re.search(r"\{\w+\}", message["text"]), message["text"]
            intent = "checkup_done" if index % 2 == 0 else "checkup_skip"
            pressed[intent].append(step)
            chat.press(intent)
    assert "missing in" not in caplog.text, caplog.text
    assert chat.slots["flow"] is None and chat.slots["checkup_step"] is None
    assert chat.slots["checkup_done"] == pressed["checkup_done"]
    assert chat.slots["checkup_skipped"] == pressed["checkup_skip"]
    summary = chat.messages[0]["text"]
    assert text_of("checkup.summary.title", language, platform=name) in summary
    for kind, intent in (("done", "checkup_done"), ("skipped", "checkup_skip")):
        items = ", ".join(title(platform, s, language) for s in pressed[intent])
        assert text_of(f"checkup.summary.{kind}", language, items=items) in summary
    assert text_of(f"checkup.summary.end.{audience}", language) in summary
    offer = chat.messages[-1]
    assert offer["text"] == text_of("checkup.another", language)
    assert f'/privacy_checkup{{"platform":"{platform}"}}' not in chat.payloads
    assert len([p for p in chat.payloads if p.startswith("/privacy_checkup")]) == len(checkup.platforms()) - 1
    assert "/ask_menu" in chat.payloads and "/continue_flow" not in chat.payloads  # nothing left to do


# --- free text: straight to the platform and the setting ------------------------------------------

PROBES = [
    # text, language, platform, step, words the reply must contain
    ("who can message me on tiktok and how do i change it?", "en", "tiktok", "direct_messages",
     ["settings", "privacy", "direct messages"]),
    ("how do I stop strangers adding me to whatsapp groups?", "en", "whatsapp", "groups",
     ["groups", "privacy", "settings"]),
    ("come nascondo la mia posizione su snapchat?", "it", "snapchat", "ghost_mode",
     ["modalità fantasma|ghost mode", "posizione", "snap map"]),
    ("comment mettre mon compte instagram en privé ?", "fr", "instagram", "private_account",
     ["paramètres", "confidentialité", "compte privé"]),
    ("chi può aggiungermi ai gruppi su whatsapp?", "it", "whatsapp", "groups", ["gruppi", "privacy", "impostazioni"]),
    ("how do I hide my location on snapchat", "en", "snapchat", "ghost_mode", ["ghost mode", "snap map"]),
    ("how can I make my insta private", "en", "instagram", "private_account", ["private account"]),
    ("hoe zorg ik dat onbekenden me niet aan groepen toevoegen op WhatsApp?", "nl", "whatsapp", "groups",
     ["groepen", "privacy"]),
    ("ποιος μπορεί να μου στείλει μήνυμα στο tiktok;", "el", "tiktok", "direct_messages",
     ["άμεσα μηνύματα", "privacy"]),
    ("kaip paslėpti savo vietą snapchate?", "lt", "snapchat", "ghost_mode", ["vaiduoklio režim", "snap map"]),
    ("who can see my phone number on telegram", "en", "telegram", "phone_number",
     ["privacy and security", "phone number"]),
    ("who can chat with me in roblox", "en", "roblox", "messages_chat", ["privacy", "friends"]),
    ("fortnite voice chat with strangers", "en", "fortnite", "chat", ["parental controls", "voice"]),
]


@pytest.mark.parametrize("text,language,platform,step,words", PROBES, ids=[p[0][:40] for p in PROBES])
def test_free_text_jumps_to_the_setting(text, language, platform, step, words):
    chat = Chat(language=None)  # the language comes from the user's own words
    chat.ask(text)
    assert chat.slots["language"] == language
    assert chat.slots["checkup_platform"] == platform
    assert chat.slots["checkup_step"] == float(steps_of(platform).index(step))
    assert chat.slots["flow"] == "checkup"
    reply = chat.text.lower()
    for word in words:
        assert re.search(word, reply), f"{word!r} not in reply to {text!r}:\n{chat.text}"
    assert text_of(f"checkup.{platform}.{step}.where", language) in chat.text


def test_free_text_without_a_setting_starts_the_platform_at_step_one():
    chat = Chat()
    chat.ask("help me with my snap settings")
    assert chat.slots["checkup_platform"] == "snapchat" and chat.slots["checkup_step"] == 0.0
    assert text_of("checkup.intro.teen", platform="Snapchat", count=3) in chat.text


def test_a_setting_only_one_app_has_needs_no_app_name():
    chat = Chat()
    chat.ask("how do I turn on ghost mode?")
    assert (chat.slots["checkup_platform"], chat.slots["checkup_step"]) == ("snapchat", 2.0)


def test_an_ambiguous_question_shows_the_app_choice():
    chat = Chat()
    chat.ask("who can message me?")
    assert chat.slots["flow"] == "checkup" and not chat.slots.get("checkup_platform")
    platform_payloads = [p for p in chat.payloads if p.startswith("/privacy_checkup")]
    assert platform_payloads == [f'/privacy_checkup{{"platform":"{p}"}}' for p in checkup.platforms()]
    assert "/continue_flow" not in chat.payloads


def test_inside_a_checkup_a_question_jumps_within_the_same_app():
    chat = Chat()
    chat.choose("tiktok")
    chat.ask("and who can send me messages?")
    assert (chat.slots["checkup_platform"], chat.slots["checkup_step"]) == ("tiktok", 2.0)


def test_inflected_and_accented_names_are_recognised():
    assert checkup.detect_platform("kaip nustatyti instagrame privačią paskyrą") == "instagram"
    assert checkup.detect_platform("instant messages") is None
    assert checkup.detect_platform("/privacy_checkup") is None
    assert checkup.normalise("Modalità FANTASMA") == "modalita fantasma"
    assert checkup.detect_step("come attivo la MODALITÀ FANTASMA su snapchat", "snapchat", "it") == 2


# --- skip, resume, "I can't find it", yes / no ----------------------------------------------------


def test_skip_and_resume_at_the_current_step():
    chat = Chat()
    chat.choose("snapchat")
    chat.press("checkup_skip")
    assert chat.slots["checkup_step"] == 1.0 and chat.slots["checkup_skipped"] == ["contact_story"]
    # The user wanders off (menu, a crisis reply...); the flow and progress stay in the slots.
    chat.resume()
    assert text_of("checkup.ack.resume") in chat.text
    assert text_of("checkup.snapchat.find_friends.teen") in chat.text and chat.slots["checkup_step"] == 1.0
    chat.press("checkup_done")
    chat.press("checkup_done")
    assert chat.slots["flow"] is None
    summary = chat.messages[0]["text"]
    assert text_of("checkup.summary.skipped", items=title("snapchat", "contact_story")) in summary
    assert "/continue_flow" not in chat.payloads
    # Continuing a finished checkup shows where it ended instead of a dead end.
    chat.resume()
    assert text_of("checkup.summary.title", platform="Snapchat") in chat.text


def test_after_a_direct_question_the_rest_is_still_to_do_and_can_be_resumed():
    chat = Chat()
    chat.ask("how do I hide my location on snapchat")
    chat.press("checkup_done")
    summary = chat.messages[0]["text"]
    todo = ", ".join(title("snapchat", s) for s in ("contact_story", "find_friends"))
    assert text_of("checkup.summary.todo", items=todo) in summary
    assert chat.payloads[0] == "/continue_flow" and chat.slots["flow"] is None
    chat.resume()  # "Check the 2 left"
    assert chat.slots["flow"] == "checkup" and chat.slots["checkup_step"] == 0.0
    chat.press("checkup_done")
    chat.press("checkup_skip")
    assert chat.slots["flow"] is None
    assert chat.slots["checkup_done"] == ["ghost_mode", "contact_story"]
    assert chat.slots["checkup_skipped"] == ["find_friends"]


def test_choosing_the_open_platform_again_keeps_the_progress():
    chat = Chat()
    chat.choose("whatsapp")
    chat.press("checkup_done")
    chat.choose("whatsapp")
    assert chat.slots["checkup_step"] == 1.0 and chat.slots["checkup_done"] == ["groups"]
    chat.choose("discord")  # another app starts afresh
    assert chat.slots["checkup_done"] == [] and chat.slots["checkup_step"] == 0.0


def test_the_app_choice_offers_to_continue_an_unfinished_checkup():
    chat = Chat()
    chat.choose("roblox")
    chat.ask("privacy checkup")
    assert chat.payloads[0] == "/continue_flow" and "Roblox" in chat.messages[-1]["buttons"][0]["title"]
    chat.resume()
    assert chat.slots["checkup_platform"] == "roblox" and chat.slots["checkup_step"] == 0.0


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_cant_find_gives_an_https_link_and_stays_on_the_step(platform, language):
    item = checkup.platforms()[platform]
    chat = Chat(language)
    chat.choose(platform)
    for index, step in enumerate(item.steps):
        chat.press("checkup_cant_find")
        reply = chat.messages[-1]
        url, official = item.link(step)
        assert url.startswith("https://") and url in reply["text"]
        key = "checkup.link.official" if official else "checkup.link.guide"
        assert text_of(key, language, platform=item.name, url=url) in reply["text"]
        assert text_of("checkup.cant_find", language) in reply["text"]
        if store().has(f"checkup.{platform}.{step.id}.cant_find"):
            assert text_of(f"checkup.{platform}.{step.id}.cant_find", language) in reply["text"]
        assert [b["payload"] for b in reply["buttons"]] == ["/checkup_done", "/checkup_skip"]
        assert len(reply["text"]) <= MAX_CHARS
        assert chat.slots["checkup_step"] == float(index) and chat.slots["flow"] == "checkup"
        chat.press("checkup_done")


def test_platforms_without_an_official_page_say_the_link_is_a_guide():
    for platform in ("roblox", "fortnite", "telegram"):
        chat = Chat()
        chat.choose(platform)
        chat.press("checkup_cant_find")
        assert text_of("checkup.link.guide", platform=checkup.platforms()[platform].name,
                       url=checkup.platforms()[platform].help_url) in chat.text


def test_typed_yes_no_not_sure_inside_a_step():
    chat = Chat()
    chat.choose("telegram")
    chat.answer("affirm")
    assert chat.slots["checkup_done"] == ["phone_number"]
    chat.answer("unsure")
    assert "https://" in chat.text and chat.slots["checkup_step"] == 1.0
    chat.answer("deny")
    assert chat.slots["checkup_skipped"] == ["last_seen_profile"] and chat.slots["checkup_step"] == 2.0


def test_a_stale_done_button_without_an_open_step_shows_the_app_choice():
    chat = Chat()
    chat.press("checkup_done")
    assert chat.text.startswith(text_of("checkup.no_open"))
    assert len([p for p in chat.payloads if p.startswith("/privacy_checkup")]) == len(PLATFORMS)


# --- teen and carer -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_carer_version_differs_from_teen_version(language):
    for platform in PLATFORMS:
        teen, carer = Chat(language, "teen"), Chat(language, "carer")
        teen.choose(platform)
        carer.choose(platform)
        assert teen.text != carer.text
        assert text_of(f"checkup.{platform}.intro.carer", language) in carer.text
        assert text_of(f"checkup.{platform}.intro.carer", language) not in teen.text
        for step in steps_of(platform):
            key = f"checkup.{platform}.{step}"
            assert text_of(f"{key}.teen", language) != text_of(f"{key}.carer", language)


def test_carer_texts_name_the_parental_tools_from_the_facts():
    tools = {"tiktok": "Family Pairing", "snapchat": "Family Center", "discord": "Family Center",
             "roblox": "parental controls", "fortnite": "PIN", "youtube": "supervision", "instagram": "supervision"}
    for platform, tool in tools.items():
        assert tool.lower() in text_of(f"checkup.{platform}.intro.carer").lower(), platform
