"""Localized content: the one place that reads ``content/<lang>/*.yml``.

Every sentence and button label a user reads lives in a content file under a stable key. Actions ask
for a key in the conversation's language; a key missing in that language falls back to English with
a logged warning, so a half-translated release degrades gracefully instead of failing.

A content file looks like::

    language: it
    messages:
      menu.intro:
        text: "Cosa vuoi fare?"
        buttons:
          - {title: "Segnali di pericolo", payload: "/ask_warning_signs"}
      greet.short: "Ciao!"          # a plain string is a message with text only

Optional per-message fields: ``review: native`` (awaiting review by a native speaker) and
``note`` (context for translators). Placeholders use ``{name}`` and are filled by the action.
"""

from __future__ import annotations

import logging
import os
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional

import yaml

logger = logging.getLogger(__name__)
# libyaml's safe loader is several times faster than the pure-Python one on ~0.6 MB of content.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES = ("en", "it", "el", "lt", "nl", "fr")
CONTENT_DIR = Path(os.environ.get("BEACON_CONTENT_DIR", Path(__file__).resolve().parent.parent / "content"))


@dataclass(frozen=True)
class Message:
    """One rendered message: text plus optional buttons and links, ready for a dispatcher."""

    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)

    def as_kwargs(self) -> Dict[str, Any]:
        """Arguments for ``CollectingDispatcher.utter_message``."""
        kwargs: Dict[str, Any] = {"text": self.text}
        if self.buttons:
            kwargs["buttons"] = list(self.buttons)
        return kwargs


class _SafeDict(dict):
    """Leaves unknown placeholders visible instead of raising, so a typo never crashes a reply."""

    def __missing__(self, key: str) -> str:
        logger.warning("content placeholder {%s} has no value", key)
        return "{" + key + "}"


def placeholders(text: str) -> List[str]:
    """Names of ``{placeholders}`` used in ``text``."""
    return sorted({name for _, name, _, _ in string.Formatter().parse(text) if name})


def load_language_files(directory: Path) -> Dict[str, Dict[str, Any]]:
    """Read every ``*.yml`` in one language directory into ``{key: raw entry}``."""
    entries: Dict[str, Dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yml")):
        with path.open(encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=_LOADER) or {}  # noqa: S506  # nosec B506 - _LOADER is a SafeLoader
        for key, raw in (document.get("messages") or {}).items():
            entry = {"text": raw} if isinstance(raw, str) else dict(raw or {})
            entry["_file"] = str(path)
            entries[key] = entry
    return entries


class ContentStore:
    """All localized messages, loaded once, rendered by key and language."""

    def __init__(self, root: Path = CONTENT_DIR) -> None:
        self.root = Path(root)
        self._entries: Dict[str, Dict[str, Dict[str, Any]]] = {}
        for language in SUPPORTED_LANGUAGES:
            directory = self.root / language
            if directory.is_dir():
                self._entries[language] = load_language_files(directory)

    @property
    def languages(self) -> List[str]:
        """Languages that have at least one content file."""
        return sorted(self._entries)

    def keys(self, language: str = DEFAULT_LANGUAGE) -> Iterable[str]:
        """Content keys defined for ``language``."""
        return self._entries.get(language, {}).keys()

    def has(self, key: str, language: str = DEFAULT_LANGUAGE) -> bool:
        """True when ``key`` exists in ``language`` (no fallback)."""
        return key in self._entries.get(language, {})

    def entry(self, key: str, language: str) -> Dict[str, Any]:
        """The raw entry for ``key``; English when the language lacks it (logged)."""
        entry = self._entries.get(language, {}).get(key)
        if entry is None:
            entry = self._entries.get(DEFAULT_LANGUAGE, {}).get(key)
            if entry is None:
                raise KeyError(f"content key {key!r} exists in no language")
            if language != DEFAULT_LANGUAGE:
                logger.warning("content key %r missing in %r, using English", key, language)
        return entry

    def text(self, key: str, language: str, **values: Any) -> str:
        """Only the text of ``key``, placeholders filled."""
        return self.render(key, language, **values).text

    def render(self, key: str, language: str, **values: Any) -> Message:
        """Render ``key`` in ``language`` with ``values`` for its placeholders."""
        entry = self.entry(key, language)
        text = str(entry.get("text", "")).format_map(_SafeDict(values))
        buttons = [
            {"title": str(b["title"]).format_map(_SafeDict(values)), "payload": str(b["payload"])}
            for b in entry.get("buttons") or []
        ]
        return Message(text=text.strip(), buttons=buttons)

    def buttons(self, key: str, language: str) -> List[Dict[str, str]]:
        """Only the buttons of ``key``."""
        return self.render(key, language).buttons

    def raw(self, key: str, language: str) -> Mapping[str, Any]:
        """Structured content (lists, maps) stored under ``key``; used by quiz and checkup data."""
        return self.entry(key, language)


_STORE: Optional[ContentStore] = None


def store() -> ContentStore:
    """The process-wide content store, loaded on first use."""
    global _STORE
    if _STORE is None:
        _STORE = ContentStore()
    return _STORE


def reload() -> ContentStore:
    """Drop the cache and read content again (tests, or a content hot-reload)."""
    global _STORE
    _STORE = ContentStore()
    return _STORE
