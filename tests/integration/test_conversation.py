"""End-to-end conversations through the real Rasa and action servers (REST channel), mostly English and Italian."""

import json
import urllib.error
import urllib.request

import pytest


def test_first_contact_discloses_bot_and_asks_audience(rest):
    sender = rest.new_sender()
    reply = rest.text(rest.send(sender, "hey"))
    assert "chatbot" in reply and "not a real person" in reply
    assert "young person" in reply and "parent or carer" in reply


def test_italian_first_contact(rest):
    reply = rest.text(rest.send(rest.new_sender(), "buongiorno", metadata={"language": "it"}))
    assert "chatbot" in reply.lower()
    assert "persona" in reply.lower()


def test_teen_path_menu_signs_and_more(rest):
    sender = rest.new_sender()
    rest.send(sender, "hi")
    menu = rest.send(sender, "/i_am_teen")
    assert "/ask_warning_signs" in json.dumps(menu)
    signs = rest.text(rest.send(sender, "/ask_warning_signs"))
    assert "secret" in signs and "photos" in signs
    more = rest.text(rest.send(sender, "/tell_me_more"))
    assert "private app" in more


def test_question_first_is_answered_directly(rest):
    reply = rest.text(rest.send(rest.new_sender(), "what are red flags when chatting with someone online?"))
    assert "secret" in reply and "meet" in reply


def test_italian_question_first(rest):
    reply = rest.text(rest.send(rest.new_sender(), "quali sono i segnali di adescamento online?"))
    assert "segret" in reply and "foto" in reply


@pytest.mark.parametrize("text,numbers", [
    ("this guy from discord keeps asking for pics and says he'll come to my school", ["112"]),
    ("someone has my nudes and wants money or they'll post them", ["112"]),
    ("uno che ho conosciuto su tiktok mi chiede foto nuda e mi minaccia", ["112", "19696"]),
    ("ho paura, un adulto mi aspetta fuori da scuola", ["112", "19696"]),
])
def test_crisis_as_first_message(rest, text, numbers):
    reply = rest.text(rest.send(rest.new_sender(), text))
    for number in numbers:
        assert number in reply.replace(" ", "")


def test_crisis_mid_flow_then_resume(rest):
    sender = rest.new_sender()
    rest.send(sender, "hi")
    rest.send(sender, "/i_am_teen")
    rest.send(sender, "/start_quiz")
    reply = rest.text(rest.send(sender, "actually someone is threatening me right now"))
    assert "112" in reply
    assert "Continue where we were" in reply


def test_helplines_by_country(rest):
    reply = rest.text(rest.send(rest.new_sender(), "which number can a kid call in Greece?"))
    assert "1056" in reply
    reply = rest.text(rest.send(rest.new_sender(), "numero di aiuto per ragazzi in Italia"))
    assert "19696" in reply


def test_bot_challenge_both_languages(rest):
    assert "not a real person" in rest.text(rest.send(rest.new_sender(), "am I talking to a human?"))
    assert "persona" in rest.text(rest.send(rest.new_sender(), "sto parlando con un umano?")).lower()


def test_out_of_scope_gets_kind_answer_and_menu(rest):
    reply = rest.text(rest.send(rest.new_sender(), "can you do my maths homework?"))
    assert "Sorry" in reply and "Privacy" in reply


def test_language_switch_by_text_and_button(rest):
    sender = rest.new_sender()
    rest.send(sender, "hi")
    reply = rest.text(rest.send(sender, '/set_language{"language":"it"}'))
    assert "italiano" in reply.lower()
    reply = rest.text(rest.send(sender, "/ask_menu"))
    assert "Segnali" in reply or "segnali" in reply


@pytest.mark.parametrize("text", ["", "   ", "x" * 20000, "🙂🙂🙂", "\x00\x01\x1b[31m", "<script>alert(1)</script>",
                                  "\u200b\u200b\u200b", "{\"message\": null}", "\u202eevil"],
                         ids=["empty", "spaces", "20k", "emoji", "controls", "markup", "zero-width", "json-ish", "rtl"])
def test_bad_input_gets_a_normal_reply_and_conversation_continues(rest, text):
    sender = rest.new_sender()
    replies = rest.send(sender, text)
    assert replies, "never silence"
    after = rest.text(rest.send(sender, "/ask_menu"))
    assert "Warning signs" in after or "Signs to look for" in after


@pytest.mark.parametrize("body,status", [
    (b"{not json", 400), (b"[1,2]", 400), (b'{"sender": 5.5, "message": "hi"}', 400),
    (b'{"sender": "a", "message": 12}', 400), (b"\xff\xfe", 400), (b'{"sender": "a", "message": "hi", "metadata": 3}', 400),
])
def test_malformed_rest_bodies_get_400_json(rest, body, status):
    request = urllib.request.Request(f"{rest.base_url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=30)
    assert error.value.code == status
    assert "error" in json.loads(error.value.read())


@pytest.mark.parametrize("language,word", [("en", "next"), ("it", "avanti"), ("el", "επόμενο"), ("lt", "toliau"),
                                           ("nl", "verder"), ("fr", "suivant")])
def test_next_in_a_quiz_or_checkup_continues_it_not_the_lesson(rest, language, word):
    sender = rest.new_sender()
    rest.send(sender, f'/set_language{{"language":"{language}"}}')
    rest.send(sender, "/i_am_teen")
    question = rest.send(sender, "/start_quiz")[-1]
    again = rest.send(sender, word)[-1]
    assert again["text"] == question["text"] and again["buttons"] == question["buttons"]
    step = rest.send(sender, '/privacy_checkup{"platform":"instagram"}')[-1]
    again = rest.send(sender, word)[-1]
    assert [b["payload"] for b in again["buttons"]] == [b["payload"] for b in step["buttons"]]


def as_teen(rest, language, message):
    """The replies to ``message`` in a new conversation of a teen who chose ``language``."""
    sender = rest.new_sender()
    rest.send(sender, f'/set_language{{"language":"{language}"}}')
    rest.send(sender, "/i_am_teen")
    return rest.send(sender, message)


PRIVATE = {"en": "is this chat anonymous", "it": "questa chat è anonima?", "el": "είναι ανώνυμη η συζήτηση;",
           "lt": "ar šis pokalbis anoniminis?", "nl": "is deze chat anoniem?", "fr": "cette conversation est anonyme ?"}
WILL_YOU_TELL = {"en": "are you going to tell my parents what i said", "it": "dirai qualcosa ai miei genitori?",
                 "el": "θα πεις κάτι στους γονείς μου;", "lt": "ar pasakosi mano mamai ir tėčiui?",
                 "nl": "vertel jij dit aan mijn ouders?", "fr": "tu vas en parler à mes parents ?"}
DONT_WANT_THEM_TO_KNOW = {"en": "i dont want my mum to find out", "it": "non voglio che mia mamma lo sappia",
                          "el": "δεν θέλω να το μάθει η μαμά μου", "lt": "nenoriu, kad mama sužinotų",
                          "nl": "ik wil niet dat mijn mama het weet", "fr": "je veux pas que ma mère le sache"}


@pytest.mark.parametrize("language", sorted(PRIVATE))
def test_is_this_private_is_answered_honestly(rest, language):
    """Safety rule 6: what Beacon keeps, for how long, that it tells no one; then how to erase it."""
    from actions.content import store

    replies = as_teen(rest, language, PRIVATE[language])
    assert replies[0]["text"] == store().text("privacy.kept.teen", language, days="30")
    assert replies[-1]["text"] == store().text("delete.how.other", language)  # REST: no channel of its own


@pytest.mark.parametrize("asked", [WILL_YOU_TELL, DONT_WANT_THEM_TO_KNOW], ids=["will-you-tell", "dont-want-them-to-know"])
@pytest.mark.parametrize("language", sorted(WILL_YOU_TELL))
def test_will_you_tell_my_parents_is_answered_honestly(rest, language, asked):
    """A teen afraid the bot will tell their parents or the police hears that it tells no one (safety rule 6)."""
    from actions.content import store

    replies = as_teen(rest, language, asked[language])
    assert replies[0]["text"] == store().text("privacy.kept.teen", language, days="30")


OLDER_AND_IN_LOVE = {"en": "he is 23 and i am 14 and he says he loves me", "it": "ha 23 anni, io 14, e dice che mi ama",
                     "el": "είναι 23 κι εγώ 14 και λέει ότι μ' αγαπάει", "lt": "jam 23, man 14, ir jis sako, kad mane myli",
                     "nl": "hij is 23 en ik ben 14 en hij zegt dat hij van me houdt",
                     "fr": "il a 23 ans, moi 14, et il dit qu'il m'aime"}


@pytest.mark.parametrize("language", sorted(OLDER_AND_IN_LOVE))
def test_an_older_person_saying_i_love_you_is_named_as_a_red_flag(rest, language):
    """Not "you're a teen, here is the menu" (an age in the message once read as i_am_teen in French and Italian)."""
    from actions.content import store

    text = rest.text(as_teen(rest, language, OLDER_AND_IN_LOVE[language]))
    assert store().text("signs.topic.relationship", language) in text


@pytest.mark.parametrize("language", sorted(OLDER_AND_IN_LOVE))
def test_someone_from_a_game_asking_for_your_snap_is_named_as_a_step_in_grooming(rest, language):
    """Moving a chat from a game to a private app is an early step in grooming: the answer names it, calmly
    (once a full crisis reply in Italian and Lithuanian, a rephrase request in Dutch and French)."""
    from actions.content import store
    from tests.unit.test_core_actions import WANTS_MY_SNAP

    text = rest.text(as_teen(rest, language, WANTS_MY_SNAP[language]))
    assert store().text("signs.topic.private_app", language) in text


@pytest.mark.parametrize("word", ["stop", "quit", "exit"])
def test_stop_in_a_quiz_goes_to_the_menu_and_the_quiz_can_be_resumed(rest, word):
    sender = rest.new_sender()
    rest.send(sender, "/i_am_teen")
    question = rest.send(sender, "/start_quiz")[-1]
    menu = rest.send(sender, word)[-1]
    assert "/ask_warning_signs" in [b["payload"] for b in menu["buttons"]]
    resumed = rest.send(sender, "/continue_flow")[-1]
    assert resumed["text"] == question["text"]


@pytest.mark.parametrize("text", ["?", "👍", "..."])
def test_punctuation_or_emoji_in_a_quiz_is_not_an_answer(rest, text):
    """"?" used to be classified affirm (0.403, just above the fallback threshold) and answered "Red flag"."""
    sender = rest.new_sender()
    rest.send(sender, "/i_am_teen")
    question = rest.send(sender, "/start_quiz")[-1]
    replies = rest.send(sender, text)
    assert [b["payload"] for b in replies[0]["buttons"]] == ["/continue_flow"]  # "I didn't understand"
    assert rest.send(sender, "/continue_flow")[-1]["text"] == question["text"]  # still the first question
