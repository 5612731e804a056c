"""UnfamiliarTextGuard: keyboard mash goes to ``nlu_fallback``; typos, slang, numbers and buttons do not.

The component is trained, persisted and loaded through Rasa's real ``LocalModelStorage``.
"""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.safety_net import CHECK_IN, SafetyNet, SafetyPatterns, _patterns_dir
from components.unfamiliar_text import UnfamiliarTextGuard, known_share, learn_trigrams, letter_trigrams

TRAINING = [
    ("hello there", "greet"), ("hi, how are you", "greet"), ("γεια σου, τι κάνεις", "greet"),
    ("thanks a lot", "thanks"), ("ευχαριστώ πολύ", "thanks"), ("labas, kaip sekasi", "greet"),
    ("what are the warning signs of grooming", "ask_warning_signs"), ("merci beaucoup", "thanks"),
]


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


@pytest.fixture()
def guard(storage: LocalModelStorage) -> UnfamiliarTextGuard:
    component = UnfamiliarTextGuard.create(UnfamiliarTextGuard.get_default_config(), storage,
                                           Resource("guard"), _context())
    component.train(TrainingData([Message(data={"text": t, "intent": i}) for t, i in TRAINING]))
    return component


def _parsed(text: str, intent: str = "affirm", confidence: float = 0.6) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}], add_to_output=True)
    return message


def test_letter_trigrams_fold_accents_pad_words_and_ignore_digits() -> None:
    assert letter_trigrams("Πώς") == [" πω", "πως", "ως "]
    assert letter_trigrams("hi 15!") == [" hi", "hi "]
    assert letter_trigrams("15 ?? 😀") == []


def test_known_share_is_none_without_letters_and_a_fraction_otherwise() -> None:
    known = learn_trigrams(["hello"])
    assert known_share("👍 123", known) is None
    assert known_share("hello", known) == 1.0
    assert known_share("xqzvw", known) == 0.0
    assert 0 < known_share("hello xqzvw", known) < 1


@pytest.mark.parametrize("mash", ["qxzvbw", "jblo xvkaak", "ωκξδφψ", "zzqk pwfx"])
def test_keyboard_mash_becomes_nlu_fallback_with_the_ranking_kept(guard: UnfamiliarTextGuard, mash: str) -> None:
    message = guard.process([_parsed(mash)])[0]
    assert message.get("intent")["name"] == "nlu_fallback"
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "affirm"]


@pytest.mark.parametrize("text", ["helo ther", "thanks!!", "ευχαριστω", "Γειά σου", "labas", "merci bcp", "15",
                                  "??", "👍", "/greet", '/inform_country{"country": "BE"}'])
def test_typos_accents_numbers_emoji_and_buttons_keep_their_intent(guard: UnfamiliarTextGuard, text: str) -> None:
    assert guard.process([_parsed(text)])[0].get("intent")["name"] == "affirm"


def test_an_existing_fallback_is_left_as_it_is(guard: UnfamiliarTextGuard) -> None:
    message = guard.process([_parsed("qxzvbw", "nlu_fallback", 0.45)])[0]
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.45}
    assert len(message.get("intent_ranking")) == 1


def test_trigrams_survive_persist_and_load(guard: UnfamiliarTextGuard, storage: LocalModelStorage) -> None:
    loaded = UnfamiliarTextGuard.load(UnfamiliarTextGuard.get_default_config(), storage, Resource("guard"),
                                      _context())
    assert loaded.known == guard.known
    assert loaded.process([_parsed("qxzvbw")])[0].get("intent")["name"] == "nlu_fallback"


def test_a_model_without_trigrams_switches_the_guard_off(storage: LocalModelStorage) -> None:
    loaded = UnfamiliarTextGuard.load(UnfamiliarTextGuard.get_default_config(), storage, Resource("missing"),
                                      _context())
    assert loaded.process([_parsed("hello there")])[0].get("intent")["name"] == "affirm"


def test_the_safety_net_after_the_guard_still_wins(guard: UnfamiliarTextGuard) -> None:
    """Pipeline order: guard, then SafetyNet. A crisis pattern fires whatever the guard decided, and a
    crisis best guess hidden behind the guard's fallback still gets the check-in."""
    net = SafetyNet(SafetyPatterns(_patterns_dir()))
    text = "he wants my nudes or he will post them"
    hit = net.process(guard.process([_parsed(text, "ask_sextortion", 0.7)]))[0]
    assert hit.get("intent") == {"name": "crisis", "confidence": 1.0}
    unsure = net.process(guard.process([_parsed("qxzvbw", "crisis", 0.5)]))[0]
    assert unsure.get("intent")["name"] == "crisis"
    assert any(e["value"] == CHECK_IN for e in unsure.get("entities"))
