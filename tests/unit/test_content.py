"""The content engine: lookup by key, placeholders, English fallback, language parity."""

import logging

import pytest

from actions.content import SUPPORTED_LANGUAGES, ContentStore, placeholders, store


def test_render_fills_placeholders_and_keeps_buttons():
    message = store().render("crisis.danger.teen", "en", emergency="112")
    assert "112" in message.text and "{emergency}" not in message.text
    menu = store().render("menu.main.teen", "en")
    assert [b["payload"] for b in menu.buttons][:2] == ["/ask_warning_signs", "/privacy_checkup"]


def test_missing_key_falls_back_to_english_with_warning(tmp_path, caplog):
    (tmp_path / "en").mkdir()
    (tmp_path / "it").mkdir()
    (tmp_path / "en" / "a.yml").write_text("language: en\nmessages:\n  only.english: Hello\n  both: Hi\n")
    (tmp_path / "it" / "a.yml").write_text("language: it\nmessages:\n  both: Ciao\n")
    local = ContentStore(tmp_path)
    assert local.text("both", "it") == "Ciao"
    with caplog.at_level(logging.WARNING):
        assert local.text("only.english", "it") == "Hello"
    assert "missing in 'it'" in caplog.text


def test_unknown_key_raises(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.yml").write_text("language: en\nmessages: {}\n")
    with pytest.raises(KeyError):
        ContentStore(tmp_path).render("nope", "en")


def test_unknown_placeholder_stays_visible_instead_of_crashing():
    assert "{emergency}" in store().render("crisis.danger.teen", "en").text


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED_LANGUAGES if lang != "en"])
def test_every_language_has_every_english_key_with_same_placeholders(language):
    content = store()
    missing = [k for k in content.keys("en") if not content.has(k, language)]
    assert not missing, f"{language} lacks {len(missing)} keys, e.g. {missing[:5]}"
    for key in content.keys("en"):
        en = placeholders(str(content.raw(key, "en").get("text", "")))
        other = placeholders(str(content.raw(key, language).get("text", "")))
        assert en == other, f"{language}:{key} placeholders {other} != English {en}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_button_payloads_identical_across_languages(language):
    content = store()
    for key in content.keys("en"):
        en = [b["payload"] for b in content.buttons(key, "en")]
        assert [b["payload"] for b in content.buttons(key, language)] == en, f"{language}:{key}"
