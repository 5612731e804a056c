"""Rasa's standard REST channel (same URL and protocol), hardened for bad input and privacy.

Differences from ``rasa.core.channels.rest.RestInput``: malformed or wrong-typed bodies get a 400 JSON
error instead of a 500; message text is cleaned (control characters removed, length capped) before NLU,
and only well-formed payloads of domain intents are passed as payloads; a reply that takes longer than
``BEACON_REST_REPLY_TIMEOUT`` (30 s) becomes the safe fallback while the turn finishes in the background
(never cancelled, so the conversation keeps every message, in order);
failures are logged without the message text; an empty answer (e.g. the action server is down) is
replaced by the safe fallback with the emergency number.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import plain_text, safe_fallback, safe_payload, within

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class SafeRestInput(InputChannel):
    """``POST /webhooks/rest/webhook`` with ``{"sender": str, "message": str, "metadata": {...}}``."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("beacon_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if len(request.body or b"") > MAX_BODY_BYTES:
                return _error(413, "body too large")
            try:
                body = json.loads((request.body or b"").decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: absurdly deep nesting
                return _error(400, "body must be JSON")
            if not isinstance(body, dict):
                return _error(400, "body must be a JSON object")
            sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
            if not isinstance(sender, (str, int)) or str(sender) == "" or len(str(sender)) > 128:
                return _error(400, "'sender' must be a non-empty string")
            if text is not None and not isinstance(text, str):
                return _error(400, "'message' must be a string")
            if metadata is not None and not isinstance(metadata, dict):
                return _error(400, "'metadata' must be an object")
            message = _message_text(text or "", request)
            collector = CollectingOutputChannel()
            try:
                processing = on_new_message(UserMessage(message, collector, str(sender), input_channel=self.name(),
                                                        metadata=_metadata(metadata)))
                if not await within(processing, float(os.environ.get("BEACON_REST_REPLY_TIMEOUT", "30"))):
                    logger.error("rest: no reply in time; the turn finishes in the background")
            except Exception:  # noqa: BLE001 - any failure must still give the user a safe answer
                logger.exception("rest: message processing failed")
            replies = collector.messages or safe_fallback((metadata or {}).get("language"))
            return response.json(replies)

        return webhook


def _message_text(text: str, request: Request) -> str:
    """Button payloads (``/intent{...}`` of a domain intent) pass; any other text is cleaned, never a payload."""
    if text.startswith("/"):
        agent = getattr(request.app.ctx, "agent", None)
        intents = getattr(getattr(agent, "domain", None), "intents", None)
        vetted = safe_payload(text, set(intents) if intents else None)
        if vetted:
            return vetted
    return plain_text(text)


def _metadata(metadata: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Keep only the small, known metadata keys the actions read."""
    kept = {k: v for k, v in (metadata or {}).items() if k in ("language", "audience", "channel") and isinstance(v, str)}
    kept.setdefault("channel", "rest")
    return kept
