"""Web chat sessions: server-issued, HMAC-signed tokens.

A token is ``v1.<session id>.<issued at>.<signature>``: 128 random bits of session id, the Unix time it
was issued, and an HMAC-SHA256 over both. The session id never reaches Rasa: the conversation's sender
id is ``pseudonym("web", session_id)``, so a tracker id cannot be turned back into a token, and a token
cannot be forged or guessed without the key.

The key is ``BEACON_WEB_SECRET``; when unset a random key is generated once and kept in
``var/web_secret`` (mode 0600), like ``channels.common`` does for the pseudonym key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from channels.common import ROOT

logger = logging.getLogger(__name__)

VERSION = "v1"
SESSION_ID_BYTES = 16
MIN_SECRET_CHARS = 32
# Longest string that can be a valid token; anything longer is rejected before any work.
MAX_TOKEN_CHARS = 128


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_secret() -> bytes:
    """``BEACON_WEB_SECRET``, else a random key kept in ``var/web_secret`` (created on first use)."""
    configured = os.environ.get("BEACON_WEB_SECRET")
    if configured:
        if len(configured) < MIN_SECRET_CHARS:
            logger.warning("BEACON_WEB_SECRET is shorter than %d characters; use a long random value",
                           MIN_SECRET_CHARS)
        return configured.encode("utf-8")
    path = Path(os.environ.get("BEACON_VAR_DIR", ROOT / "var")) / "web_secret"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class Session:
    """A verified session: its random id and when its token was issued."""

    session_id: str
    issued_at: int


class TokenSigner:
    """Issues and verifies session tokens with one HMAC key.

    ``ttl_seconds`` bounds a token's life (0 = no limit); an expired token is rejected like a forged
    one and the widget starts a new conversation.
    """

    def __init__(self, key: bytes, ttl_seconds: int = 0) -> None:
        if not key:
            raise ValueError("the session key must not be empty")
        self._key = key
        self.ttl_seconds = max(0, int(ttl_seconds))

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def issue(self, now: Optional[float] = None) -> tuple:
        """A new ``(token, Session)`` with a fresh random session id."""
        session = Session(_b64(secrets.token_bytes(SESSION_ID_BYTES)), int(time.time() if now is None else now))
        body = f"{VERSION}.{session.session_id}.{session.issued_at}"
        return f"{body}.{self._sign(body)}", session

    def verify(self, token: object, now: Optional[float] = None) -> Optional[Session]:
        """The session of a valid, unexpired token; ``None`` for anything else (never raises)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
            return None
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            return None
        _, session_id, issued, signature = parts
        if not issued.isdigit() or len(issued) > 12 or not session_id:
            return None
        expected = self._sign(f"{VERSION}.{session_id}.{issued}")
        if not hmac.compare_digest(expected, signature):
            return None
        issued_at = int(issued)
        current = time.time() if now is None else now
        if issued_at > current + 300:  # issued in the future: clock trouble or tampering
            return None
        if self.ttl_seconds and current - issued_at > self.ttl_seconds:
            return None
        return Session(session_id, issued_at)
