"""Shaping outgoing text for Telegram: the 4096-character limit and link lists.

Pure functions, no I/O; used by :class:`channels.telegram_channel.TelegramOutput`.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, Mapping, Sequence, Set

#: Telegram's limit for one text message (``sendMessage``'s ``text``, after entity parsing).
TELEGRAM_TEXT_LIMIT = 4096

# Tried in order: paragraphs, then lines, then words; a hard cut only when a single word is too long.
_SEPARATORS = ("\n\n", "\n", " ")

_URL_FORBIDDEN = re.compile(r"[\s<>\"'\x00-\x1f\x7f]")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{1,30}$")
_PHONE_IN_TEXT = re.compile(r"\+?\d+(?:[ .-]?\d+)*")


def utf16_len(text: str) -> int:
    """Length of ``text`` as Telegram counts it (UTF-16 code units: most emoji count twice)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> List[str]:
    """Split ``text`` into chunks Telegram accepts, cutting at the gentlest boundary possible.

    Paragraph boundaries are preferred, then line breaks, then spaces; a hard cut happens only
    inside a "word" longer than ``limit``. Chunks are stripped and never empty.

    Args:
        text: The message text.
        limit: Maximum chunk length in UTF-16 code units.

    Returns:
        The chunks in order; ``[]`` for blank text.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    text = (text or "").strip()
    if not text:
        return []
    if utf16_len(text) <= limit:
        return [text]
    return [chunk for chunk in _split(text, limit, _SEPARATORS) if chunk]


def _split(text: str, limit: int, separators: Sequence[str]) -> List[str]:
    if utf16_len(text) <= limit:
        return [text.strip()]
    if not separators:
        return _hard_cut(text, limit)
    separator, finer = separators[0], separators[1:]
    separator_len = utf16_len(separator)
    chunks: List[str] = []
    current, current_len = "", 0
    for piece in text.split(separator):
        piece_len = utf16_len(piece)
        if current and current_len + separator_len + piece_len <= limit:
            current, current_len = current + separator + piece, current_len + separator_len + piece_len
            continue
        if current:
            chunks.append(current)
        if piece_len <= limit:
            current, current_len = piece, piece_len
        else:
            pieces = _split(piece, limit, finer)
            chunks.extend(pieces[:-1])
            # The tail of a long piece may still share a message with what follows.
            current = pieces[-1] if pieces else ""
            current_len = utf16_len(current)
    if current:
        chunks.append(current)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def _hard_cut(text: str, limit: int) -> List[str]:
    """Cut by code points so that no surrogate pair (emoji) is ever broken in two."""
    chunks: List[str] = []
    current: List[str] = []
    current_len = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if current_len + width > limit:
            chunks.append("".join(current))
            current, current_len = [], 0
        current.append(char)
        current_len += width
    if current:
        chunks.append("".join(current))
    return chunks


def is_https_url(url: Any) -> bool:
    """True for a plausible ``https://`` URL without whitespace or quotes."""
    return (
        isinstance(url, str)
        and url.lower().startswith("https://")
        and len(url) > len("https://")
        and len(url) <= 2048
        and not _URL_FORBIDDEN.search(url)
    )


def phone_number(url: Any) -> str:
    """The number of a ``tel:`` link, or ``""`` when ``url`` is not a plausible one."""
    if not isinstance(url, str) or not url.lower().startswith("tel:"):
        return ""
    number = url[4:].strip()
    return number if _PHONE.match(number) else ""


def phone_numbers_in(text: str) -> Set[str]:
    """The phone numbers written in ``text``, as digit strings (``"0800 1111"`` → ``"08001111"``)."""
    return {re.sub(r"\D", "", match) for match in _PHONE_IN_TEXT.findall(text or "")}


def _written(digits: str, numbers: Set[str]) -> bool:
    """True when the number ``digits`` appears in one of ``numbers`` (written with or without spaces)."""
    return any(digits in number for number in numbers)


def link_lines(links: Iterable[Mapping[str, Any]], already_shown: str = "") -> List[str]:
    """Render ``[{"title", "url"}]`` as plain-text lines Telegram turns into tappable links.

    ``https`` URLs are kept as they are and ``tel:`` links become the bare number (Telegram's apps
    make numbers tappable; inline buttons with ``tel:`` URLs are rejected by the Bot API). Any other
    scheme is dropped: a chatbot for young people has no business sending ``http:`` or
    ``javascript:`` links. Links whose URL or number is already in ``already_shown`` (the text sent
    just before) are left out, so a helpline list is not repeated.
    """
    shown_numbers = phone_numbers_in(already_shown)
    lines: List[str] = []
    for link in links or []:
        if not isinstance(link, Mapping):
            continue
        title = " ".join(str(link.get("title") or "").split())
        url = link.get("url")
        number = phone_number(url)
        target = url if is_https_url(url) else number
        if not target:
            continue
        digits = re.sub(r"\D", "", number)
        if (number and _written(digits, shown_numbers)) or (not number and target in already_shown):
            continue
        if not title or title == target:
            lines.append(target)
        elif (number and _written(digits, phone_numbers_in(title))) or (not number and target in title):
            lines.append(title)  # the title already says it: "Telefono Azzurro: 19696"
        else:
            lines.append(f"{title}: {target}")
    return lines
