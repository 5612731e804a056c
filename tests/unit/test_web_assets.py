"""The widget's strings (content/<lang>/widget.yml) and its committed static files."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from actions.content import SUPPORTED_LANGUAGES
from channels.web.channel import STATIC_DIR, safe_reply, widget_strings

ROOT = Path(__file__).resolve().parents[2]
WIDGET_JS = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
DEMO_HTML = (STATIC_DIR / "demo.html").read_text(encoding="utf-8")


def _widget_file(language: str) -> dict:
    return yaml.safe_load((ROOT / "content" / language / "widget.yml").read_text(encoding="utf-8"))


def _fallback() -> dict:
    """The widget's English last-resort strings, parsed from the JS source."""
    block = WIDGET_JS[WIDGET_JS.index("var FALLBACK = {"):]
    block = block[: block.index("};")]
    return {key: json.loads(value) for key, value in
            re.findall(r'^\s*"([a-z_.]+)": ("(?:[^"\\]|\\.)*")', block, re.MULTILINE)}


def _used_keys() -> set:
    return set(re.findall(r'\bt\("([a-z_.]+)"\)', WIDGET_JS)) | set(re.findall(r'"(error\.[a-z_]+)"', WIDGET_JS))


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_language_has_every_widget_string(language):
    english = _widget_file("en")["messages"]
    document = _widget_file(language)
    assert document["language"] == language
    assert set(document["messages"]) == set(english)
    for key, entry in document["messages"].items():
        assert key.startswith("widget.")
        text = entry["text"]
        assert text.strip(), key
        assert "{" not in text and "<" not in text, f"{language}:{key}: no placeholders or markup in widget strings"
        if language != "en":
            assert entry.get("review") == "native", f"{language}:{key} awaits native review"


def test_language_names_are_endonyms():
    names = {language: _widget_file(language)["messages"]["widget.language.name"]["text"]
             for language in SUPPORTED_LANGUAGES}
    assert names == {"en": "English", "it": "Italiano", "el": "Ελληνικά", "lt": "Lietuvių", "nl": "Nederlands",
                     "fr": "Français"}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_strings_endpoint_payload(language):
    payload = widget_strings(language)
    assert payload["lang"] == language
    assert [item["code"] for item in payload["languages"]] == list(SUPPORTED_LANGUAGES)
    assert _used_keys() <= set(payload["strings"]), "every key the widget uses comes from content"
    if language != "en":
        english = widget_strings("en")["strings"]
        assert payload["strings"]["send"] != english["send"]
    assert "history" in widget_strings("en")["strings"]["intro.history"]


def test_js_fallback_is_english_and_complete():
    english = {key[len("widget."):]: entry["text"] for key, entry in _widget_file("en")["messages"].items()}
    fallback = _fallback()
    assert _used_keys() <= set(fallback)
    assert set(fallback) <= set(english)
    for key, text in fallback.items():
        assert text == english[key], f"widget.js FALLBACK[{key!r}] differs from content/en/widget.yml"


def test_safe_reply_is_localised():
    assert "112" in safe_reply("it")["text"] and "Riprova" in safe_reply("it")["text"]
    assert safe_reply(None)["text"].startswith("Sorry")


@pytest.mark.parametrize("pattern", [
    r"\.innerHTML\b", r"\.outerHTML\b", r"insertAdjacentHTML", r"document\.write", r"\beval\(",
    r"new Function", r"localStorage\s*[.\[]", r"document\.cookie", r"setAttribute\(\"style\"", r"\bimport\(",
])
def test_widget_avoids_unsafe_apis(pattern):
    assert not re.search(pattern, WIDGET_JS), pattern


def test_widget_is_plain_source():
    assert "sourceMappingURL" not in WIDGET_JS
    assert WIDGET_JS.count("\n") > 300, "committed, readable source (no minified bundle)"
    assert "(function () {" in WIDGET_JS and '"use strict"' in WIDGET_JS


class _DemoParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list = []
        self.inline_handlers: list = []
        self.styles = 0
        self.lang = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "style" or "style" in attributes:
            self.styles += 1
        self.inline_handlers += [name for name in attributes if name.startswith("on")]


def test_demo_page_embeds_with_one_script_tag_and_nothing_inline():
    parser = _DemoParser()
    parser.feed(DEMO_HTML)
    assert parser.lang == "en"
    assert parser.scripts == [{"src": "/webhooks/web/widget.js", "data-lang": "en",
                               "data-exit-url": "https://www.bbc.co.uk/weather", "defer": None}]
    assert parser.styles == 0 and parser.inline_handlers == []
    assert "fictional" in DEMO_HTML
    assert not re.search(r"https?://(?!www\.bbc\.co\.uk/weather)", DEMO_HTML), "no invented web addresses"
    assert not re.search(r"\b\d+\s?%", DEMO_HTML), "no invented statistics"
    numbers = set(re.findall(r"\b\d{3,}\b", DEMO_HTML))
    assert numbers <= {"112", "999"}, f"only the real emergency numbers: {numbers}"
