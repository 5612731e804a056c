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
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

import yaml

logger = logging.getLogger(__name__)
# libyaml's safe loader is several times faster than the pure-Python one on ~0.6 MB of content.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(stream: Any) -> Any:
    """Parse YAML (a string or an open file) safely, with libyaml when it is installed.

    On the ~2 MB of training data the pure-Python ``yaml.safe_load`` takes ~1.2 s, libyaml ~25 ms.
    """
    return yaml.load(stream, Loader=_LOADER)  # noqa: S506  # nosec B506 - _LOADER is a SafeLoader


DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES = ("en", "it", "el", "lt", "nl", "fr")
CONTENT_DIR = Path(os.environ.get("BEACON_CONTENT_DIR", Path(__file__).resolve().parent.parent / "content"))
# How often (seconds) to look for edited content files; 0 turns hot reload off. A content editor sees
# a changed message or helpline within this time, with no restart and no retrain.
RELOAD_SECONDS = float(os.environ.get("BEACON_CONTENT_RELOAD_SECONDS", "2"))


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
            document = load_yaml(handle) or {}
        for key, raw in (document.get("messages") or {}).items():
            entry = {"text": raw} if isinstance(raw, str) else dict(raw or {})
            entry["_file"] = str(path)
            entries[key] = entry
    return entries


class ContentStore:
    """All localized messages, loaded once, rendered by key and language."""

    def __init__(self, root: Optional[Path] = None) -> None:
        self.root = Path(root) if root is not None else CONTENT_DIR
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
_SIGNATURE: Optional[Tuple[Tuple[str, int, int], ...]] = None
_CHECKED_AT = 0.0
_LOCK = threading.Lock()
_RELOAD_HOOKS: List[Callable[[], None]] = []


def on_reload(hook: Callable[[], None]) -> Callable[[], None]:
    """Register a cache-clearing callback run after content is re-read (helplines, checkups...)."""
    _RELOAD_HOOKS.append(hook)
    return hook


def _signature(root: Path) -> Tuple[Tuple[str, int, int], ...]:
    """(path, mtime, size) of every content file: cheap to compute, changes on any save."""
    entries = []
    for path in sorted(root.rglob("*.yml")):
        try:
            info = path.stat()
        except OSError:  # deleted between listing and stat: the next check sees the new state
            continue
        entries.append((str(path), info.st_mtime_ns, info.st_size))
    return tuple(entries)


def store() -> ContentStore:
    """The process-wide content store, loaded on first use and refreshed when files change."""
    global _STORE, _SIGNATURE
    if _STORE is None:
        with _LOCK:
            if _STORE is None:
                _SIGNATURE = _signature(CONTENT_DIR)
                _STORE = ContentStore()
    else:
        refresh()
    return _STORE


def refresh(now: Optional[float] = None) -> bool:
    """Re-read content when a file changed since the last look (at most every ``RELOAD_SECONDS``).

    A broken edit (e.g. invalid YAML) is logged and the last good content stays in use, so a typo
    never takes the bot down. Returns True when new content was loaded.
    """
    global _STORE, _SIGNATURE, _CHECKED_AT
    now = time.monotonic() if now is None else now
    if RELOAD_SECONDS <= 0 or _STORE is None or now - _CHECKED_AT < RELOAD_SECONDS:
        return False
    with _LOCK:
        _CHECKED_AT = now
        signature = _signature(CONTENT_DIR)
        if signature == _SIGNATURE:
            return False
        _SIGNATURE = signature  # also for a broken edit: retry only after the next save
        try:
            for path, _, _ in signature:  # every file must parse, not only the messages ContentStore reads
                with open(path, encoding="utf-8") as handle:
                    load_yaml(handle)
            fresh = ContentStore()
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError, TypeError, AttributeError) as error:
            logger.error("content not reloaded, keeping the previous version: %s", error)
            return False
        _STORE = fresh
        for hook in _RELOAD_HOOKS:
            hook()
    logger.info("content reloaded from %s", CONTENT_DIR)
    return True


def reload() -> ContentStore:
    """Drop the cache and read content again (tests, or a content hot-reload)."""
    global _STORE, _SIGNATURE, _CHECKED_AT
    with _LOCK:
        _CHECKED_AT = 0.0
        _SIGNATURE = _signature(CONTENT_DIR)
        _STORE = ContentStore()
        for hook in _RELOAD_HOOKS:
            hook()
    return _STORE
