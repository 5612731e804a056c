"""Which language to answer in.

Order of evidence: an explicit choice in this message (button or "/language it"), the user's own text
when the detector is confident, the language already in the conversation, the channel's hint (Telegram
``language_code``, the browser's language), then English.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import Any, Dict, Optional

from actions.content import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

logger = logging.getLogger(__name__)

# Short messages ("ok", "si", "112") say nothing reliable about the language.
MIN_LETTERS = 12
MIN_WORDS = 3
MIN_CONFIDENCE = 0.7

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
    if best.value < MIN_CONFIDENCE:
        if _LITHUANIAN.search(text) and reverse.get(best.language) == "lt":
            return "lt"
        return None
    return reverse.get(best.language)


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
    hint = normalise_code((metadata or {}).get("language"))
    return hint or DEFAULT_LANGUAGE
