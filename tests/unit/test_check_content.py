"""``make check-content`` (tools/check_content.py) on a copy of the real project with one fault injected.

Each test copies content/, data/ and the Python packages (plus the helpline facts file next to the copy,
where the checker looks for it) into a temporary folder, breaks exactly one thing the way a content
editor might, and asserts that the checker reports exactly that problem: the right file, the right
line, and a plain-language "What to do". The unmodified copy must give no errors.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest
import yaml

from tools.check_content import LANGUAGES, MAX_MESSAGE_CHARS, STALE_AFTER_DAYS, Checker, Problem, main

ROOT = Path(__file__).resolve().parents[2]
FACTS = ROOT.parent / "shared" / "facts" / "helplines.yml"
COPIED = ("content", "data", "actions", "channels", "components")  # everything the checker reads
TODAY = dt.date.today()
# Words a content editor should never have to decode in a "What to do".
JARGON = re.compile(r"traceback|exception|regex|schema|stack|\bnone\b|yaml\.|\.py\b", re.IGNORECASE)


# ----------------------------------------------------------------------------- helpers


def copy_project(dest: Path) -> Path:
    """A copy of everything the checker reads; returns the copy's root (the facts file sits next to it)."""
    root = dest / "beacon"
    for name in COPIED:
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if FACTS.exists():
        (dest / "shared" / "facts").mkdir(parents=True)
        shutil.copy2(FACTS, dest / "shared" / "facts" / "helplines.yml")
    return root


def check(root: Path) -> List[Problem]:
    return Checker(today=TODAY, root=root).run()


def fingerprint(problem: Problem) -> Tuple[str, str, str]:
    return problem.level, problem.where, problem.what


def describe(problems: List[Problem]) -> str:
    return "\n".join(str(p) for p in problems) or "(none)"


def read_lines(path: Path) -> List[str]:
    return path.read_text(encoding="utf-8").split("\n")


def write_lines(path: Path, lines: List[str]) -> None:
    path.write_text("\n".join(lines), encoding="utf-8")


def line_of(path: Path, pattern: str, start: int = 0) -> int:
    """1-based number of the first line (from index ``start``) matching the regular expression ``pattern``."""
    for index, line in enumerate(read_lines(path)[start:], start):
        if re.search(pattern, line):
            return index + 1
    raise AssertionError(f"no line matching {pattern!r} in {path}")


def message_block(lines: List[str], key: str) -> Tuple[int, int]:
    """[start, end) indexes of the lines of message ``key`` (a key indented by two spaces under 'messages:')."""
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {key}:"))
    end = start + 1
    while end < len(lines) and not re.match(r"^ {0,2}\S", lines[end]):
        end += 1
    return start, end


def replace_message(path: Path, key: str, text: str) -> int:
    """Replace message ``key`` by a plain text (same key line); return that line's number."""
    lines = read_lines(path)
    start, end = message_block(lines, key)
    lines[start:end] = [f"  {key}:", f"    text: {json.dumps(text)}"]
    write_lines(path, lines)
    return start + 1


def messages(path: Path) -> Dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]


def plain_key(root: Path, file: str, lang: str) -> str:
    """A message of ``content/<lang>/<file>`` that is only text (no buttons, placeholders, links), in English too."""
    english = messages(root / "content" / "en" / file)
    theirs = messages(root / "content" / lang / file)
    for key, raw in english.items():
        other = theirs.get(key)
        entries = [{"text": r} if isinstance(r, str) else r for r in (raw, other)]
        if other is None or not all(isinstance(e, dict) and set(e) <= {"text", "review", "note"} for e in entries):
            continue
        if not any(re.search(r"[{}]|https?:|tel:|www\.", str(e.get("text"))) for e in entries):
            return key
    raise AssertionError(f"no plain message in content/{lang}/{file}")


def service_block(lines: List[str], service_id: str) -> Tuple[int, int]:
    """[start, end) indexes of helpline ``service_id`` (a '- id: ...' item of 'services:')."""
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {service_id}")
    end = start + 1
    while end < len(lines) and not re.match(r"^(- |\S)", lines[end]):
        end += 1
    return start, end


def first_service(path: Path) -> str:
    return str(yaml.safe_load(path.read_text(encoding="utf-8"))["services"][0]["id"])


def assert_one(found: List[Problem], level: str, where: str, what: str, todo: str) -> Problem:
    """Exactly one new problem, at ``where`` (relative path:line), whose texts contain ``what`` and ``todo``."""
    assert len(found) == 1, f"expected exactly one new problem, got:\n{describe(found)}"
    problem = found[0]
    assert (problem.level, problem.where) == (level, where), describe(found)
    assert what in problem.what, describe(found)
    assert todo in problem.todo, describe(found)
    assert_plain(problem)
    printed = str(problem)
    assert printed.startswith(f"{level} {where}: {problem.what}\n    What to do: "), printed
    return problem


def assert_plain(problem: Problem) -> None:
    """A "What to do" a non-programmer can act on: present, a full sentence, no jargon."""
    assert problem.line > 0, f"no line number: {problem}"
    assert len(problem.todo) > 15 and problem.todo.rstrip().endswith((".", ")")), problem.todo
    assert not JARGON.search(problem.todo), f"jargon in the hint: {problem.todo}"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> List[Problem]:
    """The problems of the unmodified copy (warnings only: checkup steps and helplines due for a re-check)."""
    return check(copy_project(tmp_path_factory.mktemp("pristine")))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture
def introduced(baseline: List[Problem]) -> Callable[[Path], List[Problem]]:
    """``introduced(root)``: the problems of ``root`` that the unmodified copy does not have."""
    known = {fingerprint(p) for p in baseline}

    def new_problems(root: Path) -> List[Problem]:
        return [p for p in check(root) if fingerprint(p) not in known]

    return new_problems


# ----------------------------------------------------------------------------- the unmodified copy


def test_unmodified_copy_has_no_errors(baseline):
    errors = [p for p in baseline if p.level == "ERROR"]
    assert not errors, describe(errors)
    for warning in baseline:
        assert warning.where.startswith(("content/checkups/", "content/helplines/", "data/")), str(warning)
        assert_plain(warning)


def test_command_line_on_a_copy(project, capsys):
    assert main(["--root", str(project)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^check-content: 0 error\(s\), \d+ warning\(s\)$", out, re.MULTILINE), out
    assert str(project) not in out, "paths are shown relative to the project"

    lines = read_lines(project / "content" / "lt" / "core.yml")
    number = line_of(project / "content" / "lt" / "core.yml", r"^messages:") + 1
    lines.insert(number - 1, '  greet.disclosur: "Labas"')
    write_lines(project / "content" / "lt" / "core.yml", lines)
    assert main(["--root", str(project)]) == 1
    out = capsys.readouterr().out
    assert (f"ERROR content/lt/core.yml:{number}: message 'greet.disclosur' exists in Lithuanian but not in English.\n"
            "    What to do: Check the spelling of the key") in out, out
    assert "check-content: 1 error(s)" in out


# ----------------------------------------------------------------------------- parity


def test_key_missing_in_italian(project, introduced):
    english, italian = project / "content" / "en" / "core.yml", project / "content" / "it" / "core.yml"
    keys = list(messages(italian))
    removed, before = keys[2], keys[1]
    lines = read_lines(italian)
    start, end = message_block(lines, removed)
    del lines[start:end]
    write_lines(italian, lines)
    before_line = line_of(italian, rf"^  {re.escape(before)}:")
    english_line = line_of(english, rf"^  {re.escape(removed)}:")
    problem = assert_one(introduced(project), "ERROR", f"content/it/core.yml:{before_line}",
                         f"message '{removed}' is missing in Italian.", f"Copy it from content/en/core.yml line {english_line}")
    assert f"Put it after '{before}' (line {before_line})" in problem.todo


def test_extra_key_in_lithuanian(project, introduced):
    path = project / "content" / "lt" / "core.yml"
    lines = read_lines(path)
    number = line_of(path, r"^messages:") + 1
    lines.insert(number - 1, "  greet.disclosur:\n    text: Labas, aš esu Beacon.")
    write_lines(path, lines)
    assert_one(introduced(project), "ERROR", f"content/lt/core.yml:{number}",
               "message 'greet.disclosur' exists in Lithuanian but not in English.", "Check the spelling of the key")


def test_unreadable_file_is_one_problem_not_every_key_missing(project, introduced):
    path = project / "content" / "it" / "core.yml"
    lines = read_lines(path)
    number = line_of(path, r"^    text:")
    lines[number - 1] = "\t" + lines[number - 1][4:]
    write_lines(path, lines)
    assert_one(introduced(project), "ERROR", f"content/it/core.yml:{number}",
               "this line contains a tab character", "Replace the tab with spaces")


# ----------------------------------------------------------------------------- placeholders, length, links


def test_placeholder_missing_in_french(project, introduced):
    path = project / "content" / "fr" / "helplines.yml"
    assert "{country}" in str(messages(project / "content" / "en" / "helplines.yml")["helplines.header"])
    number = line_of(path, r"^  helplines\.header:")
    lines = read_lines(path)
    start, end = message_block(lines, "helplines.header")
    lines[start:end] = [line.replace("{country}", "votre pays") for line in lines[start:end]]
    write_lines(path, lines)
    problem = assert_one(introduced(project), "ERROR", f"content/fr/helplines.yml:{number}",
                         "'helplines.header' uses placeholders", "Keep every {word} in braces exactly as in English")
    assert "'country'" in problem.what and "Missing here: {country}." in problem.todo


def test_placeholder_missing_in_a_button_title(project, introduced):
    """Button titles are rendered with the same placeholders as the text, so they must match too."""
    english = messages(project / "content" / "en" / "core.yml")
    key = "menu.main.teen"
    assert not any("{" in str(b["title"]) for b in english[key]["buttons"])
    path = project / "content" / "nl" / "core.yml"
    number = line_of(path, rf"^  {re.escape(key)}:")
    lines = read_lines(path)
    start, end = message_block(lines, key)
    title = next(i for i in range(start, end) if "title:" in lines[i])
    lines[title] = lines[title].replace('title: "', 'title: "{name} ', 1)
    write_lines(path, lines)
    problem = assert_one(introduced(project), "ERROR", f"content/nl/core.yml:{number}",
                         f"the button 1 title of '{key}' uses placeholders ['name']", "Not in English: {name}.")
    assert "English uses []" in problem.what


def test_message_too_long(project, introduced):
    key = plain_key(project, "core.yml", "nl")
    text = ("Dit is een heel lang bericht. " * 30)[:MAX_MESSAGE_CHARS + 40]
    number = replace_message(project / "content" / "nl" / "core.yml", key, text)
    assert_one(introduced(project), "ERROR", f"content/nl/core.yml:{number}",
               f"message '{key}' is {len(text)} characters long; the limit is {MAX_MESSAGE_CHARS}",
               "Shorten it, or split it into two messages")


def test_message_at_the_limit_is_fine(project, introduced):
    key = plain_key(project, "core.yml", "nl")
    replace_message(project / "content" / "nl" / "core.yml", key, "x" * MAX_MESSAGE_CHARS)
    assert introduced(project) == []


@pytest.mark.parametrize(("link", "hint"), [
    ("http://www.azzurro.it", "Write https:// instead of http://"),
    ("tel:19-696", "Write tel: followed only by digits"),
    ("tel:", "Write tel: followed only by digits"),
    ("https://azzurro", "Use a full address starting with https://"),
])
def test_badly_formed_link(project, introduced, link, hint):
    key = plain_key(project, "core.yml", "it")
    number = replace_message(project / "content" / "it" / "core.yml", key, f"Per saperne di più: {link} (gratis).")
    assert_one(introduced(project), "ERROR", f"content/it/core.yml:{number}",
               f"the link '{link}' in '{key}' is not a well-formed https: or tel: link.", hint)


def test_well_formed_links_are_fine(project, introduced):
    key = plain_key(project, "core.yml", "it")
    replace_message(project / "content" / "it" / "core.yml", key, "Chiama tel:+3919696 o apri https://azzurro.it/chat.")
    assert introduced(project) == []


def test_helpline_web_address_with_http(project, introduced):
    path = project / "content" / "helplines" / "IT.yml"
    service = first_service(path)
    lines = read_lines(path)
    start, end = service_block(lines, service)
    url = next(i for i in range(start, end) if lines[i].startswith("  url: "))
    lines[url] = "  url: http://www.azzurro.it/"
    write_lines(path, lines)
    assert_one(introduced(project), "ERROR", f"content/helplines/IT.yml:{start + 1}",
               f"the link 'http://www.azzurro.it/' in the url of helpline '{service}'", "Write https:// instead of http://")


# ----------------------------------------------------------------------------- helplines and checkups


@pytest.mark.parametrize(("field", "what", "todo"), [
    ("source", "has no source.", "Add the web page the facts come from under 'source:'."),
    ("checked", "has no 'checked:' date.", "checked: 'YYYY-MM-DD'"),
    ("confidence", "has no confidence (high, medium or low).", "confidence: medium"),
])
def test_helpline_without_source_date_or_confidence(project, introduced, field, what, todo):
    path = project / "content" / "helplines" / "IT.yml"
    service = first_service(path)
    lines = read_lines(path)
    start, end = service_block(lines, service)
    first = next(i for i in range(start, end) if lines[i].startswith(f"  {field}:"))
    last = first + 1
    while last < end and lines[last].startswith("  - "):  # the list under 'source:'
        last += 1
    del lines[first:last]
    write_lines(path, lines)
    assert_one(introduced(project), "ERROR", f"content/helplines/IT.yml:{start + 1}", f"helpline '{service}' {what}", todo)


def recent_step(root: Path) -> Tuple[Path, str, int]:
    """A checkup step checked less than a year ago: (file, step id, line of its 'last_checked')."""
    for path in sorted((root / "content" / "checkups").glob("*.yml")):
        for step in yaml.safe_load(path.read_text(encoding="utf-8"))["steps"]:
            if (TODAY - dt.date.fromisoformat(str(step["last_checked"]))).days < STALE_AFTER_DAYS:
                id_line = line_of(path, rf"^\s*- id: {step['id']}\s*$")
                return path, step["id"], line_of(path, r"^\s*last_checked:", id_line)
    raise AssertionError("no recently checked step")


def set_last_checked(path: Path, number: int, date: dt.date) -> None:
    lines = read_lines(path)
    lines[number - 1] = re.sub(r"last_checked: *\S+", f'last_checked: "{date.isoformat()}"', lines[number - 1])
    write_lines(path, lines)


def test_checkup_step_older_than_12_months_is_a_warning_not_an_error(project, introduced):
    path, step, number = recent_step(project)
    old = TODAY - dt.timedelta(days=STALE_AFTER_DAYS + 30)
    set_last_checked(path, number, old)
    id_line = line_of(path, rf"^\s*- id: {step}\s*$")
    relative = path.relative_to(project).as_posix()
    assert_one(introduced(project), "WARNING", f"{relative}:{id_line}",
               f"step '{step}' was last checked on {old}", "update 'last_checked'")
    assert main(["--root", str(project)]) == 0, "a warning does not fail the check"


def test_checkup_step_checked_within_12_months_is_fine(project, introduced):
    path, _, number = recent_step(project)
    set_last_checked(path, number, TODAY - dt.timedelta(days=STALE_AFTER_DAYS))
    assert introduced(project) == []


# ----------------------------------------------------------------------------- Python and Rasa data


@pytest.mark.parametrize("code", [
    'dispatcher.utter_message(text="Sorry, something went wrong. Please try again.")',
    'turn.say_text("Sorry, I did not understand that.")',
    'buttons = [{"title": "Yes please", "payload": "/affirm"}]',
])
def test_user_facing_sentence_in_python(project, introduced, code):
    path = project / "actions" / "quiz.py"
    lines = read_lines(path)
    lines += ["", "", "def _apology(dispatcher, turn):", f"    {code}", ""]
    write_lines(path, lines)
    number = len(lines) - 1
    assert_one(introduced(project), "ERROR", f"actions/quiz.py:{number}", "a sentence for users is written in Python code",
               "move the sentence into content/<language>/ under a key")


def test_content_keys_in_python_are_fine(project, introduced):
    path = project / "actions" / "quiz.py"
    path.write_text(path.read_text(encoding="utf-8") + '\n\ndef _fine(turn):\n    turn.say("quiz.start")\n'
                    '    logger.info("Quiz started for %s", turn)\n    turn.say_text(turn.text_of("quiz.start"))\n',
                    encoding="utf-8")
    assert introduced(project) == []


@pytest.mark.parametrize(("variant", "what"), [
    ("     examples: |", "mapping values are not allowed here"),   # indented one space too far
    ("   examples: |", "the indentation does not line up"),        # one space short
])
def test_training_data_with_bad_indentation(project, introduced, variant, what):
    path = project / "data" / "nlu" / "en" / "core.yml"
    number = line_of(path, r"^    examples: \|$")
    lines = read_lines(path)
    lines[number - 1] = variant
    write_lines(path, lines)
    assert_one(introduced(project), "ERROR", f"data/nlu/en/core.yml:{number}", what, "indentation must use spaces")


def test_training_data_with_a_tab(project, introduced):
    path = project / "data" / "nlu" / "el" / "core.yml"
    number = line_of(path, r"^      - ")
    lines = read_lines(path)
    lines[number - 1] = "\t" + lines[number - 1].lstrip(" ")
    write_lines(path, lines)
    assert_one(introduced(project), "ERROR", f"data/nlu/el/core.yml:{number}",
               "the file cannot be read: this line contains a tab character", "Replace the tab with spaces")


def test_training_examples_without_the_bar_are_rejected_like_rasa_does(project, introduced):
    """Valid YAML that Rasa refuses: 'examples:' without '|' makes a list instead of a text."""
    path = project / "data" / "nlu" / "it" / "core.yml"
    second = line_of(path, r"^    examples: \|$", line_of(path, r"^    examples: \|$"))
    lines = read_lines(path)
    lines[second - 1] = "    examples:"
    write_lines(path, lines)
    problem = assert_one(introduced(project), "ERROR", f"data/nlu/it/core.yml:{second}", "Rasa cannot use this training data",
                         "Write 'examples: |' (with the bar | after the colon)")
    assert len(problem.what) < 300, "Rasa's long values are shortened"


def test_rule_with_a_misspelt_word(project, introduced):
    path = project / "data" / "rules" / "core.yml"
    number = line_of(path, r"^  - rule:")
    lines = read_lines(path)
    lines[number - 1] = lines[number - 1].replace("- rule:", "- rul:")
    write_lines(path, lines)
    assert_one(introduced(project), "ERROR", f"data/rules/core.yml:{number}", "Key 'rul' was not defined",
               "Check the spelling of the word before the colon")


def test_training_data_with_a_key_written_twice(project, introduced):
    """PyYAML accepts a repeated key (the last one wins); Rasa refuses the file."""
    path = project / "data" / "nlu" / "nl" / "core.yml"
    number = line_of(path, r"^    examples: \|$")
    lines = read_lines(path)
    lines[number - 1:number - 1] = ["    examples: |", "      - hoi"]
    write_lines(path, lines)
    assert_one(introduced(project), "ERROR", f"data/nlu/nl/core.yml:{number + 2}",
               "'examples:' is written twice in the same block", "Keep one 'examples:' per block")


@pytest.mark.parametrize(("example", "level", "what"), [
    ("      who can i call", "ERROR", "does not start with '- '"),            # the example would be lost
    ("        - who can i call", "ERROR", "indented further than the ones above it"),
    ("", "WARNING", "an empty line between training examples"),            # harmless, but Rasa warns
])
def test_training_example_that_rasa_would_skip(project, introduced, example, level, what):
    path = project / "data" / "nlu" / "fr" / "core.yml"
    number = line_of(path, r"^    examples: \|$") + 2  # between the first and the second example
    lines = read_lines(path)
    assert lines[number - 2].startswith("      - ") and lines[number - 1].startswith("      - ")
    lines.insert(number - 1, example)
    write_lines(path, lines)
    assert_one(introduced(project), level, f"data/nlu/fr/core.yml:{number}", what, ".")


def test_training_file_without_a_known_section(project, introduced):
    path = project / "data" / "nlu" / "lt" / "core.yml"
    lines = read_lines(path)
    number = line_of(path, r"^nlu:")
    lines[number - 1] = "nlue:"
    write_lines(path, lines)
    assert_one(introduced(project), "ERROR", f"data/nlu/lt/core.yml:{number}", "Rasa will ignore this file",
               "Check the spelling of the section name")


@pytest.mark.parametrize("section, where", [("  sextortion:", "the sextortion pattern"),
                                             ("  someone_else:", "the about/someone_else pattern")])
def test_safety_pattern_that_does_not_compile(project, introduced, section, where):
    """A broken pattern would stop the bot from starting: the checker names the file, the line and the list."""
    path = project / "content" / "safety" / "nl.yml"
    lines = read_lines(path)
    number = line_of(path, rf"^{section}$") + 1
    lines.insert(number - 1, "    - (mijn foto's")
    write_lines(path, lines)
    assert_one(introduced(project), "ERROR", f"content/safety/nl.yml:{number}", f"{where} '(mijn foto's' is not valid",
               "Check brackets and backslashes")


def test_every_language_is_checked():
    """The checker knows the six languages of the issue (a seventh needs content, data and this list)."""
    assert LANGUAGES == ("en", "it", "el", "lt", "nl", "fr")


def test_unknown_root_gives_plain_errors_not_a_crash(tmp_path):
    problems = Checker(today=TODAY, root=tmp_path).run()
    assert {p.where for p in problems} == {f"content/{lang}" for lang in LANGUAGES}
    assert all("there is no folder for" in p.what and p.todo.startswith("Create content/") for p in problems)
