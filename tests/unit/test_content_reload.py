"""Content hot reload: an edited message or helpline reaches users without a restart or a retrain,
and a broken edit never takes the bot down (the last good content stays in use)."""

import shutil
from pathlib import Path

import pytest
import yaml

from actions import content
from actions.signposting import ActionHelplines
from tests.helpers import run, texts, tracker

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture()
def content_copy(tmp_path, monkeypatch):
    """A private copy of content/ that the action code reads, restored to the real one afterwards."""
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    monkeypatch.setattr(content, "CONTENT_DIR", root)
    monkeypatch.setattr(content, "RELOAD_SECONDS", 0.5)
    content.reload()
    yield root
    monkeypatch.undo()
    content.reload()


def _helplines_reply(country: str = "IT", language: str = "en") -> str:
    messages, _ = run(ActionHelplines(), tracker("who can I call", "ask_helpline",
                                                 slots={"country": country, "language": language,
                                                        "audience": "teen"}))
    return texts(messages)


def _edit_yaml(path: Path, change) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_changed_helpline_name_is_shown_after_the_reload_interval(content_copy):
    assert "Telefono Azzurro" in _helplines_reply()

    def rename(document):
        for service in document["services"]:
            if service["id"] == "it_telefono_azzurro":
                service["short_name"] = "Telefono Azzurro (edited)"
                service["name"] = "Telefono Azzurro (edited)"
    _edit_yaml(content_copy / "helplines" / "IT.yml", rename)

    assert content.refresh(now=10**9) is True
    assert "Telefono Azzurro (edited)" in _helplines_reply()


def test_a_changed_message_is_used_without_restart(content_copy):
    path = content_copy / "en" / "helplines.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    key = next(k for k in document["messages"] if "{" not in str(document["messages"][k]))
    before = content.store().text(key, "en")

    def change(doc):
        entry = doc["messages"][key]
        if isinstance(entry, str):
            doc["messages"][key] = entry + " EDITED"
        else:
            entry["text"] = str(entry["text"]) + " EDITED"
    _edit_yaml(path, change)
    assert content.refresh(now=10**9) is True
    assert content.store().text(key, "en") == f"{before} EDITED".strip()


def test_no_reread_when_nothing_changed_or_too_soon(content_copy):
    assert content.refresh(now=10**9) is False  # nothing changed since reload()
    (content_copy / "en" / "core.yml").touch()
    first = content.refresh(now=10**9 + 100)
    assert first is True
    (content_copy / "en" / "core.yml").write_text(
        (content_copy / "en" / "core.yml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert content.refresh(now=10**9 + 100.1) is False  # inside the interval: not even looked at


def test_a_broken_edit_keeps_the_last_good_content(content_copy, caplog):
    good = _helplines_reply()
    keys = sorted(content.store().keys("en"))
    helpline_file = content_copy / "helplines" / "IT.yml"
    saved = helpline_file.read_text(encoding="utf-8")
    helpline_file.write_text("services: [unclosed\n  - id: :\n", encoding="utf-8")
    assert content.refresh(now=10**9) is False
    assert "content not reloaded" in caplog.text
    assert _helplines_reply() == good
    assert sorted(content.store().keys("en")) == keys

    helpline_file.write_text(saved.replace("short_name: Telefono Azzurro", "short_name: Telefono Azzurro (fixed)"),
                             encoding="utf-8")
    assert content.refresh(now=10**9 + 100) is True  # the corrected file is picked up
    assert "Telefono Azzurro (fixed)" in _helplines_reply()


def test_hot_reload_can_be_switched_off(content_copy, monkeypatch):
    monkeypatch.setattr(content, "RELOAD_SECONDS", 0)
    (content_copy / "en" / "core.yml").touch()
    assert content.refresh(now=10**9) is False
