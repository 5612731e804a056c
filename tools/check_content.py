"""``make check-content``: check the content team's files before retraining or releasing.

Every problem names the file, the line and what to do, in plain words. Errors stop the build;
warnings (e.g. a privacy-checkup step not re-checked for 12 months) are printed but do not.

Checks: YAML that loads; every language has the same keys as English (no missing, no extra);
the same {placeholders} and button payloads in every language; messages short enough for a phone;
links are https: or tel:; helplines keep source, checked date and confidence, and every phone number
is known to the facts file; privacy-checkup steps are not older than 12 months; safety patterns compile;
no user-facing sentence in Python; Rasa training data loads, matches Rasa's own schema and has no
example line that Rasa would skip.

    .venv/bin/python -m tools.check_content [--root DIR]

``--root`` checks another copy of the project (a folder with content/, data/, actions/, ...; the facts
file is then looked for in DIR/../shared/facts/helplines.yml). Without it the project itself is checked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

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
WELL_FORMED_LINK = re.compile(r"(https://[\w.-]+\.[a-z]{2,}\S*|tel:\+?[\d]+)$", re.IGNORECASE)
# Fields of a message that users read besides 'text' (checked for length, links and placeholders).
USER_FIELDS = ("feedback",)
# A sentence for users written in Python: sent with utter_message/say_text, or put under "text"/"title".
PYTHON_LITERAL = re.compile(r"""(?:utter_message|say_text)\(\s*(text\s*=\s*)?f?["'][A-Za-z]"""
                            r"""|["']text["']\s*:\s*f?["'][A-Z][a-z]+ [a-z]|["']title["']\s*:\s*f?["'][A-Z][a-z]+ [a-z]""")
# The YAML parser's words for the common mistakes, in plain language.
YAML_HINTS = (
    ("cannot start any token", "there is a tab character on this line"),
    ("mapping values are not allowed", "there is a ':' where none is expected, or the line is indented differently from its neighbours"),
    ("expected <block end>", "the indentation does not line up with the lines above, or a quote is not closed"),
    ("did not find expected key", "the indentation does not line up with the lines above, or a quote is not closed"),
    ("unknown escape character", "a backslash (\\) inside a double-quoted text"),
    ("found unexpected end of stream", "a quote is opened but never closed"),
    ("but got '<stream end>'", "a bracket [ or { is opened but never closed"),
)


@dataclass
class Problem:
    """One finding, phrased for someone who does not program."""

    level: str  # "ERROR" or "WARNING"
    path: Path
    line: int
    what: str
    todo: str
    root: Path = field(default=ROOT, repr=False, compare=False)

    @property
    def where(self) -> str:
        """``content/it/core.yml:12`` (the file relative to the project; no line for a folder)."""
        relative = self.path.relative_to(self.root)
        return f"{relative}:{self.line}" if self.line else str(relative)

    def __str__(self) -> str:
        return f"{self.level} {self.where}: {self.what}\n    What to do: {self.todo}"


class Checker:
    """Runs every check and collects problems."""

    def __init__(self, today: Optional[dt.date] = None, root: Path = ROOT, facts: Optional[Path] = None) -> None:
        """``root``: the project folder to check; ``facts``: the helpline facts file (default next to ``root``)."""
        self.problems: List[Problem] = []
        self.today = today or dt.date.today()
        self.root = Path(root)
        self.content = self.root / "content"
        self.facts = facts if facts is not None else self.root.parent / "shared" / "facts" / "helplines.yml"
        # messages[lang][key] = (entry, path, line)
        self.messages: Dict[str, Dict[str, Tuple[Dict[str, Any], Path, int]]] = {lang: {} for lang in LANGUAGES}
        self.section_lines: Dict[Path, int] = {}  # line of 'messages:' in each message file
        self.unreadable: List[Path] = []  # files that are not valid YAML (each reported once, as such)

    def error(self, path: Path, line: int, what: str, todo: str) -> None:
        self.problems.append(Problem("ERROR", path, line, what, todo, self.root))

    def warn(self, path: Path, line: int, what: str, todo: str) -> None:
        self.problems.append(Problem("WARNING", path, line, what, todo, self.root))

    def rel(self, path: Path) -> Path:
        return path.relative_to(self.root)

    # -- loading ---------------------------------------------------------------------------------
    def load_yaml(self, path: Path) -> Tuple[Any, Dict[str, int]]:
        """Parse ``path``; return the data and the line number of each top-level message key."""
        text = path.read_text(encoding="utf-8")
        try:
            data, node = _parse_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else 0
            problem = str(getattr(exc, "problem", None) or exc)
            source_lines = text.splitlines()
            self.unreadable.append(path)
            if 0 < line <= len(source_lines) and "\t" in source_lines[line - 1]:
                self.error(path, line, "the file cannot be read: this line contains a tab character, which YAML does not allow.",
                           "Replace the tab with spaces (the line must start exactly as far right as the lines that "
                           "belong with it). Many editors show tabs when you select the line.")
                return None, {}
            plain = next((hint for pattern, hint in YAML_HINTS if pattern in problem), "")
            self.error(path, line, f"the file cannot be read ({plain + '; ' if plain else ''}the YAML reader says: {problem}).",
                       "Check this line and the one before it: a text containing ': ' or starting with a quote, "
                       "'{', '[' or '*' must be put inside double quotes; indentation must use spaces, not tabs.")
            return None, {}
        lines: Dict[str, int] = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == "messages" and isinstance(value_node, yaml.MappingNode):
                    self.section_lines[path] = key_node.start_mark.line + 1
                    for message_key, _ in value_node.value:
                        lines[message_key.value] = message_key.start_mark.line + 1
        return data, lines

    def load_messages(self) -> None:
        for lang in LANGUAGES:
            directory = self.content / lang
            if not directory.is_dir():
                self.error(directory, 0, f"there is no folder for {LANGUAGE_NAMES[lang]}.",
                           f"Create content/{lang}/ with the same files as content/en/.")
                continue
            for path in sorted(directory.glob("*.yml")):
                data, lines = self.load_yaml(path)
                if data is None:
                    continue
                if not isinstance(data, dict) or not isinstance(data.get("messages"), dict):
                    self.unreadable.append(path)
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
        """Same keys as English. A file that cannot be read is reported once, not as all of its keys missing."""
        english = self.messages["en"]
        broken_english = {path.name for path in self.unreadable if path.parent == self.content / "en"}
        for lang in LANGUAGES[1:]:
            theirs = self.messages[lang]
            previous: Dict[Path, str] = {}  # the last English key of each file seen so far
            for key, (_, path, line) in english.items():
                before = previous.get(path)
                previous[path] = key
                target = self.content / lang / path.name
                if key not in theirs and target not in self.unreadable:
                    # Point at the place where the message belongs: after the message that precedes it in English.
                    anchor = theirs.get(before) if before else None
                    if anchor and anchor[1] == target:
                        where, after = anchor[2], f" Put it after '{before}' (line {anchor[2]})."
                    elif target.exists():
                        where, after = self.section_lines.get(target, 1), " Put it under 'messages:'."
                    else:
                        where, after = 0, f" The file {self.rel(target)} does not exist yet: copy {self.rel(path)} to create it."
                    self.error(target, where, f"message '{key}' is missing in {LANGUAGE_NAMES[lang]}.",
                               f"Copy it from {self.rel(path)} line {line}, translate the text "
                               "(not the key, not the payloads) and add 'review: native'." + after)
            for key, (_, path, line) in theirs.items():
                if key not in english and path.name not in broken_english:
                    self.error(path, line, f"message '{key}' exists in {LANGUAGE_NAMES[lang]} but not in English.",
                               "Check the spelling of the key against content/en, or add the English message first.")

    def check_messages(self) -> None:
        english = self.messages["en"]
        for lang in LANGUAGES:
            for key, (entry, path, line) in self.messages[lang].items():
                text = str(entry.get("text") or "")
                buttons = [b for b in entry.get("buttons") or [] if isinstance(b, dict)]
                if not text.strip() and "keywords" not in entry and "answer" not in entry:
                    self.error(path, line, f"message '{key}' has no text.", "Write the text after 'text:'.")
                plain = PLACEHOLDER.sub("", text)
                if len(plain) > MAX_MESSAGE_CHARS:
                    self.error(path, line, f"message '{key}' is {len(plain)} characters long; the limit is "
                               f"{MAX_MESSAGE_CHARS} so it fits a phone screen.",
                               "Shorten it, or split it into two messages (ask a developer to add the key).")
                for name in USER_FIELDS:
                    if len(str(entry.get(name) or "")) > MAX_MESSAGE_CHARS:
                        self.error(path, line, f"the {name} of '{key}' is longer than {MAX_MESSAGE_CHARS} characters.",
                                   "Shorten it.")
                readable = [text, *(str(entry.get(name) or "") for name in USER_FIELDS), *(str(b.get("payload", "")) for b in buttons)]
                for match in URL.finditer(" ".join(readable)):
                    self.check_link(path, line, match.group(0), f"'{key}'")
                for button in entry.get("buttons") or []:
                    if not isinstance(button, dict) or not button.get("title") or not str(button.get("payload", "")).startswith("/"):
                        self.error(path, line, f"a button of '{key}' lacks a title or a payload starting with '/'.",
                                   "Each button needs   {title: \"...\", payload: /intent_name}.")
                if lang != "en" and key in english:
                    en_entry = english[key][0]
                    for name, en_value, value in self.translated_fields(en_entry, entry):
                        mine, theirs_ = set(PLACEHOLDER.findall(value)), set(PLACEHOLDER.findall(en_value))
                        if mine != theirs_:
                            part = f"'{key}'" if name == "text" else f"the {name} of '{key}'"
                            missing = ", ".join("{" + p + "}" for p in sorted(theirs_ - mine))
                            extra = ", ".join("{" + p + "}" for p in sorted(mine - theirs_))
                            hint = (f" Missing here: {missing}." if missing else "") + (f" Not in English: {extra}." if extra else "")
                            self.error(path, line, f"{part} uses placeholders {sorted(mine)} but English uses {sorted(theirs_)}.",
                                       "Keep every {word} in braces exactly as in English; translate only the words around it."
                                       + hint)
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

    @staticmethod
    def translated_fields(en_entry: Dict[str, Any], entry: Dict[str, Any]) -> List[Tuple[str, str, str]]:
        """(field, English value, translated value) of every text users read: text, feedback, button titles."""
        fields = [("text", str(en_entry.get("text") or ""), str(entry.get("text") or ""))]
        fields += [(name, str(en_entry.get(name) or ""), str(entry.get(name) or "")) for name in USER_FIELDS if name in en_entry]
        en_buttons = [b for b in en_entry.get("buttons") or [] if isinstance(b, dict)]
        buttons = [b for b in entry.get("buttons") or [] if isinstance(b, dict)]
        for number, (en_button, button) in enumerate(zip(en_buttons, buttons, strict=False), 1):
            fields.append((f"button {number} title", str(en_button.get("title") or ""), str(button.get("title") or "")))
        return fields

    def check_link(self, path: Path, line: int, link: str, where: str) -> None:
        if WELL_FORMED_LINK.match(link):
            return
        if link.lower().startswith("http:"):
            todo = "Write https:// instead of http:// (check that the page opens with https://)."
        elif link.lower().startswith("tel:"):
            todo = "Write tel: followed only by digits, with an optional + in front and no spaces or dashes, e.g. tel:+3919696."
        else:
            todo = "Use a full address starting with https:// (or tel: followed by digits)."
        self.error(path, line, f"the link '{link}' in {where} is not a well-formed https: or tel: link.", todo)

    def check_helplines(self) -> None:
        known = set()
        if self.facts.exists():
            for match in re.finditer(r'^\s*phone:\s*"([^"]+)"', self.facts.read_text(encoding="utf-8"), re.MULTILINE):
                known.add(re.sub(r"\D", "", match.group(1)))
        for path in sorted((self.content / "helplines").glob("*.yml")):
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
                for name in ("url", "chat"):
                    if service.get(name):
                        self.check_link(path, line, str(service[name]), f"the {name} of helpline '{sid}'")
                phone = service.get("phone")
                if phone and known and re.sub(r"\D", "", str(phone)) not in known:
                    self.error(path, line, f"the number {phone} of '{sid}' is not in the facts file.",
                               "Never invent a number: add it to shared/facts/helplines.yml with its source first.")
                checked = parse_date(service.get("checked"))
                if checked and (self.today - checked).days > STALE_AFTER_DAYS:
                    self.warn(path, line, f"helpline '{sid}' was last checked on {checked}, over a year ago.",
                              "Check the number and hours on the service's website and update 'checked:'.")

    def check_checkups(self) -> None:
        for path in sorted((self.content / "checkups").glob("*.yml")):
            data, _ = self.load_yaml(path)
            if not data:
                continue
            text_lines = path.read_text(encoding="utf-8").splitlines()
            for step in data.get("steps") or []:
                sid = step.get("id", "?")
                line = next((i + 1 for i, l in enumerate(text_lines) if l.strip() == f"- id: {sid}"), 0)
                checked = parse_date(step.get("last_checked"))
                if not step.get("source"):
                    self.error(path, line, f"step '{sid}' has no source.", "Add the help page or article the menu path comes from.")
                if checked is None:
                    self.error(path, line, f"step '{sid}' has no 'last_checked' date.", "Add   last_checked: 'YYYY-MM-DD'.")
                elif (self.today - checked).days > STALE_AFTER_DAYS:
                    self.warn(path, line, f"step '{sid}' was last checked on {checked}; app menus change often.",
                              "Open the app (or its help page), check the menu path, fix the text and update 'last_checked'.")

    def check_safety_patterns(self) -> None:
        for path in sorted((self.content / "safety").glob("*.yml")):
            data, _ = self.load_yaml(path)
            if not data:
                continue
            text_lines = path.read_text(encoding="utf-8").splitlines()
            about = {f"about/{side}": lines for side, lines in (data.get("about") or {}).items()}
            for category, patterns in [*(data.get("categories") or {}).items(), *about.items()]:
                for pattern in patterns or []:
                    try:
                        re.compile(str(pattern))
                    except re.error as exc:
                        line = next((i + 1 for i, l in enumerate(text_lines) if str(pattern) in l), 0)
                        self.error(path, line, f"the {category} pattern '{pattern}' is not valid ({exc}).",
                                   "Check brackets and backslashes; ask a developer if unsure. Until fixed the bot will not start.")

    def check_python(self) -> None:
        for folder in ("actions", "channels", "components"):
            for path in sorted((self.root / folder).rglob("*.py")):
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    if PYTHON_LITERAL.search(line):
                        self.error(path, number, "a sentence for users is written in Python code, so it cannot be "
                                   "translated or reviewed.",
                                   "Ask a developer to move the sentence into content/<language>/ under a key (in all six "
                                   "languages) and to send that key instead.")

    def check_training_data(self) -> None:
        """Every file under data/ must load, and Rasa must accept it (its own schema, examples starting with '- ')."""
        for path in sorted((self.root / "data").rglob("*.yml")):
            data, _ = self.load_yaml(path)
            if data is None:
                continue
            text = path.read_text(encoding="utf-8")
            if not isinstance(data, dict) or not {"nlu", "rules", "stories", "responses"} & set(data):
                line = next((number for number, raw in enumerate(text.splitlines(), 1)
                             if re.match(r"[^\s#][^:]*:", raw) and not raw.startswith("version:")), 1)
                self.error(path, line, "Rasa will ignore this file: it has no 'nlu:', 'rules:' or 'stories:' section.",
                           "Check the spelling of the section name on its own line (e.g. 'nlu:'), as in the other files.")
                continue
            self.check_rasa_schema(path, text, data)
            self.check_examples(path, text)

    def check_rasa_schema(self, path: Path, text: str, data: Dict[str, Any]) -> None:
        schemas = (["nlu"] if {"nlu", "responses"} & set(data) else []) + (["core"] if {"rules", "stories"} & set(data) else [])
        for schema in schemas:
            found = _rasa_schema_problem(text, schema)
            if found:
                line, what, todo = found
                self.error(path, line, what, todo)
                return

    def check_examples(self, path: Path, text: str) -> None:
        """Inside 'examples: |' every line must start with '-' at the block's indentation: Rasa skips any other
        line with a warning (an example lost: error), including an empty line between examples (harmless: warning)."""
        block_indent: Optional[int] = None  # indentation of 'examples:' while inside its block
        content_indent: Optional[int] = None  # indentation of the block's first example
        blanks: List[int] = []
        for number, raw in enumerate(text.splitlines(), 1):
            stripped = raw.strip()
            indent = len(raw) - len(raw.lstrip(" "))
            if block_indent is not None:
                if not stripped:
                    blanks.append(number)
                    continue
                if indent > block_indent:
                    content_indent = indent if content_indent is None else content_indent
                    for blank in blanks:
                        self.warn(path, blank, "an empty line between training examples: Rasa skips it with a warning.",
                                  "Delete the empty line.")
                    blanks = []
                    if indent > content_indent:
                        self.error(path, number, "this training example is indented further than the ones above it, "
                                   "so Rasa skips it.", "Line up its '-' with the '-' of the examples above it.")
                    elif not stripped.startswith("-"):
                        self.error(path, number, "this line in the examples does not start with '- ', so Rasa skips it.",
                                   "Start the example with a dash and a space, e.g.   - who can i call   "
                                   "(comments starting with # cannot go between examples).")
                    continue
                block_indent, content_indent, blanks = None, None, []
            if re.match(r"examples:\s*\|[-+]?\s*(#.*)?$", stripped):
                block_indent, content_indent, blanks = indent, None, []

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


def parse_date(value: Any) -> Optional[dt.date]:
    """A YAML date or an ISO ``YYYY-MM-DD`` string as a date; ``None`` when it is neither."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _parse_yaml(text: str) -> Tuple[Any, Any]:
    """The data and the node tree of one YAML document (libyaml when available: the same result, faster).

    Problems are reported with the pure-Python parser, whose messages the hints above were written for.
    """
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return _parse_with(text, fast)
        except yaml.YAMLError:
            pass
    return _parse_with(text, yaml.SafeLoader)


def _parse_with(text: str, loader_class: Any) -> Tuple[Any, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


@functools.lru_cache(maxsize=256)
def _rasa_schema_problem(text: str, schema: str) -> Optional[Tuple[int, str, str]]:
    """(line, what, what to do) if Rasa's own schema (``nlu`` or ``core``) rejects ``text``, else None.

    Cached on the text: an unchanged file is validated once per process (the tests check many copies).
    """
    try:
        from rasa.shared.core.training_data.story_reader.yaml_story_reader import CORE_SCHEMA_FILE
        from rasa.shared.exceptions import YamlException
        from rasa.shared.nlu.training_data.formats.rasa_yaml import NLU_SCHEMA_FILE
        from rasa.shared.utils.validation import YamlValidationException, validate_yaml_schema
    except ImportError:  # Rasa not installed: the schema check is left to `rasa data validate`
        return None
    try:
        validate_yaml_schema(text, NLU_SCHEMA_FILE if schema == "nlu" else CORE_SCHEMA_FILE)
    except YamlValidationException as exc:
        first = (exc.validation_errors or [None])[0]
        if first is None:
            return 0, f"Rasa cannot use this training data (Rasa says: {exc.message}).", _rasa_hint("")
        said = re.sub(r"(Value ')(.*?)(' is )", lambda m: m[1] + _shorten(m[2]) + m[3], str(first).strip(), flags=re.DOTALL)
        line = _line_for_path(exc.content, first.path) or exc._line_number_for_path(exc.content, first.path) or 0
        return line, f"Rasa cannot use this training data (Rasa says: {said}).", _rasa_hint(said)
    except YamlException as exc:
        underlying = getattr(exc, "underlying_yaml_exception", None)
        mark = getattr(underlying, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        duplicate = re.search(r'found duplicate key "([^"]+)"', str(underlying or exc))
        if duplicate:
            return (line, f"Rasa cannot read this file: '{duplicate.group(1)}:' is written twice in the same block.",
                    f"Keep one '{duplicate.group(1)}:' per block: merge the two, or start a new block for the second one.")
        said = _shorten(str(getattr(underlying, "problem", None) or exc).strip())
        return (line, f"Rasa cannot read this file (Rasa says: {said}).",
                "Look for quotes or indentation that differ from the lines around it.")
    return None


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _line_for_path(content: Any, path: str) -> int:
    """The line of the key or item that Rasa's error path (e.g. ``/nlu/1/examples``) names (ruamel's line info)."""
    line, node = 0, content
    for part in [p for p in str(path).split("/") if p]:
        try:
            if isinstance(node, list):
                index = int(part)
                line, node = node.lc.item(index)[0] + 1, node[index]
            else:
                line, node = node.lc.key(part)[0] + 1, node[part]
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            break
    return line


def _rasa_hint(said: str) -> str:
    """What to do about one of Rasa's schema errors, in plain words."""
    if "examples" in said and ("not of type 'str'" in said or "not a dict" in said or "not a list" in said):
        return ("Write 'examples: |' (with the bar | after the colon) and put each example on its own line below it, "
                "starting with '- ' and indented further than 'examples:'.")
    if "was not defined" in said:
        return ("Check the spelling of the word before the colon (e.g. 'intent:', 'examples:', 'steps:', 'action:') "
                "and that the line is indented like the same word in the blocks around it.")
    if "required" in said.lower():
        return "A block lacks a line it needs: compare it with a block that works in the same file."
    return "Compare this block with one that works in the same file (same words, same indentation); ask a developer if unsure."


def review_queue(root: Path = ROOT) -> Dict[str, int]:
    """How many messages per language still await review by a native speaker."""
    counts: Dict[str, int] = {}
    for lang in LANGUAGES:
        for path in sorted((root / "content" / lang).glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for raw in (data.get("messages") or {}).values():
                if isinstance(raw, dict) and raw.get("review"):
                    counts[lang] = counts.get(lang, 0) + 1
    return counts


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the project folder to check (default: this project); used by the tests on a copy")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    problems = Checker(root=root).run()
    errors = [p for p in problems if p.level == "ERROR"]
    warnings = [p for p in problems if p.level == "WARNING"]
    for problem in errors + warnings:
        print(problem)
    queue = review_queue(root)
    if queue:
        print("Awaiting native review: " + ", ".join(f"{LANGUAGE_NAMES[l]} {n}" for l, n in sorted(queue.items())))
    print(f"check-content: {len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
