"""The deterministic safety net: curated crisis patterns that override the intent classifier.

A statistical classifier will sometimes miss a message like "he says he'll post my pics unless I pay".
This component runs last in the NLU pipeline and, when any curated pattern of any supported language
matches, sets the intent to ``crisis`` (confidence 1.0) and adds a ``crisis_type`` entity
(``other_self_harm``, ``self_harm``, ``sextortion``, ``meeting``, ``abuse`` or ``danger``). The patterns live in
``content/safety/<lang>.yml`` so the content team can extend them without a retrain (a restart reloads them).

Matching is done on a normalised text: lower case, accents removed, typographic apostrophes unified,
so "perché" and "perche", "ό" and "ο" match the same pattern.

A crisis message that tells about a friend's or sibling's danger (sextortion, meeting, abuse, danger) also
gets ``crisis_about: someone_else`` in its parse data, from the ``about`` patterns of the same files, so a
teen telling about a friend is answered as a worried friend rather than as the person at risk.

When no pattern matches but the classifier itself says ``crisis`` with a confidence below
``check_in_below`` (config, default 0.8), the message gets ``crisis_type: check_in``: the bot asks gently
whether the person is in danger, shows the emergency number and offers the full crisis reply in one tap,
instead of answering an uncertain guess ("I cut my finger on a can opener") with a crisis reply.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Pattern, Tuple

import yaml

logger = logging.getLogger(__name__)

CRISIS_INTENT = "crisis"
NLU_FALLBACK_INTENT = "nlu_fallback"  # what Rasa's FallbackClassifier puts first when it is unsure
CHECK_IN = "check_in"  # crisis_type of an uncertain classifier guess
DEFAULT_CHECK_IN_BELOW = 0.8
SAFETY_NET_KEY = "safety_net"  # parse-data key: which category fired and what the classifier had said
# When several categories match, the most urgent decides the reply. Someone else's self-harm ("my friend cuts
# herself") comes first because some self_harm patterns also read the third person ("snijdt zichzelf"), and a
# teen telling about a friend needs "tell an adult, don't keep it secret", not "I'm sorry you feel this way".
CATEGORY_PRIORITY = ("other_self_harm", "self_harm", "sextortion", "meeting", "abuse", "danger")
NEVER_VETOED = ("other_self_harm", "self_harm", "sextortion")
# Parse-data key set on a crisis message that tells about someone else's danger ("my friend is being
# blackmailed"), so a teen gets "tell an adult, be there for them" rather than "you are not in trouble".
CRISIS_ABOUT_KEY = "crisis_about"
SOMEONE_ELSE = "someone_else"
# Categories whose reply is addressed to the person at risk and has a version for telling about someone else.
ABOUT_SOMEONE_ELSE_CATEGORIES = ("sextortion", "meeting", "abuse", "danger")
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "content" / "safety"


def normalise(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes and whitespace for pattern matching."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[’‘`´]", "'", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class SafetyMatch:
    """Which category fired, by which pattern of which language file."""

    category: str
    language: str
    pattern: str


class SafetyPatterns:
    """Compiled patterns of every language, plus the benign exceptions that veto a match."""

    def __init__(self, directory: Path = DEFAULT_DIR) -> None:
        self.directory = Path(directory)
        self.rules: List[Tuple[str, str, Pattern[str]]] = []
        self.benign: List[Tuple[str, Pattern[str]]] = []
        self.someone_else: Dict[str, List[Pattern[str]]] = {}
        self.about_me: Dict[str, List[Pattern[str]]] = {}
        for path in sorted(self.directory.glob("*.yml")):
            self._load(path)
        if not self.rules:
            raise RuntimeError(f"no safety patterns found in {self.directory}: the safety net would be empty")

    def _load(self, path: Path) -> None:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        language = document.get("language", path.stem)
        for category, patterns in (document.get("categories") or {}).items():
            if category not in CATEGORY_PRIORITY:
                raise ValueError(f"{path}: unknown safety category {category!r}; use one of {CATEGORY_PRIORITY}")
            for pattern in patterns or []:
                self.rules.append((category, language, re.compile(normalise(str(pattern)))))
        for pattern in document.get("benign") or []:
            self.benign.append((language, re.compile(normalise(str(pattern)))))
        about = document.get("about") or {}
        self.someone_else[language] = [re.compile(normalise(str(p))) for p in about.get(SOMEONE_ELSE) or []]
        self.about_me[language] = [re.compile(normalise(str(p))) for p in about.get("me") or []]

    def about_someone_else(self, text: str) -> bool:
        """Whether the message tells about a friend's, brother's or sister's danger, not the writer's own.

        True when, in some language, a ``someone_else`` pattern matches ("my friend is being blackmailed",
        "le foto della mia amica") and none of that language's ``me`` patterns does ("...and now he asks
        me for pics", "my friend gave him my number"). When in doubt the answer is False: the reply to
        the person at risk is the safer one to give by mistake.
        """
        normal = normalise(text)
        return any(
            any(p.search(normal) for p in patterns) and not any(p.search(normal) for p in self.about_me.get(language, []))
            for language, patterns in self.someone_else.items()
        )

    def match(self, text: str) -> Optional[SafetyMatch]:
        """The most urgent matching category, or ``None``.

        A benign exception vetoes only the hits that lie inside its own match ("how would I know if my
        daughter is being groomed" neutralises "being groomed", not a threat elsewhere in the message);
        self-harm (anyone's) and sextortion hits are never vetoed.
        """
        normal = normalise(text)
        if not normal:
            return None
        benign_spans = [m.span() for _, pattern in self.benign for m in pattern.finditer(normal)]
        hits = []
        for category, language, pattern in self.rules:
            for found in pattern.finditer(normal):
                start, end = found.span()
                vetoed = category not in NEVER_VETOED and any(
                    b_start <= start and end <= b_end for b_start, b_end in benign_spans)
                if not vetoed:
                    hits.append(SafetyMatch(category, language, pattern.pattern))
                    break
        if not hits:
            return None
        hits.sort(key=lambda hit: CATEGORY_PRIORITY.index(hit.category))
        return hits[0]


def _patterns_dir() -> Path:
    configured = os.environ.get("BEACON_CONTENT_DIR")
    return Path(configured) / "safety" if configured else DEFAULT_DIR


try:  # Rasa is absent in the content-check tooling; the matcher above works without it.
    from rasa.engine.graph import ExecutionContext, GraphComponent
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.engine.storage.resource import Resource
    from rasa.engine.storage.storage import ModelStorage
    from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message
except ImportError:  # pragma: no cover
    GraphComponent = object  # type: ignore[misc,assignment]
    DefaultV1Recipe = None  # type: ignore[assignment]


def _register(cls: Any) -> Any:
    if DefaultV1Recipe is None:  # pragma: no cover
        return cls
    return DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)(cls)


@_register
class SafetyNet(GraphComponent):  # type: ignore[misc]
    """Rasa NLU component: pattern hits become ``crisis`` with a ``crisis_type`` entity."""

    def __init__(self, patterns: SafetyPatterns, check_in_below: float = DEFAULT_CHECK_IN_BELOW) -> None:
        self.patterns = patterns
        self.check_in_below = check_in_below

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: "ModelStorage",
        resource: "Resource",
        execution_context: "ExecutionContext",
    ) -> "SafetyNet":
        """Load the curated patterns from ``content/safety`` (not from the model: no retrain needed)."""
        return cls(SafetyPatterns(_patterns_dir()),
                   float(config.get("check_in_below", DEFAULT_CHECK_IN_BELOW)))

    def process(self, messages: List["Message"]) -> List["Message"]:
        """Override the intent of every message that matches a crisis pattern."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            hit = self.patterns.match(text)
            if hit is None:
                self._check_in_if_unsure(message, text)
                if (message.get(INTENT) or {}).get("name") == CRISIS_INTENT and not text.startswith("/"):
                    self._mark_about_someone_else(message, text)  # a sure classifier crisis, or a check-in
                continue
            classified = (message.get(INTENT) or {}).get("name")
            intent = {"name": CRISIS_INTENT, "confidence": 1.0}
            ranking = [intent] + [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != CRISIS_INTENT]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            entities = list(message.get(ENTITIES) or [])
            entities.append({"entity": "crisis_type", "value": hit.category, "start": 0, "end": len(text),
                             "confidence": 1.0, "extractor": "SafetyNet"})
            message.set(ENTITIES, entities, add_to_output=True)
            # Kept so evaluations can tell the classifier's quality from the net's deliberate escalations.
            message.set(SAFETY_NET_KEY, {"category": hit.category, "classifier_intent": classified},
                        add_to_output=True)
            if hit.category in ABOUT_SOMEONE_ELSE_CATEGORIES:
                self._mark_about_someone_else(message, text)
        return messages

    def _mark_about_someone_else(self, message: "Message", text: str) -> None:
        """Record that a crisis message is about a friend's or sibling's danger (see ``CRISIS_ABOUT_KEY``)."""
        if self.patterns.about_someone_else(text):
            message.set(CRISIS_ABOUT_KEY, SOMEONE_ELSE, add_to_output=True)

    def _check_in_if_unsure(self, message: "Message", text: str) -> None:
        """Mark a low-confidence classifier ``crisis`` (no pattern hit) for a gentle check-in.

        This includes a ``crisis`` guess that the FallbackClassifier hid behind ``nlu_fallback`` (too
        unsure, or too close to the runner-up): the out-of-scope reply ("sorry, I can't help with that") is
        the wrong answer to a message the classifier thinks most likely signals danger.
        """
        if text.startswith("/"):  # a tapped button is never unsure
            return
        intent = message.get(INTENT) or {}
        if intent.get("name") == NLU_FALLBACK_INTENT:
            intent = self._crisis_behind_fallback(message)
        if intent.get("name") != CRISIS_INTENT:
            return
        if float(intent.get("confidence") or 0.0) >= self.check_in_below:
            return
        entities = list(message.get(ENTITIES) or [])
        entities.append({"entity": "crisis_type", "value": CHECK_IN, "start": 0, "end": len(text),
                         "confidence": 1.0, "extractor": "SafetyNet"})
        message.set(ENTITIES, entities, add_to_output=True)
        message.set(SAFETY_NET_KEY, {"category": CHECK_IN, "classifier_intent": CRISIS_INTENT}, add_to_output=True)

    @staticmethod
    def _crisis_behind_fallback(message: "Message") -> Dict[str, Any]:
        """If ``crisis`` is the classifier's best guess under ``nlu_fallback``, make it the intent again."""
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != NLU_FALLBACK_INTENT]
        if not ranking or ranking[0].get("name") != CRISIS_INTENT:
            return {}
        intent = {"name": CRISIS_INTENT, "confidence": float(ranking[0].get("confidence") or 0.0)}
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return intent

    def process_training_data(self, training_data: Any) -> Any:
        """Training data passes through unchanged."""
        return training_data

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        """No options."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"check_in_below": DEFAULT_CHECK_IN_BELOW}


def iter_categories() -> Iterable[str]:
    """The categories a pattern file may use, most urgent first."""
    return iter(CATEGORY_PRIORITY)
