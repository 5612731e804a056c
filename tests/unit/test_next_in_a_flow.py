""""Next" / "tell me more" typed in a quiz or checkup continues that flow, not the warning-signs lesson.

"next", "verder", "toliau", "avanti"... are training examples of ``tell_me_more``, whose action pages through
the lesson. Typed under a quiz question or a checkup step they mean the quiz or the checkup.
"""

import pytest

from actions.checkup import ActionCheckup
from actions.content import store
from actions.quiz import ActionQuizStart
from actions.signs import ActionTellMeMore, ActionWarningSigns
from tests.helpers import run, shown_then_typed, slot_events, slots_after, tracker


def quiz_open(audience="teen"):
    """Slots and last bot message of a quiz waiting for its first answer."""
    slots = {"audience": audience, "language": "en"}
    messages, events = run(ActionQuizStart(), tracker("/start_quiz", "start_quiz", slots=slots))
    return slots_after(slots, events), messages[-1]


def checkup_open():
    """Slots and last bot message of an Instagram checkup waiting on its first step."""
    slots = {"audience": "teen", "language": "en"}
    messages, events = run(ActionCheckup(), tracker('/privacy_checkup{"platform":"instagram"}', "privacy_checkup",
                                                    slots=slots, entities=[{"entity": "platform", "value": "instagram"}]))
    return slots_after(slots, events), messages[-1]


@pytest.mark.parametrize("audience", ["teen", "carer"])
def test_next_under_a_quiz_question_asks_that_question_again(audience):
    slots, question = quiz_open(audience)
    messages, events = run(ActionTellMeMore(), tracker("next", "tell_me_more", slots=slots,
                                                       events=shown_then_typed(question, "next")))
    assert messages[-1]["text"] == question["text"]
    assert messages[-1]["buttons"] == question["buttons"]
    assert "signs_page" not in slot_events(events), "the lesson was not opened"
    assert slots_after(slots, events)["quiz_index"] == slots["quiz_index"]


def test_next_under_a_checkup_step_shows_that_step_again():
    slots, step = checkup_open()
    messages, events = run(ActionTellMeMore(), tracker("toliau", "tell_me_more", slots=slots,
                                                       events=shown_then_typed(step, "toliau")))
    assert [b["payload"] for b in messages[-1]["buttons"]] == [b["payload"] for b in step["buttons"]]
    assert "signs_page" not in slot_events(events)
    assert slots_after(slots, events)["checkup_step"] == slots["checkup_step"]


def test_next_under_a_lesson_page_turns_the_page_even_with_a_quiz_open():
    """Someone who opened the lesson during a quiz and reads it: "next" is the lesson's next page."""
    slots, _ = quiz_open()
    messages, events = run(ActionWarningSigns(), tracker("/ask_warning_signs", "ask_warning_signs", slots=slots))
    slots = slots_after(slots, events)
    assert slots["signs_page"] == 1.0
    messages, events = run(ActionTellMeMore(), tracker("next", "tell_me_more", slots=slots,
                                                       events=shown_then_typed(messages[-1], "next")))
    assert slot_events(events)["signs_page"] == 2.0
    assert messages[-1]["text"] == store().text("signs.teen.2", "en")


def test_without_a_flow_next_is_the_lesson_as_before():
    messages, events = run(ActionTellMeMore(), tracker("next", "tell_me_more", slots={"audience": "teen"}))
    assert slot_events(events)["signs_page"] == 1.0


def test_after_the_quiz_was_stopped_more_is_the_lesson_not_the_quiz():
    """"Stop the quiz" (/ask_menu) keeps the quiz resumable, but "more" typed under the menu or a helpline
    list is not an answer to a question the user no longer sees."""
    slots, _ = quiz_open()
    menu = {"text": store().text("menu.main.teen", "en"), "buttons": store().buttons("menu.main.teen", "en")}
    messages, events = run(ActionTellMeMore(), tracker("more", "tell_me_more", slots=slots,
                                                       events=shown_then_typed(menu, "more")))
    assert slot_events(events)["signs_page"] == 1.0
    assert "quiz_index" not in slot_events(events)
