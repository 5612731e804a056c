"""The safety-critical paths in every supported language, through the running bot (issue #3).

Crisis as the first message, crisis in the middle of a flow (then resume), sextortion guidance, an unclear message,
helplines for every offered country, and the honest "I am a bot" answer.
"""

from __future__ import annotations

import re

import pytest

from actions.content import store
from actions.helplines import OFFERED_COUNTRIES, emergency_number, select

CRISIS = {
    "en": "someone from a game says he'll share my nudes with everyone unless i send more",
    "it": "uno che ho conosciuto su tiktok mi chiede foto nuda e mi minaccia",
    "el": "κάποιος μου ζητάει γυμνές φωτογραφίες και με απειλεί",
    "lt": "nepažįstamas suaugęs prašo mano nuogų nuotraukų ir grasina",
    "nl": "een volwassene vraagt om naaktfoto's en bedreigt me",
    "fr": "un adulte me demande des photos nues et me menace",
}
MIDFLOW = {
    "en": "actually someone is threatening me right now",
    "it": "ho paura, un adulto mi aspetta fuori da scuola",
    "el": "φοβάμαι, ένας άντρας με περιμένει έξω από το σχολείο",
    "lt": "bijau, suaugęs vyras manęs laukia prie mokyklos",
    "nl": "ik ben bang, een volwassen man wacht op me buiten de school",
    "fr": "j'ai peur, un adulte m'attend devant l'école",
}
SEXTORTION = {
    "en": "someone has my nudes and wants money or they'll post them",
    "it": "vogliono soldi altrimenti mandano le mie foto a tutti",
    "el": "θέλουν λεφτά αλλιώς θα στείλουν τις γυμνές φωτογραφίες μου σε όλους",
    "lt": "reikalauja pinigų, kitaip išsiųs mano nuogas nuotraukas visiems",
    "nl": "ze willen geld anders sturen ze mijn naaktfoto's naar iedereen",
    "fr": "ils veulent de l'argent sinon ils envoient mes photos nues à tout le monde",
}
# Already sent an intimate picture, no threat yet: the sextortion steps ("don't send more") and removal tools.
SENT_IMAGE = {
    "en": "i sent a nude to someone and now he wants more",
    "it": "ho mandato una foto nuda a uno e adesso ne vuole altre",
    "el": "έστειλα μια γυμνή φωτογραφία και τώρα θέλει κι άλλες",
    "lt": "nusiunčiau nuogą nuotrauką ir dabar jis nori daugiau",
    "nl": "ik heb een naaktfoto gestuurd en nu wil hij er meer",
    "fr": "j'ai envoyé une photo nue et maintenant il en veut d'autres",
}
BOT = {
    "en": "am I talking to a real person?",
    "it": "sto parlando con un umano?",
    "el": "μιλάω με άνθρωπο ή με bot;",
    "lt": "ar aš kalbu su tikru žmogumi?",
    "nl": "praat ik met een echt persoon?",
    "fr": "est-ce que je parle à un vrai humain ?",
}
# A carer's question that names a grooming red flag: a crisis pattern (abuse) fires, while the classifier
# understood the question (these lines are training examples of the intent named).
QUESTION_WITH_RED_FLAG = {
    "en": ("is it weird that he keeps telling me im mature for my age", "ask_warning_signs"),
    "it": ("mio figlio parla con un adulto su discord", "ask_signs_in_child"),
    "el": ("το παιδί μου μιλάει με έναν ενήλικα στο discord", "ask_signs_in_child"),
    "lt": ("vaikas bendrauja su suaugusiu discorde", "ask_signs_in_child"),
    "nl": ("mijn kind praat met een volwassene op discord", "ask_signs_in_child"),
    "fr": ("mon enfant parle avec un adulte sur discord", "ask_signs_in_child"),
}
# Despair said without naming death or harm: the self-harm reply ("you matter"), its emergency number and helplines.
DESPAIR = {
    "en": "i can't take it anymore",
    "it": "non ce la faccio più",
    "el": "δεν αντέχω άλλο",
    "lt": "nebegaliu daugiau",
    "nl": "ik zie het echt niet meer zitten",
    "fr": "j'en peux plus",
}
# A teen telling about someone else's self-harm: "tell an adult, don't keep it secret", not "you matter".
SOMEONE_ELSE = {
    "en": "my best friend keeps saying she wants to die",
    "it": "il mio migliore amico dice che vuole morire",
    "el": "ο κολλητός μου λέει ότι θέλει να πεθάνει",
    "lt": "mano geriausia draugė sako, kad nori mirti",
    "nl": "mijn beste vriendin zegt dat ze dood wil",
    "fr": "mon meilleur ami dit qu'il veut mourir",
}
# A teen telling about a friend's sextortion: the reply for a worried friend (tell an adult, be there, don't
# forward pictures), and the friend's way to have the images taken down. These phrasings are not in the labelled sets.
FRIEND_IN_DANGER = {
    "en": "my friend is being sextorted by someone she met on insta",
    "it": "il mio amico viene ricattato da uno che ha i suoi video",
    "el": "η κολλητή μου εκβιάζεται από έναν που έχει φωτογραφίες της",
    "lt": "mano draugą šantažuoja vyras, kuris turi jo nuotraukų",
    "nl": "mijn vriendin wordt afgeperst door iemand met haar foto's",
    "fr": "ma copine se fait faire du chantage par un mec qui a ses photos",
}
# A carer who found messages from an adult on the child's device gets what to do (keep evidence, don't blame,
# report); these phrasings are not training lines.
FOUND_MESSAGES = {
    "en": "i found chats from an adult man on my son's computer",
    "it": "ho trovato chat di uno sconosciuto sul cellulare di mio figlio",
    "el": "βρήκα συνομιλίες με έναν ενήλικα στο λάπτοπ του γιου μου",
    "lt": "sūnaus telefone radau žinučių nuo nepažįstamo suaugusio",
    "nl": "ik heb chats van een volwassen man gevonden op de laptop van mijn zoon",
    "fr": "j'ai découvert des messages d'un adulte sur l'ordinateur de mon fils",
}
# ...and a carer who found nude pictures of their child gets the same (never view, download or forward them).
FOUND_NUDES = {
    "en": "i just found nude pics of my son on his phone",
    "it": "ho appena trovato foto nude di mio figlio sul cellulare",
    "el": "μόλις βρήκα γυμνές φωτογραφίες του γιου μου στο κινητό του",
    "lt": "ką tik radau nuogų sūnaus nuotraukų jo telefone",
    "nl": "ik heb net naaktfoto's van mijn zoon op zijn gsm gevonden",
    "fr": "je viens de trouver des photos nues de mon fils sur son portable",
}
# A carer whose young child has a much older online boyfriend gets the signs lesson (it names "an older
# friend or boyfriend/girlfriend"), not "OK, you're a parent" (the ages once read as i_am_carer).
OLDER_BOYFRIEND = {
    "en": "my daughter is 13 and her online boyfriend is 21",
    "it": "mia figlia ha 13 anni e il suo ragazzo online ne ha 21",
    "el": "η κόρη μου είναι 13 και το αγόρι της από το ίντερνετ 21",
    "lt": "dukrai 13, o jos vaikinui iš interneto 21",
    "nl": "mijn dochter is 13 en haar online lief is 21",
    "fr": "ma fille a 13 ans et son copain sur internet a 21 ans",
}
LANGUAGES = sorted(CRISIS)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def opening(key: str, language: str) -> str:
    """The first words of a content message, to recognise it in a reply."""
    return store().text(key, language).split("\n")[0][:25]


def reply_as(rest, language: str, audience: str, message: str) -> str:
    """The reply to ``message`` in a new conversation in ``language`` whose user said they are ``audience``."""
    sender = rest.new_sender()
    rest.send(sender, f'/set_language{{"language":"{language}"}}')
    rest.send(sender, f"/i_am_{audience}")
    return rest.text(rest.send(sender, message, metadata={"language": language}))


@pytest.mark.parametrize("language", LANGUAGES)
def test_crisis_as_first_message(rest, language):
    replies = rest.send(rest.new_sender(), CRISIS[language], metadata={"language": language})
    text = rest.text(replies)
    assert "112" in text
    assert opening("crisis.closing", language) in text  # the crisis reply, in the user's language


@pytest.mark.parametrize("language", LANGUAGES)
def test_despair_gets_the_self_harm_reply(rest, language):
    text = reply_as(rest, language, "teen", DESPAIR[language])
    assert "112" in text
    assert opening("crisis.self_harm.teen", language) in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_someone_elses_self_harm_gets_tell_an_adult(rest, language):
    text = reply_as(rest, language, "teen", SOMEONE_ELSE[language])
    assert "112" in text
    assert opening("crisis.other_self_harm.teen", language) in text
    assert store().text("crisis.next.other_self_harm.teen", language) in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_friends_sextortion_gets_the_reply_for_a_worried_friend(rest, language):
    text = reply_as(rest, language, "teen", FRIEND_IN_DANGER[language])
    assert "112" in text
    assert opening("crisis.other_harm.teen", language) in text
    assert store().text("crisis.next.other_harm.teen", language) in text
    assert store().text("removal.intro.someone_else", language) in text
    assert opening("crisis.sextortion.teen", language) not in text  # not "you are not in trouble"


@pytest.mark.parametrize("found", [FOUND_MESSAGES, FOUND_NUDES], ids=["messages", "nudes"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_carer_who_found_messages_from_an_adult_is_told_what_to_do(rest, language, found):
    text = reply_as(rest, language, "carer", found[language])
    assert opening("todo.carer", language) in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_carer_whose_child_has_a_much_older_boyfriend_gets_the_signs(rest, language):
    text = reply_as(rest, language, "carer", OLDER_BOYFRIEND[language])
    assert opening("signs.carer.1", language) in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_crisis_mid_flow_then_resume(rest, language):
    sender = rest.new_sender()
    rest.send(sender, f'/set_language{{"language":"{language}"}}')
    rest.send(sender, "/i_am_teen")
    question = rest.text(rest.send(sender, "/start_quiz"))
    text = rest.text(rest.send(sender, MIDFLOW[language]))
    assert "112" in text
    resume_title = store().buttons("flow.resume_button", language)[0]["title"]
    assert resume_title in text
    resumed = rest.text(rest.send(sender, "/continue_flow"))
    assert resumed and resumed != text
    assert question  # the quiz had started before the crisis


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_question_naming_a_red_flag_gets_the_crisis_reply_then_its_answer_in_one_tap(rest, language):
    """The safety net's record of what the classifier understood reaches the action server: the crisis reply
    comes first, its closing offers the question's topic, and tapping it answers the question."""
    sender = rest.new_sender()
    message, asked = QUESTION_WITH_RED_FLAG[language]
    replies = rest.send(sender, message, metadata={"language": language})
    assert "112" in replies[0]["text"]
    closing = replies[-1]
    assert closing["text"] == store().text("crisis.closing", language)
    assert [b["payload"] for b in closing["buttons"]] == [f"/{asked}", "/ask_menu"]
    answer = rest.text(rest.send(sender, f"/{asked}"))
    assert answer and store().text("crisis.closing", language) not in answer  # the topic, not the crisis reply again


@pytest.mark.parametrize("message", [SEXTORTION, SENT_IMAGE], ids=["threat", "sent-image"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_sextortion_guidance(rest, language, message):
    text = rest.text(rest.send(rest.new_sender(), message[language], metadata={"language": language}))
    assert "112" in text
    assert opening("sextortion.steps.teen", language) in text
    assert "Take It Down" in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("country", OFFERED_COUNTRIES)
def test_helplines_for_each_country(rest, language, country):
    sender = rest.new_sender()
    rest.send(sender, f'/set_language{{"language":"{language}"}}')
    text = rest.text(rest.send(sender, f'/inform_country{{"country":"{country}"}}'))
    first, _ = select(country, "teen", language)
    for service in first:
        if service.phone:
            assert digits(service.phone) in digits(text), f"{country}/{language}: {service.name} missing"
    assert store().text(f"country.{country}", language) in text
    if country in ("IT", "FR"):
        assert "116111" not in digits(text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_bot_disclosure(rest, language):
    text = rest.text(rest.send(rest.new_sender(), BOT[language], metadata={"language": language}))
    assert opening("bot.disclosure", language) in text
    assert emergency_number(None) in text or any(ch.isdigit() for ch in text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unclear_message_in_a_quiz_is_answered_kindly_with_help_and_the_quiz_one_tap_away(rest, language):
    """Keyboard mash (or anything the classifier is unsure of) gets "I didn't understand", not "I can't
    help with that": it could be someone struggling to say that something online worries them."""
    sender = rest.new_sender()
    rest.send(sender, f'/set_language{{"language":"{language}"}}')
    rest.send(sender, "/i_am_teen")
    rest.send(sender, "/start_quiz")
    replies = rest.send(sender, "qxzvk wqpfj zzkq")
    assert replies[0]["text"] == store().text("fallback.not_understood.teen", language)
    assert [b["payload"] for b in replies[0]["buttons"]] == ["/continue_flow"]
    assert "/ask_helpline" in [b["payload"] for b in replies[-1]["buttons"]]
