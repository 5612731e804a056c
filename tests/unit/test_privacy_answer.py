"""'Is this private? / delete my chat': what Beacon keeps, that it tells no one, and how to erase it now.

Safety rule 6 (shared/facts/safety-rules.md): be honest about confidentiality, say what the bot keeps and
that it cannot contact anyone.
"""

import pytest

from actions.content import SUPPORTED_LANGUAGES, store
from actions.session import ActionDeleteConversation, retention_days
from channels.retention import retention_seconds
from tests.helpers import run, tracker


@pytest.mark.parametrize("audience", ["teen", "carer"])
@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_says_what_is_kept_for_how_long_then_how_to_erase_it_on_this_channel(language, audience, monkeypatch):
    monkeypatch.setenv("BEACON_RETENTION_DAYS", "14")
    channel = "telegram" if audience == "teen" else "web"
    messages, _ = run(ActionDeleteConversation(), tracker("is this private?", "delete_conversation",
                                                          slots={"language": language, "audience": audience},
                                                          metadata={"channel": channel}))
    assert [m["text"] for m in messages] == [store().text(f"privacy.kept.{audience}", language, days="14"),
                                             store().text(f"delete.how.{channel}", language)]
    assert "14" in messages[0]["text"]


def test_the_days_told_are_the_days_the_purge_uses(monkeypatch):
    for configured, told in (("30", "30"), ("7.5", "7.5"), ("1", "1")):
        monkeypatch.setenv("BEACON_RETENTION_DAYS", configured)
        assert retention_days() == told
        assert float(told) * 86400 == retention_seconds()
    monkeypatch.delenv("BEACON_RETENTION_DAYS")
    assert float(retention_days()) * 86400 == retention_seconds()  # the same default on both sides


def test_unknown_channel_gets_the_general_erase_note():
    messages, _ = run(ActionDeleteConversation(), tracker("do you save my messages", "delete_conversation"))
    assert messages[-1]["text"] == store().text("delete.how.other", "en")
