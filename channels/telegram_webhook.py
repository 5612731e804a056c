"""Checks on an incoming webhook request, before any update is handled.

Pure functions so they can be tested without a server: the secret header and the body's shape.
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any, Dict, Optional

#: Header Telegram sends with the ``secret_token`` given to ``setWebhook``.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  # nosec B105 - a header name, not a secret
#: Largest body accepted. Real updates are a few kB; Telegram never sends files inline.
MAX_BODY_BYTES = 1024 * 1024
# What Telegram accepts as secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
_VALID_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class WebhookError(Exception):
    """A request to refuse; ``status`` is the HTTP status, ``reason`` a short non-sensitive phrase."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def is_valid_secret(secret: Optional[str]) -> bool:
    """True when Telegram would accept ``secret`` as ``setWebhook``'s ``secret_token``."""
    return bool(secret) and bool(_VALID_SECRET.match(secret or ""))


def secret_matches(expected: Optional[str], given: Optional[str]) -> bool:
    """Constant-time comparison of the secret header with the configured secret.

    ``False`` when either is missing or empty: an unconfigured secret never lets anything in.
    """
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


def check_size(content_length: Optional[str], body: Optional[bytes]) -> None:
    """Raise 413 when the declared or actual body is larger than :data:`MAX_BODY_BYTES`."""
    if content_length:
        try:
            declared = int(content_length)
        except ValueError:
            raise WebhookError(400, "invalid content-length") from None
        if declared > MAX_BODY_BYTES:
            raise WebhookError(413, "body too large")
    if body is not None and len(body) > MAX_BODY_BYTES:
        raise WebhookError(413, "body too large")


def read_update(body: Optional[bytes]) -> Dict[str, Any]:
    """Decode and shape-check one webhook body.

    An update must be a JSON object (strict UTF-8) with an integer ``update_id``; every other
    top-level field of an Update in the Bot API is an object, so anything else is refused too.

    Raises:
        WebhookError: 413 for a too large body, 400 for anything malformed.
    """
    check_size(None, body)
    if not body:
        raise WebhookError(400, "empty body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookError(400, "body is not UTF-8") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise WebhookError(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookError(400, "update must be a JSON object")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        raise WebhookError(400, "update_id must be a non-negative integer")
    for key, value in data.items():
        if key != "update_id" and not isinstance(value, dict):
            raise WebhookError(400, "update fields must be objects")
    return data
