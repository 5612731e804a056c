"""Session tokens of the web channel: issued by the server, HMAC-signed, unforgeable."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from channels.web import sessions
from channels.web.sessions import TokenSigner, load_secret

KEY = b"k" * 64


def test_issue_and_verify_round_trip():
    signer = TokenSigner(KEY)
    token, session = signer.issue()
    verified = signer.verify(token)
    assert verified == session
    assert token.startswith("v1.")
    assert len(session.session_id) >= 22  # 128 random bits, base64url


def test_session_ids_are_random():
    signer = TokenSigner(KEY)
    ids = {signer.issue()[1].session_id for _ in range(500)}
    assert len(ids) == 500


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),            # signature changed
    lambda t: t.replace("v1.", "v2.", 1),                          # unknown version
    lambda t: ".".join([t.split(".")[0], "AAAAAAAAAAAAAAAAAAAAAA", *t.split(".")[2:]]),  # other session id
    lambda t: ".".join([*t.split(".")[:2], "1", t.split(".")[3]]),  # other issue time
    lambda t: t + ".extra",
    lambda t: t.rsplit(".", 1)[0],                                 # no signature
    lambda t: "",
    lambda t: "x" * 10_000,
    lambda t: t.replace("v1", "v\u0131"),                          # non-ASCII
])
def test_tampered_tokens_are_rejected(mutate):
    signer = TokenSigner(KEY)
    token, _ = signer.issue()
    assert signer.verify(mutate(token)) is None


@pytest.mark.parametrize("value", [None, 123, ["v1"], {"token": "x"}, b"v1.a.1.b"])
def test_non_string_tokens_are_rejected(value):
    assert TokenSigner(KEY).verify(value) is None


def test_token_from_another_key_is_rejected():
    token, _ = TokenSigner(b"a" * 64).issue()
    assert TokenSigner(b"b" * 64).verify(token) is None


def test_expiry_and_clock_skew():
    signer = TokenSigner(KEY, ttl_seconds=3600)
    token, _ = signer.issue(now=1_000_000)
    assert signer.verify(token, now=1_000_000 + 3599) is not None
    assert signer.verify(token, now=1_000_000 + 3601) is None
    assert signer.verify(token, now=1_000_000 - 3600) is None  # issued "in the future"
    forever = TokenSigner(KEY, ttl_seconds=0)
    token, _ = forever.issue(now=1_000)
    assert forever.verify(token, now=10**10) is not None


def test_empty_key_is_refused():
    with pytest.raises(ValueError):
        TokenSigner(b"")


def test_secret_from_environment(monkeypatch, caplog):
    monkeypatch.setenv("BEACON_WEB_SECRET", "short")
    with caplog.at_level(logging.WARNING, logger=sessions.__name__):
        assert load_secret() == b"short"
    assert "shorter than" in caplog.text


def test_secret_generated_once_in_var_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("BEACON_WEB_SECRET", raising=False)
    monkeypatch.setenv("BEACON_VAR_DIR", str(tmp_path / "var"))
    first = load_secret()
    assert len(first) == 64
    path = tmp_path / "var" / "web_secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret() == first
