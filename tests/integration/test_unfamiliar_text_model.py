"""The trained model on keyboard mash and on the shortest real replies (UnfamiliarTextGuard + fallback).

Mash is generated (seeded) from Latin and Greek letters; the bot should ask to rephrase
(``nlu_fallback`` or ``out_of_scope``, both answered by ``action_out_of_scope``) and never raise a crisis.
Short replies in all six languages, with and without accents, must still be understood.
"""

from __future__ import annotations

import asyncio
import random
import string
from typing import List

import pytest

REPHRASE = {"nlu_fallback", "out_of_scope"}
GREEK = "αβγδεζηθικλμνξοπρστυφχψω"
# Measured 2026-11-29 on this set: 100 % with the guard and the logistic regression (94 % with its fallback
# alone); 96 % with the linear SVM and the guard at 0.7 (the SVM is more confident on mash).
MIN_CAUGHT = 0.95
SHORT_REPLIES = {
    "en": ["yes", "no", "thanks", "ok"], "it": ["sì", "si", "no", "grazie"],
    "el": ["ναι", "όχι", "οχι", "ευχαριστώ", "ευχαριστω"], "lt": ["taip", "ne", "ačiū", "aciu"],
    "nl": ["ja", "nee", "bedankt"], "fr": ["oui", "non", "merci"],
}


def _mash(seed: int = 11) -> List[str]:
    rng = random.Random(seed)

    def word(alphabet: str, low: int, high: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))

    latin = [word(string.ascii_lowercase, 4, 14) for _ in range(60)]
    phrases = [" ".join(word(string.ascii_lowercase, 3, 7) for _ in range(rng.randint(2, 4))) for _ in range(30)]
    greek = [word(GREEK, 4, 12) for _ in range(40)]
    return latin + phrases + greek


@pytest.fixture(scope="module")
def intent_of(model_path):
    from rasa.core.agent import Agent

    from tools.nlu_eval import quiet_parse_log

    agent = Agent.load(str(model_path))
    loop = asyncio.new_event_loop()

    def _intent(text: str) -> str:
        return (loop.run_until_complete(agent.parse_message(text)).get("intent") or {}).get("name") or ""

    with quiet_parse_log():
        yield _intent
    loop.close()


def test_keyboard_mash_gets_the_rephrase_reply_and_never_a_crisis(intent_of) -> None:
    intents = [intent_of(text) for text in _mash()]
    caught = sum(name in REPHRASE for name in intents) / len(intents)
    print(f"keyboard mash sent to the rephrase reply: {caught:.0%} of {len(intents)}")
    assert "crisis" not in intents
    assert caught >= MIN_CAUGHT


@pytest.mark.parametrize("language", sorted(SHORT_REPLIES))
def test_short_real_replies_are_understood(intent_of, language: str) -> None:
    misread = {text: intent_of(text) for text in SHORT_REPLIES[language]}
    assert not {t: i for t, i in misread.items() if i in REPHRASE}, misread
