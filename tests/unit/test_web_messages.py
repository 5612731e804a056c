"""The web channel's pure helpers: message shaping, link and origin rules, settings."""

from __future__ import annotations

import asyncio

import pytest

from channels.web.channel import (
    WebOutputChannel,
    WebSettings,
    normalise_language,
    normalise_message,
    normalise_origin,
    safe_url,
)


@pytest.mark.parametrize("url, expected", [
    ("https://www.example.org/help?a=1#x", "https://www.example.org/help?a=1#x"),
    ("  https://example.org  ", "https://example.org"),
    ("tel:0800 1111", "tel:08001111"),
    ("tel:+44 (0) 808-800-5000", "tel:+4408088005000"),
    ("TEL:112", "tel:112"),
    ("http://example.org", None),
    ("javascript:alert(1)", None),
    ("JaVaScRiPt:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("vbscript:msgbox", None),
    ("ftp://example.org", None),
    ("https:///nohost", None),
    ("https://exa mple.org", None),
    ("https://example.org/\x00", None),
    ("tel:call-me", None),
    ("tel:", None),
    ("//example.org", None),
    ("/relative", None),
    ("https://" + "a" * 3000 + ".org", None),
    (None, None),
    (42, None),
])
def test_safe_url(url, expected):
    assert safe_url(url) == expected


def test_normalise_message_keeps_only_safe_well_typed_parts():
    message = {
        "recipient_id": "web-123",
        "text": "  Hello\n\nsecond paragraph  ",
        "buttons": [
            {"title": "Parent or carer", "payload": "/i_am_carer"},
            {"title": "", "payload": "/x"},
            {"title": "no payload"},
            {"title": 3, "payload": "/y"},
            "not a button",
        ],
        "custom": {"links": [
            {"title": "Help", "url": "https://example.org/help"},
            {"title": "Bad", "url": "javascript:alert(1)"},
            {"url": "tel:116 111"},
            "nope",
        ]},
        "image": "https://example.org/x.png",
    }
    assert normalise_message(message) == {
        "text": "Hello\n\nsecond paragraph",
        "buttons": [{"title": "Parent or carer", "payload": "/i_am_carer"}],
        "links": [{"title": "Help", "url": "https://example.org/help"},
                  {"title": "tel:116111", "url": "tel:116111"}],
    }


def test_quick_replies_become_buttons_and_empty_messages_vanish():
    shaped = normalise_message({"text": "Pick", "quick_replies": [{"title": "A", "payload": "/a"}]})
    assert shaped["buttons"] == [{"title": "A", "payload": "/a"}]
    assert normalise_message({"text": "   "}) is None
    assert normalise_message({"custom": {"something": "else"}}) is None
    assert normalise_message({"text": None, "buttons": None, "custom": None}) is None


def test_output_channel_joins_links_sent_on_their_own():
    out = WebOutputChannel()

    async def scenario():
        await out.send_response("u", {"text": "Call one of these:"})
        await out.send_response("u", {"custom": {"links": [{"title": "Line", "url": "tel:116111"}]}})
        await out.send_response("u", {"text": "Anything else?", "buttons": [{"title": "Menu", "payload": "/ask_menu"}]})
        await out.send_text_message("u", "Plain\n\nparagraphs stay together")
        await out.send_image_url("u", "https://example.org/x.png")

    asyncio.run(scenario())
    assert out.name() == "web"
    assert out.messages == [
        {"text": "Call one of these:", "buttons": [], "links": [{"title": "Line", "url": "tel:116111"}]},
        {"text": "Anything else?", "buttons": [{"title": "Menu", "payload": "/ask_menu"}], "links": []},
        {"text": "Plain\n\nparagraphs stay together", "buttons": [], "links": []},
    ]


@pytest.mark.parametrize("origin, expected", [
    ("https://Example.org", "https://example.org"),
    ("https://example.org:443/", "https://example.org"),
    ("http://example.org:80", "http://example.org"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("https://[::1]:8443", "https://[::1]:8443"),
    ("null", None),
    ("file:///etc/passwd", None),
    ("example.org", None),
    ("https://example.org:99999", None),
])
def test_normalise_origin(origin, expected):
    assert normalise_origin(origin) == expected


@pytest.mark.parametrize("code, expected", [
    ("it", "it"), ("it-IT", "it"), ("EL_gr", "el"), ("de", None), ("", None), (None, None), (7, None),
    ("x" * 100, None),
])
def test_normalise_language(code, expected):
    assert normalise_language(code) == expected


def test_settings_from_environment(monkeypatch, caplog):
    monkeypatch.setenv("BEACON_WEB_SECRET", "s" * 40)
    monkeypatch.setenv("BEACON_WEB_ALLOWED_ORIGINS", " https://www.Example.org , http://localhost:3000,not an origin, ")
    monkeypatch.setenv("BEACON_WEB_RATE_PER_MINUTE", "6")
    monkeypatch.setenv("BEACON_WEB_BURST", "three")
    monkeypatch.setenv("BEACON_WEB_IP_BURST", "-5")
    monkeypatch.setenv("BEACON_WEB_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("BEACON_WEB_TOKEN_TTL", "0")
    settings = WebSettings.from_env()
    assert settings.allowed_origins == ("https://www.example.org", "http://localhost:3000")
    assert not settings.allow_any_origin
    assert settings.session_rate_per_minute == 6
    assert settings.session_burst == 10       # not a number: default, with a warning
    assert settings.ip_burst == 60            # below the minimum: default, with a warning
    assert settings.max_body_bytes == 4096
    assert settings.token_ttl_seconds == 0
    assert settings.secret == b"s" * 40
    assert "BEACON_WEB_BURST" in caplog.text and "not an origin" in caplog.text
    assert "s" * 40 not in repr(settings)     # the key never appears in logs


def test_star_allows_any_origin(monkeypatch):
    monkeypatch.setenv("BEACON_WEB_SECRET", "s" * 40)
    monkeypatch.setenv("BEACON_WEB_ALLOWED_ORIGINS", "*")
    assert WebSettings.from_env().allow_any_origin
