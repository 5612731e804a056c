"""Hostile input against every public endpoint (issue #10): at least 500 generated requests each.

Generated with hypothesis (seeded, bounded, no example database): malformed and truncated JSON, wrong
types, huge bodies, deep nesting, invalid UTF-8, control characters, right-to-left overrides, missing
fields. The contract: never a 5xx, the server keeps answering, and a conversation started before the
barrage keeps its state.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = 500
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "So"]), max_size=200),
    st.sampled_from(["", " ", "\u202e\u202dgrooming", "\x00" * 50, "<img src=x onerror=alert(1)>", "/restart",
                     '/inform_country{"country": {"$gt": ""}}', "/" + "a" * 500, "💣" * 300, "x" * 25000,
                     "{{7*7}}", "${jndi:ldap://x}", "../../etc/passwd", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace")]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _deep(depth: int) -> bytes:
    return b'{"message":' * depth + b'"x"' + b"}" * depth


raw_bodies = st.one_of(
    st.binary(max_size=2000),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda d, cut: json.dumps(d).encode()[:cut], st.dictionaries(st.sampled_from(["sender", "message", "token", "metadata", "language"]), json_values, max_size=5), st.integers(0, 200)),
    st.integers(10, 3000).map(_deep),
    st.sampled_from([b"\xff\xfe\xfd", b'{"message": "\xc3\x28"}', b"null", b"[]", b'"str"', b"1e999999",
                     b'{"sender": "x", "message": "' + b"A" * 200_000 + b'"}']),
)
rest_bodies = st.one_of(
    raw_bodies,
    st.fixed_dictionaries({"sender": st.one_of(st.text(max_size=200), json_values), "message": st.one_of(nasty_text, json_values)},
                          optional={"metadata": json_values}).map(lambda d: json.dumps(d).encode()),
)
web_bodies = st.one_of(
    raw_bodies,
    st.fixed_dictionaries({"message": st.one_of(nasty_text, json_values)},
                          optional={"token": st.one_of(st.text(max_size=300), json_values), "language": json_values}
                          ).map(lambda d: json.dumps(d).encode()),
)


@pytest.fixture(scope="module")
def client(beacon):
    with httpx.Client(base_url=beacon.servers[-1].url, timeout=60) as http:
        yield http


def _carer_conversation(client: httpx.Client) -> str:
    sender = f"hostile-{uuid.uuid4().hex[:8]}"
    client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/i_am_carer"})
    return sender


def _still_carer(client: httpx.Client, sender: str) -> bool:
    reply = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/ask_menu"}).json()
    return "/ask_signs_in_child" in json.dumps(reply)


def test_rest_endpoint_survives_generated_input(client):
    sender = _carer_conversation(client)
    statuses = []

    @SETTINGS
    @given(body=rest_bodies)
    def barrage(body: bytes) -> None:
        response = client.post("/webhooks/rest/webhook", content=body, headers={"Content-Type": "application/json"})
        statuses.append(response.status_code)
        assert response.status_code < 500, (response.status_code, body[:200])

    barrage()
    assert len(statuses) >= EXAMPLES
    assert _still_carer(client, sender), "conversation state was lost or corrupted"
    assert client.get("/webhooks/rest/").status_code == 200


def test_web_endpoint_survives_generated_input(client):
    sender = _carer_conversation(client)
    statuses = []

    @SETTINGS
    @given(body=web_bodies, content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
    def barrage(body: bytes, content_type: str) -> None:
        response = client.post("/webhooks/web/webhook", content=body, headers={"Content-Type": content_type})
        statuses.append(response.status_code)
        assert response.status_code < 500, (response.status_code, body[:200])
        assert response.headers.get("content-type", "").startswith("application/json")

    barrage()
    assert len(statuses) >= EXAMPLES
    assert _still_carer(client, sender)
    ok = client.post("/webhooks/web/webhook", json={"message": "hello"})
    assert ok.status_code in (200, 429)
