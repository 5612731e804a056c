"""The web channel's HTTP protocol, in-process: the real channel and Sanic-CORS, an echo bot instead of Rasa.

Fast and model-free; tests/integration/test_web_channel.py repeats the essentials against real servers.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Dict, Iterator, Optional

import pytest
import requests

from channels.web.channel import WebSettings
from channels.web.devserver import EchoAgent, ThreadedServer, create_app
from tools.stack import free_port

ALLOWED = "https://parents.example.org"
SECRET = b"unit-test-secret-" + b"x" * 32


def _server(name: str, agent: Optional[Any] = None, cors: Any = None, **overrides: Any) -> ThreadedServer:
    settings = dict(secret=SECRET, allowed_origins=(ALLOWED,), session_rate_per_minute=600, session_burst=100,
                    ip_rate_per_minute=6000, ip_burst=1000, max_body_bytes=4096, reply_timeout=2.0)
    settings.update(overrides)
    return ThreadedServer(create_app(WebSettings(**settings), agent=agent, name=name, cors=cors), free_port()).start()


@pytest.fixture(scope="module")
def agent() -> EchoAgent:
    return EchoAgent(slow_seconds=4.0)


@pytest.fixture(scope="module")
def web(agent: EchoAgent) -> Iterator[str]:
    server = _server("beacon_web_unit", agent=agent)
    yield server.url + "/webhooks/web"
    server.stop()


def post(web: str, body: Any, headers: Optional[Dict[str, str]] = None,
         raw: Optional[bytes] = None) -> requests.Response:
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(f"{web}/webhook", data=data, timeout=10,
                         headers={"Content-Type": "application/json", **(headers or {})})


def assert_json_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == code
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# ----------------------------------------------------------------------------- sessions


def test_first_message_issues_a_token_and_later_ones_reuse_it(web, agent):
    first = post(web, {"message": "/greet", "language": "it-IT"})
    assert first.status_code == 200
    body = first.json()
    token = body["token"]
    assert body["messages"][0]["text"] == "echo 1 [it]: /greet"
    assert body["messages"][0]["buttons"][0] == {"title": "Again", "payload": "/again"}
    assert first.headers["Cache-Control"] == "no-store"
    second = post(web, {"message": "hello   there\u200b", "token": token}).json()
    assert second["token"] == token
    assert second["messages"][0]["text"] == "echo 2 [-]: hello there"
    message = agent.received[-1]
    assert message.sender_id.startswith("web-") and token.split(".")[1] not in message.sender_id
    assert message.input_channel == "web"
    assert message.metadata == {"audience": "carer", "channel": "web"}
    assert agent.received[-2].metadata == {"audience": "carer", "channel": "web", "language": "it"}


def test_two_sessions_are_separate(web):
    a = post(web, {"message": "one"}).json()
    b = post(web, {"message": "one"}).json()
    assert a["token"] != b["token"]
    assert b["messages"][0]["text"].startswith("echo 1 ")


@pytest.mark.parametrize("token", [
    "v1.AAAAAAAAAAAAAAAAAAAAAA.1700000000.forged",
    "garbage",
    "v1." + "A" * 500,
])
def test_forged_token_is_rejected(web, token):
    assert_json_error(post(web, {"message": "hi", "token": token}), 401, "invalid_token")


def test_token_signed_with_another_key_is_rejected(web):
    other = _server("beacon_web_other_key", secret=b"another-key-" + b"y" * 40)
    try:
        foreign = requests.post(f"{other.url}/webhooks/web/webhook", json={"message": "hi"}, timeout=10).json()["token"]
    finally:
        other.stop()
    assert_json_error(post(web, {"message": "hi", "token": foreign}), 401, "invalid_token")


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("raw, code", [
    (b"{not json", "invalid_json"),
    (b'{"message": "caf\xe9"}', "invalid_utf8"),
    (b"\xff\xfe\x00", "invalid_utf8"),
    (b"[1, 2]", "invalid_request"),
    (b'"just a string"', "invalid_request"),
    (b"null", "invalid_request"),
    (b"", "invalid_json"),
    (b"[" * 3000 + b"]" * 3000, "body_too_large"),
    (b"[" * 2000, "invalid_json"),
    (b'{"message": 42}', "invalid_request"),
    (b'{"message": null}', "invalid_request"),
    (b'{"message": ["hi"]}', "invalid_request"),
    (b'{"message": {"text": "hi"}}', "invalid_request"),
    (b'{"message": "hi", "token": 5}', "invalid_request"),
    (b'{"message": "hi", "token": ["x"]}', "invalid_request"),
    (b'{"message": "hi", "language": {"code": "it"}}', "invalid_request"),
    (b'{"message": "   \\u200b "}', "empty_message"),
    (b'{"token": "x"}', "invalid_request"),
])
def test_malformed_requests_get_400(web, raw, code):
    response = post(web, None, raw=raw)
    assert_json_error(response, 413 if code == "body_too_large" else 400, code)


def test_nested_json_within_the_body_limit_is_a_400(web):
    assert_json_error(post(web, None, raw=b"[" * 4000), 400, "invalid_json")


def test_lone_surrogates_and_controls_are_cleaned(web):
    response = post(web, None, raw=b'{"message": "hi\\ud800 \\u0000there\\u202e"}')
    assert response.status_code == 200
    assert response.json()["messages"][0]["text"].endswith(": hi there")


def test_unknown_language_is_ignored(web, agent):
    assert post(web, {"message": "hi", "language": "tlh"}).status_code == 200
    assert "language" not in agent.received[-1].metadata


def test_wrong_content_type_is_415(web):
    response = requests.post(f"{web}/webhook", data='{"message": "hi"}', timeout=10,
                             headers={"Content-Type": "text/plain"})
    assert_json_error(response, 415, "unsupported_media_type")


def test_declared_oversized_body_is_413_without_reading_it(web):
    response = post(web, None, raw=json.dumps({"message": "x" * 10_000}).encode())
    assert_json_error(response, 413, "body_too_large")


def test_chunked_oversized_body_is_413(web):
    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(50):
            yield b"x" * 1000
        yield b'"}'

    response = requests.post(f"{web}/webhook", data=chunks(), timeout=10, headers={"Content-Type": "application/json"})
    assert_json_error(response, 413, "body_too_large")


def test_very_large_declared_body_is_refused_at_once(web):
    host, port = web.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /webhooks/web/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 50000000\r\n\r\n{")
        answer = sock.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "body_too_large" in answer


def test_long_messages_are_cut_not_refused(web, agent):
    assert post(web, {"message": "word " * 700}).status_code == 200
    assert len(agent.received[-1].text) <= 2000


# ----------------------------------------------------------------------------- failures of the bot


def test_bot_exception_becomes_a_localised_safe_reply(web):
    response = post(web, {"message": "/fail", "language": "fr"})
    assert response.status_code == 200
    text = response.json()["messages"][0]["text"]
    assert "112" in text and "Réessayez" in text


def test_bot_timeout_becomes_a_safe_reply(web):
    started = time.monotonic()
    response = post(web, {"message": "/slow"})
    assert response.status_code == 200
    assert time.monotonic() - started < 4
    assert response.json()["messages"][0]["text"].startswith("Sorry")


def test_no_reply_becomes_a_safe_reply(web):
    assert post(web, {"message": "/silent"}).json()["messages"][0]["text"].startswith("Sorry")


def test_bot_links_are_filtered_and_text_is_passed_as_text(web):
    links = post(web, {"message": "/links"}).json()["messages"][0]["links"]
    assert links == [{"title": "safe https", "url": "https://example.org/help"},
                     {"title": "phone", "url": "tel:08001111"}]
    html = post(web, {"message": "/html"}).json()["messages"][0]["text"]
    assert html.startswith("<img src=x onerror=")  # passed through as data; the widget renders it as text


# ----------------------------------------------------------------------------- CORS


def test_preflight_from_allowed_origin(web):
    response = requests.options(f"{web}/webhook", timeout=10, headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert "Origin" in response.headers["Vary"]


def test_preflight_and_post_from_other_origin_are_refused(web):
    response = requests.options(f"{web}/webhook", timeout=10, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    refused = post(web, {"message": "hi"}, headers={"Origin": "https://evil.example"})
    assert_json_error(refused, 403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert_json_error(post(web, {"message": "hi"}, headers={"Origin": "null"}), 403, "origin_not_allowed")


def test_allowed_and_same_origin_posts(web):
    allowed = post(web, {"message": "hi"}, headers={"Origin": ALLOWED})
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    own = web.split("/webhooks")[0]
    same = post(web, {"message": "hi"}, headers={"Origin": own})
    assert same.status_code == 200


def test_strings_cors(web):
    allowed = requests.get(f"{web}/strings?lang=el", headers={"Origin": ALLOWED}, timeout=10)
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert allowed.json()["strings"]["send"] == "Αποστολή"
    other = requests.get(f"{web}/strings?lang=el", headers={"Origin": "https://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in other.headers


def test_our_cors_rules_hold_even_when_rasa_runs_with_cors_star():
    server = _server("beacon_web_cors_star", cors="*")
    try:
        web = server.url + "/webhooks/web"
        refused = requests.options(f"{web}/webhook", timeout=10, headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
        assert_json_error(post(web, {"message": "hi"}, headers={"Origin": "https://evil.example"}), 403,
                          "origin_not_allowed")
        allowed = requests.options(f"{web}/webhook", timeout=10, headers={
            "Origin": ALLOWED, "Access-Control-Request-Method": "POST"})
        assert allowed.status_code == 204 and allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert "Access-Control-Allow-Credentials" not in allowed.headers
    finally:
        server.stop()


# ----------------------------------------------------------------------------- rate limits


def test_per_session_rate_limit():
    server = _server("beacon_web_session_limit", session_rate_per_minute=1, session_burst=3)
    try:
        web = server.url + "/webhooks/web"
        token = post(web, {"message": "1"}).json()["token"]
        statuses = [post(web, {"message": str(i), "token": token}).status_code for i in range(4)]
        assert statuses == [200, 200, 429, 429]
        limited = post(web, {"message": "x", "token": token})
        assert_json_error(limited, 429, "rate_limited")
        assert int(limited.headers["Retry-After"]) >= 1
        assert post(web, {"message": "a new session is not limited by the old one"}).status_code == 200
    finally:
        server.stop()


def test_per_ip_rate_limit_covers_bad_requests_too():
    server = _server("beacon_web_ip_limit", ip_rate_per_minute=1, ip_burst=4)
    try:
        web = server.url + "/webhooks/web"
        statuses = [post(web, {"message": "hi", "token": "forged"}).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 401]
        assert_json_error(post(web, {"message": "hi"}), 429, "rate_limited")
        response = requests.delete(f"{web}/session", headers={"Authorization": "Bearer x"}, timeout=10)
        assert_json_error(response, 429, "rate_limited")
    finally:
        server.stop()


# ----------------------------------------------------------------------------- erasure


def test_delete_erases_the_conversation(web, agent):
    token = post(web, {"message": "a"}).json()["token"]
    post(web, {"message": "b", "token": token})
    sender = agent.received[-1].sender_id
    assert sender in agent.tracker_store.store
    response = requests.delete(f"{web}/session", json={"token": token}, timeout=10)
    assert response.status_code == 200 and response.json() == {"deleted": True}
    assert sender not in agent.tracker_store.store
    again = post(web, {"message": "c", "token": token}).json()
    assert again["messages"][0]["text"].startswith("echo 1 ")  # a new conversation


def test_delete_with_bearer_header_and_errors(web, agent):
    token = post(web, {"message": "a"}).json()["token"]
    other = post(web, {"message": "keep me"}).json()["token"]
    other_sender = agent.received[-1].sender_id
    response = requests.delete(f"{web}/session", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200
    assert other_sender in agent.tracker_store.store  # nothing else is erased
    assert post(web, {"message": "b", "token": other}).json()["messages"][0]["text"].startswith("echo 2 ")
    assert_json_error(requests.delete(f"{web}/session", timeout=10), 401, "invalid_token")
    assert_json_error(requests.delete(f"{web}/session", json={"token": "forged"}, timeout=10), 401, "invalid_token")
    assert_json_error(requests.delete(f"{web}/session", data=b"{oops", timeout=10,
                                      headers={"Content-Type": "application/json"}), 400, "invalid_json")
    assert_json_error(requests.delete(f"{web}/session", json={"token": token},
                                      headers={"Origin": "https://evil.example"}, timeout=10), 403,
                      "origin_not_allowed")


# ----------------------------------------------------------------------------- static files and routing


@pytest.mark.parametrize("path, content_type", [
    ("/widget.js", "application/javascript"),
    ("/widget.css", "text/css"),
    ("/demo.css", "text/css"),
    ("/favicon.svg", "image/svg+xml"),
])
def test_static_files(web, path, content_type):
    response = requests.get(web + path, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    cached = requests.get(web + path, headers={"If-None-Match": response.headers["ETag"]}, timeout=10)
    assert cached.status_code == 304


def test_demo_page_headers(web):
    response = requests.get(f"{web}/demo", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert '<script src="/webhooks/web/widget.js"' in response.text


def test_strings_endpoint_defaults_to_english(web):
    for query in ("", "?lang=xx", "?lang=", "?lang=" + "a" * 100):
        response = requests.get(f"{web}/strings{query}", timeout=10)
        assert response.status_code == 200 and response.json()["lang"] == "en"
    assert requests.get(f"{web}/strings?lang=lt-LT", timeout=10).json()["strings"]["send"] == "Siųsti"


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/webhook", 405), ("PUT", "/webhook", 405), ("GET", "/session", 405), ("POST", "/session", 405),
    ("GET", "/nope", 404), ("POST", "/%2e%2e/%2e%2e/etc/passwd", 404), ("GET", "/static/..%2fchannel.py", 404),
])
def test_other_routes_answer_json(web, method, path, status):
    response = requests.request(method, web + path, timeout=10)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
