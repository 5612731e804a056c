"""The "Red flag or not?" quiz: short situations, an answer, kind feedback at once, a score at the end.

Content lives in ``content/<lang>/quiz.yml``. A scenario is a key ``quiz.<audience>.<id>`` with the fields
``text`` (the situation), ``answer`` (``red_flag`` or ``ok``) and ``feedback`` (why); every other sentence
and button is a ``quiz.*`` message. The pool is read from the English file, so adding a scenario there
(and in the other languages) is all it takes.

All state lives in slots, so any action-server replica can continue a quiz, and a detour (menu, crisis,
helplines) leaves it intact:

``flow``        ``"quiz"`` while a quiz is open, ``None`` once the last answer is in
``quiz_order``  the scenario ids of this run with their audience prefix, e.g. ``["teen.secret", ...]``,
                so a quiz stays readable if the user's audience changes half-way
``quiz_index``  0-based position of the question being asked
``quiz_score``  right answers so far

Answers arrive as intents: ``affirm`` (red flag), ``deny`` (not a red flag), ``unsure``. An answer only
counts when the question is what the user last saw; otherwise (they went to the menu or the crisis reply
and typed "yes" there) the current question is asked again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional

from actions.base import AUDIENCES, BeaconAction, Turn
from actions.content import DEFAULT_LANGUAGE, store

FLOW = "quiz"
QUESTIONS_PER_RUN = 8
#: How many "not a red flag" situations a run draws (the rest are red flags), so every run teaches
#: judgement rather than "everything is dangerous".
OK_PER_RUN = (3, 4)
RED_FLAG = "red_flag"
OK = "ok"
ANSWER_VALUES = (RED_FLAG, OK)
#: Intent → the user's answer.
ANSWERS = {"affirm": RED_FLAG, "deny": OK, "unsure": "unsure"}
#: ``/start_quiz{"answer":"restart"}`` ("Start again") skips the "carry on or start again?" offer.
RESTART = "restart"
#: The payload of the "Red flag" button: a bot message carrying it is a quiz question (flow interface).
ON_SCREEN_PAYLOAD = "/affirm"

_rng = random.Random()


# --- the scenario pool ---------------------------------------------------------------------------


def scenario_key(scenario_id: str) -> str:
    """``teen.secret`` → ``quiz.teen.secret``."""
    return f"quiz.{scenario_id}"


def scenario_ids(audience: str, language: str = DEFAULT_LANGUAGE) -> List[str]:
    """Ids (``<audience>.<name>``) of every scenario for ``audience`` defined in ``language``."""
    prefix = f"quiz.{audience}."
    found = []
    for key in store().keys(language):
        if key.startswith(prefix) and key.count(".") == 2 and "answer" in store().raw(key, language):
            found.append(key[len("quiz."):])
    return sorted(found)


def scenario(scenario_id: str, language: str) -> Mapping[str, Any]:
    """The scenario's entry (``text``, ``answer``, ``feedback``) in ``language``, English as fallback."""
    return store().raw(scenario_key(scenario_id), language)


def exists(scenario_id: str) -> bool:
    return store().has(scenario_key(scenario_id), DEFAULT_LANGUAGE)


def draw(audience: str, count: int = QUESTIONS_PER_RUN, rng: Optional[random.Random] = None) -> List[str]:
    """A shuffled run of ``count`` scenarios for ``audience``, with both kinds of answer in it."""
    rng = rng or _rng
    ids = scenario_ids(audience)
    by_answer = {value: [i for i in ids if scenario(i, DEFAULT_LANGUAGE).get("answer") == value]
                 for value in ANSWER_VALUES}
    count = min(count, len(ids))
    ok_count = min(rng.randint(*OK_PER_RUN), len(by_answer[OK]), count)
    red_count = min(count - ok_count, len(by_answer[RED_FLAG]))
    ok_count = min(count - red_count, len(by_answer[OK]))  # top up when red flags run short
    chosen = rng.sample(by_answer[OK], ok_count) + rng.sample(by_answer[RED_FLAG], red_count)
    rng.shuffle(chosen)
    return chosen


# --- state in slots ------------------------------------------------------------------------------


def _as_int(value: Any) -> int:
    try:
        return max(0, int(float(value)))
    except (TypeError, ValueError):
        return 0


@dataclass
class QuizState:
    """The quiz as stored in slots."""

    order: List[str]
    index: int = 0
    score: int = 0

    @classmethod
    def of(cls, turn: Turn) -> "QuizState":
        raw = turn.slot("quiz_order")
        order = [str(i) for i in raw if isinstance(i, str) and i] if isinstance(raw, list | tuple) else []
        return cls(order, _as_int(turn.slot("quiz_index")), _as_int(turn.slot("quiz_score")))

    @property
    def total(self) -> int:
        return len(self.order)

    @property
    def in_progress(self) -> bool:
        """Questions left to ask."""
        return self.index < self.total

    @property
    def audience(self) -> Optional[str]:
        """The audience of this run, from the prefix of its scenario ids."""
        prefix = self.order[0].split(".", 1)[0] if self.order else None
        return prefix if prefix in AUDIENCES else None

    @property
    def current(self) -> str:
        return self.order[self.index]

    def skip_missing(self) -> None:
        """Step over scenarios that no longer exist (content changed since the run started)."""
        while self.in_progress and not exists(self.current):
            self.index += 1

    def save(self, turn: Turn) -> None:
        turn.set("quiz_order", list(self.order))
        turn.set("quiz_index", float(self.index))
        turn.set("quiz_score", float(self.score))


# --- saying things -------------------------------------------------------------------------------


def _variant(turn: Turn, base: str, seed: int) -> str:
    """Text of one of ``base.1``, ``base.2``, ... (picked by ``seed``), so reactions don't repeat."""
    count = 0
    while store().has(f"{base}.{count + 1}", DEFAULT_LANGUAGE):
        count += 1
    return turn.text_of(f"{base}.{seed % max(count, 1) + 1}")


def ask(turn: Turn, state: QuizState) -> None:
    """The current question with the answer buttons."""
    text = store().text(scenario_key(state.current), turn.language)
    turn.say("quiz.question", n=state.index + 1, total=state.total, scenario=text)


def feedback(turn: Turn, state: QuizState, choice: str) -> bool:
    """Right / not quite / not sure, the right answer and why; True when the answer was right."""
    entry = scenario(state.current, turn.language)
    expected = str(entry.get("answer"))
    right = choice == expected
    outcome = "right" if right else "unsure" if choice == "unsure" else "wrong"
    turn.say(
        "quiz.feedback",
        reaction=_variant(turn, f"quiz.reaction.{outcome}", state.index),
        verdict=turn.text_of(f"quiz.verdict.{expected}"),
        why=str(entry.get("feedback") or "").strip(),
    )
    return right


def tier(score: int, total: int) -> str:
    """``high`` / ``mid`` / ``low``: which kind closing line fits the score."""
    ratio = score / total if total else 0.0
    return "high" if ratio >= 0.75 else "mid" if ratio >= 0.5 else "low"


def finish(turn: Turn, state: QuizState) -> None:
    """The score, a kind closing line and next steps; the flow is closed.

    The closing lines follow the audience of the run (its scenario ids), not a later change.
    """
    audience = state.audience or turn.audience
    turn.say(f"quiz.end.{tier(state.score, state.total)}.{audience}", score=state.score, total=state.total)
    turn.say(f"quiz.next.{audience}")
    turn.set("flow", None)


def start(turn: Turn) -> None:
    """A fresh run for the user's audience: intro, then question 1."""
    audience = turn.audience
    state = QuizState(draw(audience))
    if not state.order:
        turn.say("quiz.unavailable")
        return
    turn.set("flow", FLOW)
    state.save(turn)
    turn.say(f"quiz.intro.{audience}", total=state.total)
    ask(turn, state)


def _question_on_screen(turn: Turn) -> bool:
    """Was the bot's last message before this answer a quiz question?

    A "yes" typed after the menu or a crisis reply is not an answer to a question the user no longer
    sees. With no bot message in the tracker (e.g. a trimmed history) the answer is trusted.
    """
    on_screen = turn.buttons_on_screen()
    return on_screen is None or ON_SCREEN_PAYLOAD in on_screen


# --- the flow interface used by actions/flow.py ---------------------------------------------------


def answer(turn: Turn) -> None:
    """Red flag / not a red flag / not sure: feedback, then the next question or the score."""
    state = QuizState.of(turn)
    state.skip_missing()
    if not state.in_progress:
        turn.set("flow", None)
        turn.say("quiz.not_open")
        return
    choice = ANSWERS.get(turn.intent)
    if choice is None or not _question_on_screen(turn):
        resume(turn)
        return
    if feedback(turn, state, choice):
        state.score += 1
    state.index += 1
    state.skip_missing()
    state.save(turn)
    if state.in_progress:
        ask(turn, state)
    else:
        finish(turn, state)


def resume(turn: Turn) -> None:
    """Ask the current question again ("let's pick up where we were: question 4 of 8")."""
    state = QuizState.of(turn)
    state.skip_missing()
    if not state.in_progress:
        turn.set("flow", None)
        turn.say("quiz.not_open")
        return
    turn.set("flow", FLOW)
    if state.index != _as_int(turn.slot("quiz_index")):
        state.save(turn)
    turn.say("quiz.resume", n=state.index + 1, total=state.total)
    ask(turn, state)


class ActionQuizStart(BeaconAction):
    """Start the quiz; with one half-way through, offer to carry on or start again."""

    def name(self) -> str:
        return "action_quiz_start"

    def respond(self, turn: Turn) -> None:
        state = QuizState.of(turn)
        restart = turn.entity("answer") == RESTART
        if not restart and 0 < state.index < state.total and state.audience == turn.audience:
            # Keep the run as it is; "Carry on" (/continue_flow) resumes it, "Start again" restarts.
            turn.set("flow", FLOW)
            turn.say("quiz.open", n=state.index + 1, total=state.total)
            return
        start(turn)
