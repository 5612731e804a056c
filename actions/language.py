"""Which language to answer in.

Order of evidence: an explicit choice in this message (button or "/language it"), the user's own text
when the detector is confident, the language already in the conversation, a short first message that is a
training example of exactly one language ("buongiorno", "γεια"), the channel's hint (Telegram
``language_code``, the browser's language), then English.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional, Set, Tuple

from actions.content import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, load_yaml

logger = logging.getLogger(__name__)

# Short messages ("ok", "si", "112") say nothing reliable about the language.
MIN_LETTERS = 12
MIN_WORDS = 3
MIN_CONFIDENCE = 0.7
# Keyboard mash can look like a language to the detector ("qxzvk wqpfj zzkq" is Dutch to lingua): a
# detection counts only when at least this share of the words occur in that language's training examples.
MIN_KNOWN_WORD_SHARE = 0.5

_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
_LITHUANIAN = re.compile(r"[ąčęėįšųūž]", re.IGNORECASE)


@lru_cache(maxsize=1)
def _detector() -> Any:
    """Build the lingua detector once; ``None`` when lingua is not installed."""
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:  # pragma: no cover - lingua is pinned in requirements
        logger.warning("lingua-language-detector is not installed; language detection is off")
        return None
    languages = {
        "en": Language.ENGLISH, "it": Language.ITALIAN, "el": Language.GREEK,
        "lt": Language.LITHUANIAN, "nl": Language.DUTCH, "fr": Language.FRENCH,
    }
    detector = LanguageDetectorBuilder.from_languages(*languages.values()).build()
    return detector, {value: key for key, value in languages.items()}


def normalise_code(code: Optional[str]) -> Optional[str]:
    """``"it-IT"`` → ``"it"``; unsupported or empty codes → ``None``."""
    if not code or not isinstance(code, str):
        return None
    short = code.strip().lower().replace("_", "-").split("-")[0]
    return short if short in SUPPORTED_LANGUAGES else None


def detect_language(text: Optional[str]) -> Optional[str]:
    """The language of ``text`` when the evidence is strong, else ``None``."""
    if not text or text.startswith("/"):
        return None
    letters = [c for c in text if unicodedata.category(c).startswith("L")]
    if len(_GREEK.findall(text)) >= 4:
        return "el"  # the script alone settles it
    words = re.findall(r"\w+", text)
    if len(letters) < MIN_LETTERS or len(words) < MIN_WORDS:
        return None
    built = _detector()
    if built is None:
        return None
    detector, reverse = built
    values = detector.compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    language = reverse.get(best.language)
    if best.value < MIN_CONFIDENCE and not (language == "lt" and _LITHUANIAN.search(text)):
        return None
    return language if language and _mostly_known_words(text, language) else None


def _mostly_known_words(text: str, language: str) -> bool:
    """Whether at least ``MIN_KNOWN_WORD_SHARE`` of the words of ``text`` occur in ``language``'s training data."""
    words = [word for word in _fold(text).split() if not word.isdigit()]
    known = _training_index()[1][language]
    return bool(words) and sum(word in known for word in words) >= MIN_KNOWN_WORD_SHARE * len(words)


NLU_DIR = Path(__file__).resolve().parent.parent / "data" / "nlu"


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", text))


@lru_cache(maxsize=1)
def _training_index() -> Tuple[Dict[str, Set[str]], Dict[str, Set[str]]]:
    """From the training examples: each example (folded) → the languages whose data contain it, and each
    language → the (folded) words its examples use."""
    examples: Dict[str, Set[str]] = {}
    words: Dict[str, Set[str]] = {language: set() for language in SUPPORTED_LANGUAGES}
    for language in SUPPORTED_LANGUAGES:
        for path in sorted((NLU_DIR / language).glob("*.yml")):
            document = load_yaml(path.read_text(encoding="utf-8")) or {}
            for block in document.get("nlu") or []:
                for line in str(block.get("examples", "")).splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        folded = _fold(line[2:])
                        examples.setdefault(folded, set()).add(language)
                        words[language].update(folded.split())
    return examples, words


def language_of_known_phrase(text: Optional[str]) -> Optional[str]:
    """The language of a short message that is a training example of exactly one language ("buongiorno")."""
    if not text or text.startswith("/"):
        return None
    languages = _training_index()[0].get(_fold(text))
    return next(iter(languages)) if languages and len(languages) == 1 else None


def resolve_language(
    text: Optional[str],
    current: Optional[str],
    metadata: Optional[Dict[str, Any]],
    explicit: Optional[str] = None,
) -> str:
    """Pick the reply language from the evidence, strongest first."""
    chosen = normalise_code(explicit)
    if chosen:
        return chosen
    detected = detect_language(text)
    if detected:
        return detected
    if normalise_code(current):
        return normalise_code(current)  # type: ignore[return-value]
    # First message, too short for the detector: a greeting like "buongiorno" still tells.
    known = language_of_known_phrase(text)
    hint = normalise_code((metadata or {}).get("language"))
    if known and not (known == DEFAULT_LANGUAGE and hint):
        return known  # English words ("ok", "hey") are common in every language: the hint wins over them
    return hint or DEFAULT_LANGUAGE
