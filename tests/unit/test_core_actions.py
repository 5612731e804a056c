"""Core actions with rasa-sdk's CollectingDispatcher: disclosure, audience, menu, crisis, helplines, signs."""

import pytest

from actions.content import SUPPORTED_LANGUAGES, store
from actions.helplines import select
from actions.safety import ActionCrisis, ActionOfferImage, ActionSextortion
from actions.session import (
    ActionBotChallenge,
    ActionDefaultFallback,
    ActionGreet,
    ActionNotUnderstood,
    ActionOutOfScope,
    ActionRestartConversation,
    ActionSetAudience,
    ActionSetLanguage,
)
from actions.signposting import ActionHelplines, ActionMoreHelplines, ActionSetCountry
from actions.signs import ActionSignsInChild, ActionTellMeMore, ActionWarningSigns
from tests.helpers import payloads, run, slot_events, texts, tracker


def crisis_entity(kind):
    return [{"entity": "crisis_type", "value": kind}]


def test_greeting_discloses_bot_and_asks_audience():
    messages, events = run(ActionGreet(), tracker("hey", "greet"))
    reply = texts(messages)
    assert "chatbot" in reply and "not a real person" in reply and "not the police" in reply
    assert "/i_am_teen" in str(messages) and "/i_am_carer" in str(messages)


def test_greeting_in_italian_from_channel_hint():
    messages, events = run(ActionGreet(), tracker("ciao", "greet", metadata={"language": "it"}))
    assert slot_events(events)["language"] == "it"
    assert "chatbot" in texts(messages).lower()


def test_audience_is_remembered_and_menu_follows():
    messages, events = run(ActionSetAudience(), tracker("I'm a parent", "i_am_carer"))
    assert slot_events(events)["audience"] == "carer"
    assert "/ask_signs_in_child" in str(messages)


@pytest.mark.parametrize("kind", ["danger", "meeting", "abuse", "sextortion", "self_harm", "other_self_harm"])
@pytest.mark.parametrize("audience", ["teen", "carer"])
def test_crisis_reply_cares_first_then_numbers(kind, audience):
    track = tracker("help", "crisis", slots={"audience": audience, "country": "IT"}, entities=crisis_entity(kind))
    messages, _ = run(ActionCrisis(), track)
    first = messages[0]["text"]
    assert "112" in first
    assert "fault" in first.lower() or "glad" in first.lower() or "thank" in first.lower()
    assert "19696" in texts(messages) or "114" in texts(messages)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("audience", ["teen", "carer"])
def test_self_harm_is_followed_by_its_own_next_steps_not_block_and_report(language, audience):
    """"Block and report them, take screenshots" answers a grooming contact, not "I want to die"."""
    track = tracker("x", "crisis", slots={"audience": audience, "language": language, "country": "BE"},
                    entities=crisis_entity("self_harm"))
    reply = texts(run(ActionCrisis(), track)[0])
    assert store().text(f"crisis.next.self_harm.{audience}", language) in reply
    assert store().text(f"crisis.next.{audience}", language) not in reply


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_a_teen_worried_about_someone_else_is_told_to_tell_an_adult(language):
    track = tracker("x", "crisis", slots={"audience": "teen", "language": language, "country": "IT"},
                    entities=crisis_entity("other_self_harm"))
    messages, _ = run(ActionCrisis(), track)
    assert messages[0]["text"] == store().text("crisis.other_self_harm.teen", language, emergency="112")
    reply = texts(messages)
    assert store().text("crisis.next.other_self_harm.teen", language) in reply
    assert store().text("crisis.self_harm.teen", language, emergency="112") not in reply  # not "you matter"


def test_a_carer_telling_of_a_childs_self_harm_gets_the_carer_self_harm_reply():
    track = tracker("x", "crisis", slots={"audience": "carer", "country": "IT"}, entities=crisis_entity("other_self_harm"))
    messages, _ = run(ActionCrisis(), track)
    assert messages[0]["text"] == store().text("crisis.self_harm.carer", "en", emergency="112")
    assert store().text("crisis.next.self_harm.carer", "en") in texts(messages)


def about_a_friend(kind, audience, language, country="IT", asked=None):
    """A crisis message the safety net read as telling about a friend's or sibling's danger."""
    parse = {"crisis_about": "someone_else"}
    if asked:
        parse["safety_net"] = {"category": kind, "classifier_intent": asked}
    return tracker("x", "crisis", slots={"audience": audience, "language": language, "country": country},
                   entities=crisis_entity(kind), parse_data=parse)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("kind", ["sextortion", "meeting", "abuse", "danger"])
def test_a_teen_telling_about_a_friends_danger_gets_the_reply_for_a_worried_friend(language, kind):
    """Not "you are not in trouble" and "don't go to meet them": thanks, not their fault, tell an adult, help them."""
    messages, _ = run(ActionCrisis(), about_a_friend(kind, "teen", language))
    assert messages[0]["text"] == store().text("crisis.other_harm.teen", language, emergency="112")
    reply = texts(messages)
    assert store().text("crisis.next.other_harm.teen", language) in reply
    assert "19696" in reply  # the helplines still follow
    assert store().text(f"crisis.{kind}.teen", language, emergency="112") not in reply
    assert store().text("sextortion.steps.teen", language) not in reply
    removal = store().text("removal.intro.someone_else", language)
    assert (removal in reply) == (kind == "sextortion")  # the friend can have the images taken down


def test_a_carer_telling_about_a_childs_friend_gets_the_carer_reply():
    messages, _ = run(ActionCrisis(), about_a_friend("sextortion", "carer", "en"))
    assert messages[0]["text"] == store().text("crisis.sextortion.carer", "en", emergency="112")
    assert store().text("sextortion.steps.carer", "en") in texts(messages)


def test_self_harm_is_never_answered_as_a_friends_danger():
    messages, _ = run(ActionCrisis(), about_a_friend("self_harm", "teen", "en"))
    assert messages[0]["text"] == store().text("crisis.self_harm.teen", "en", emergency="112")


def test_a_friends_sextortion_keeps_the_sextortion_question_one_tap_away():
    """The friend's reply has no sextortion steps, so "what is sextortion, what do I do" stays a button."""
    messages, _ = run(ActionCrisis(), about_a_friend("sextortion", "teen", "en", asked="ask_sextortion"))
    assert payloads(messages[-1]) == ["/ask_sextortion", "/ask_menu"]


def test_crisis_in_the_uk_uses_999_and_childline():
    track = tracker("help", "crisis", slots={"audience": "teen", "country": "GB"}, entities=crisis_entity("danger"))
    messages, _ = run(ActionCrisis(), track)
    assert "999" in messages[0]["text"]
    assert "0800 1111" in texts(messages)


def test_crisis_without_country_gives_eu_numbers_and_asks_country():
    messages, _ = run(ActionCrisis(), tracker("help me", "crisis", entities=crisis_entity("danger")))
    reply = texts(messages)
    assert "112" in reply and "116 000" in reply
    assert "/inform_country" in str(messages)


def test_crisis_mid_quiz_keeps_flow_and_offers_resume():
    slots = {"flow": "quiz", "quiz_index": 3.0, "quiz_order": ["teen.a", "teen.b"]}
    messages, events = run(ActionCrisis(), tracker("threat", "crisis", slots=slots, entities=crisis_entity("danger")))
    assert "/continue_flow" in str(messages)
    assert "flow" not in slot_events(events) and "quiz_index" not in slot_events(events)


def test_sextortion_crisis_gives_specific_steps_and_removal_tools():
    track = tracker("they want money or they post my pics", "crisis", slots={"country": "GB"},
                    entities=crisis_entity("sextortion"))
    reply = texts(run(ActionCrisis(), track)[0])
    assert "Don't pay" in reply and "evidence" in reply
    assert "Report Remove" in reply and "Take It Down" in reply


def test_sextortion_outside_uk_has_no_report_remove():
    reply = texts(run(ActionSextortion(), tracker("what is sextortion", "ask_sextortion",
                                                  slots={"country": "IT"}))[0])
    assert "Take It Down" in reply and "Report Remove" not in reply


def test_carer_sextortion_says_never_forward_images():
    reply = texts(run(ActionSextortion(), tracker("what is sextortion", "ask_sextortion",
                                                  slots={"audience": "carer"}))[0])
    assert "Never view, download or forward" in reply


def test_image_reply_never_asks_for_images():
    reply = texts(run(ActionOfferImage(), tracker("", "offer_image"))[0])
    assert "never need to send images" in reply


def test_helplines_ask_for_country_then_show_it():
    messages, _ = run(ActionHelplines(), tracker("who can I call", "ask_helpline"))
    assert '/inform_country{"country":"IT"}' in str(messages)
    messages, events = run(ActionSetCountry(), tracker("", "inform_country",
                                                       entities=[{"entity": "country", "value": "GR"}]))
    assert slot_events(events)["country"] == "GR" and "1056" in texts(messages)


def test_helplines_from_free_text_country():
    messages, events = run(ActionHelplines(), tracker("which number can a kid call in Greece?", "ask_helpline"))
    assert slot_events(events)["country"] == "GR"
    assert "1056" in texts(messages)


def test_carer_in_england_gets_nspcc_and_childline():
    messages, _ = run(ActionHelplines(), tracker("I'm a worried parent in England, who can I call?", "ask_helpline",
                                                 slots={"audience": "carer"}))
    assert "0808 800 5000" in texts(messages)


def test_more_helplines_shows_the_rest():
    first = texts(run(ActionHelplines(), tracker("who can i call", "ask_helpline", slots={"country": "IT"}))[0])
    messages, events = run(ActionMoreHelplines(), tracker("more", "more_helplines",
                                                          slots={"country": "IT", "helpline_page": 0.0}))
    assert "Stop-It" in texts(messages) or "Clicca" in texts(messages) or "116 000" in texts(messages)
    assert "19696" in first and "19696" not in texts(messages)
    assert slot_events(events)["helpline_page"] == 1.0


@pytest.mark.parametrize("kind", ["self_harm", "sextortion"])
@pytest.mark.parametrize("country", [None, "IT", "GR", "LT", "BE", "GB"])
def test_more_after_a_crisis_reply_shows_the_rest_of_that_list(kind, country):
    """The crisis reply's first page is ordered for the crisis (and for self-harm, listening lines first): "more"
    must continue that list, showing what it left out and nothing it already showed."""
    slots = {"audience": "teen", "country": country}
    _, events = run(ActionCrisis(), tracker("x", "crisis", slots=slots, entities=crisis_entity(kind)))
    later = {**slots, **{k: v for k, v in slot_events(events).items() if k.startswith("helpline_")}}
    more = texts(run(ActionMoreHelplines(), tracker("more", "more_helplines", slots=later))[0])
    first, rest = select(country, "teen", "en", crisis=True, listening_only=kind == "self_harm")
    for service in rest:
        assert (service.phone or service.url) in more, f"{service.id} left out of 'more'"
    for service in first:
        assert not (service.phone and service.phone in more), f"{service.id} shown twice"


def test_more_when_the_list_shown_had_no_second_page_says_so():
    """Belgium's crisis list fits on one page: "more" says there is nothing more, and sends no empty list."""
    slots = {"audience": "teen", "language": "nl", "country": "BE", "helpline_page": 0.0, "helpline_order": "crisis"}
    messages, events = run(ActionMoreHelplines(), tracker("meer", "more_helplines", slots=slots))
    assert [m["text"] for m in messages] == [store().text("helplines.no_more", "nl")]
    assert "helpline_page" not in slot_events(events)


def test_which_helplines_are_there_before_any_list_shows_the_best_ones_not_the_rest():
    """"Which helplines are there in Greece?" reads like "more helplines": with none shown yet, show page one."""
    messages, events = run(ActionMoreHelplines(), tracker("ποιες γραμμές βοήθειας υπάρχουν στην ελλάδα",
                                                          "more_helplines", slots={"country": "GR"}))
    assert "1056" in texts(messages)  # SOS Children's Villages line, first on the Greek page
    assert slot_events(events)["helpline_page"] == 0.0


def test_bot_challenge_is_honest_and_gives_humans():
    messages, _ = run(ActionBotChallenge(), tracker("am I talking to a human?", "bot_challenge"))
    reply = texts(messages)
    assert "not a real person" in reply and "112" in reply


def test_out_of_scope_is_kind_and_shows_menu():
    reply = texts(run(ActionOutOfScope(), tracker("do my maths homework", "out_of_scope"))[0])
    assert "Sorry" in reply and "Warning signs" in reply


@pytest.mark.parametrize("audience", ["teen", "carer"])
@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_an_unclear_message_asks_to_rephrase_and_keeps_people_to_talk_to_one_tap_away(language, audience):
    messages, _ = run(ActionNotUnderstood(), tracker("hmm", "nlu_fallback",
                                                     slots={"language": language, "audience": audience}))
    first, menu = messages[0]["text"], messages[-1]
    assert first == store().text(f"fallback.not_understood.{audience}", language)
    assert first != store().text("oos.text", language), "not 'I can't help with that'"
    assert menu["text"] == store().text(f"menu.main.{audience}", language)
    # the text points at the 📞 button: it must be there, and lead to the helplines
    assert "📞" in first
    assert [b["payload"] for b in menu["buttons"] if "📞" in b["title"]] == ["/ask_helpline"]


@pytest.mark.parametrize("flow,resume", [("quiz", True), ("checkup", True), (None, False)])
def test_an_unclear_message_in_a_quiz_or_checkup_offers_to_continue_it(flow, resume):
    messages, events = run(ActionNotUnderstood(), tracker("hmm", "nlu_fallback", slots={"flow": flow, "quiz_index": 2}))
    assert payloads(messages[0]) == (["/continue_flow"] if resume else [])
    assert "flow" not in slot_events(events), "the flow stays open"


def test_core_fallback_gives_the_unclear_message_answer():
    fallback, _ = run(ActionDefaultFallback(), tracker("hmm", "greet", slots={"audience": "carer"}))
    unclear, _ = run(ActionNotUnderstood(), tracker("hmm", "nlu_fallback", slots={"audience": "carer"}))
    assert fallback == unclear


def test_warning_signs_teen_first_page_names_the_main_red_flags():
    reply = texts(run(ActionWarningSigns(), tracker("what are red flags when chatting with someone online?",
                                                    "ask_warning_signs"))[0])
    for word in ("secret", "gift", "photo", "meet"):
        assert word in reply


def test_specific_question_gets_specific_answer():
    reply = texts(run(ActionWarningSigns(), tracker("is it normal that he wants me to delete our chats?",
                                                    "ask_warning_signs"))[0])
    assert "delete" in reply and "red flag" in reply
    reply = texts(run(ActionSignsInChild(), tracker("my daughter got a gift card from someone online",
                                                    "ask_signs_in_child"))[0])
    assert "gift cards" in reply.lower() or "gift card" in reply.lower()


OLDER_PARTNER = {
    "en": ["he says he loves me and hes 19, im 14", "my online bf keeps saying age is just a number", "he's way older than me but says we're in love"],
    "it": ["dice che mi ama, ha 20 anni e io 14", "dice che l'età è solo un numero", "è molto più grande di me ma dice che mi ama"],
    "el": ["λέει ότι μ' αγαπάει, είναι 20 κι εγώ 14", "λέει ότι η ηλικία είναι απλώς ένας αριθμός", "είναι πολύ μεγαλύτερος από μένα αλλά λέει ότι μ' αγαπάει"],
    "lt": ["sako, kad mane myli, jam 20, o man 14", "jis sako, kad amžius tik skaičius", "jis daug vyresnis už mane, bet sako, kad mane myli"],
    "nl": ["hij zegt dat hij van me houdt, hij is 20 en ik ben 14", "hij zegt dat leeftijd maar een getal is", "hij is veel ouder dan ik maar zegt dat hij me graag ziet"],
    "fr": ["il dit qu'il m'aime, il a 20 ans et moi 14", "il dit que l'âge c'est qu'un chiffre", "il est beaucoup plus vieux que moi mais il dit qu'il m'aime"],
}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_an_older_person_who_says_they_love_you_gets_its_own_answer(language):
    """Not the generic lesson: "much older + loves you / age is just a number" is a named red flag."""
    for message in OLDER_PARTNER[language]:
        reply = texts(run(ActionWarningSigns(), tracker(message, "ask_warning_signs", slots={"language": language}))[0])
        assert store().text("signs.topic.relationship", language) in reply, message


WANTS_MY_SNAP = {
    "en": "some guy from a game wants my snap", "it": "uno di un gioco vuole il mio snap",
    "el": "ένας από ένα παιχνίδι θέλει το snap μου", "lt": "vienas iš žaidimo nori mano snap",
    "nl": "een gast uit een game wil mijn snap", "fr": "un mec d'un jeu veut mon snap",
}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_someone_from_a_game_asking_for_your_snap_gets_the_private_app_answer(language):
    reply = texts(run(ActionWarningSigns(), tracker(WANTS_MY_SNAP[language], "ask_warning_signs",
                                                    slots={"language": language}))[0])
    assert store().text("signs.topic.private_app", language) in reply


def test_a_boyfriend_of_the_same_age_saying_i_love_you_is_not_a_red_flag_topic():
    reply = texts(run(ActionWarningSigns(), tracker("my bf says he loves me, is that normal", "ask_warning_signs"))[0])
    assert store().text("signs.topic.relationship", "en") not in reply


def test_carer_lesson_and_paging():
    messages, events = run(ActionSignsInChild(), tracker("how would I know if my daughter is being groomed",
                                                         "ask_signs_in_child"))
    assert slot_events(events)["audience"] == "carer"
    reply = texts(messages)
    for word in ("secret", "gifts", "withdrawn", "older"):
        assert word in reply
    messages, events = run(ActionTellMeMore(), tracker("more", "tell_me_more",
                                                       slots={"audience": "carer", "signs_page": 1.0}))
    assert slot_events(events)["signs_page"] == 2.0


def test_language_switch_by_button_and_restart_keeps_language():
    messages, events = run(ActionSetLanguage(), tracker('/set_language', "set_language",
                                                        entities=[{"entity": "language", "value": "it"}]))
    assert slot_events(events)["language"] == "it"
    messages, events = run(ActionRestartConversation(), tracker("restart", "restart", slots={"language": "it"}))
    assert events[0]["event"] == "restart"
    assert slot_events(events)["language"] == "it"


@pytest.mark.parametrize("language", ["en", "it", "el", "lt", "nl", "fr"])
@pytest.mark.parametrize("audience", ["teen", "carer"])
def test_an_unsure_crisis_guess_gets_a_check_in_with_the_emergency_number(language, audience):
    """The classifier alone suspected a crisis: ask (in the user's language), show the emergency number,
    and offer the full crisis reply in one tap — no helpline dump for what may be a false alarm."""
    slots = {"language": language, "audience": audience, "country": "IT" if language == "it" else None}
    messages, _ = run(ActionCrisis(), tracker("hmm", "crisis", slots=slots, entities=crisis_entity("check_in")))
    assert len(messages) == 1
    reply = texts(messages)
    assert "112" in reply
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ['/crisis{"crisis_type":"danger"}', "/ask_menu"]
    from actions.content import store
    assert messages[0]["text"] == store().text(f"crisis.check_in.{audience}", language, emergency="112")


def test_the_check_in_button_leads_to_the_full_crisis_reply():
    messages, _ = run(ActionCrisis(), tracker('/crisis{"crisis_type":"danger"}', "crisis", slots={"country": "IT"},
                                               entities=crisis_entity("danger")))
    reply = texts(messages)
    assert "112" in reply and "19696" in reply  # emergency number and the Italian child helpline


def crisis_over_question(kind, asked, **slots):
    """The latest message as the safety net leaves it when a pattern of ``kind`` overrode ``asked``."""
    return tracker("discord", "crisis", slots=slots,  # no text to detect a language from: the slot decides
                   entities=crisis_entity(kind),
                   parse_data={"safety_net": {"category": kind, "classifier_intent": asked}})


@pytest.mark.parametrize("language", ["en", "it", "el", "lt", "nl", "fr"])
@pytest.mark.parametrize(("audience", "asked"), [("carer", "ask_signs_in_child"), ("teen", "ask_warning_signs"),
                                                 ("carer", "ask_talk_to_child"), ("teen", "privacy_checkup")])
def test_a_question_overridden_by_a_crisis_pattern_stays_one_tap_away(language, audience, asked):
    """Crisis reply first (safety rule 2), then the question the message also asked, as the first button of the
    closing, titled in the user's language and for their audience, before the way back to the menu."""
    from actions.content import store
    slots = {"language": language, "audience": audience, "country": "BE" if language in ("nl", "fr") else None}
    messages, _ = run(ActionCrisis(), crisis_over_question("abuse", asked, **slots))
    assert "112" in messages[0]["text"]  # the crisis reply still comes first
    assert payloads(messages[-1]) == [f"/{asked}", "/ask_menu"]
    expected = [b["title"] for b in store().buttons(f"crisis.follow_up.{audience}", language)
                if b["payload"] == f"/{asked}"]
    assert [messages[-1]["buttons"][0]["title"]] == expected
    assert messages[-1]["text"] == store().text("crisis.closing", language)


def test_the_question_button_comes_before_resuming_an_open_flow():
    slots = {"flow": "quiz", "quiz_index": 3.0, "quiz_order": ["teen.a", "teen.b"]}
    messages, _ = run(ActionCrisis(), crisis_over_question("meeting", "ask_what_to_do", **slots))
    assert payloads(messages[-1]) == ["/ask_what_to_do", "/continue_flow", "/ask_menu"]


def test_a_sextortion_question_is_not_offered_again_after_the_sextortion_steps():
    messages, _ = run(ActionCrisis(), crisis_over_question("sextortion", "ask_sextortion"))
    assert payloads(messages[-1]) == ["/ask_menu"]
    # ...but a sextortion question escalated by another category has not had the steps yet
    messages, _ = run(ActionCrisis(), crisis_over_question("meeting", "ask_sextortion"))
    assert payloads(messages[-1]) == ["/ask_sextortion", "/ask_menu"]


@pytest.mark.parametrize("asked", ["nlu_fallback", "out_of_scope", "greet", "crisis", "affirm", None, 7])
def test_no_question_button_when_the_classifier_heard_no_topic(asked):
    messages, _ = run(ActionCrisis(), crisis_over_question("danger", asked))
    assert payloads(messages[-1]) == ["/ask_menu"]


def test_no_question_button_without_a_pattern_hit():
    """A check-in or a tapped crisis button carries nothing from the safety net: no question button."""
    messages, _ = run(ActionCrisis(), tracker("help", "crisis", slots={"country": "IT"}, entities=crisis_entity("abuse")))
    assert payloads(messages[-1]) == ["/ask_menu"]
