"""The held-out scoring in tools.nlu_eval: macro-F1 and its bootstrap interval (no model needed)."""

from __future__ import annotations

import logging

from tools.nlu_eval import as_answered, bootstrap_interval, macro_f1, score


def test_macro_f1_perfect_and_fallback_costs():
    gold = ["greet", "greet", "crisis", "crisis"]
    assert macro_f1(gold, gold) == 1.0
    # A fallback is never right: greet recall 1/2 (F1 2/3), crisis perfect.
    assert abs(macro_f1(gold, ["greet", "nlu_fallback", "crisis", "crisis"]) - (2 / 3 + 1) / 2) < 1e-9


def test_macro_f1_matches_the_per_intent_score():
    gold = ["a", "a", "b", "b", "c", "c", "c"]
    predicted = ["a", "b", "b", "b", "c", "a", "nlu_fallback"]
    result = score("xx", [(str(i), g) for i, g in enumerate(gold)], predicted)
    assert abs(result.macro_f1 - macro_f1(gold, predicted)) < 1e-9


def test_interval_is_a_point_when_everything_is_right_and_wide_with_errors():
    gold = [f"intent{i % 10}" for i in range(100)]
    assert bootstrap_interval(gold, gold) == (1.0, 1.0)
    predicted = list(gold)
    for i in range(0, 100, 12):  # 9 errors in 100
        predicted[i] = "nlu_fallback"
    low, high = bootstrap_interval(gold, predicted)
    point = macro_f1(gold, predicted)
    assert low < point < high <= 1.0
    assert high - low > 0.05  # 100 examples cannot pin a macro-F1 down to a hundredth


def test_interval_is_reproducible_and_lands_in_the_score():
    gold = ["a", "b", "c"] * 20
    predicted = ["a", "b", "a"] * 20
    assert bootstrap_interval(gold, predicted) == bootstrap_interval(gold, predicted)
    result = score("xx", [(str(i), g) for i, g in enumerate(gold)], predicted)
    assert result.interval == bootstrap_interval(gold, predicted)


def test_only_a_sextortion_question_escalated_to_the_sextortion_reply_counts_as_answered():
    assert as_answered("ask_sextortion", "crisis", "sextortion") == "ask_sextortion"
    assert as_answered("ask_sextortion", "crisis", "abuse") == "crisis"  # a different reply
    assert as_answered("ask_signs_in_child", "crisis", "sextortion") == "crisis"
    assert as_answered("ask_sextortion", "out_of_scope", None) == "out_of_scope"
    assert as_answered("greet", "greet", None) == "greet"


def test_quiet_parse_log_drops_rasa_debug_lines_and_restores_the_config(capsys) -> None:
    """Held-out sentences reach Rasa's debug log; the evaluation must keep them off the screen."""
    import structlog

    from tools.nlu_eval import quiet_parse_log

    before = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with quiet_parse_log():
            structlog.get_logger().debug("processor.message.parse", parse_data_text="held-out sentence")
            structlog.get_logger().info("figures", macro_f1=0.95)
        shown = capsys.readouterr().out
        assert "held-out sentence" not in shown
        assert "figures" in shown
        structlog.get_logger().debug("after", text="visible again")
        assert "visible again" in capsys.readouterr().out
    finally:
        structlog.configure(**before)
