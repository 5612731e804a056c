"""A small fake of the Telegram Bot API for tests, on 127.0.0.1 in a background thread.

It answers the methods Beacon uses (``getMe``, ``setWebhook``, ``deleteWebhook``, ``setMyCommands``,
``sendMessage``, ``answerCallbackQuery``, ``getUpdates``) with the shapes the real API returns and
checks the limits the real API enforces (text length, ``callback_data`` size, no ``tel:`` URL
buttons), records every call, can fail the next N calls of a method with a 429 (with
``parameters.retry_after``) or a 5xx, serves queued updates to ``getUpdates``, and refuses
``getFile`` loudly: Beacon must never download a user's media.

Usage::

    with FakeBotApi() as api:
        bot = Bot(api.token, base_url=api.base_url)
        ...
        api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 42)

The ``*_update`` helpers build updates in the exact JSON shapes of https://core.telegram.org/bots/api.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qsl

TOKEN = "123:ABC"
BOT_USER = {"id": 123, "is_bot": True, "first_name": "Beacon", "username": "BeaconTestBot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
# Form fields PTB sends as plain strings; every other field is JSON-encoded by PTB.
_STRING_FIELDS = {"text", "url", "secret_token", "callback_query_id", "language_code", "caption"}


@dataclass
class Call:
    """One recorded Bot API request."""

    method: str
    params: Dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        return str(self.params.get("text") or "")

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def keyboard(self) -> List[List[Dict[str, Any]]]:
        """The inline keyboard rows of a sendMessage, ``[]`` without one."""
        markup = self.params.get("reply_markup") or {}
        return markup.get("inline_keyboard") or [] if isinstance(markup, dict) else []


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (a long poll cancelled at shutdown) is normal; anything else is loud.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeBotApi:
    """The fake server. Start with ``with FakeBotApi() as api`` or :meth:`start`/:meth:`stop`."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: List[Call] = []
        self.forbidden: List[Call] = []  # getFile and friends: must stay empty
        self._failures: Dict[str, List[Dict[str, Any]]] = {}
        self._updates: List[Dict[str, Any]] = []
        self._message_ids = itertools.count(1000)
        self._lock = threading.Condition()
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> "FakeBotApi":
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-bot-api",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            with self._lock:
                self._lock.notify_all()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeBotApi":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What ``TELEGRAM_API_BASE_URL`` / PTB's ``base_url`` should be (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- test controls ------------------------------------------------------------------------

    def fail_next(self, method: str, times: int = 1, status: int = 500, retry_after: Optional[int] = None,
                  description: Optional[str] = None) -> None:
        """Answer the next ``times`` calls of ``method`` with an error (429 carries ``retry_after``)."""
        failure: Dict[str, Any] = {"status": status, "description": description or HTTPStatus(status).phrase}
        if retry_after is not None:
            failure["retry_after"] = retry_after
        with self._lock:
            self._failures.setdefault(method, []).extend([failure] * times)

    def queue_update(self, update: Dict[str, Any]) -> None:
        """Make ``update`` available to ``getUpdates``."""
        with self._lock:
            self._updates.append(update)
            self._lock.notify_all()

    def calls_of(self, method: str, chat_id: Any = None) -> List[Call]:
        """Recorded calls of ``method`` (optionally only to ``chat_id``), oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    def sent_to(self, chat_id: Any) -> List[Call]:
        """Successful ``sendMessage`` calls to ``chat_id``."""
        return [c for c in self.calls_of("sendMessage", chat_id) if c.ok]

    def wait_for(self, predicate: Callable[[List[Call]], Any], timeout: float = 20.0) -> Any:
        """Wait until ``predicate(calls)`` is truthy and return its value; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                result = predicate(list(self.calls))
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    summary = [(c.method, c.chat_id, c.status) for c in self.calls[-15:]]
                    raise AssertionError(f"timed out after {timeout:.0f} s; last calls: {summary}")
                self._lock.wait(min(remaining, 0.2))

    def wait_for_replies(self, chat_id: Any, count: int = 1, timeout: float = 20.0, after: int = 0) -> List[Call]:
        """Wait for at least ``count`` delivered messages to ``chat_id`` beyond the first ``after``."""
        return self.wait_for(lambda _: (r := self.sent_to(chat_id)[after:]) and len(r) >= count and r, timeout)

    def settle(self, seconds: float = 1.0) -> None:
        """Let background work finish when a test checks that something did *not* happen."""
        time.sleep(seconds)

    # -- the HTTP side ------------------------------------------------------------------------

    def _handler_class(self) -> type:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                self._dispatch()

            def do_GET(self) -> None:  # noqa: N802
                self._dispatch()

            def log_message(self, *_: Any) -> None:  # keep test output clean
                pass

            def _dispatch(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                prefix = f"/bot{api.token}/"
                if not path.startswith(prefix):
                    self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                method = path[len(prefix):]
                params = api._parse(body, self.headers.get("Content-Type") or "", query)
                status, payload = api._answer(method, params)
                self._reply(status, payload)

            def _reply(self, status: int, payload: Dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    @staticmethod
    def _parse(body: bytes, content_type: str, query: str) -> Dict[str, Any]:
        if "json" in content_type and body:
            return json.loads(body)
        params: Dict[str, Any] = {}
        for key, value in parse_qsl(query) + parse_qsl(body.decode("utf-8"), keep_blank_values=True):
            if key in _STRING_FIELDS:
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    def _answer(self, method: str, params: Dict[str, Any]) -> "tuple[int, Dict[str, Any]]":
        call = Call(method, params)
        with self._lock:
            self.calls.append(call)
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
        try:
            if method == "getFile":
                self.forbidden.append(call)
                print("FAKE BOT API: getFile was called — Beacon must never download user media",
                      file=sys.stderr, flush=True)
                return self._error(call, 400, "Bad Request: getFile is forbidden in Beacon's tests")
            if failure is not None:
                extra = {"retry_after": failure["retry_after"]} if "retry_after" in failure else None
                return self._error(call, failure["status"], failure["description"], extra)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                return self._error(call, 404, "Not Found: method not found")
            return handler(call)
        finally:
            with self._lock:
                self._lock.notify_all()

    @staticmethod
    def _ok(result: Any) -> "tuple[int, Dict[str, Any]]":
        return 200, {"ok": True, "result": result}

    @staticmethod
    def _error(call: Call, status: int, description: str,
               parameters: Optional[Dict[str, Any]] = None) -> "tuple[int, Dict[str, Any]]":
        call.status = status
        payload: Dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = parameters
        return status, payload

    # -- Bot API methods ----------------------------------------------------------------------

    def _m_getMe(self, call: Call) -> "tuple[int, Dict[str, Any]]":
        return self._ok(BOT_USER)

    def _m_setWebhook(self, call: Call) -> "tuple[int, Dict[str, Any]]":
        if not str(call.params.get("url", "")).startswith("https://"):
            return self._error(call, 400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        return self._ok(True)

    def _m_deleteWebhook(self, call: Call) -> "tuple[int, Dict[str, Any]]":
        return self._ok(True)

    def _m_setMyCommands(self, call: Call) -> "tuple[int, Dict[str, Any]]":
        commands = call.params.get("commands")
        if not isinstance(commands, list) or not all(
            1 <= len(c.get("command", "")) <= 32 and 1 <= len(c.get("description", "")) <= 256 for c in commands
        ):
            return self._error(call, 400, "Bad Request: BOT_COMMAND_INVALID")
        return self._ok(True)

    def _m_answerCallbackQuery(self, call: Call) -> "tuple[int, Dict[str, Any]]":
        if not call.params.get("callback_query_id"):
            return self._error(call, 400, "Bad Request: query is too old and response timeout expired")
        if len(str(call.params.get("text") or "")) > 200:
            return self._error(call, 400, "Bad Request: MESSAGE_TOO_LONG")
        return self._ok(True)

    def _m_sendMessage(self, call: Call) -> "tuple[int, Dict[str, Any]]":
        text = call.text
        if not text.strip():
            return self._error(call, 400, "Bad Request: message text is empty")
        if _utf16_len(text) > 4096:
            return self._error(call, 400, "Bad Request: message is too long")
        for row in call.keyboard:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    return self._error(call, 400, "Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not str(url).startswith(("https://", "http://", "tg://")):
                    return self._error(call, 400, "Bad Request: inline keyboard button URL is invalid")
        chat_id = call.chat_id
        message = {
            "message_id": next(self._message_ids),
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
            "date": int(time.time()),
            "text": text,
        }
        if call.params.get("reply_markup"):
            message["reply_markup"] = call.params["reply_markup"]
        return self._ok(message)

    def _m_getUpdates(self, call: Call) -> "tuple[int, Dict[str, Any]]":
        offset = call.params.get("offset")
        limit = int(call.params.get("limit") or 100)
        # Long polling, shortened: tests want quick answers and a quick shutdown.
        wait = min(float(call.params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + wait
        with self._lock:
            while True:
                if isinstance(offset, int):
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or time.monotonic() >= deadline or self._server is None:
                    return self._ok(self._updates[:limit])
                self._lock.wait(max(0.0, deadline - time.monotonic()))


# -- Update builders (shapes from the Bot API docs) --------------------------------------------

_update_ids = itertools.count(int(time.time()) % 100_000 * 1000)
_message_ids = itertools.count(1)


def next_update_id() -> int:
    return next(_update_ids)


def user(user_id: int, language_code: Optional[str] = "en", first_name: str = "Sam") -> Dict[str, Any]:
    person: Dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        person["language_code"] = language_code
    return person


def private_chat(chat_id: int, first_name: str = "Sam") -> Dict[str, Any]:
    return {"id": chat_id, "first_name": first_name, "type": "private"}


def message(chat_id: int, language_code: Optional[str] = "en", **content: Any) -> Dict[str, Any]:
    """A ``Message`` in a private chat (user id == chat id, as Telegram does)."""
    return {
        "message_id": next(_message_ids),
        "from": user(chat_id, language_code),
        "chat": private_chat(chat_id),
        "date": int(time.time()),
        **content,
    }


def text_update(chat_id: int, text: str, language_code: Optional[str] = "en",
                update_id: Optional[int] = None) -> Dict[str, Any]:
    """A text message; commands carry their ``bot_command`` entity like real ones."""
    content: Dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split()[0]
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
    return {"update_id": update_id or next_update_id(), "message": message(chat_id, language_code, **content)}


def callback_update(chat_id: int, data: str, language_code: Optional[str] = "en",
                    update_id: Optional[int] = None) -> Dict[str, Any]:
    """A button press on an earlier bot message."""
    bot_message = {
        "message_id": next(_message_ids),
        "from": BOT_USER,
        "chat": private_chat(chat_id),
        "date": int(time.time()) - 5,
        "text": "Earlier bot message",
        "reply_markup": {"inline_keyboard": [[{"text": "Button", "callback_data": data}]]},
    }
    return {
        "update_id": update_id or next_update_id(),
        "callback_query": {
            "id": str(4_000_000_000 + next(_message_ids)),
            "from": user(chat_id, language_code),
            "message": bot_message,
            "chat_instance": "-8123456789012345678",
            "data": data,
        },
    }


def photo_update(chat_id: int, caption: Optional[str] = None, language_code: Optional[str] = "en") -> Dict[str, Any]:
    sizes = [
        {"file_id": "AgACAgQAAxkBAAIBZ2dsmall", "file_unique_id": "AQADsmall", "file_size": 1268,
         "width": 90, "height": 67},
        {"file_id": "AgACAgQAAxkBAAIBZ2dlarge", "file_unique_id": "AQADlarge", "file_size": 48210,
         "width": 800, "height": 600},
    ]
    content: Dict[str, Any] = {"photo": sizes}
    if caption:
        content["caption"] = caption
    return {"update_id": next_update_id(), "message": message(chat_id, language_code, **content)}


def sticker_update(chat_id: int, language_code: Optional[str] = "en") -> Dict[str, Any]:
    sticker = {"file_id": "CAACAgIAAxkBAAIBaGdsticker", "file_unique_id": "AgADsticker", "type": "regular",
               "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "😀",
               "set_name": "HotCherry", "file_size": 22018}
    return {"update_id": next_update_id(), "message": message(chat_id, language_code, sticker=sticker)}


def voice_update(chat_id: int) -> Dict[str, Any]:
    voice = {"file_id": "AwACAgQAAxkBAAIBaWdvoice", "file_unique_id": "AgADvoice", "duration": 3,
             "mime_type": "audio/ogg", "file_size": 9800}
    return {"update_id": next_update_id(), "message": message(chat_id, voice=voice)}


def location_update(chat_id: int) -> Dict[str, Any]:
    return {"update_id": next_update_id(),
            "message": message(chat_id, location={"latitude": 45.4642, "longitude": 9.19})}


def edited_update(chat_id: int, text: str, language_code: Optional[str] = "en") -> Dict[str, Any]:
    edited = message(chat_id, language_code, text=text)
    edited["edit_date"] = edited["date"] + 10
    return {"update_id": next_update_id(), "edited_message": edited}


def group_command_update(chat_id: int, user_id: int, text: str = "/start@BeaconTestBot") -> Dict[str, Any]:
    command = text.split()[0]
    return {
        "update_id": next_update_id(),
        "message": {
            "message_id": next(_message_ids),
            "from": user(user_id),
            "chat": {"id": chat_id, "title": "Class 3B", "type": "group", "all_members_are_administrators": True},
            "date": int(time.time()),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


def my_chat_member_update(chat_id: int, status: str = "kicked") -> Dict[str, Any]:
    """The user blocked (``kicked``) or unblocked (``member``) the bot."""
    return {
        "update_id": next_update_id(),
        "my_chat_member": {
            "chat": private_chat(chat_id),
            "from": user(chat_id),
            "date": int(time.time()),
            "old_chat_member": {"user": BOT_USER, "status": "member"},
            "new_chat_member": {"user": BOT_USER, "status": status, "until_date": 0},
        },
    }
