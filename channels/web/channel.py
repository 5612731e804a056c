"""The ``web`` channel: Beacon's embeddable widget for parents and carers, its demo page and JSON protocol.

Routes (under ``/webhooks/web``):

=========================  =====================================================================
``GET  /widget.js``        the widget (plain JS, committed source, no build step)
``GET  /widget.css``       its stylesheet (loaded by the widget into its shadow root)
``GET  /strings?lang=xx``  every widget string in one language, from ``content/<lang>/widget.yml``
``GET  /demo``             a demo awareness page that embeds the widget like a third-party site
``POST /webhook``          ``{token?, message, language?}`` → ``{token, messages: [...]}``
``DELETE /session``        erase the conversation of the token (body ``{token}`` or Bearer header)
=========================  =====================================================================

Every setting comes from the environment (see :class:`WebSettings` and docs/widget.md). Every answer
is JSON or a committed static file; a failure inside Rasa or the action server becomes a safe reply,
anything unexpected a JSON 503, never an HTML page or a 500.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.content import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from channels.common import RateLimiter, clean_text, erase_conversation, pseudonym, within
from channels.web.sessions import TokenSigner, load_secret

logger = logging.getLogger(__name__)

CHANNEL = "web"
STATIC_DIR = Path(__file__).resolve().parent / "static"
STRING_PREFIX = "widget."
API_METHODS = "GET, POST, DELETE, OPTIONS"
API_HEADERS = "Content-Type, Authorization"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# The demo page: only our own scripts, styles and API; nothing inline; not frameable.
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
)
STATIC_TYPES = {
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "demo.css": "text/css; charset=utf-8",
    "demo.html": "text/html; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_TEL = re.compile(r"^\+?[0-9][0-9 ().-]{1,30}$")
MAX_URL_CHARS = 2048
MAX_BUTTONS = 12
MAX_LINKS = 12


# --------------------------------------------------------------------------------------- settings


def _env_number(name: str, default: float, minimum: float, integer: bool = True) -> Any:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        logger.warning("%s=%r is not a number; using %s", name, raw, default)
        return default
    if value < minimum:
        logger.warning("%s=%r is below %s; using %s", name, raw, minimum, default)
        return default
    return value


def normalise_origin(origin: str) -> Optional[str]:
    """``"https://Example.org:443/"`` → ``"https://example.org"``; ``None`` when not an http(s) origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


@dataclass(frozen=True)
class WebSettings:
    """The channel's configuration; :meth:`from_env` documents each variable."""

    allowed_origins: Tuple[str, ...] = ()
    allow_any_origin: bool = False
    session_rate_per_minute: float = 20
    session_burst: int = 10
    ip_rate_per_minute: float = 120
    ip_burst: int = 60
    max_body_bytes: int = 16384
    reply_timeout: float = 30.0
    token_ttl_seconds: int = 86400
    secret: bytes = field(default=b"", repr=False)

    @classmethod
    def from_env(cls) -> "WebSettings":
        """Read ``BEACON_WEB_*`` variables.

        - ``BEACON_WEB_SECRET``: HMAC key for session tokens (default: random key in ``var/web_secret``).
        - ``BEACON_WEB_ALLOWED_ORIGINS``: comma-separated origins (``https://www.example.org``) whose pages
          may embed the widget; ``*`` allows any; the server's own origin is always allowed.
        - ``BEACON_WEB_RATE_PER_MINUTE`` / ``BEACON_WEB_BURST``: messages per session (token bucket).
        - ``BEACON_WEB_IP_RATE_PER_MINUTE`` / ``BEACON_WEB_IP_BURST``: API requests per client IP.
        - ``BEACON_WEB_MAX_BODY_BYTES``: largest accepted request body.
        - ``BEACON_WEB_REPLY_TIMEOUT``: seconds to wait for the bot before a safe reply.
        - ``BEACON_WEB_TOKEN_TTL``: seconds a session token stays valid (0 = no limit).
        """
        origins: List[str] = []
        allow_any = False
        for item in os.environ.get("BEACON_WEB_ALLOWED_ORIGINS", "").split(","):
            item = item.strip()
            if not item:
                continue
            if item == "*":
                allow_any = True
                continue
            normalised = normalise_origin(item)
            if normalised is None:
                logger.warning("BEACON_WEB_ALLOWED_ORIGINS: ignoring %r (not an http(s) origin)", item)
            else:
                origins.append(normalised)
        return cls(
            allowed_origins=tuple(origins),
            allow_any_origin=allow_any,
            session_rate_per_minute=_env_number("BEACON_WEB_RATE_PER_MINUTE", 20, 0.1, integer=False),
            session_burst=_env_number("BEACON_WEB_BURST", 10, 1),
            ip_rate_per_minute=_env_number("BEACON_WEB_IP_RATE_PER_MINUTE", 120, 0.1, integer=False),
            ip_burst=_env_number("BEACON_WEB_IP_BURST", 60, 1),
            max_body_bytes=_env_number("BEACON_WEB_MAX_BODY_BYTES", 16384, 256),
            reply_timeout=_env_number("BEACON_WEB_REPLY_TIMEOUT", 30.0, 1, integer=False),
            token_ttl_seconds=_env_number("BEACON_WEB_TOKEN_TTL", 86400, 0),
            secret=load_secret(),
        )


# --------------------------------------------------------------------------------------- messages


def safe_url(url: Any) -> Optional[str]:
    """``url`` when it is ``https:`` (with a host) or a plausible ``tel:`` number, else ``None``."""
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
        return None
    url = url.strip()
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url.replace(" ", "")):
        return None
    lowered = url.lower()
    if lowered.startswith("tel:"):
        number = url[4:].strip()
        if not _TEL.match(number):
            return None
        return "tel:" + re.sub(r"[^0-9+]", "", number)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname or " " in url:
        return None
    return url


def normalise_message(message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """One Rasa bot message → ``{text, buttons, links}`` with only safe, well-typed values."""
    text = message.get("text")
    text = text.strip() if isinstance(text, str) else ""
    buttons = []
    for button in (message.get("buttons") or message.get("quick_replies") or [])[:MAX_BUTTONS]:
        if not isinstance(button, dict):
            continue
        title, payload = button.get("title"), button.get("payload")
        if isinstance(title, str) and title.strip() and isinstance(payload, str) and payload.strip():
            buttons.append({"title": title.strip(), "payload": payload.strip()})
    links = []
    custom = message.get("custom")
    raw_links = custom.get("links") if isinstance(custom, dict) else None
    for link in (raw_links if isinstance(raw_links, list) else [])[:MAX_LINKS]:
        if not isinstance(link, dict):
            continue
        url = safe_url(link.get("url"))
        if url is None:
            logger.warning("web: dropped a link that is neither https: nor tel:")
            continue
        title = link.get("title")
        links.append({"title": title.strip() if isinstance(title, str) and title.strip() else url, "url": url})
    if not text and not buttons and not links:
        return None
    return {"text": text, "buttons": buttons, "links": links}


class WebOutputChannel(CollectingOutputChannel):
    """Collects the bot's replies of one request as ``{text, buttons, links}`` (one bubble per reply)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        normalised = normalise_message(dict(message))
        if normalised is None:
            return
        if not normalised["text"] and not normalised["buttons"] and self.messages:
            self.messages[-1]["links"].extend(normalised["links"])  # links sent on their own join the text
            return
        self.messages.append(normalised)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"custom": json_message})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        return None  # the widget shows no images

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        return None


# --------------------------------------------------------------------------------------- strings


def normalise_language(code: Any) -> Optional[str]:
    """``"it-IT"`` → ``"it"``; anything unsupported → ``None``."""
    if not isinstance(code, str) or not code or len(code) > 35:
        return None
    short = code.strip().lower().replace("_", "-").split("-")[0]
    return short if short in SUPPORTED_LANGUAGES else None


def _content_store() -> Any:
    from actions.content import store  # the process-wide store, reloadable by actions.content.reload()

    return store()


def widget_strings(language: str) -> Dict[str, Any]:
    """Every ``widget.*`` content key in ``language`` (English where a key is missing)."""
    content = _content_store()
    strings: Dict[str, str] = {}
    for key in sorted(content.keys(DEFAULT_LANGUAGE)):
        if key.startswith(STRING_PREFIX):
            source = language if content.has(key, language) else DEFAULT_LANGUAGE
            strings[key[len(STRING_PREFIX):]] = str(content.entry(key, source).get("text", "")).strip()
    languages = []
    for code in SUPPORTED_LANGUAGES:
        name_key = STRING_PREFIX + "language.name"
        name = str(content.entry(name_key, code).get("text", code)).strip() if content.has(name_key, code) else code
        languages.append({"code": code, "name": name})
    return {"lang": language, "strings": strings, "languages": languages}


def safe_reply(language: Optional[str]) -> Optional[Dict[str, Any]]:
    """The message sent when the bot could not answer (from content, in the request's language).

    ``None`` if even the content is unavailable; the widget then shows its own copy of the string.
    """
    key = STRING_PREFIX + "error.bot_unavailable"
    try:
        content = _content_store()
        lang = language if language and content.has(key, language) else DEFAULT_LANGUAGE
        text = str(content.entry(key, lang).get("text", "")).strip()
    except Exception:
        logger.exception("web: the safe reply %s is missing from content", key)
        return None
    return {"text": text, "buttons": [], "links": []} if text else None


# --------------------------------------------------------------------------------------- HTTP helpers


class ApiError(Exception):
    """An error answered as ``{"error": code, "detail": ...}`` with ``status``."""

    def __init__(self, status: int, code: str, detail: str, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or {}


def _json(body: Dict[str, Any], status: int = 200, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    return response.json(body, status=status, headers=headers or {}, dumps=json.dumps, ensure_ascii=False,
                         separators=(",", ":"))


def _error(error: ApiError) -> HTTPResponse:
    return _json({"error": error.code, "detail": error.detail}, error.status, error.headers)


class _StaticFile:
    """A committed static file, re-read when it changes on disk, with a strong ETag."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: Optional[int] = None
        self.body = b""
        self.etag = ""

    def load(self) -> "_StaticFile":
        mtime = self.path.stat().st_mtime_ns
        if mtime != self._mtime:
            self.body = self.path.read_bytes()
            self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'
            self._mtime = mtime
        return self


# --------------------------------------------------------------------------------------- the channel


class WebChatInput(InputChannel):
    """Beacon's web channel for the parents' and carers' widget."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "WebChatInput":
        if credentials:
            logger.warning("web channel: credentials.yml values are ignored; use BEACON_WEB_* variables")
        return cls(WebSettings.from_env())

    def __init__(self, settings: Optional[WebSettings] = None) -> None:
        self.settings = settings or WebSettings.from_env()
        secret = self.settings.secret or load_secret()
        self.signer = TokenSigner(secret, self.settings.token_ttl_seconds)
        self.session_limiter = RateLimiter(self.settings.session_rate_per_minute, self.settings.session_burst)
        self.ip_limiter = RateLimiter(self.settings.ip_rate_per_minute, self.settings.ip_burst)
        self._static = {name: _StaticFile(STATIC_DIR / name) for name in STATIC_TYPES}
        self._strings_cache: Dict[Tuple[int, str], bytes] = {}

    # ---- origins and headers

    def origin_allowed(self, request: Request) -> Tuple[bool, Optional[str]]:
        """(allowed, origin to echo in CORS headers). No Origin header (curl, same-origin GET) is fine."""
        origin = request.headers.get("origin")
        if origin is None:
            return True, None
        normalised = normalise_origin(origin) if origin != "null" else None
        if normalised is None:
            return False, None
        host = (request.headers.get("host") or "").strip()
        if host and normalised in (normalise_origin(f"http://{host}"), normalise_origin(f"https://{host}")):
            return True, origin  # same origin
        if self.settings.allow_any_origin or normalised in self.settings.allowed_origins:
            return True, origin
        return False, None

    def _cors_headers(self, request: Request) -> Dict[str, str]:
        allowed, origin = self.origin_allowed(request)
        headers = {"Vary": "Origin"}
        if allowed and origin:
            headers["Access-Control-Allow-Origin"] = origin
        return headers

    @staticmethod
    def _client_ip(request: Request) -> str:
        return str(request.remote_addr or request.ip or "unknown")

    def _api_headers(self, request: Request) -> Dict[str, str]:
        return {**self._cors_headers(request), "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer"}

    def _finish(self, request: Request, result: HTTPResponse) -> HTTPResponse:
        for key, value in self._api_headers(request).items():
            if key not in result.headers:
                result.headers[key] = value
        return result

    # ---- request parsing

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    self._stop_reading(request, limit)
                    raise ApiError(413, "body_too_large", f"request body is limited to {limit} bytes")
            except ValueError:
                raise ApiError(400, "bad_request", "invalid Content-Length") from None
        stream = request.stream
        if stream is None:
            body = request.body or b""
        else:
            stream.request_max_size = limit
            chunks = bytearray()
            try:
                async for chunk in stream:
                    chunks.extend(chunk)
                    if len(chunks) > limit:
                        break
            except PayloadTooLarge:
                chunks = bytearray(limit + 1)
            body = bytes(chunks)
        if len(body) > limit:
            self._stop_reading(request, limit)
            raise ApiError(413, "body_too_large", f"request body is limited to {limit} bytes")
        return body

    @staticmethod
    def _stop_reading(request: Request, limit: int) -> None:
        """Make Sanic close the connection instead of draining an oversized body."""
        stream = request.stream
        if stream is not None:
            stream.request_max_size = limit
            stream.keep_alive = False

    @staticmethod
    def _require_json(request: Request) -> None:
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(415, "unsupported_media_type", "send Content-Type: application/json")

    @staticmethod
    def _parse_object(body: bytes, allow_empty: bool = False) -> Dict[str, Any]:
        if not body.strip() and allow_empty:
            return {}
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_utf8", "the body is not valid UTF-8") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_request", "the body must be a JSON object")
        return data

    @staticmethod
    def _optional_str(data: Dict[str, Any], key: str) -> Optional[str]:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ApiError(400, "invalid_request", f"'{key}' must be a string")
        return value

    def _check_ip(self, request: Request) -> None:
        if not self.ip_limiter.allow(self._client_ip(request)):
            raise ApiError(429, "rate_limited", "too many requests from this address",
                           {"Retry-After": str(max(1, round(60 / self.settings.ip_rate_per_minute)))})

    def _check_origin(self, request: Request) -> None:
        if not self.origin_allowed(request)[0]:
            raise ApiError(403, "origin_not_allowed", "this site may not use the Beacon web channel")

    def _session_from_token(self, token: Optional[str]) -> Any:
        session = self.signer.verify(token)
        if session is None:
            raise ApiError(401, "invalid_token", "unknown, expired or forged session token")
        return session

    # ---- handlers

    async def handle_message(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
                             ) -> HTTPResponse:
        self._check_origin(request)
        self._check_ip(request)
        self._require_json(request)
        data = self._parse_object(await self._read_body(request))
        token = self._optional_str(data, "token")
        raw_message = data.get("message")
        if not isinstance(raw_message, str):
            raise ApiError(400, "invalid_request", "'message' must be a string")
        language = normalise_language(self._optional_str(data, "language"))
        text = clean_text(raw_message)
        if not text:
            raise ApiError(400, "empty_message", "'message' is empty")
        if token is None:
            token, session = self.signer.issue()
        else:
            session = self._session_from_token(token)
        if not self.session_limiter.allow(session.session_id):
            raise ApiError(429, "rate_limited", "too many messages in this conversation",
                           {"Retry-After": str(max(1, round(60 / self.settings.session_rate_per_minute)))})
        sender_id = pseudonym(CHANNEL, session.session_id)
        metadata: Dict[str, Any] = {"audience": "carer", "channel": CHANNEL}
        if language:
            metadata["language"] = language
        collector = WebOutputChannel()
        message = UserMessage(text, collector, sender_id, input_channel=CHANNEL, metadata=metadata)
        failed = False
        try:
            if not await within(on_new_message(message), self.settings.reply_timeout):
                failed = True
                logger.error("web: no reply within %.0f s; the turn finishes in the background",
                             self.settings.reply_timeout)
        except Exception:  # Rasa or the action server failed: answer safely, never a 500
            failed = True
            logger.exception("web: the bot failed to answer")
        messages = collector.messages
        if not messages:
            if not failed:
                logger.warning("web: the bot produced no reply")
            reply = safe_reply(language)
            messages = [reply] if reply else []
        return _json({"token": token, "messages": messages})

    async def handle_delete(self, request: Request) -> HTTPResponse:
        self._check_origin(request)
        self._check_ip(request)
        token: Optional[str] = None
        authorization = request.headers.get("authorization") or ""
        if authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        body = await self._read_body(request)
        if body.strip():
            self._require_json(request)
            data = self._parse_object(body)
            token = self._optional_str(data, "token") or token
        if not token:
            raise ApiError(401, "invalid_token", "send the session token in the body or as a Bearer token")
        session = self._session_from_token(token)
        agent = getattr(request.app.ctx, "agent", None)
        try:
            erased = agent is not None and await erase_conversation(agent, pseudonym(CHANNEL, session.session_id))
        except Exception:
            logger.exception("web: erasing a conversation failed")
            erased = False
        if not erased:
            raise ApiError(503, "erase_failed", "the conversation could not be erased; try again",
                           {"Retry-After": "5"})
        return _json({"deleted": True})

    def handle_strings(self, request: Request) -> HTTPResponse:
        language = normalise_language(request.args.get("lang")) or DEFAULT_LANGUAGE
        content = _content_store()
        cache_key = (id(content), language)
        body = self._strings_cache.get(cache_key)
        if body is None:
            body = json.dumps(widget_strings(language), ensure_ascii=False).encode("utf-8")
            self._strings_cache[cache_key] = body
        headers = {**self._api_headers(request), "Cache-Control": "public, max-age=300",
                   "Content-Language": language}
        return response.raw(body, headers=headers, content_type="application/json; charset=utf-8")

    def handle_static(self, request: Request, name: str) -> HTTPResponse:
        static = self._static[name].load()
        headers = {
            "ETag": static.etag,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache" if name == "demo.html" else "public, max-age=300",
        }
        if name == "demo.html":
            headers.update({"Content-Security-Policy": DEMO_CSP, "X-Frame-Options": "DENY",
                            "Permissions-Policy": "camera=(), microphone=(), geolocation=()"})
        else:
            headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        if static.etag in (request.headers.get("if-none-match") or ""):
            return response.empty(status=304, headers=headers)
        return response.raw(static.body, headers=headers, content_type=STATIC_TYPES[name])

    def handle_preflight(self, request: Request) -> HTTPResponse:
        allowed, origin = self.origin_allowed(request)
        if not allowed or not origin:
            return _json({"error": "origin_not_allowed", "detail": "this site may not use the Beacon web channel"},
                         403, {"Vary": "Origin", "X-Content-Type-Options": "nosniff"})
        return response.empty(status=204, headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": API_METHODS,
            "Access-Control-Allow-Headers": API_HEADERS,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
            "X-Content-Type-Options": "nosniff",
        })

    # ---- wiring

    async def _guard(self, request: Request, work: Callable[[], Awaitable[HTTPResponse]]) -> HTTPResponse:
        try:
            result = await work()
        except ApiError as error:
            result = _error(error)
        except Exception:
            logger.exception("web: unexpected error on %s %s", request.method, request.path)
            result = _error(ApiError(503, "unavailable", "temporarily unavailable; try again", {"Retry-After": "5"}))
        return self._finish(request, result)

    async def _first_middleware(self, request: Request) -> Optional[HTTPResponse]:
        """Runs before every other request middleware (see :meth:`blueprint`).

        Rasa installs Sanic-CORS on the whole app; it would answer our preflights with its own (empty)
        origin list and stamp its headers on our responses. Our routes do their own CORS.
        """
        route = getattr(request, "route", None)
        if route is None or not getattr(route.ctx, "beacon_web", False):
            return None
        request.ctx._sanic_cors_e = "1"  # sanic_cors.core.SANIC_CORS_EVALUATED: leave these responses alone
        if request.method == "OPTIONS":
            await self._discard_body(request)
            return self.handle_preflight(request)
        return None

    async def _discard_body(self, request: Request) -> None:
        """Read and drop a (small) body sent with a preflight on a streaming route."""
        stream = request.stream
        if stream is None or not stream.request_body:
            return
        stream.request_max_size = 1024
        try:
            async for _ in stream:
                pass
        except PayloadTooLarge:
            stream.keep_alive = False

    def _install_first_middleware(self, app: Any) -> None:
        middleware = app.request_middleware
        if middleware and middleware[0] is self._first_middleware:
            return
        try:
            middleware.remove(self._first_middleware)
        except ValueError:
            pass
        middleware.appendleft(self._first_middleware)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        web = Blueprint("beacon_web_chat", __name__)

        @web.listener("before_server_start")
        async def _before_start(app: Any, _loop: Any) -> None:
            self._install_first_middleware(app)

        @web.listener("after_server_start")
        async def _after_start(app: Any, _loop: Any) -> None:
            self._install_first_middleware(app)  # still first, whatever started in between

        def method_not_allowed(request: Request, allowed: str) -> HTTPResponse:
            return self._finish(request, _json({"error": "method_not_allowed", "detail": f"use {allowed}"}, 405,
                                               {"Allow": allowed}))

        @web.route("/", methods=["GET"], ctx_beacon_web=True)
        async def health(request: Request) -> HTTPResponse:
            return self._finish(request, _json({"status": "ok"}))

        @web.route("/webhook", methods=ALL_METHODS, stream=True, ctx_beacon_web=True)
        async def webhook(request: Request) -> HTTPResponse:
            if request.method == "OPTIONS":
                return self.handle_preflight(request)
            if request.method != "POST":
                return method_not_allowed(request, "POST, OPTIONS")
            return await self._guard(request, lambda: self.handle_message(request, on_new_message))

        @web.route("/session", methods=ALL_METHODS, stream=True, ctx_beacon_web=True)
        async def session(request: Request) -> HTTPResponse:
            if request.method == "OPTIONS":
                return self.handle_preflight(request)
            if request.method != "DELETE":
                return method_not_allowed(request, "DELETE, OPTIONS")
            return await self._guard(request, lambda: self.handle_delete(request))

        @web.route("/strings", methods=["GET", "OPTIONS"], ctx_beacon_web=True)
        async def strings(request: Request) -> HTTPResponse:
            if request.method == "OPTIONS":
                return self.handle_preflight(request)

            async def work() -> HTTPResponse:
                return self.handle_strings(request)

            return await self._guard(request, work)

        def static_route(path: str, name: str) -> None:
            async def serve(request: Request) -> HTTPResponse:
                async def work() -> HTTPResponse:
                    return self.handle_static(request, name)

                try:
                    return await work()
                except Exception:
                    logger.exception("web: cannot serve %s", name)
                    return self._finish(request, _error(ApiError(503, "unavailable", "temporarily unavailable")))

            web.add_route(serve, path, methods=["GET"], name=f"static_{name.replace('.', '_')}",
                          ctx_beacon_web=True)

        static_route("/widget.js", "widget.js")
        static_route("/widget.css", "widget.css")
        static_route("/demo.css", "demo.css")
        static_route("/favicon.svg", "favicon.svg")
        static_route("/demo", "demo.html")

        @web.route("/<path:path>", methods=ALL_METHODS, ctx_beacon_web=True)
        async def not_found(request: Request, path: str) -> HTTPResponse:
            return self._finish(request, _json({"error": "not_found", "detail": "no such web channel route"}, 404))

        return web
