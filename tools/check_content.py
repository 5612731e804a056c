"""``make check-content``: check the content team's files before retraining or releasing.

Every problem names the file, the line and what to do, in plain words. Errors stop the build;
warnings (e.g. a privacy-checkup step not re-checked for 12 months) are printed but do not.

Checks: YAML that loads; every language has the same keys as English (no missing, no extra);
the same {placeholders} and button payloads in every language; messages short enough for a phone;
links are https: or tel:; helplines keep source, checked date and confidence, and every phone number
is known to the facts file; privacy-checkup steps are not older than 12 months; safety patterns compile;
no user-facing sentence in Python; Rasa training data loads.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
LANGUAGES = ("en", "it", "el", "lt", "nl", "fr")
LANGUAGE_NAMES = {"en": "English", "it": "Italian", "el": "Greek", "lt": "Lithuanian", "nl": "Dutch", "fr": "French"}
MAX_MESSAGE_CHARS = 500
STALE_AFTER_DAYS = 365
FACTS = ROOT.parent / "shared" / "facts" / "helplines.yml"
URL = re.compile(r"\b(?:https?|ftp|tel|mailto|javascript):[^\s)\]]*|www\.[^\s)\]]+", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


@dataclass
class Problem:
    """One finding, phrased for someone who does not program."""

    level: str  # "ERROR" or "WARNING"
    path: Path
    line: int
    what: str
    todo: str

    def __str__(self) -> str:
        where = f"{self.path.relative_to(ROOT)}:{self.line}" if self.line else str(self.path.relative_to(ROOT))
        return f"{self.level} {where}: {self.what}\n    What to do: {self.todo}"


class Checker:
    """Runs every check and collects problems."""

    def __init__(self, today: Optional[dt.date] = None) -> None:
        self.problems: List[Problem] = []
        self.today = today or dt.date.today()
        # messages[lang][key] = (entry, path, line)
        self.messages: Dict[str, Dict[str, Tuple[Dict[str, Any], Path, int]]] = {lang: {} for lang in LANGUAGES}

    def error(self, path: Path, line: int, what: str, todo: str) -> None:
        self.problems.append(Problem("ERROR", path, line, what, todo))

    def warn(self, path: Path, line: int, what: str, todo: str) -> None:
        self.problems.append(Problem("WARNING", path, line, what, todo))

    # -- loading ---------------------------------------------------------------------------------
    def load_yaml(self, path: Path) -> Tuple[Any, Dict[str, int]]:
        """Parse ``path``; return the data and the line number of each top-level message key."""
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
            node = yaml.compose(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else 0
            self.error(path, line, f"the file cannot be read ({getattr(exc, 'problem', exc)}).",
                       "Check this line and the one before it: a text containing ': ' or starting with a quote, "
                       "'{', '[' or '*' must be put inside double quotes; indentation must use spaces, not tabs.")
            return None, {}
        lines: Dict[str, int] = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == "messages" and isinstance(value_node, yaml.MappingNode):
                    for message_key, _ in value_node.value:
                        lines[message_key.value] = message_key.start_mark.line + 1
        return data, lines

    def load_messages(self) -> None:
        for lang in LANGUAGES:
            directory = CONTENT / lang
            if not directory.is_dir():
                self.error(directory, 0, f"there is no folder for {LANGUAGE_NAMES[lang]}.",
                           f"Create content/{lang}/ with the same files as content/en/.")
                continue
            for path in sorted(directory.glob("*.yml")):
                data, lines = self.load_yaml(path)
                if data is None:
                    continue
                if not isinstance(data, dict) or not isinstance(data.get("messages"), dict):
                    self.error(path, 1, "the file has no 'messages:' section.",
                               "Start the file with 'language: xx' and 'messages:' like the English file.")
                    continue
                if data.get("language") != lang:
                    self.error(path, 1, f"the file says 'language: {data.get('language')}' but is in the {lang} folder.",
                               f"Write 'language: {lang}' on the first line.")
                for key, raw in data["messages"].items():
                    entry = {"text": raw} if isinstance(raw, str) else raw
                    line = lines.get(key, 0)
                    if not isinstance(entry, dict):
                        self.error(path, line, f"message '{key}' is neither a text nor a block with 'text:'.",
                                   "Write the message as   key: \"text\"   or with 'text:' on the next line.")
                        continue
                    if key in self.messages[lang]:
                        other = self.messages[lang][key]
                        self.error(path, line, f"message '{key}' is defined twice (also in {other[1].name}:{other[2]}).",
                                   "Keep only one of the two.")
                    self.messages[lang][key] = (entry, path, line)

    # -- checks ----------------------------------------------------------------------------------
    def check_parity(self) -> None:
        english = self.messages["en"]
        for lang in LANGUAGES[1:]:
            theirs = self.messages[lang]
            for key, (_, path, line) in english.items():
                if key not in theirs:
                    target = CONTENT / lang / path.name
                    self.error(target, 0, f"message '{key}' is missing in {LANGUAGE_NAMES[lang]}.",
                               f"Copy it from {path.relative_to(ROOT)} line {line}, translate the text "
                               "(not the key, not the payloads) and add 'review: native'.")
            for key, (_, path, line) in theirs.items():
                if key not in english:
                    self.error(path, line, f"message '{key}' exists in {LANGUAGE_NAMES[lang]} but not in English.",
                               "Check the spelling of the key against content/en, or add the English message first.")

    def check_messages(self) -> None:
        english = self.messages["en"]
        for lang in LANGUAGES:
            for key, (entry, path, line) in self.messages[lang].items():
                text = str(entry.get("text") or "")
                if not text.strip() and "keywords" not in entry and "answer" not in entry:
                    self.error(path, line, f"message '{key}' has no text.", "Write the text after 'text:'.")
                plain = PLACEHOLDER.sub("", text)
                if len(plain) > MAX_MESSAGE_CHARS:
                    self.error(path, line, f"message '{key}' is {len(plain)} characters long; the limit is "
                               f"{MAX_MESSAGE_CHARS} so it fits a phone screen.",
                               "Shorten it, or split it into two messages (ask a developer to add the key).")
                for field in ("feedback",):
                    if len(str(entry.get(field) or "")) > MAX_MESSAGE_CHARS:
                        self.error(path, line, f"the {field} of '{key}' is longer than {MAX_MESSAGE_CHARS} characters.",
                                   "Shorten it.")
                for match in URL.finditer(text + " " + " ".join(str(b.get("payload", "")) for b in entry.get("buttons") or [])):
                    link = match.group(0)
                    if not re.match(r"(https://[\w.-]+\.[a-z]{2,}\S*|tel:\+?[\d]+)$", link, re.IGNORECASE):
                        self.error(path, line, f"the link '{link}' in '{key}' is not a well-formed https: or tel: link.",
                                   "Use a full address starting with https:// (or tel: followed by digits).")
                for button in entry.get("buttons") or []:
                    if not isinstance(button, dict) or not button.get("title") or not str(button.get("payload", "")).startswith("/"):
                        self.error(path, line, f"a button of '{key}' lacks a title or a payload starting with '/'.",
                                   "Each button needs   {title: \"...\", payload: /intent_name}.")
                if lang != "en" and key in english:
                    en_entry = english[key][0]
                    en_text = str(en_entry.get("text") or "")
                    if set(PLACEHOLDER.findall(en_text)) != set(PLACEHOLDER.findall(text)):
                        self.error(path, line, f"'{key}' uses placeholders {sorted(set(PLACEHOLDER.findall(text)))} but "
                                   f"English uses {sorted(set(PLACEHOLDER.findall(en_text)))}.",
                                   "Keep every {word} in braces exactly as in English; translate only the words around it.")
                    en_payloads = [b.get("payload") for b in en_entry.get("buttons") or []]
                    payloads = [b.get("payload") for b in entry.get("buttons") or [] if isinstance(b, dict)]
                    if en_payloads != payloads:
                        self.error(path, line, f"the buttons of '{key}' differ from English (payloads {payloads} vs {en_payloads}).",
                                   "Translate only the button titles; keep the payloads (/...) and their order.")
                    for field in ("answer",):
                        if field in en_entry and en_entry.get(field) != entry.get(field):
                            self.error(path, line, f"'{key}' has {field} '{entry.get(field)}' but English has '{en_entry.get(field)}'.",
                                       f"The {field} must be the same in every language.")
                for pattern in entry.get("keywords") or []:
                    try:
                        re.compile(str(pattern))
                    except re.error as exc:
                        self.error(path, line, f"a keyword of '{key}' is not a valid pattern ({exc}).",
                                   "Check brackets and backslashes, or ask a developer.")

    def check_helplines(self) -> None:
        known = set()
        if FACTS.exists():
            for match in re.finditer(r'^\s*phone:\s*"([^"]+)"', FACTS.read_text(encoding="utf-8"), re.MULTILINE):
                known.add(re.sub(r"\D", "", match.group(1)))
        for path in sorted((CONTENT / "helplines").glob("*.yml")):
            data, _ = self.load_yaml(path)
            if not data:
                continue
            text_lines = path.read_text(encoding="utf-8").splitlines()
            entries = list(data.get("services") or []) + [e for e in data.get("image_removal") or [] if isinstance(e, dict)]
            for service in entries:
                sid = service.get("id", "?")
                line = next((i + 1 for i, l in enumerate(text_lines) if l.strip() in (f"- id: {sid}", f"id: {sid}")), 0)
                if not service.get("source"):
                    self.error(path, line, f"helpline '{sid}' has no source.", "Add the web page the facts come from under 'source:'.")
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(service.get("checked") or "")):
                    self.error(path, line, f"helpline '{sid}' has no 'checked:' date.",
                               "Add   checked: 'YYYY-MM-DD'   (the day you checked it).")
                if service.get("confidence") not in ("high", "medium", "low"):
                    self.error(path, line, f"helpline '{sid}' has no confidence (high, medium or low).",
                               "Add   confidence: medium   (see shared/facts/README.md for the meaning).")
                phone = service.get("phone")
                if phone and known and re.sub(r"\D", "", str(phone)) not in known:
                    self.error(path, line, f"the number {phone} of '{sid}' is not in the facts file.",
                               "Never invent a number: add it to shared/facts/helplines.yml with its source first.")
                checked = _date(service.get("checked"))
                if checked and (self.today - checked).days > STALE_AFTER_DAYS:
                    self.warn(path, line, f"helpline '{sid}' was last checked on {checked}, over a year ago.",
                              "Check the number and hours on the service's website and update 'checked:'.")

    def check_checkups(self) -> None:
        for path in sorted((CONTENT / "checkups").glob("*.yml")):
            data, _ = self.load_yaml(path)
            if not data:
                continue
            text_lines = path.read_text(encoding="utf-8").splitlines()
            for step in data.get("steps") or []:
                sid = step.get("id", "?")
                line = next((i + 1 for i, l in enumerate(text_lines) if l.strip() == f"- id: {sid}"), 0)
                checked = _date(step.get("last_checked"))
                if not step.get("source"):
                    self.error(path, line, f"step '{sid}' has no source.", "Add the help page or article the menu path comes from.")
                if checked is None:
                    self.error(path, line, f"step '{sid}' has no 'last_checked' date.", "Add   last_checked: 'YYYY-MM-DD'.")
                elif (self.today - checked).days > STALE_AFTER_DAYS:
                    self.warn(path, line, f"step '{sid}' was last checked on {checked}; app menus change often.",
                              "Open the app (or its help page), check the menu path, fix the text and update 'last_checked'.")

    def check_safety_patterns(self) -> None:
        for path in sorted((CONTENT / "safety").glob("*.yml")):
            data, _ = self.load_yaml(path)
            if not data:
                continue
            text_lines = path.read_text(encoding="utf-8").splitlines()
            for category, patterns in (data.get("categories") or {}).items():
                for pattern in patterns or []:
                    try:
                        re.compile(str(pattern))
                    except re.error as exc:
                        line = next((i + 1 for i, l in enumerate(text_lines) if str(pattern) in l), 0)
                        self.error(path, line, f"the {category} pattern '{pattern}' is not valid ({exc}).",
                                   "Check brackets and backslashes; ask a developer if unsure. Until fixed the bot will not start.")

    def check_python(self) -> None:
        literal = re.compile(r"""utter_message\(\s*(text\s*=\s*)?f?["'][A-Za-z]|["']text["']\s*:\s*f?["'][A-Z][a-z]+ [a-z]""")
        for folder in ("actions", "channels", "components"):
            for path in sorted((ROOT / folder).rglob("*.py")):
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    if literal.search(line):
                        self.error(path, number, "a sentence for users is written in Python code.",
                                   "Move the sentence into content/<language>/ under a key and render that key.")

    def check_training_data(self) -> None:
        for path in sorted((ROOT / "data").rglob("*.yml")):
            self.load_yaml(path)

    def run(self) -> List[Problem]:
        self.load_messages()
        self.check_parity()
        self.check_messages()
        self.check_helplines()
        self.check_checkups()
        self.check_safety_patterns()
        self.check_python()
        self.check_training_data()
        return self.problems


def _date(value: Any) -> Optional[dt.date]:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def review_queue() -> Dict[str, int]:
    """How many messages per language still await review by a native speaker."""
    counts: Dict[str, int] = {}
    for lang in LANGUAGES:
        for path in sorted((CONTENT / lang).glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for raw in (data.get("messages") or {}).values():
                if isinstance(raw, dict) and raw.get("review"):
                    counts[lang] = counts.get(lang, 0) + 1
    return counts


def main() -> int:
    problems = Checker().run()
    errors = [p for p in problems if p.level == "ERROR"]
    warnings = [p for p in problems if p.level == "WARNING"]
    for problem in errors + warnings:
        print(problem)
    queue = review_queue()
    if queue:
        print("Awaiting native review: " + ", ".join(f"{LANGUAGE_NAMES[l]} {n}" for l, n in sorted(queue.items())))
    print(f"check-content: {len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
