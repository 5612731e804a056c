"""The deterministic safety net, measured alone on labelled messages in every language (issue #3).

In production the pattern layer (``components/safety_net.py`` + ``content/safety/<lang>.yml``) is combined
with the trained classifier, which may also predict ``crisis``. These tests measure the pattern layer on
its own: it must find every labelled crisis message by itself.

Two data sets per language, both in this folder:

* ``labelled_<lang>.yml`` -- the set the patterns were written against. Gate: recall 100 % on crisis
  messages, false alarms <= 5 % on tricky-but-benign messages, per language and overall.
* ``heldout_<lang>.yml`` -- written after the patterns and never used to tune them. Its figures are
  information about how the patterns generalise; the test only asserts a floor (recall >= 90 %).
  When a held-out miss is fixed with a new pattern, that message moves to ``labelled_<lang>.yml`` and a
  fresh message replaces it, so the held-out set stays unseen.

Run with ``-s`` to see the tables: ``.venv/bin/python -m pytest tests/safety -q -s``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
import yaml

from components.safety_net import ABOUT_SOMEONE_ELSE_CATEGORIES, CATEGORY_PRIORITY, SOMEONE_ELSE, SafetyMatch, SafetyPatterns, normalise

HERE = Path(__file__).resolve().parent
PATTERN_DIR = HERE.parent.parent / "content" / "safety"
LANGUAGES = ("en", "it", "el", "lt", "nl", "fr")

MIN_CRISIS, MIN_BENIGN = 25, 25
MAX_FALSE_ALARM = 0.05
# Pattern layer ALONE on unseen phrasings: a regression guard at the measured level (48 % overall on
# 2026-11-29), not a target. The production figure (classifier + patterns) is gated in
# test_safety_model.py. Raising recall on unseen text needs more real phrasings, reviewed by natives.
HELDOUT_RECALL_FLOOR = 0.45


MIN_ABOUT_SOMEONE_ELSE = 4  # labelled crisis items per language that tell about a friend's or sibling's danger


def _load(kind: str, language: str) -> Tuple[List[Dict[str, str]], List[str]]:
    document = yaml.safe_load((HERE / f"{kind}_{language}.yml").read_text(encoding="utf-8")) or {}
    crisis = [{"text": str(item["text"]), "category": str(item["category"]), "about": str(item.get("about") or "me")}
              for item in document.get("crisis") or []]
    benign = [str(item["text"] if isinstance(item, dict) else item) for item in document.get("benign") or []]
    return crisis, benign


@pytest.fixture(scope="module")
def patterns() -> SafetyPatterns:
    return SafetyPatterns(PATTERN_DIR)


@pytest.fixture(scope="module")
def labelled() -> Dict[str, Tuple[List[Dict[str, str]], List[str]]]:
    return {language: _load("labelled", language) for language in LANGUAGES}


@pytest.fixture(scope="module")
def heldout() -> Dict[str, Tuple[List[Dict[str, str]], List[str]]]:
    return {language: _load("heldout", language) for language in LANGUAGES}


def _evaluate(patterns: SafetyPatterns, data: Dict[str, Tuple[List[Dict[str, str]], List[str]]]):
    """Per-language rows (language, crisis n, recall, benign n, false-alarm rate) plus misses and false alarms."""
    rows, misses, alarms = [], [], []
    total_crisis = total_found = total_benign = total_alarms = 0
    for language, (crisis, benign) in data.items():
        found = 0
        for item in crisis:
            if patterns.match(item["text"]) is not None:
                found += 1
            else:
                misses.append(f"[{language}/{item['category']}] {item['text']}")
        fired = 0
        for text in benign:
            hit = patterns.match(text)
            if hit is not None:
                fired += 1
                alarms.append(f"[{language}] {text}  <- {hit.language}/{hit.category}: {hit.pattern}")
        rows.append((language, len(crisis), found / len(crisis), len(benign), fired / len(benign)))
        total_crisis, total_found = total_crisis + len(crisis), total_found + found
        total_benign, total_alarms = total_benign + len(benign), total_alarms + fired
    rows.append(("ALL", total_crisis, total_found / total_crisis, total_benign, total_alarms / total_benign))
    return rows, misses, alarms


def _table(title: str, rows, misses: List[str], alarms: List[str]) -> str:
    lines = [title, f"{'language':<9}{'crisis n':>9}{'recall':>9}{'benign n':>10}{'false alarms':>14}"]
    lines += [f"{lang:<9}{n_c:>9}{recall:>9.1%}{n_b:>10}{fa:>14.1%}" for lang, n_c, recall, n_b, fa in rows]
    if misses:
        lines += ["missed crisis messages:"] + [f"  {m}" for m in misses]
    if alarms:
        lines += ["false alarms:"] + [f"  {a}" for a in alarms]
    return "\n".join(lines)


# --- the pattern files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_pattern_file_is_complete_and_compiles(language: str) -> None:
    path = PATTERN_DIR / f"{language}.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document.get("language") == language, f"{path}: `language:` must be {language!r}"
    categories = document.get("categories") or {}
    assert set(categories) == set(CATEGORY_PRIORITY), f"{path}: needs exactly the categories {CATEGORY_PRIORITY}"
    assert isinstance(document.get("benign", []), list), f"{path}: `benign:` must be a list"
    about = document.get("about") or {}
    assert about.get(SOMEONE_ELSE) and about.get("me"), f"{path}: `about:` needs both `{SOMEONE_ELSE}:` and `me:` patterns"
    entries = [(c, p) for c in CATEGORY_PRIORITY for p in categories[c] or []] + [
        ("benign", p) for p in document.get("benign") or []
    ] + [(f"about/{side}", p) for side in (SOMEONE_ELSE, "me") for p in about[side]]
    for category in CATEGORY_PRIORITY:
        assert categories[category], f"{path}: category {category} has no patterns"
    for category, pattern in entries:
        assert isinstance(pattern, str) and pattern.strip(), f"{path}/{category}: empty pattern {pattern!r}"
        # The loader normalises patterns like messages (lower case, accents stripped). A pattern that
        # changes under normalisation is a trap: "\S" silently becomes "\s", "é" becomes "e".
        assert normalise(pattern) == pattern, (
            f"{path}/{category}: write this pattern in lower case, without accents or capital escapes "
            f"(\\S, \\W, \\B, \\D change meaning when lower-cased): {pattern!r}"
        )
        try:
            re.compile(pattern)
        except re.error as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{path}/{category}: pattern does not compile ({error}): {pattern!r}")
    plain = [p for _, p in entries]
    duplicates = {p for p in plain if plain.count(p) > 1}
    assert not duplicates, f"{path}: duplicate patterns {sorted(duplicates)}"


def test_patterns_load(patterns: SafetyPatterns) -> None:
    languages = {language for _, language, _ in patterns.rules}
    assert languages == set(LANGUAGES), f"pattern files loaded: {sorted(languages)}"


# --- the labelled sets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_labelled_set_is_well_formed(language: str, labelled, heldout) -> None:
    crisis, benign = labelled[language]
    assert len(crisis) >= MIN_CRISIS, f"labelled_{language}: {len(crisis)} crisis messages, need {MIN_CRISIS}"
    assert len(benign) >= MIN_BENIGN, f"labelled_{language}: {len(benign)} benign messages, need {MIN_BENIGN}"
    categories = {item["category"] for item in crisis}
    assert categories <= set(CATEGORY_PRIORITY), f"labelled_{language}: unknown categories {categories}"
    assert categories == set(CATEGORY_PRIORITY), f"labelled_{language}: missing {set(CATEGORY_PRIORITY) - categories}"
    texts = [normalise(item["text"]) for item in crisis] + [normalise(text) for text in benign]
    assert len(texts) == len(set(texts)), f"labelled_{language}: duplicate messages"
    held_crisis, held_benign = heldout[language]
    held = {normalise(item["text"]) for item in held_crisis} | {normalise(text) for text in held_benign}
    overlap = held & set(texts)
    assert not overlap, f"{language}: messages in both labelled and held-out sets: {overlap}"


def test_labelled_recall_and_false_alarms(patterns: SafetyPatterns, labelled) -> None:
    rows, misses, alarms = _evaluate(patterns, labelled)
    report = _table("Safety net on the LABELLED sets (gate: recall 100 %, false alarms <= 5 %)", rows, misses, alarms)
    print("\n" + report)
    failing = [row for row in rows if row[2] < 1.0 or row[4] > MAX_FALSE_ALARM]
    assert not failing, report


def _acceptable(labelled_category: str, hit: Optional[SafetyMatch]) -> bool:
    """The predicted category is the labelled one or a more urgent one; self-harm must be exactly self-harm.

    So sextortion may be answered as sextortion or self_harm, a meeting as meeting, sextortion or self_harm,
    and so on: the net never downgrades urgency, and never misses a self-harm message behind another reply.
    """
    if hit is None:
        return False
    if labelled_category == "self_harm":
        return hit.category == "self_harm"
    return CATEGORY_PRIORITY.index(hit.category) <= CATEGORY_PRIORITY.index(labelled_category)


def test_labelled_crisis_categories_are_sensible(patterns: SafetyPatterns, labelled) -> None:
    wrong = []
    for language, (crisis, _) in labelled.items():
        for item in crisis:
            hit = patterns.match(item["text"])
            if not _acceptable(item["category"], hit):
                got = f"{hit.language}/{hit.category}: {hit.pattern}" if hit else "nothing"
                wrong.append(f"[{language}] labelled {item['category']}, got {got}: {item['text']}")
    assert not wrong, "crisis messages answered with a less urgent or wrong category:\n" + "\n".join(wrong)


def test_whose_danger_matches_the_labels(patterns: SafetyPatterns, labelled) -> None:
    """Crisis items marked ``about: someone_else`` (a friend's or sibling's danger) are read as such; every other
    sextortion, meeting, abuse or danger item stays the writer's own, including those that name a friend
    ("he'll send it to my brother", "me and my friend are meeting him"), because getting it wrong that way
    would answer a teen at risk as a bystander."""
    wrong = []
    for language, (crisis, _) in labelled.items():
        told = [item for item in crisis if item["about"] == SOMEONE_ELSE]
        assert len(told) >= MIN_ABOUT_SOMEONE_ELSE, f"labelled_{language}: {len(told)} items about someone else"
        for item in crisis:
            if item["category"] not in ABOUT_SOMEONE_ELSE_CATEGORIES:
                continue
            read = SOMEONE_ELSE if patterns.about_someone_else(item["text"]) else "me"
            if read != item["about"]:
                wrong.append(f"[{language}] labelled about {item['about']}, read as {read}: {item['text']}")
    assert not wrong, "\n".join(wrong)


def test_patterns_do_not_fire_on_other_languages_benign_sets(patterns: SafetyPatterns, labelled) -> None:
    """A pattern runs on every message whatever its language, so it must leave other languages' words alone.

    Checked before the benign vetoes, on the raw patterns: a foreign pattern must not even match.
    """
    crossings = []
    for language, (_, benign) in labelled.items():
        for text in benign:
            normal = normalise(text)
            for category, source, pattern in patterns.rules:
                if source != language and pattern.search(normal):
                    crossings.append(f"{source}/{category} {pattern.pattern!r} fires on {language}: {text}")
    assert not crossings, "\n".join(crossings)


def test_benign_exceptions_never_cancel_a_labelled_crisis(patterns: SafetyPatterns, labelled) -> None:
    """A benign exception cancels meeting/abuse/danger hits of ALL languages, so it must stay narrow."""
    cancelled = []
    for language, (crisis, _) in labelled.items():
        for item in crisis:
            normal = normalise(item["text"])
            for source, pattern in patterns.benign:
                if pattern.search(normal):
                    cancelled.append(f"{source} benign {pattern.pattern!r} matches [{language}] {item['text']}")
    assert not cancelled, "\n".join(cancelled)


# --- the held-out sets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_heldout_set_is_well_formed(language: str, heldout) -> None:
    crisis, benign = heldout[language]
    assert len(crisis) >= 10 and len(benign) >= 10, f"heldout_{language}: need 10 crisis and 10 benign messages"
    assert {item["category"] for item in crisis} <= set(CATEGORY_PRIORITY)


def test_heldout_report(patterns: SafetyPatterns, heldout, show_heldout: bool) -> None:
    """Held-out figures are reported; only an overall regression floor is asserted (see HELDOUT_RECALL_FLOOR).

    These messages were written after the patterns and the patterns were not tuned on them, so they
    estimate how the net does on phrasings nobody anticipated. False alarms here are reported only.
    """
    rows, misses, alarms = _evaluate(patterns, heldout)
    report = _table(f"Pattern layer alone on the HELD-OUT sets (reported; overall floor: recall >= {HELDOUT_RECALL_FLOOR:.0%})",
                    rows, misses if show_heldout else [], alarms if show_heldout else [])
    print("\n" + report)
    overall = [row for row in rows if row[0] == "ALL"]
    assert overall and overall[0][2] >= HELDOUT_RECALL_FLOOR, report
