"""SafetyNet's check-in: a classifier-only crisis guess below ``check_in_below`` is marked for a gentle
check-in; pattern hits, confident guesses and tapped buttons are not."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.safety_net import CHECK_IN, CRISIS_ABOUT_KEY, SOMEONE_ELSE, SafetyNet, SafetyPatterns, _patterns_dir


@pytest.fixture(scope="module")
def net():
    return SafetyNet(SafetyPatterns(_patterns_dir()), check_in_below=0.8)


def _parsed(text, intent, confidence):
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}], add_to_output=True)
    return message


def _crisis_type(message):
    return next((e["value"] for e in message.get("entities") or [] if e["entity"] == "crisis_type"), None)


def test_an_unsure_classifier_crisis_becomes_a_check_in(net):
    message = net.process([_parsed("i dont feel right about this guy", "crisis", 0.55)])[0]
    assert message.get("intent")["name"] == "crisis"
    assert _crisis_type(message) == CHECK_IN
    assert message.get("safety_net") == {"category": CHECK_IN, "classifier_intent": "crisis"}


def test_a_confident_classifier_crisis_gets_the_full_reply(net):
    message = net.process([_parsed("i dont feel right about this guy", "crisis", 0.93)])[0]
    assert message.get("intent")["name"] == "crisis" and _crisis_type(message) is None


def test_a_pattern_hit_is_never_downgraded_to_a_check_in(net):
    message = net.process([_parsed("someone has my nudes and wants money or they'll post them", "crisis", 0.5)])[0]
    assert message.get("intent") == {"name": "crisis", "confidence": 1.0}
    assert _crisis_type(message) == "sextortion"


def test_other_intents_and_button_payloads_are_untouched(net):
    assert _crisis_type(net.process([_parsed("what is grooming", "ask_warning_signs", 0.5)])[0]) is None
    assert _crisis_type(net.process([_parsed('/crisis{"crisis_type":"danger"}', "crisis", 0.5)])[0]) is None


def _behind_fallback(text, ranking):
    message = Message(data={"text": text})
    message.set("intent", {"name": "nlu_fallback", "confidence": 0.45}, add_to_output=True)
    message.set("intent_ranking", [{"name": "nlu_fallback", "confidence": 0.45}]
                + [{"name": n, "confidence": c} for n, c in ranking], add_to_output=True)
    return message


def test_a_crisis_guess_hidden_by_the_fallback_becomes_a_check_in(net):
    message = net.process([_behind_fallback("i dont feel right about this guy", [("crisis", 0.41), ("out_of_scope", 0.36)])])[0]
    assert message.get("intent") == {"name": "crisis", "confidence": 0.41}
    assert [r["name"] for r in message.get("intent_ranking")] == ["crisis", "out_of_scope"]
    assert _crisis_type(message) == CHECK_IN
    assert message.get("safety_net") == {"category": CHECK_IN, "classifier_intent": "crisis"}


def test_a_fallback_over_another_best_guess_stays_a_fallback(net):
    message = net.process([_behind_fallback("blorp", [("greet", 0.3), ("crisis", 0.28)])])[0]
    assert message.get("intent")["name"] == "nlu_fallback" and _crisis_type(message) is None
    button = net.process([_behind_fallback("/whatever", [("crisis", 0.4)])])[0]
    assert button.get("intent")["name"] == "nlu_fallback" and _crisis_type(button) is None


def test_a_pattern_hit_records_the_question_under_the_key_the_crisis_action_reads(net):
    """actions/safety.py keeps its own copies of these names (actions do not import the NLU components)."""
    from actions import safety

    message = net.process([_parsed("mijn kind praat met een volwassene op discord", "ask_signs_in_child", 0.8)])[0]
    assert message.get("intent")["name"] == "crisis"
    assert message.get(safety.SAFETY_NET_KEY) == {"category": "abuse", "classifier_intent": "ask_signs_in_child"}
    assert safety.CHECK_IN == CHECK_IN


# --- whose danger: a crisis message about a friend's or sibling's danger is marked for the teen's reply ---


@pytest.mark.parametrize("text, intent", [
    ("my friend is being blackmailed with her nudes", "ask_sextortion"),            # a pattern hit
    ("mijn zus gaat afspreken met een man die ze online kent", "crisis"),            # a pattern hit
    ("my best friend is scared of a guy she talks to", "crisis"),                     # a sure classifier crisis
])
def test_a_crisis_about_a_friend_is_marked(net, text, intent):
    message = net.process([_parsed(text, intent, 0.9)])[0]
    assert message.get("intent")["name"] == "crisis"
    assert message.get(CRISIS_ABOUT_KEY) == SOMEONE_ELSE


@pytest.mark.parametrize("text", [
    "someone has my nudes and wants money or they'll post them",   # the writer's own
    "he threatened to send it to my brother if i dont pay",        # a threat to the writer, the brother as audience
    "my friend says she wants to die",                             # someone else's self-harm has its own category
])
def test_the_writers_own_danger_and_self_harm_are_not_marked(net, text):
    message = net.process([_parsed(text, "crisis", 0.9)])[0]
    assert message.get("intent")["name"] == "crisis" and message.get(CRISIS_ABOUT_KEY) is None


def test_a_friend_named_outside_a_crisis_is_not_marked(net):
    message = net.process([_parsed("my friend is being so dramatic about her photos", "out_of_scope", 0.9)])[0]
    assert message.get(CRISIS_ABOUT_KEY) is None
