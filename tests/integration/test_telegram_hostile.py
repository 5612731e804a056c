"""Hostile input against the Telegram webhook (issue #10): at least 500 generated requests.

The same contract as tests/integration/test_hostile_input.py (REST and web) for the third public
endpoint, ``POST /webhooks/telegram/webhook``, served exactly as in test_telegram.py: real Rasa and
action servers, python-telegram-bot talking to the fake Bot API on loopback, the secret token header.

Generated with hypothesis (derandomized, no example database): malformed, truncated and mis-typed JSON
at every level of an Update, bodies at and just over the channel's 1 MiB limit and far beyond it,
10,000 levels of nesting, invalid UTF-8, control characters and right-to-left overrides, real but odd
updates (media, locations, edits, bogus button data, channel posts, bots, missing ``from``/``chat``,
huge chat ids; string or list chat ids are refused), and missing or wrong secret headers, mixed with correctly signed ones.

The contract: never a 5xx and always the status the request's kind calls for; both servers stay up; a
conversation started before the barrage continues exactly where it was, with its stored events intact;
a newcomer gets the same greeting as before; and no user media is ever downloaded (no ``getFile``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Iterator, List, Optional, Sequence, Tuple

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions.content import store
from channels.telegram_webhook import MAX_BODY_BYTES, SECRET_HEADER
from tests.integration import fake_bot_api as tg
from tests.integration.fake_bot_api import FakeBotApi
from tests.integration.test_telegram import SECRET, Beacon, everything, pseudonym, telegram_stack

EXAMPLES = 500
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
WEBHOOK = "/webhooks/telegram/webhook"
DATE = 1_735_689_600  # fixed, so that the generated bodies are the same on every run

# Chats of the honest users, which the barrage must not disturb (distinct from test_telegram.py's).
PROTECTED = 7_320_000_001  # in the middle of the quiz when the barrage starts
KNOWN = 7_320_000_002  # said hi before the barrage, says hi again after it
NEWCOMER = 7_320_000_003  # first message after the barrage
# Chats the correctly signed hostile updates come from: few, so that the per-chat rate limit bounds the
# work they cause (as it would for a real flood); besides an ordinary id, ids Telegram never uses: the
# largest int64, a 31-digit integer and a numeric string.
HOSTILE_PRIVATE: Tuple[Any, ...] = (7_320_000_101, 2**63 - 1, 10**30, 1)
HOSTILE_GROUPS: Tuple[int, ...] = (-1_007_320_000_103, -7_320_000_104)
# Hostile update ids: far above tg.next_update_id()'s, so that no hostile update can shadow an honest
# one, or edge values.
EDGE_IDS = (0, 1, 2**31 - 1, 2**63 - 1, 2**64 + 1, 10**30)
update_ids = st.one_of(st.integers(2**40, 2**62), st.sampled_from(EDGE_IDS))


def _content_id(update: Dict[str, Any]) -> int:
    """An update id derived from the content: distinct updates are not dropped as redeliveries (one in
    eight gets an edge value instead, repeated on purpose)."""
    digest = hashlib.sha256(json.dumps(update, sort_keys=True, default=repr).encode("utf-8", "surrogatepass")).digest()
    number = int.from_bytes(digest[:8], "big")
    return EDGE_IDS[number // 8 % len(EDGE_IDS)] if number % 8 == 0 else 2**40 + number % 2**48


# -- text ---------------------------------------------------------------------------------------------

nasty_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Cs", "Co", "Zs", "Zl", "Zp", "So", "Mn"]), max_size=120),
    st.sampled_from([
        "", " ", "\u202e\u202dgrooming", "\u202egnimoorg ym sdnes eh", "hi\u2066\u2067\u2068\u2069", "\x00" * 50,
        "\x1b[31mred\x1b[0m", "\r\n\r\nHTTP/1.1 200 OK", "\ufeffhi", "\ud800", "\udfff\ud800", "\U0010ffff",
        "<b>bold</b><a href='tg://user?id=1'>x</a>", "*bold* _it_ `code` [l](http://x)", "{{7*7}}", "${jndi:ldap://x}",
        "../../etc/passwd", "💣" * 300, "👨‍👩‍👧‍👦" * 50, "x" * 4097, "é" * 5000, "\u0301" * 2000, "A\u200b" * 3000,
    ]),
)
commands = st.sampled_from([
    "/start", "/start@BeaconTestBot", "/start@SomeOtherBot", "/start deep-link-\u202e", "/help\x00", "/menu " + "x" * 5000,
    "/language it", "/language \u202ezz", "/language " + "it " * 2000, "/forget", "/forget@BeaconTestBot", "/helpline",
    "/restart", '/inform_country{"country": {"$gt": ""}}', '/set_language{"language":"lt"}', "/", "//", "/\u202estart",
    "/" + "a" * 33, "/start@" + "B" * 65, "/START", "/stArt@beacontestbot",
])


def _command_entities(text: str) -> List[Dict[str, Any]]:
    command = text.split()[0] if text.split() else text
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]


# -- Update shapes from https://core.telegram.org/bots/api ---------------------------------------------------


def _user(user_id: Any, bot: bool = False, language: Optional[str] = "en") -> Dict[str, Any]:
    person: Dict[str, Any] = {"id": user_id, "is_bot": bot, "first_name": "Beep" if bot else "Sam"}
    if bot:
        person["username"] = "SomeOtherBot"
    if language is not None:
        person["language_code"] = language
    return person


def _chat(chat_id: Any, kind: str = "private") -> Dict[str, Any]:
    if kind == "private":
        return {"id": chat_id, "type": "private", "first_name": "Sam"}
    return {"id": chat_id, "type": kind, "title": "Class 3B \u202e"}


def _file(tag: str, **fields: Any) -> Dict[str, Any]:
    return {"file_id": f"{tag}AAxkBAAIBZ2d", "file_unique_id": f"AQAD{tag}", **fields}


def _photo(count: int) -> Dict[str, Any]:
    return {"photo": [_file("AgACAgQ", width=90 + i, height=67 + i, file_size=1268 + i) for i in range(count)]}


MEDIA: Sequence[Dict[str, Any]] = (
    {"sticker": _file("CAACAgI", type="regular", width=512, height=512, is_animated=False, is_video=False, emoji="😀",
                      set_name="HotCherry", file_size=22018)},
    {"document": _file("BQACAgQ", file_name="\u202egpj.exe", mime_type="application/x-msdownload", file_size=2**31)},
    {"voice": _file("AwACAgQ", duration=3, mime_type="audio/ogg", file_size=9800)},
    {"audio": _file("CQACAgQ", duration=200, performer="\x00", title="🎵" * 40)},
    {"video": _file("BAACAgQ", width=1920, height=1080, duration=60, file_size=50_000_000)},
    {"video_note": _file("DQACAgQ", length=240, duration=9)},
    {"animation": _file("CgACAgQ", width=320, height=240, duration=2),
     "document": _file("CgACAgQ", file_name="a.gif.mp4", mime_type="video/mp4")},
    {"paid_media": {"star_count": 10, "paid_media": [{"type": "preview", "width": 1, "height": 1}]}},
    {"story": {"chat": _chat(-1_007_320_000_199, "channel"), "id": 5}},
)
PERSONAL: Sequence[Dict[str, Any]] = (
    {"location": {"latitude": 45.4642, "longitude": 9.19}},
    {"location": {"latitude": 91.0, "longitude": -181.0, "horizontal_accuracy": 1500, "live_period": 2**31}},
    {"contact": {"phone_number": "+39 02 1234567", "first_name": "Mum", "user_id": 42}},
    {"venue": {"location": {"latitude": 45.0, "longitude": 9.0}, "title": "School", "address": "Via Roma 1"}},
)
OTHER: Sequence[Dict[str, Any]] = (
    {"dice": {"emoji": "🎲", "value": 6}},
    {"poll": {"id": "1", "question": "?", "options": [{"text": "a", "voter_count": 0, "persistent_id": "0"}], "total_voter_count": 0,
              "is_closed": False, "is_anonymous": True, "type": "regular", "allows_multiple_answers": False, "allows_revoting": False, "members_only": False}},
    {"new_chat_members": [_user(1), _user(2, bot=True)]},
    {"left_chat_member": _user(1)},
    {"pinned_message": {"chat": _chat(1), "message_id": 1, "date": 0}},
    {"web_app_data": {"data": "{\"x\": 1}", "button_text": "open"}},
    {},  # no content at all
)
# callback_data a modified client could send: expired keys, payloads Beacon never offers, injections.
BOGUS_DATA = (
    "k:AAAAAAAAAAAAAAAA", "k:", "k:" + "A" * 62, "/forget", "/restart", "/start_quiz", "/affirm", "/i_am_teen",
    '/set_language{"language":{"$gt":""}}', '/set_language{"language":"xx"}', "/nonexistent_intent", "/" + "a" * 63,
    "\u202e/affirm", "", "💣" * 16, '/ask_menu{"a":[1,2]}', "/ask_menu{", "/ask_menu}{", "x" * 5000,
)
IGNORED_KINDS: Dict[str, Callable[[Any], Dict[str, Any]]] = {
    "my_chat_member": lambda c: {"chat": _chat(c), "from": _user(c), "date": DATE,
                                 "old_chat_member": {"user": dict(tg.BOT_USER), "status": "member"},
                                 "new_chat_member": {"user": dict(tg.BOT_USER), "status": "kicked", "until_date": 0}},
    "chat_member": lambda c: {"chat": _chat(c, "supergroup"), "from": _user(c), "date": DATE,
                              "old_chat_member": {"user": _user(c), "status": "left"},
                              "new_chat_member": {"user": _user(c), "status": "member"}},
    "inline_query": lambda c: {"id": "1", "from": _user(c), "query": "\u202e" * 256, "offset": ""},
    "chosen_inline_result": lambda c: {"result_id": "1", "from": _user(c), "query": ""},
    "shipping_query": lambda c: {"id": "1", "from": _user(c), "invoice_payload": "x",
                                 "shipping_address": {"country_code": "IT", "state": "", "city": "", "street_line1": "",
                                                      "street_line2": "", "post_code": ""}},
    "pre_checkout_query": lambda c: {"id": "1", "from": _user(c), "currency": "XTR", "total_amount": -1,
                                     "invoice_payload": "x"},
    "poll_answer": lambda c: {"poll_id": "1", "user": _user(c), "option_ids": [0] * 1000},
    "chat_join_request": lambda c: {"chat": _chat(c, "supergroup"), "from": _user(c), "user_chat_id": c, "date": DATE},
    "message_reaction": lambda c: {"chat": _chat(c), "message_id": 1, "date": DATE, "old_reaction": [],
                                   "new_reaction": [{"type": "emoji", "emoji": "👍"}] * 100},
    "chat_boost": lambda c: {"chat": _chat(c, "channel"), "boost": {}},
    "business_message": lambda c: {"message_id": 1, "date": DATE, "chat": _chat(c), "from": _user(c), "text": "/start",
                                   "business_connection_id": "x"},
    "deleted_business_messages": lambda c: {"business_connection_id": "x", "chat": _chat(c), "message_ids": [1]},
    "purchased_paid_media": lambda c: {"from": _user(c), "paid_media_payload": "x"},
    "a_future_update_type": lambda c: {"chat": _chat(c), "anything": [[{"x": None}]]},
}

message_content = st.one_of(
    nasty_text.map(lambda t: {"text": t}),
    commands.map(lambda t: {"text": t, "entities": _command_entities(t)}),
    st.one_of(st.integers(1, 4), st.sampled_from([300, 5000, 20_000])).map(_photo),
    # (copies: a mutation must not change the shared originals)
    st.sampled_from(MEDIA).map(copy.deepcopy),
    st.sampled_from(PERSONAL).map(copy.deepcopy),
    st.sampled_from(OTHER).map(copy.deepcopy),
    # Formatting entities by the thousand, and texts far beyond Telegram's 4096 characters.
    st.sampled_from([100, 10_000]).map(lambda n: {"text": "a" * n,
                                                  "entities": [{"type": "bold", "offset": i, "length": 1} for i in range(n)]}),
    st.sampled_from([4096, 65_536, 500_000, 1_100_000]).map(lambda n: {"text": ("\u202eA\x07" * n)[:n]}),
)


@st.composite
def telegram_updates(draw: st.DrawFn, chats: Sequence[Any]) -> Dict[str, Any]:
    """A well-formed Update, as Telegram could send it, from one of ``chats`` (or a group); all of it new
    objects, so that it can be mutated."""
    update = draw(_update_content(chats))
    return {"update_id": _content_id(update), **update}


@st.composite
def _update_content(draw: st.DrawFn, chats: Sequence[Any]) -> Dict[str, Any]:
    chat_id = draw(st.sampled_from(chats))
    language = draw(st.sampled_from(["en", "it", None, "xx-YY", "\u202eit", "el", "a" * 300]))
    kind = draw(st.sampled_from(["message", "message", "message", "edited_message", "callback_query",
                                 "channel_post", "edited_channel_post", "group", "ignored"]))
    if kind == "ignored":
        name = draw(st.sampled_from(sorted(IGNORED_KINDS)))
        return {name: IGNORED_KINDS[name](chat_id)}
    if kind == "callback_query":
        query: Dict[str, Any] = {"id": draw(st.one_of(st.just("4000000001"), st.text(max_size=20))),
                                 "from": _user(chat_id, language=language), "chat_instance": "-8123456789012345678"}
        data = draw(st.one_of(st.sampled_from(BOGUS_DATA), st.text(max_size=64), st.none()))
        if data is not None:
            query["data"] = data
        else:
            query["game_short_name"] = "quiz"
        where = draw(st.sampled_from(["message", "inaccessible", "inline"]))
        if where == "message":
            query["message"] = {"message_id": 7, "from": dict(tg.BOT_USER), "chat": _chat(chat_id), "date": DATE,
                                "text": "Earlier bot message",
                                "reply_markup": {"inline_keyboard": [[{"text": "B", "callback_data": "/affirm"}]]}}
        elif where == "inaccessible":
            query["message"] = {"chat": _chat(chat_id), "message_id": 7, "date": 0}
        else:
            query["inline_message_id"] = "AAAAAQ"
        return {"callback_query": query}
    message: Dict[str, Any] = {"message_id": draw(st.integers(1, 2**31)), "date": DATE}
    if kind in ("channel_post", "edited_channel_post"):
        message["chat"] = _chat(HOSTILE_GROUPS[0], "channel")
        message["sender_chat"] = dict(message["chat"])
    elif kind == "group":
        message["chat"] = _chat(draw(st.sampled_from(HOSTILE_GROUPS)), draw(st.sampled_from(["group", "supergroup"])))
        message["from"] = _user(chat_id, language=language)
    else:
        message["chat"] = _chat(chat_id)
        sender = draw(st.sampled_from(["user", "bot", "none", "other"]))
        if sender != "none":  # a message without "from" (as in channels) must not break anything either
            message["from"] = _user(chat_id if sender != "other" else 42, bot=sender == "bot", language=language)
    message.update(draw(message_content))
    if "text" not in message and draw(st.booleans()):
        message["caption"] = draw(nasty_text)
    extra = draw(st.sampled_from(["none", "none", "reply", "forward", "via_bot", "thread"]))
    if extra == "reply":
        message["reply_to_message"] = {"message_id": 1, "date": DATE, "chat": dict(message["chat"]), "from": dict(tg.BOT_USER),
                                       "text": "earlier"}
    elif extra == "forward":
        message["forward_origin"] = {"type": "hidden_user", "date": DATE, "sender_user_name": "\u202eevil"}
    elif extra == "via_bot":
        message["via_bot"] = _user(99, bot=True)
    elif extra == "thread":
        message.update(message_thread_id=2**40, is_topic_message=True)
    if kind in ("edited_message", "edited_channel_post"):
        message["edit_date"] = DATE + 10
    return {("message" if kind == "group" else kind): message}


# -- broken bodies ------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | nasty_text
    | st.sampled_from([10**30, -1, 0, "", "1", "7320000101", [], {}, "NaN"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
# Anything but an object, and anything but a non-negative integer (for update_id).
WRONG_TYPES = (None, True, False, -1, -2**63, 1.0, 1.5, -0.0, 1e308, float("inf"), float("nan"), "", "1", "7320000101",
               "\u202e", "\x00", [], [1], [{"update_id": 1}], [[[]]])
BAD_UTF8 = (b"\xff", b"\xfe\xff", b"\xc3\x28", b"\x80", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc", b"\xed\xa0\x80",
            b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x80")


@dataclass(frozen=True)
class Body:
    """A generated body and the statuses a correctly signed POST of it may get."""

    kind: str
    data: bytes
    expect: FrozenSet[int]


def _body(kind: str, data: bytes, when_well_formed: FrozenSet[int] = frozenset({200})) -> Body:
    if len(data) > MAX_BODY_BYTES:
        return Body(kind, data, frozenset({413}))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return Body(kind, data, frozenset({400}))
    return Body(kind, data, when_well_formed)


def _encode(update: Any, ascii_only: bool) -> bytes:
    # Lone surrogates can only be sent escaped; unescaped they become bytes that are not UTF-8.
    return json.dumps(update, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def _rekey(update: Dict[str, Any], original_id: Any) -> None:
    """After a mutation: a new content id, unless the mutation was to update_id itself."""
    if update.get("update_id") == original_id:
        update["update_id"] = _content_id({key: value for key, value in update.items() if key != "update_id"})


def _paths(value: Any, prefix: Tuple[Any, ...] = ()) -> Iterator[Tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value[:5]):
            yield from _paths(child, prefix + (index,))


@st.composite
def realistic(draw: st.DrawFn, updates: st.SearchStrategy[Dict[str, Any]]) -> Body:
    """A real update, as it is or with up to three fields anywhere in it given a wrong type or removed."""
    update = draw(updates)
    original_id = update["update_id"]
    mutations = draw(st.sampled_from([0, 0, 0, 0, 1, 2, 3]))
    for _ in range(mutations):
        paths = list(_paths(update))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = update
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]  # a missing field: update_id, message, chat, from, id, type, ...
        else:
            parent[path[-1]] = draw(json_values)
    if mutations:
        _rekey(update, original_id)
    data = _encode(update, ascii_only=draw(st.booleans()))
    return _body("mutated", data, frozenset({200, 400})) if mutations else _body("update", data)


def _deep(depth: int, shape: str) -> bytes:
    if shape == "objects":
        return b'{"update_id":5,"message":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
    if shape == "arrays":
        return b"[" * depth + b"]" * depth
    if shape == "unknown-field":  # a valid message with a deep value in a field PTB does not know
        return (b'{"update_id":%d,"message":{"message_id":1,"date":%d,"chat":{"id":%d,"type":"private"},"x":'
                % (2**41 + depth, DATE, HOSTILE_PRIVATE[0]) + b"[" * depth + b"]" * depth + b"}}")
    if shape == "replies":  # reply_to_message inside reply_to_message inside ...
        inner: Dict[str, Any] = {"message_id": 1, "date": DATE, "chat": _chat(HOSTILE_PRIVATE[0]), "text": "hi"}
        for level in range(min(depth, 400)):
            inner = {"message_id": level + 2, "date": DATE, "chat": _chat(HOSTILE_PRIVATE[0]), "text": "hi",
                     "reply_to_message": inner}
        return json.dumps({"update_id": 2**42 + depth, "message": inner}).encode()
    return b'{"update_id":6,"message":' + b'{"a":' * depth  # never closed


@st.composite
def insert_bad_utf8(draw: st.DrawFn, updates: st.SearchStrategy[Dict[str, Any]]) -> Body:
    data = _encode(draw(updates), ascii_only=False)
    at = draw(st.integers(0, len(data)))
    return _body("bad-utf8", data[:at] + draw(st.sampled_from(BAD_UTF8)) + data[at:], frozenset({200, 400}))


@st.composite
def truncated(draw: st.DrawFn, updates: st.SearchStrategy[Dict[str, Any]]) -> Body:
    data = _encode(draw(updates), ascii_only=draw(st.booleans()))
    return _body("truncated", data[:draw(st.integers(0, len(data) - 1))], frozenset({400}))


@st.composite
def missing_field(draw: st.DrawFn, updates: st.SearchStrategy[Dict[str, Any]]) -> Body:
    """A real update without one of its outer fields: update_id, chat, from, date, chat.id, data, ..."""
    update = draw(updates)
    original_id = update["update_id"]
    path = draw(st.sampled_from([p for p in _paths(update) if len(p) <= 3]))
    parent = update
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict):
        del parent[path[-1]]
    _rekey(update, original_id)
    return _body("missing", _encode(update, ascii_only=True), frozenset({200, 400}))


def _padded(size: int, filler: str) -> bytes:
    """A correctly shaped text update of exactly ``size`` bytes."""
    head = json.dumps({"update_id": 2**43 + size, "message": {"message_id": 1, "date": DATE, "chat": _chat(HOSTILE_PRIVATE[1]),
                                                               "from": _user(HOSTILE_PRIVATE[1]), "text": "hi"}}).encode()
    if filler == "spaces":  # JSON allows any amount of trailing whitespace
        return head + b" " * (size - len(head))
    text_at = head.rindex(b'"hi"') + 1
    return head[:text_at] + b"A" * (size - len(head)) + head[text_at:]


def bodies(chats: Sequence[Any]) -> st.SearchStrategy[Body]:
    """Every kind of body, for updates from ``chats``."""
    updates = telegram_updates(chats)
    return st.one_of(
        realistic(updates), realistic(updates), realistic(updates), realistic(updates), realistic(updates),
        missing_field(updates),
        truncated(updates),
        insert_bad_utf8(updates),
        st.one_of(  # top-level wrong types: not an object, update_id not a non-negative int, a field not an object
            st.builds(lambda v: _body("wrong-type", json.dumps(v).encode(), frozenset({400})), st.sampled_from(WRONG_TYPES)),
            st.builds(lambda v, f: _body("wrong-type", json.dumps({"update_id": v, f: {}}).encode(), frozenset({400})),
                      st.sampled_from(WRONG_TYPES), st.sampled_from(["message", "callback_query", "my_chat_member"])),
            st.builds(lambda i, f, v: _body("wrong-type", json.dumps({"update_id": i, f: v}).encode(), frozenset({400})),
                      update_ids, st.sampled_from(["message", "edited_message", "callback_query", "channel_post", "x"]),
                      st.sampled_from(WRONG_TYPES)),
        ),
        st.builds(lambda d, s: _body("deep", _deep(d, s), frozenset({200, 400})),
                  st.sampled_from([64, 500, 999, 1000, 1001, 5000, 10_000, 100_000]),
                  st.sampled_from(["objects", "arrays", "unknown-field", "replies", "open"])),
        st.builds(lambda n, f: _body("huge", _padded(n, f)),
                  st.sampled_from([MAX_BODY_BYTES - 1, MAX_BODY_BYTES, MAX_BODY_BYTES + 1, MAX_BODY_BYTES + 64,
                                   2 * MAX_BODY_BYTES, 8 * MAX_BODY_BYTES]),
                  st.sampled_from(["spaces", "text"])),
        st.builds(lambda raw: _body("junk", raw, frozenset({400})), st.one_of(
            st.binary(max_size=2000).filter(lambda b: not b.strip().startswith(b"{")),
            st.sampled_from([b"", b" ", b"null", b"{}", b"[]", b'"update"', b"1e999999", b'{"update_id": 1e999}',
                             b'{"update_id": NaN}', b'{"update_id": Infinity}', b'{"update_id": -1}', b'{"update_id": true}',
                             b'{"update_id": "1"}', b'{"update_id": 1.0}', b'{"update_id": ' + b"9" * 5000 + b"}",
                             b'{"update_id": 1, "update_id": "x"}', b"\xef\xbb\xbf{\"update_id\": 1}",
                             b'{"update_id": 1, "message": {"text": "\\ud800"', b"{'update_id': 1}", b"\x00" * 100]),
        )),
    )


# -- requests -----------------------------------------------------------------------------------------------

WRONG_SECRETS = (
    "", "wrong-secret", SECRET[:-1], SECRET + "0", SECRET.upper(), SECRET.swapcase(), SECRET * 9, "a" * 257,
    "\u202e" + SECRET, SECRET + "\u200b", SECRET.replace("_", "\u2010"), "null", "undefined", "Bearer " + SECRET,
)
CONTENT_TYPES = ("application/json", "application/json; charset=utf-8", "application/json; charset=utf-16", "text/plain",
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", None)


class Case:
    """One request: method, headers, body, and the statuses it may get."""

    def __init__(self, label: str, method: str, headers: Tuple[Tuple[bytes, bytes], ...], body: bytes, chunked: bool,
                 expect: FrozenSet[int]) -> None:
        self.label, self.method, self.headers, self.body, self.chunked, self.expect = label, method, headers, body, chunked, expect

    def __repr__(self) -> str:  # a failing example stays readable even with a megabyte body
        head = self.body[:300] + (b"..." if len(self.body) > 300 else b"")
        headers = [(name, value[:80] + (b"..." if len(value) > 80 else b"")) for name, value in self.headers]
        return (f"Case({self.label!r}, {self.method}, headers={headers!r}, chunked={self.chunked}, "
                f"{len(self.body)} bytes: {head!r}, expect={sorted(self.expect)})")


# Correctly signed hostile updates come from hostile chats only: a valid update from an honest chat would be
# a legitimate message, not an attack, and would change that conversation. A forger may write anything from
# anyone's chat, the honest users' included.
SIGNED_BODIES = bodies(HOSTILE_PRIVATE)
FORGED_BODIES = bodies(HOSTILE_PRIVATE + (PROTECTED, KNOWN))
RANDOM_SECRETS = st.text(st.characters(min_codepoint=0x21, exclude_categories=["Cs", "Cc"]), min_size=1, max_size=64)


def _oversized_headers(headers: Sequence[Tuple[bytes, bytes]]) -> bool:
    """True when the headers are beyond what Sanic reads (it refuses them before routing)."""
    return sum(len(name) + len(value) for name, value in headers) > 8192


@st.composite
def cases(draw: st.DrawFn) -> Case:
    signed = draw(st.sampled_from([True, True, True, False]))
    headers: List[Tuple[bytes, bytes]] = []
    if signed:
        name = draw(st.sampled_from([SECRET_HEADER, SECRET_HEADER.lower(), SECRET_HEADER.upper()]))
        headers.append((name.encode(), SECRET.encode()))
        body = draw(SIGNED_BODIES)
        label, expect = body.kind, body.expect
    else:
        body = draw(FORGED_BODIES)
        how = draw(st.sampled_from(["missing", "wrong", "wrong", "random", "elsewhere", "twice", "huge"]))
        label, expect = f"{body.kind}/{how}-secret", frozenset({403})
        if how == "wrong":
            headers.append((SECRET_HEADER.encode(), draw(st.sampled_from(WRONG_SECRETS)).encode()))
        elif how == "random":
            headers.append((SECRET_HEADER.encode(), draw(RANDOM_SECRETS).encode()))
        elif how == "elsewhere":  # the right secret, in the wrong place
            headers.append((draw(st.sampled_from([b"X-Telegram-Bot-Api-Secret", b"Authorization", b"Cookie"])),
                            SECRET.encode()))
        elif how == "twice":  # the first header counts
            headers += [(SECRET_HEADER.encode(), b"wrong-secret"), (SECRET_HEADER.encode(), SECRET.encode())]
        elif how == "huge":  # headers beyond Sanic's limit: refused before any handler runs
            headers.append((SECRET_HEADER.encode(), b"s" * 20_000))
            body, label, expect = Body("headers", b"{}", body.expect), "headers/huge-secret", frozenset({400, 413, 431})
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if content_type is not None:
        headers.append((b"Content-Type", content_type.encode()))
    method = draw(st.sampled_from(["POST"] * 30 + ["GET", "PUT"]))
    if method != "POST":
        label = f"{label}/{method}"
        expect = expect if _oversized_headers(headers) else frozenset({405})
    chunked = draw(st.sampled_from([False] * 5 + [True]))
    return Case(label, method, tuple(headers), body.data, chunked, expect)


def _signed(label: str, body: bytes, expect: Sequence[int]) -> Case:
    return Case(label, "POST", ((SECRET_HEADER.encode(), SECRET.encode()), (b"Content-Type", b"application/json")), body,
                False, frozenset(expect))


def _forged(update: Dict[str, Any], secret: Optional[bytes]) -> Case:
    headers = ((SECRET_HEADER.encode(), secret),) if secret is not None else ()
    return Case("update/forged", "POST", headers + ((b"Content-Type", b"application/json"),), json.dumps(update).encode(),
                False, frozenset({403}))


# The boundaries, always tried (before the generated requests).
EXPLICIT = (
    _signed("huge", _padded(MAX_BODY_BYTES, "text"), [200]),
    _signed("huge", _padded(MAX_BODY_BYTES + 1, "text"), [413]),
    _signed("huge", _padded(MAX_BODY_BYTES + 1, "spaces"), [413]),
    _signed("deep", _deep(10_000, "objects"), [400]),
    _signed("deep", _deep(10_000, "arrays"), [400]),
    _signed("deep", _deep(10_000, "unknown-field"), [400]),
    # Fields Beacon keys on, with types the Bot API never sends: refused, never half-handled.
    _signed("wrong-type", json.dumps({"update_id": 2**44 + 10, "message": {
        "message_id": 1, "date": DATE, "text": "hi", "chat": _chat("7320000102"), "from": _user(HOSTILE_PRIVATE[0])}}).encode(),
        [400]),
    _signed("wrong-type", json.dumps({"update_id": 2**44 + 11, "message": {
        "message_id": 1, "date": DATE, "text": "hi", "chat": _chat([1]), "from": _user(HOSTILE_PRIVATE[0])}}).encode(),
        [400]),
    _signed("wrong-type", json.dumps({"update_id": 2**44 + 12, "callback_query": {
        "id": "1", "data": ["/affirm"], "chat_instance": "1", "from": _user(HOSTILE_PRIVATE[0])}}).encode(), [400]),
    # No chat (the channel answers in the sender's private chat), no sender, neither; a button press from nobody.
    _signed("missing", json.dumps({"update_id": 2**44, "message": {"message_id": 1, "date": DATE, "text": "hi",
                                                                   "from": _user(HOSTILE_PRIVATE[0])}}).encode(), [200]),
    _signed("missing", json.dumps({"update_id": 2**44 + 1, "message": {"message_id": 1, "date": DATE, "text": "hi",
                                                                       "chat": _chat(HOSTILE_PRIVATE[0])}}).encode(), [200]),
    _signed("missing", json.dumps({"update_id": 2**44 + 2, "message": {"message_id": 1, "date": DATE, "text": "hi"}}).encode(),
            [200]),
    _signed("missing", json.dumps({"update_id": 2**44 + 3, "callback_query": {"id": "1", "data": "/restart",
                                                                              "chat_instance": "1"}}).encode(), [200]),
    # Forged updates from the honest users' chats: erase, restart, answer the quiz.
    _forged(tg.text_update(PROTECTED, "/forget"), b"wrong-secret"),
    _forged(tg.text_update(PROTECTED, "/forget"), None),
    _forged(tg.callback_update(PROTECTED, "/restart"), SECRET[:-1].encode()),
    _forged(tg.callback_update(PROTECTED, "/deny"), b""),
    _forged(tg.text_update(KNOWN, "/forget"), SECRET.upper().encode()),
)


# -- the stack, as in test_telegram.py ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture(scope="module")
def beacon(api: FakeBotApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Beacon]:
    yield from telegram_stack(api, tmp_path_factory.mktemp("telegram-hostile-var"))


@pytest.fixture(scope="module")
def http(beacon: Beacon) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=beacon.url, timeout=30) as client:
        yield client


def _send(http: httpx.Client, case: Case) -> httpx.Response:
    content: Any = iter([case.body]) if case.chunked else case.body
    return http.request(case.method, WEBHOOK, content=content, headers=list(case.headers))


def _stored(beacon: Beacon, chat_id: int) -> List[Tuple[Any, ...]]:
    """Every stored event of ``chat_id``'s conversation, in order."""
    with sqlite3.connect(beacon.var / "beacon.db") as db:
        return db.execute("SELECT id, type_name, intent_name, action_name, data FROM events WHERE sender_id = ? ORDER BY id",
                          (pseudonym(chat_id),)).fetchall()


def _press(beacon: Beacon, chat_id: int, previous: List[tg.Call], payload: str) -> List[tg.Call]:
    """Press the button with ``payload`` on the last keyboard the bot sent in ``previous``."""
    keyboard = [c.keyboard for c in previous if c.keyboard][-1]
    [data] = [b["callback_data"] for row in keyboard for b in row if b.get("callback_data") == payload]
    return beacon.turn(chat_id, tg.callback_update(chat_id, data))


def _question(number: int) -> str:
    return store().text("quiz.question", "en", n=number, total="", scenario="").splitlines()[0]


def _settle(api: FakeBotApi, quiet: float = 2.0, timeout: float = 60.0) -> None:
    """Wait until the bot has stopped calling the Bot API (the barrage's updates are all handled)."""
    deadline = time.monotonic() + timeout
    count, since = -1, time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, "the bot kept working for a minute after the barrage"
        if len(api.calls) != count:
            count, since = len(api.calls), time.monotonic()
        time.sleep(0.1)


def test_telegram_webhook_survives_generated_input(beacon: Beacon, api: FakeBotApi, http: httpx.Client) -> None:
    started = time.monotonic()
    # Before: a conversation in the middle of the quiz, and someone who said hi.
    greeting = beacon.turn(PROTECTED, tg.text_update(PROTECTED, "/start"))
    menu = _press(beacon, PROTECTED, greeting, "/i_am_teen")
    quiz = _press(beacon, PROTECTED, menu, "/start_quiz")
    assert _question(1) in everything(quiz)
    second = _press(beacon, PROTECTED, quiz, "/affirm")
    assert _question(2) in everything(second)
    hello = [c.text for c in beacon.turn(KNOWN, tg.text_update(KNOWN, "hi"))]
    events_before = {chat: _stored(beacon, chat) for chat in (PROTECTED, KNOWN)}
    sent_before = {chat: len(api.sent_to(chat)) for chat in (PROTECTED, KNOWN)}
    barrage_started = time.monotonic()

    seen: List[Tuple[str, int]] = []

    def check(case: Case) -> None:
        response = _send(http, case)
        seen.append((case.label, response.status_code))
        assert response.status_code < 500, case
        assert response.status_code in case.expect, (response.status_code, response.text[:200], case)
        if response.status_code in (200, 400, 403, 413) and case.method == "POST" and "huge-secret" not in case.label:
            assert response.json()["ok"] is (response.status_code == 200)

    @SETTINGS
    @given(case=cases())
    def barrage(case: Case) -> None:
        check(case)

    for case in EXPLICIT:
        check(case)
    barrage()
    barrage_sent = time.monotonic()
    _settle(api)
    print(f"\n{len(seen)} requests ({len(EXPLICIT)} explicit) sent in {barrage_sent - barrage_started:.1f} s, all handled "
          f"{time.monotonic() - barrage_sent:.1f} s later; statuses {sorted({s for _, s in seen})}")

    # Every kind of input was tried, and every kind of answer was seen.
    assert len(seen) >= EXAMPLES + len(EXPLICIT)
    kinds = {label.split("/")[0] for label, _ in seen}
    assert kinds >= {"update", "mutated", "missing", "truncated", "bad-utf8", "wrong-type", "deep", "huge", "junk"}, kinds
    assert {status for _, status in seen} >= {200, 400, 403, 405, 413}
    assert any(label == "update" and status == 200 for label, status in seen)

    # Both servers are alive and the channel still reports itself healthy.
    for server in beacon.stack.servers:
        assert server.process.poll() is None, f"{server.name} died; see {server.log}"
    assert http.get("/webhooks/telegram/").json() == {"status": "ok", "mode": "webhook"}
    log = beacon.rasa_log.read_text(encoding="utf-8", errors="replace")
    for sign in ("Traceback", "Exception occurred while handling", "Task exception was never retrieved"):
        assert sign not in log, f"{sign!r} in {beacon.rasa_log}"

    # Nothing reached the honest users' chats, no media was downloaded, every message the bot sent was valid.
    assert {chat: len(api.sent_to(chat)) for chat in (PROTECTED, KNOWN)} == sent_before
    assert api.calls_of("getFile") == [] and api.forbidden == []
    assert [c for c in api.calls_of("sendMessage") if not c.ok] == []

    # After: a newcomer gets the same greeting as before the barrage, the known chat a normal answer ...
    assert [c.text for c in beacon.turn(NEWCOMER, tg.text_update(NEWCOMER, "hi"))] == hello
    again = everything(beacon.turn(KNOWN, tg.text_update(KNOWN, "hi")))
    assert again.strip() and store().text("telegram.slow_down", "en") not in again
    # ... and the quiz goes on with question 3, on top of the same stored history.
    third = _press(beacon, PROTECTED, second, "/deny")
    assert _question(3) in everything(third)
    for chat, before in events_before.items():
        after = _stored(beacon, chat)
        assert after[:len(before)] == before, "a conversation's stored history changed"
        added = [event[1] for event in after[len(before):]]
        assert added.count("user") == 1, "something other than the one message after the barrage reached it"
    assert api.calls_of("getFile") == []
    print(f"whole test: {time.monotonic() - started:.1f} s")
