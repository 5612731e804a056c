"""The web channel over HTTP against the real Rasa and action servers (no browser).

Tokens, CORS, size and rate limits, malformed input and erasure; never a 5xx for any of it.
"""

from __future__ import annotations

import json
import socket
from typing import Any, Dict, Iterator, Optional
from urllib.parse import urlsplit

import pytest
import requests

from tools import stack as stack_tool

ALLOWED = "https://www.parents.example"
PER_SESSION_BURST = 8


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var = tmp_path_factory.mktemp("beacon-web")
    env = {
        "BEACON_DB_NAME": str(var / "beacon.db"),
        "BEACON_VAR_DIR": str(var),
        "BEACON_WEB_SECRET": "integration-secret-" + "q" * 32,
        "BEACON_WEB_ALLOWED_ORIGINS": f"{ALLOWED}, http://localhost:3000",
        "BEACON_WEB_RATE_PER_MINUTE": "6",
        "BEACON_WEB_BURST": str(PER_SESSION_BURST),
        "BEACON_WEB_IP_RATE_PER_MINUTE": "6000",
        "BEACON_WEB_IP_BURST": "1000",
        "BEACON_WEB_MAX_BODY_BYTES": "8192",
    }
    with stack_tool.running_stack(var / "log", env=env) as running:
        yield running.servers[-1].url + "/webhooks/web"


def post(web: str, body: Any = None, raw: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
         timeout: float = 60) -> requests.Response:
    data = raw if raw is not None else json.dumps(body).encode()
    response = requests.post(f"{web}/webhook", data=data, timeout=timeout,
                             headers={"Content-Type": "application/json", **(headers or {})})
    assert response.status_code < 500, response.text
    return response


def texts(response: requests.Response) -> str:
    parts = []
    for message in response.json()["messages"]:
        parts.append(message["text"])
        parts.extend(button["title"] for button in message["buttons"])
    return "\n".join(parts)


def error_of(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()["error"]


# ----------------------------------------------------------------------------- tokens


def test_greet_issues_a_signed_token_and_discloses_the_bot(web):
    response = post(web, {"message": "/greet", "language": "en"})
    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("v1.") and body["token"].count(".") == 3
    reply = texts(response)
    assert "chatbot" in reply and "not a real person" in reply
    assert "emergency service" in reply
    assert "I'm a parent or carer" in reply
    for message in body["messages"]:
        assert set(message) == {"text", "buttons", "links"}
    payloads = [b["payload"] for m in body["messages"] for b in m["buttons"]]
    assert "/i_am_carer" in payloads


def test_the_token_carries_the_conversation(web):
    token = post(web, {"message": "/greet"}).json()["token"]
    menu = post(web, {"message": "/i_am_carer", "token": token})
    assert menu.json()["token"] == token
    assert "/ask_signs_in_child" in json.dumps(menu.json())
    signs = post(web, {"message": "/ask_signs_in_child", "token": token})
    assert "secretive" in texts(signs)


def test_italian_from_the_language_field(web):
    reply = texts(post(web, {"message": "/greet", "language": "it-IT"}))
    assert "chatbot" in reply.lower() and "persona" in reply.lower()


@pytest.mark.parametrize("make_token", [
    lambda good: good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
    lambda good: "v1.AAAAAAAAAAAAAAAAAAAAAA." + good.split(".", 2)[2],
    lambda good: "not-a-token",
    lambda good: "",
])
def test_forged_tokens_are_rejected(web, make_token):
    good = post(web, {"message": "/greet"}).json()["token"]
    assert error_of(post(web, {"message": "hi", "token": make_token(good)}), 401) == "invalid_token"


def test_token_from_another_server_key_is_rejected(web):
    from channels.web.sessions import TokenSigner

    foreign, _ = TokenSigner(b"some-other-deployment-key" * 2).issue()
    assert error_of(post(web, {"message": "hi", "token": foreign}), 401) == "invalid_token"


# ----------------------------------------------------------------------------- CORS


def test_cors_preflight_allow_and_deny(web):
    allowed = requests.options(f"{web}/webhook", timeout=10, headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Content-Type" in allowed.headers["Access-Control-Allow-Headers"]
    denied = requests.options(f"{web}/webhook", timeout=10, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert denied.status_code == 403 and "Access-Control-Allow-Origin" not in denied.headers


def test_cors_on_messages(web):
    allowed = post(web, {"message": "/greet"}, headers={"Origin": "http://localhost:3000"})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    denied = post(web, {"message": "/greet"}, headers={"Origin": "https://evil.example"})
    assert error_of(denied, 403) == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in denied.headers
    own = urlsplit(web)
    same = post(web, {"message": "/greet"}, headers={"Origin": f"{own.scheme}://{own.netloc}"})
    assert same.status_code == 200


# ----------------------------------------------------------------------------- bad input


def test_body_limit_is_413(web):
    assert error_of(post(web, {"message": "x" * 9000}), 413) == "body_too_large"
    host, port = urlsplit(web).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /webhooks/web/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 104857600\r\n\r\n{")
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize("raw, code", [
    (b"{broken", "invalid_json"),
    (b'{"message": "\xc3\x28"}', "invalid_utf8"),
    (b"[\"/greet\"]", "invalid_request"),
    (b'{"message": 1}', "invalid_request"),
    (b'{"message": "hi", "token": {}}', "invalid_request"),
    (b'{"message": "hi", "language": 3}', "invalid_request"),
    (b'{"message": ""}', "empty_message"),
    (b"[" * 5000, "invalid_json"),
])
def test_malformed_is_400(web, raw, code):
    assert error_of(post(web, raw=raw), 400) == code


def test_other_methods_and_paths_are_json(web):
    assert error_of(requests.get(f"{web}/webhook", timeout=10), 405) == "method_not_allowed"
    assert error_of(requests.get(f"{web}/missing", timeout=10), 404) == "not_found"
    assert error_of(requests.post(f"{web}/webhook", data="hi", timeout=10), 415) == "unsupported_media_type"


# ----------------------------------------------------------------------------- rate limit


def test_429_after_the_per_session_limit(web):
    token = post(web, {"message": "/greet"}).json()["token"]
    statuses = [post(web, {"message": "/ask_menu", "token": token}).status_code
                for _ in range(PER_SESSION_BURST + 2)]
    assert statuses.count(429) >= 2 and set(statuses) <= {200, 429}, statuses
    limited = post(web, {"message": "/ask_menu", "token": token})
    assert error_of(limited, 429) == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert post(web, {"message": "/greet"}).status_code == 200  # other conversations are unaffected


# ----------------------------------------------------------------------------- erasure


def test_delete_erases_and_the_next_message_starts_afresh(web):
    token = post(web, {"message": "/greet"}).json()["token"]
    switched = post(web, {"message": '/set_language{"language":"it"}', "token": token})
    assert "italiano" in texts(switched)
    assert "Con chi sto parlando" in texts(post(web, {"message": "/greet", "token": token}))  # remembered

    deleted = requests.delete(f"{web}/session", json={"token": token}, timeout=30)
    assert deleted.status_code == 200 and deleted.json() == {"deleted": True}

    fresh = post(web, {"message": "/greet", "token": token})  # same token, empty history: English again
    assert fresh.status_code == 200
    assert "Who am I talking with?" in texts(fresh)


def test_delete_needs_a_valid_token_and_touches_nothing_else(web):
    keep = post(web, {"message": "/greet"}).json()["token"]
    post(web, {"message": '/set_language{"language":"it"}', "token": keep})
    other = post(web, {"message": "/greet"}).json()["token"]
    assert requests.delete(f"{web}/session", headers={"Authorization": f"Bearer {other}"},
                           timeout=30).status_code == 200
    assert error_of(requests.delete(f"{web}/session", json={"token": "forged"}, timeout=10), 401) == "invalid_token"
    assert error_of(requests.delete(f"{web}/session", timeout=10), 401) == "invalid_token"
    assert "Con chi sto parlando" in texts(post(web, {"message": "/greet", "token": keep}))


# ----------------------------------------------------------------------------- served files


def test_widget_files_strings_and_demo(web):
    js = requests.get(f"{web}/widget.js", timeout=10)
    assert js.status_code == 200 and js.headers["Content-Type"].startswith("application/javascript")
    assert js.headers["X-Content-Type-Options"] == "nosniff"
    css = requests.get(f"{web}/widget.css", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    strings = requests.get(f"{web}/strings?lang=nl", timeout=10).json()
    assert strings["lang"] == "nl" and strings["strings"]["send"] == "Versturen"
    demo = requests.get(f"{web}/demo", timeout=10)
    assert demo.status_code == 200
    assert "unsafe-inline" not in demo.headers["Content-Security-Policy"]
    assert demo.headers["X-Content-Type-Options"] == "nosniff"
