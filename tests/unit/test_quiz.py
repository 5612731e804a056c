"""The "Red flag or not?" quiz: actions run with rasa-sdk's CollectingDispatcher on Trackers built from dicts,
plus checks of the quiz content in every language (parity, answers, lengths, placeholders)."""

from __future__ import annotations

import asyncio
import random
import re
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import quiz
from actions.content import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, placeholders, store
from actions.flow import ActionAnswer, ActionContinueFlow
from actions.quiz import ActionQuizStart
from tests.helpers import payloads, slots_after

ANSWER_PAYLOADS = ["/affirm", "/deny", "/unsure"]
AUDIENCES = ("teen", "carer")
MIN_SCENARIOS = 14

# --- helpers -------------------------------------------------------------------------------------


def make_tracker(intent: str, slots: Optional[Dict[str, Any]] = None, text: Optional[str] = None,
                 entities: Optional[List[Dict[str, Any]]] = None,
                 events: Optional[List[Dict[str, Any]]] = None) -> Tracker:
    """A Tracker from a dict, as Rasa's reference bots build them; the message is a button payload."""
    return Tracker.from_dict({
        "sender_id": "quiz-test",
        "slots": dict(slots or {}),
        "latest_message": {
            "text": text if text is not None else f"/{intent}",
            "intent": {"name": intent, "confidence": 1.0},
            "entities": entities or [],
            "metadata": {},
        },
        "events": events or [],
        "latest_action_name": "action_listen",
    })


def run(action, tracker: Tracker) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def all_text(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def text_of(key: str, language: str = "en", **values: Any) -> str:
    return store().text(key, language, **values)


def scenario_text(scenario_id: str, language: str = "en") -> str:
    return text_of(f"quiz.{scenario_id}", language)


def reactions(outcome: str, language: str = "en") -> List[str]:
    return [text_of(k, language) for k in store().keys(language) if k.startswith(f"quiz.reaction.{outcome}.")]


def ids_with(audience: str, answer: str) -> List[str]:
    return [i for i in quiz.scenario_ids(audience) if quiz.scenario(i, "en")["answer"] == answer]


def fixed_order(audience: str = "teen") -> List[str]:
    """8 scenarios: red flags at even positions, OK at odd ones."""
    red, ok = ids_with(audience, "red_flag"), ids_with(audience, "ok")
    return [red[0], ok[0], red[1], ok[1], red[2], ok[2], red[3], ok[3]]


def quiz_slots(order: List[str], index: int = 0, score: int = 0, **extra: Any) -> Dict[str, Any]:
    slots = {"flow": "quiz", "quiz_order": order, "quiz_index": float(index), "quiz_score": float(score),
             "audience": order[0].split(".")[0], "language": "en"}
    slots.update(extra)
    return slots


# --- starting ------------------------------------------------------------------------------------


def test_start_sets_slots_and_asks_question_one_with_answer_buttons():
    slots = {"audience": "teen", "language": "en"}
    messages, events = run(ActionQuizStart(), make_tracker("start_quiz", slots))
    after = slots_after(slots, events)
    assert after["flow"] == "quiz"
    assert after["quiz_index"] == 0.0 and after["quiz_score"] == 0.0
    order = after["quiz_order"]
    assert len(order) == quiz.QUESTIONS_PER_RUN == 8 and len(set(order)) == 8
    assert all(i.startswith("teen.") for i in order)
    intro, question = messages[0], messages[-1]
    assert intro["text"] == text_of("quiz.intro.teen", total=8)
    assert "stop" in intro["text"].lower()
    assert question["text"].startswith(text_of("quiz.question", n=1, total=8, scenario="").split("\n")[0])
    assert scenario_text(order[0]) in question["text"]
    assert payloads(question)[:3] == ANSWER_PAYLOADS
    assert "/ask_menu" in payloads(question)


def test_carer_gets_carer_scenarios_and_intro():
    slots = {"audience": "carer", "language": "en"}
    messages, events = run(ActionQuizStart(), make_tracker("start_quiz", slots))
    order = slots_after(slots, events)["quiz_order"]
    assert all(i.startswith("carer.") for i in order)
    assert messages[0]["text"] == text_of("quiz.intro.carer", total=8)
    assert "normal" in messages[0]["text"]  # signs can look like normal adolescence


@pytest.mark.parametrize("audience", AUDIENCES)
def test_every_run_mixes_red_flags_and_ok_situations(audience):
    for seed in range(40):
        order = quiz.draw(audience, rng=random.Random(seed))
        answers = [quiz.scenario(i, "en")["answer"] for i in order]
        assert len(order) == 8 and len(set(order)) == 8
        assert 3 <= answers.count("ok") <= 4
    orders = {tuple(quiz.draw(audience, rng=random.Random(seed))) for seed in range(10)}
    assert len(orders) > 1  # shuffled per run


# --- answering -----------------------------------------------------------------------------------


def test_right_answer_scores_gives_feedback_and_asks_the_next_question():
    order = fixed_order()
    slots = quiz_slots(order)
    messages, events = run(ActionAnswer(), make_tracker("affirm", slots))  # order[0] is a red flag
    after = slots_after(slots, events)
    assert after["quiz_score"] == 1.0 and after["quiz_index"] == 1.0 and after["flow"] == "quiz"
    feedback = messages[0]["text"]
    assert any(feedback.startswith(r) for r in reactions("right"))
    assert text_of("quiz.verdict.red_flag") in feedback
    assert quiz.scenario(order[0], "en")["feedback"].strip() in feedback
    assert "Question 2 of 8" in messages[1]["text"] and scenario_text(order[1]) in messages[1]["text"]
    assert payloads(messages[1])[:3] == ANSWER_PAYLOADS


def test_wrong_answer_keeps_the_score_and_explains_kindly():
    order = fixed_order()
    slots = quiz_slots(order, index=1, score=1)
    messages, events = run(ActionAnswer(), make_tracker("affirm", slots))  # order[1] is OK
    after = slots_after(slots, events)
    assert after["quiz_score"] == 1.0 and after["quiz_index"] == 2.0
    feedback = messages[0]["text"]
    assert any(feedback.startswith(r) for r in reactions("wrong"))
    assert text_of("quiz.verdict.ok") in feedback
    assert quiz.scenario(order[1], "en")["feedback"].strip() in feedback
    assert "Question 3 of 8" in messages[1]["text"]


def test_not_sure_is_not_scored_but_gets_the_explanation():
    order = fixed_order()
    slots = quiz_slots(order, index=2, score=2)
    messages, events = run(ActionAnswer(), make_tracker("unsure", slots))
    after = slots_after(slots, events)
    assert after["quiz_score"] == 2.0 and after["quiz_index"] == 3.0
    assert any(messages[0]["text"].startswith(r) for r in reactions("unsure"))
    assert text_of("quiz.verdict.red_flag") in messages[0]["text"]


def test_free_text_answer_arrives_as_the_same_intent():
    order = fixed_order()
    slots = quiz_slots(order)
    _, events = run(ActionAnswer(), make_tracker("deny", slots, text="no I don't think so"))
    assert slots_after(slots, events)["quiz_score"] == 0.0  # order[0] is a red flag


def test_last_answer_gives_the_score_and_closes_the_flow():
    order = fixed_order()
    slots = quiz_slots(order, index=7, score=6)
    messages, events = run(ActionAnswer(), make_tracker("deny", slots))  # order[7] is OK: right
    after = slots_after(slots, events)
    assert after["flow"] is None
    assert after["quiz_score"] == 7.0 and after["quiz_index"] == 8.0
    reply = all_text(messages)
    assert "You spotted 7 of 8" in reply
    assert text_of("quiz.end.high.teen", score=7, total=8) in reply
    assert {"/privacy_checkup", "/ask_helpline", "/ask_menu"} <= set(payloads(messages[-1]))
    assert not any("/affirm" in payloads(m) for m in messages)


@pytest.mark.parametrize("score,expected", [(8, "high"), (6, "high"), (5, "mid"), (4, "mid"), (3, "low"), (0, "low")])
def test_closing_line_fits_the_score(score, expected):
    assert quiz.tier(score, 8) == expected


def test_carer_end_uses_carer_closing_and_next_steps():
    order = fixed_order("carer")
    slots = quiz_slots(order, index=7, score=1)
    messages, events = run(ActionAnswer(), make_tracker("affirm", slots))  # wrong
    reply = all_text(messages)
    assert text_of("quiz.end.low.carer", score=1, total=8) in reply
    assert "/ask_talk_to_child" in payloads(messages[-1])


# --- state only in slots, quit and resume --------------------------------------------------------


def test_order_stored_in_slots_is_respected():
    order = list(reversed(fixed_order()))
    slots = quiz_slots(order, index=4, score=3)
    messages, _ = run(ActionAnswer(), make_tracker("unsure", slots))
    assert quiz.scenario(order[4], "en")["feedback"].strip() in messages[0]["text"]
    assert "Question 6 of 8" in messages[1]["text"]
    assert scenario_text(order[5]) in messages[1]["text"]


def test_resume_re_asks_the_current_question():
    order = fixed_order()
    slots = quiz_slots(order, index=3, score=2)
    messages, events = run(ActionContinueFlow(), make_tracker("continue_flow", slots))
    assert messages[0]["text"] == "Let's pick up where we were: question 4 of 8."
    assert scenario_text(order[3]) in messages[1]["text"]
    assert payloads(messages[1])[:3] == ANSWER_PAYLOADS
    after = slots_after(slots, events)
    assert after["quiz_index"] == 3.0 and after["quiz_score"] == 2.0 and after["flow"] == "quiz"


def test_resume_works_after_the_audience_changed():
    order = fixed_order("teen")
    slots = quiz_slots(order, index=2, audience="carer")
    messages, _ = run(ActionContinueFlow(), make_tracker("continue_flow", slots))
    assert scenario_text(order[2]) in messages[1]["text"]


def test_yes_typed_away_from_the_question_re_asks_instead_of_scoring():
    order = fixed_order()
    slots = quiz_slots(order, index=3, score=2)
    menu = {"event": "bot", "text": "What would you like to do?",
            "data": {"buttons": [{"title": "Warning signs", "payload": "/ask_warning_signs"}]}}
    events = [menu, {"event": "action", "name": "action_listen"}, {"event": "user", "text": "yes"}]
    messages, result = run(ActionAnswer(), make_tracker("affirm", slots, text="yes", events=events))
    assert slots_after(slots, result)["quiz_score"] == 2.0
    assert messages[0]["text"] == "Let's pick up where we were: question 4 of 8."


def test_answer_to_the_question_on_screen_counts():
    order = fixed_order()
    slots = quiz_slots(order, index=0)
    question = {"event": "bot", "text": "Question 1 of 8",
                "data": {"buttons": [{"title": "Red flag", "payload": "/affirm"}]}}
    events = [question, {"event": "action", "name": "action_listen"}, {"event": "user", "text": "/affirm"}]
    _, result = run(ActionAnswer(), make_tracker("affirm", slots, events=events))
    assert slots_after(slots, result)["quiz_score"] == 1.0


def test_starting_again_with_a_quiz_open_offers_to_continue_or_start_over():
    order = fixed_order()
    slots = quiz_slots(order, index=3, score=2)
    messages, events = run(ActionQuizStart(), make_tracker("start_quiz", slots))
    assert len(messages) == 1
    assert "4 of 8" in messages[0]["text"]
    assert payloads(messages[0]) == ["/continue_flow", '/start_quiz{"answer":"restart"}']
    after = slots_after(slots, events)
    assert after["quiz_order"] == order and after["quiz_index"] == 3.0  # nothing lost


def test_start_over_draws_a_new_run():
    slots = quiz_slots(fixed_order(), index=3, score=2)
    entities = [{"entity": "answer", "value": "restart"}]
    messages, events = run(ActionQuizStart(), make_tracker("start_quiz", slots, entities=entities,
                                                           text='/start_quiz{"answer":"restart"}'))
    after = slots_after(slots, events)
    assert after["quiz_index"] == 0.0 and after["quiz_score"] == 0.0 and after["flow"] == "quiz"
    assert messages[0]["text"] == text_of("quiz.intro.teen", total=8)


def test_open_quiz_of_the_other_audience_is_replaced_by_a_fresh_one():
    slots = quiz_slots(fixed_order("teen"), index=3, audience="carer")
    messages, events = run(ActionQuizStart(), make_tracker("start_quiz", slots))
    assert all(i.startswith("carer.") for i in slots_after(slots, events)["quiz_order"])


def test_finished_quiz_starts_fresh_without_an_offer():
    slots = quiz_slots(fixed_order(), index=8, score=5, flow=None)
    messages, events = run(ActionQuizStart(), make_tracker("start_quiz", slots))
    assert slots_after(slots, events)["quiz_index"] == 0.0
    assert messages[0]["text"] == text_of("quiz.intro.teen", total=8)


def test_scenario_removed_from_content_is_skipped():
    order = fixed_order()
    order[1] = "teen.no_longer_exists"
    slots = quiz_slots(order, index=0)
    messages, events = run(ActionAnswer(), make_tracker("affirm", slots))
    assert slots_after(slots, events)["quiz_index"] == 2.0
    assert "Question 3 of 8" in messages[1]["text"]


def test_answer_with_no_quiz_state_offers_to_start():
    slots = {"flow": "quiz", "language": "en"}
    messages, events = run(ActionAnswer(), make_tracker("affirm", slots))
    assert slots_after(slots, events)["flow"] is None
    assert "/start_quiz" in payloads(messages[0])


# --- languages -----------------------------------------------------------------------------------


def test_italian_run_gives_italian_text():
    slots = {"audience": "teen", "language": "it"}
    messages, events = run(ActionQuizStart(), make_tracker("start_quiz", slots))
    order = slots_after(slots, events)["quiz_order"]
    assert messages[0]["text"] == text_of("quiz.intro.teen", "it", total=8)
    assert messages[0]["text"] != text_of("quiz.intro.teen", "en", total=8)
    assert scenario_text(order[0], "it") in messages[1]["text"]
    assert "Domanda 1 di 8" in messages[1]["text"]
    titles = [b["title"] for b in messages[1]["buttons"]]
    assert titles != [b["title"] for b in store().buttons("quiz.question", "en")]

    slots = quiz_slots(fixed_order(), language="it")
    messages, _ = run(ActionAnswer(), make_tracker("affirm", slots))
    assert any(messages[0]["text"].startswith(r) for r in reactions("right", "it"))
    assert quiz.scenario(fixed_order()[0], "it")["feedback"].strip() in messages[0]["text"]


def quiz_keys(language: str) -> List[str]:
    return sorted(k for k in store().keys(language) if k.startswith("quiz."))


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_language_has_the_same_quiz_keys_and_scenarios(language):
    assert quiz_keys(language) == quiz_keys(DEFAULT_LANGUAGE)
    for audience in AUDIENCES:
        ids = quiz.scenario_ids(audience, language)
        assert ids == quiz.scenario_ids(audience, DEFAULT_LANGUAGE)
        assert len(ids) >= MIN_SCENARIOS
        assert len(ids_with(audience, "ok")) >= 4 and len(ids_with(audience, "red_flag")) >= 4


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_scenario_is_complete_and_short(language):
    for audience in AUDIENCES:
        for scenario_id in quiz.scenario_ids(audience, language):
            entry = store().raw(f"quiz.{scenario_id}", language)
            assert entry["answer"] in ("red_flag", "ok"), scenario_id
            assert entry["answer"] == quiz.scenario(scenario_id, "en")["answer"], scenario_id
            assert 0 < len(entry["text"].strip()) <= 300, scenario_id
            assert 0 < len(str(entry["feedback"]).strip()) <= 400, scenario_id


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_messages_match_english_placeholders_buttons_and_length(language):
    for key in quiz_keys(DEFAULT_LANGUAGE):
        english, local = store().raw(key, "en"), store().raw(key, language)
        assert placeholders(str(local.get("text", ""))) == placeholders(str(english.get("text", ""))), key
        assert [b["payload"] for b in local.get("buttons") or []] == \
               [b["payload"] for b in english.get("buttons") or []], key
        assert len(str(local.get("text", ""))) <= 500, key
        if language != DEFAULT_LANGUAGE:
            assert local.get("review") == "native", key


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_longest_feedback_message_stays_under_500_characters(language):
    longest_reaction = max((text_of(k, language) for k in store().keys(language) if k.startswith("quiz.reaction.")),
                           key=len)
    for audience in AUDIENCES:
        for scenario_id in quiz.scenario_ids(audience, language):
            entry = quiz.scenario(scenario_id, language)
            message = text_of("quiz.feedback", language, reaction=longest_reaction,
                              verdict=text_of(f"quiz.verdict.{entry['answer']}", language),
                              why=str(entry["feedback"]).strip())
            assert len(message) <= 500, scenario_id
            question = text_of("quiz.question", language, n=8, total=8, scenario=entry["text"])
            assert len(question) <= 500, scenario_id


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_no_phone_numbers_in_quiz_content(language):
    for key in quiz_keys(language):
        entry = store().raw(key, language)
        for field in ("text", "feedback"):
            assert not re.search(r"\d{3,}|\d[\d ]{4,}\d", str(entry.get(field, ""))), key


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_a_whole_run_in_every_language(language):
    """Start, answer all 8 (feeding the slots back each turn), end with the score; never an English fallback."""
    slots: Dict[str, Any] = {"audience": "carer", "language": language}
    messages, events = run(ActionQuizStart(), make_tracker("start_quiz", slots))
    slots = slots_after(slots, events)
    for _ in range(8):
        messages, events = run(ActionAnswer(), make_tracker("affirm", slots))
        slots = slots_after(slots, events)
    assert slots["flow"] is None
    score = int(slots["quiz_score"])
    assert text_of(f"quiz.end.{quiz.tier(score, 8)}.carer", language, score=score, total=8) in all_text(messages)
