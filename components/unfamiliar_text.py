"""Keyboard mash is not a message: send text made of unfamiliar letter sequences to ``nlu_fallback``.

A classifier always names *some* intent, and for "qwertyuiop" or "ωκεδοκ" it is often a short one such
as ``affirm`` (the training data is full of "k", "ya", "ναι"), sometimes with fair confidence. Typos and
slang of real messages still share most of their three-letter sequences with the training data; random
letters do not. This component learns the set of three-letter sequences (inside words, accents folded,
as the safety net folds them) at training time, and when fewer than ``min_known_share`` of a message's
sequences are known it puts ``nlu_fallback`` first, as Rasa's FallbackClassifier does, so the bot asks
the person to rephrase. Messages without letters ("15", "??", emoji) are left to the classifier.

On a 4-fold split of the training data the default share (0.5) flags 0.08 % of real messages (mostly
one-off abbreviations such as "tnx") and 81 % of generated keyboard mash; ``config.yml`` uses 0.7 (0.23 %
of real messages, see the comment there). It runs before the safety net, so a crisis pattern always wins.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, FrozenSet, Iterable, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.safety_net import NLU_FALLBACK_INTENT, normalise

logger = logging.getLogger(__name__)

NGRAM = 3
DEFAULT_MIN_KNOWN_SHARE = 0.5
FILE_NAME = "letter_trigrams.json"


def letter_trigrams(text: str) -> List[str]:
    """The three-letter sequences of each word (letters only, padded with spaces, accents folded)."""
    grams: List[str] = []
    for word in normalise(text).split():
        letters = "".join(c for c in word if c.isalpha())
        if not letters:
            continue
        padded = f" {letters} "
        grams.extend(padded[i:i + NGRAM] for i in range(len(padded) - NGRAM + 1))
    return grams


def known_share(text: str, known: FrozenSet[str]) -> Optional[float]:
    """Share of the message's letter trigrams seen in training; ``None`` when it has no letters."""
    grams = letter_trigrams(text)
    if not grams:
        return None
    return sum(gram in known for gram in grams) / len(grams)


def learn_trigrams(texts: Iterable[str]) -> FrozenSet[str]:
    """Every letter trigram of the training texts."""
    return frozenset(gram for text in texts for gram in letter_trigrams(text))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class UnfamiliarTextGuard(GraphComponent):
    """Rasa NLU component: text whose letters are mostly unseen in training becomes ``nlu_fallback``."""

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 known: FrozenSet[str] = frozenset()) -> None:
        self.min_known_share = float(config.get("min_known_share", DEFAULT_MIN_KNOWN_SHARE))
        self._model_storage = model_storage
        self._resource = resource
        self.known = known

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"min_known_share": DEFAULT_MIN_KNOWN_SHARE}

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UnfamiliarTextGuard:
        """A guard that knows no trigram yet (``train`` fills it)."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> UnfamiliarTextGuard:
        """Read the trigrams learnt at training time from the model."""
        try:
            with model_storage.read_from(resource) as directory:
                known = frozenset(json.loads((directory / FILE_NAME).read_text(encoding="utf-8")))
        except (ValueError, OSError):
            # Without its trigrams the guard would send everything to the fallback: switch it off instead.
            logger.warning("UnfamiliarTextGuard: no trigrams in the model; the guard is off until retraining")
            return cls({**config, "min_known_share": 0.0}, model_storage, resource)
        return cls(config, model_storage, resource, known)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the trigrams of every training example and store them in the model."""
        self.known = learn_trigrams(m.get(TEXT) for m in training_data.intent_examples if m.get(TEXT))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / FILE_NAME).write_text(json.dumps(sorted(self.known), ensure_ascii=False), encoding="utf-8")
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        """Put ``nlu_fallback`` first for every message made mostly of unfamiliar letter sequences."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith("/"):  # a tapped button is never mash
                continue
            intent = message.get(INTENT) or {}
            if intent.get("name") == NLU_FALLBACK_INTENT:
                continue
            share = known_share(text, self.known)
            if share is None or share >= self.min_known_share:
                continue
            fallback = {"name": NLU_FALLBACK_INTENT, "confidence": 1.0 - share}
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback] + list(message.get(INTENT_RANKING_KEY) or []),
                        add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged."""
        return training_data
