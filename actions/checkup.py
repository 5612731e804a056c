"""Guided privacy checkups, platform by platform (issue #7).

One setting per step: what it is and why it matters (teen or carer wording), where to find it, then
Done / Skip / I can't find it. At the end: a summary (done, skipped, still to do) and an offer to check
another app.

Where things live (no user-facing text here):

* ``content/checkups/<platform>.yml`` - language-independent metadata: name, aliases for free-text
  detection, help links, and the steps with ``last_checked``, ``source`` and ``caveat``.
* ``content/<lang>/checkup.yml`` - every text, under::

      checkup.<platform>.<step>.title        setting name (summary, header); ``keywords``: regexes per
                                             language that pick this step from a free question
      checkup.<platform>.<step>.teen|carer   what the setting is and why it matters
      checkup.<platform>.<step>.where        where to find it (menu path or, without one, where to look)
      checkup.<platform>.<step>.cant_find    optional: an alternative path for "I can't find it"
      checkup.<platform>.intro.carer         optional: the platform's parental tools

State lives only in slots, so any replica can continue and a crisis reply in between leaves it intact:
``flow`` = "checkup" while a checkup is open, ``checkup_platform``, ``checkup_step`` (index of the step
shown; ``None`` once the checkup ended), ``checkup_done`` / ``checkup_skipped`` (step ids).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import yaml

from actions import content
from actions.base import BeaconAction, Turn
from actions.content import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, store

FLOW = "checkup"
#: The payload of a step's "Done" button: a bot message carrying it is a checkup step (flow interface).
ON_SCREEN_PAYLOAD = "/checkup_done"
CHECKUP_PAYLOAD = '/privacy_checkup{{"platform":"{platform}"}}'
# Aliases this long also match inflected forms ("instagrame", "snapchate"); shorter ones ("insta", not
# "instant") must end the word.
PREFIX_ALIAS_LENGTH = 6
# A step's menu path older than this gets the "menus change; check the help page" caveat (and the content
# check lists it for re-checking).
STALE_AFTER_DAYS = 365
# Longest message we send in one piece (phone screens); longer intros go out as two messages.
MAX_MESSAGE_CHARS = 500


# --------------------------------------------------------------------------------------------------
# Metadata: content/checkups/<platform>.yml


@dataclass(frozen=True)
class Step:
    id: str
    last_checked: dt.date
    source: str
    refs: Tuple[str, ...]
    caveat: bool  # ⚠ fact, or no exact menu path in the facts: add "menus change, see the help page"
    help_url: Optional[str]
    help_official: Optional[bool]


@dataclass(frozen=True)
class Platform:
    id: str
    name: str
    aliases: Tuple[str, ...]
    help_url: str
    help_official: bool
    steps: Tuple[Step, ...]

    def link(self, step: Step) -> Tuple[str, bool]:
        """The help link for ``step`` and whether it is the platform's own (official) page."""
        if step.help_url:
            official = self.help_official if step.help_official is None else step.help_official
            return step.help_url, official
        return self.help_url, self.help_official


def _as_date(value: Union[str, dt.date]) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _load_platform(path: Path) -> Tuple[int, Platform]:
    """``(menu order, platform)`` from one metadata file."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    help_links = raw.get("help") or []
    first = help_links[0] if help_links else {}
    steps = tuple(
        Step(
            id=str(step["id"]),
            last_checked=_as_date(step["last_checked"]),
            source=str(step["source"]),
            refs=tuple(str(ref) for ref in step.get("refs") or ()),
            caveat=bool(step.get("caveat", False)),
            help_url=step.get("help_url"),
            help_official=step.get("help_official"),
        )
        for step in raw.get("steps") or []
    )
    return int(raw.get("order", 100)), Platform(
        id=str(raw.get("id") or path.stem),
        name=str(raw["name"]),
        aliases=tuple(str(alias) for alias in raw.get("aliases") or ()),
        help_url=str(first.get("url") or ""),
        help_official=bool(first.get("official", False)),
        steps=steps,
    )


@lru_cache(maxsize=1)
def _platforms() -> Tuple[Platform, ...]:
    loaded = [_load_platform(path) for path in sorted((content.CONTENT_DIR / "checkups").glob("*.yml"))]
    return tuple(item for _, item in sorted(loaded, key=lambda pair: pair[0]))


def platforms() -> Dict[str, Platform]:
    """Every platform with a checkup, in menu order."""
    return {platform.id: platform for platform in _platforms()}


def platform(platform_id: Optional[str]) -> Optional[Platform]:
    return platforms().get(str(platform_id or "").strip().lower())


class StaleStep(NamedTuple):
    platform: str
    step: str
    last_checked: dt.date
    source: str


def stale_steps(today: Union[str, dt.date, None] = None, max_age_days: int = STALE_AFTER_DAYS) -> List[StaleStep]:
    """Steps whose ``last_checked`` is more than ``max_age_days`` before ``today`` (for the content check).

    Menus change often: a stale step's menu path and source must be re-checked and its date updated.
    """
    day = _as_date(today) if today is not None else _today()
    return [
        StaleStep(item.id, step.id, step.last_checked, step.source)
        for item in platforms().values()
        for step in item.steps
        if (day - step.last_checked).days > max_age_days
    ]


def _today() -> dt.date:
    return dt.date.today()


def needs_caveat(step: Step, today: Optional[dt.date] = None) -> bool:
    """Show "menus change; check the help page" for ⚠ facts, general pointers, and stale steps."""
    return step.caveat or ((today or _today()) - step.last_checked).days > STALE_AFTER_DAYS


# --------------------------------------------------------------------------------------------------
# Free text: which platform, which setting


def normalise(text: str) -> str:
    """Lower-case, accents removed ("privé" → "prive", "ρυθμίσεις" → "ρυθμισεισ"), spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


def _alias_pattern(alias: str) -> re.Pattern[str]:
    word = re.escape(normalise(alias))
    tail = r"\w*" if len(alias) >= PREFIX_ALIAS_LENGTH else r"(?!\w)"
    return re.compile(rf"(?<!\w){word}{tail}")


@lru_cache(maxsize=1)
def _alias_patterns() -> Tuple[Tuple[str, Tuple[re.Pattern[str], ...]], ...]:
    return tuple((item.id, tuple(_alias_pattern(a) for a in (item.id, item.name, *item.aliases)))
                 for item in _platforms())


def detect_platform(text: str) -> Optional[str]:
    """The platform named in ``text`` (the first one mentioned), else ``None``."""
    folded = normalise(text)
    best: Optional[Tuple[int, str]] = None
    for platform_id, patterns in _alias_patterns():
        for pattern in patterns:
            match = pattern.search(folded)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), platform_id)
    return best[1] if best else None


@cache
def _step_keywords(platform_id: str, step_id: str, language: str) -> Tuple[re.Pattern[str], ...]:
    key = f"checkup.{platform_id}.{step_id}.title"
    if not store().has(key, language):
        return ()
    raw = store().raw(key, language).get("keywords") or []
    return tuple(re.compile(normalise(str(pattern))) for pattern in raw)


def _scores(text: str, item: Platform, languages: Sequence[str]) -> List[int]:
    folded = normalise(text)
    return [
        sum(1 for lang in languages for pattern in _step_keywords(item.id, step.id, lang) if pattern.search(folded))
        for step in item.steps
    ]


def _languages_for(language: str) -> Tuple[Tuple[str, ...], ...]:
    """Keyword languages to try: the user's, then all of them (a question in another language)."""
    return ((language,), SUPPORTED_LANGUAGES)


def detect_step(text: str, platform_id: str, language: str) -> Optional[int]:
    """Index of the step of ``platform_id`` that ``text`` asks about (most keyword hits), else ``None``."""
    item = platform(platform_id)
    if item is None or not text or text.startswith("/"):
        return None
    for languages in _languages_for(language):
        scores = _scores(text, item, languages)
        if max(scores, default=0) > 0:
            return scores.index(max(scores))
    return None


def detect_unique_step(text: str, language: str) -> Optional[Tuple[str, int]]:
    """A setting that only one platform has ("ghost mode", "quick add"), when no platform is named."""
    if not text or text.startswith("/"):
        return None
    for languages in _languages_for(language):
        best: List[Tuple[str, int]] = []
        top = 0
        for item in _platforms():
            scores = _scores(text, item, languages)
            score = max(scores, default=0)
            if score > top:
                top, best = score, [(item.id, scores.index(score))]
            elif score == top and score > 0:
                best.append((item.id, scores.index(score)))
        if top > 0:
            return best[0] if len(best) == 1 else None
    return None


# --------------------------------------------------------------------------------------------------
# Progress in slots


def _ids(turn: Turn, slot: str) -> List[str]:
    value = turn.slot(slot)
    return [str(item) for item in value] if isinstance(value, list) else []


def _current(turn: Turn) -> Tuple[Optional[Platform], Optional[int]]:
    item = platform(turn.slot("checkup_platform"))
    raw_index = turn.slot("checkup_step")
    index: Optional[int] = None
    if item is not None and raw_index is not None:
        try:
            index = int(float(raw_index))
        except (TypeError, ValueError):
            index = None
        if index is not None and not 0 <= index < len(item.steps):
            index = None
    return item, index


def _visited(turn: Turn) -> set:
    return set(_ids(turn, "checkup_done")) | set(_ids(turn, "checkup_skipped"))


def _unvisited(turn: Turn, item: Platform, after: int = -1) -> Optional[int]:
    """First step after ``after`` that is neither done nor skipped."""
    seen = _visited(turn)
    for index in range(after + 1, len(item.steps)):
        if item.steps[index].id not in seen:
            return index
    return None


def _remaining(turn: Turn, item: Platform) -> List[Step]:
    seen = _visited(turn)
    return [step for step in item.steps if step.id not in seen]


# --------------------------------------------------------------------------------------------------
# Replies


def _key(item: Platform, step: Step, part: str) -> str:
    return f"checkup.{item.id}.{step.id}.{part}"


def _title(turn: Turn, item: Platform, step: Step) -> str:
    return turn.text_of(_key(item, step, "title"))


def _link_line(turn: Turn, item: Platform, step: Step) -> str:
    url, official = item.link(step)
    key = "checkup.link.official" if official else "checkup.link.guide"
    return turn.text_of(key, platform=item.name, url=url)


def _buttons(turn: Turn, key: str, **values: Any) -> List[Dict[str, str]]:
    return store().render(key, turn.language, **values).buttons


def _split(buttons: List[Dict[str, str]], payload: str) -> Tuple[List[Dict[str, str]], List[Dict[str, str]]]:
    """(buttons with ``payload``, the others), order kept."""
    return [b for b in buttons if b["payload"] == payload], [b for b in buttons if b["payload"] != payload]


def platform_buttons(exclude: Iterable[str] = ()) -> List[Dict[str, str]]:
    """One button per platform (brand names come from the metadata files)."""
    skip = set(exclude)
    return [{"title": item.name, "payload": CHECKUP_PAYLOAD.format(platform=item.id)}
            for item in _platforms() if item.id not in skip]


def _note_key(step: Step) -> str:
    """The closing note of a step's "where" message; it carries the Done / Skip / I can't find it buttons."""
    return "checkup.note.weak" if needs_caveat(step) else "checkup.note.menus"


def step_messages(turn: Turn, item: Platform, index: int, prefix: Optional[str] = None) -> List[str]:
    """The two texts of a step: (1) what and why, (2) where, with the menus note. Each ≤ 500 chars."""
    step = item.steps[index]
    head = [turn.text_of(prefix)] if prefix else []
    head.append(turn.text_of("checkup.step.header", platform=item.name, number=index + 1,
                             total=len(item.steps), title=_title(turn, item, step)))
    what = "\n".join(head) + "\n\n" + turn.text_of(_key(item, step, turn.audience))
    note = turn.text_of(_note_key(step))
    if needs_caveat(step):
        note += "\n" + _link_line(turn, item, step)
    return [what, turn.text_of(_key(item, step, "where")) + "\n\n" + note]


def send_step(turn: Turn, item: Platform, index: int, prefix: Optional[str] = None) -> None:
    """Show step ``index`` and remember it as the current step."""
    what, where = step_messages(turn, item, index, prefix)
    turn.say_text(what)
    turn.say_text(where, _buttons(turn, _note_key(item.steps[index])))
    turn.set("flow", FLOW)
    turn.set("checkup_platform", item.id)
    turn.set("checkup_step", float(index))


def send_picker(turn: Turn, key: Optional[str] = None) -> None:
    """Which app? One button per platform, plus "continue" when a checkup is unfinished."""
    item, _ = _current(turn)
    message = store().render(key or f"checkup.choose.{turn.audience}", turn.language,
                             platform=item.name if item else "")
    resume_buttons, others = _split(message.buttons, "/continue_flow")
    if item is None or not _remaining(turn, item):
        resume_buttons = []
    turn.say_text(message.text, resume_buttons + platform_buttons() + others)
    turn.set("flow", FLOW)


def send_intro(turn: Turn, item: Platform) -> None:
    """How the checkup works, plus the platform's own tools for this audience where there is a text."""
    parts = [turn.text_of(f"checkup.intro.{turn.audience}", platform=item.name, count=len(item.steps))]
    tools = f"checkup.{item.id}.intro.{turn.audience}"
    if store().has(tools, DEFAULT_LANGUAGE):
        parts.append(turn.text_of(tools))
    joined = "\n\n".join(parts)
    for text in [joined] if len(joined) <= MAX_MESSAGE_CHARS else parts:
        turn.say_text(text)


def summary_text(turn: Turn, item: Platform, prefix: Optional[str] = None) -> str:
    """Done, skipped and still-to-do settings by name, then a closing line for the audience."""
    done, skipped = set(_ids(turn, "checkup_done")), set(_ids(turn, "checkup_skipped"))
    groups = (
        ("done", [s for s in item.steps if s.id in done]),
        ("skipped", [s for s in item.steps if s.id in skipped and s.id not in done]),
        ("todo", _remaining(turn, item)),
    )
    lines = [turn.text_of(prefix)] if prefix else []
    lines.append(turn.text_of("checkup.summary.title", platform=item.name))
    for kind, steps in groups:
        if steps:
            names = ", ".join(_title(turn, item, step) for step in steps)
            lines.append(turn.text_of(f"checkup.summary.{kind}", items=names))
    lines.append("")
    lines.append(turn.text_of(f"checkup.summary.end.{turn.audience}"))
    return "\n".join(lines)


def finish(turn: Turn, item: Platform, prefix: Optional[str] = None) -> None:
    """Summary, then "check another app?"; the flow is closed (progress stays for "continue")."""
    turn.say_text(summary_text(turn, item, prefix))
    left = _remaining(turn, item)
    offer = store().render("checkup.another", turn.language, count=len(left))
    rest, others = _split(offer.buttons, "/continue_flow")
    turn.say_text(offer.text, (rest if left else []) + platform_buttons(exclude=[item.id]) + others)
    turn.set("flow", None)
    turn.set("checkup_step", None)


def start(turn: Turn, item: Platform, index: Optional[int] = None) -> None:
    """Open ``item``'s checkup, at step ``index`` when the user asked about one setting."""
    current, current_index = _current(turn)
    if current is not None and current.id == item.id and current_index is not None:
        # Same checkup, still open: keep the progress.
        target = index if index is not None else current_index
        send_step(turn, item, target)
        return
    turn.set("checkup_done", [])
    turn.set("checkup_skipped", [])
    if index is None:
        send_intro(turn, item)
        index = 0
    send_step(turn, item, index)


def record(turn: Turn, outcome: str) -> None:
    """Done or Skip on the current step, then the next open step or the summary."""
    item, index = _current(turn)
    if item is None or index is None:
        send_picker(turn, "checkup.no_open")
        return
    step_id = item.steps[index].id
    done = [s for s in _ids(turn, "checkup_done") if s != step_id]
    skipped = [s for s in _ids(turn, "checkup_skipped") if s != step_id]
    (done if outcome == "done" else skipped).append(step_id)
    turn.set("checkup_done", done)
    turn.set("checkup_skipped", skipped)
    ack = f"checkup.ack.{outcome}"
    following = _unvisited(turn, item, after=index)
    if following is None:
        finish(turn, item, prefix=ack)
    else:
        send_step(turn, item, following, prefix=ack)


def cant_find(turn: Turn) -> None:
    """Help for the current step: an alternative where the facts have one, the help link; stay on the step."""
    item, index = _current(turn)
    if item is None or index is None:
        send_picker(turn, "checkup.no_open")
        return
    step = item.steps[index]
    parts = [turn.text_of("checkup.cant_find")]
    alternative = _key(item, step, "cant_find")
    if store().has(alternative, DEFAULT_LANGUAGE):
        parts.append(turn.text_of(alternative))
    parts.append(_link_line(turn, item, step))
    parts.append(turn.text_of("checkup.cant_find.after"))
    turn.say_text("\n\n".join(parts), _buttons(turn, "checkup.cant_find.after"))
    turn.set("flow", FLOW)


# --------------------------------------------------------------------------------------------------
# Interface used by actions/flow.py


def answer(turn: Turn) -> None:
    """Typed yes / no / not sure on a step: done / skip / I can't find it; without a step, the app choice."""
    item, index = _current(turn)
    if item is None or index is None:
        send_picker(turn)
        return
    if turn.intent == "affirm":
        record(turn, "done")
    elif turn.intent == "deny":
        record(turn, "skip")
    else:
        cant_find(turn)


def resume(turn: Turn) -> None:
    """Continue where the user left off: the current step, else the first one left, else the summary."""
    item, index = _current(turn)
    if item is None:
        send_picker(turn)
        return
    seen = _visited(turn)
    if index is not None and item.steps[index].id not in seen:
        send_step(turn, item, index, prefix="checkup.ack.resume")
        return
    following = _unvisited(turn, item)
    if following is not None:
        send_step(turn, item, following, prefix="checkup.ack.resume")
        return
    finish(turn, item)


# --------------------------------------------------------------------------------------------------
# Actions


class ActionCheckup(BeaconAction):
    """Start a checkup: the app picker, a chosen app, or straight to the setting a question names."""

    def name(self) -> str:
        return "action_checkup"

    def respond(self, turn: Turn) -> None:
        chosen = platform(turn.entity("platform")) or platform(detect_platform(turn.entity("platform") or ""))
        if chosen is None:
            chosen = platform(detect_platform(turn.text))
        if chosen is not None:
            start(turn, chosen, detect_step(turn.text, chosen.id, turn.language))
            return
        current, _ = _current(turn)
        if current is not None and turn.slot("flow") == FLOW:
            index = detect_step(turn.text, current.id, turn.language)
            if index is not None:
                start(turn, current, index)
                return
        unique = detect_unique_step(turn.text, turn.language)
        if unique is not None:
            start(turn, platforms()[unique[0]], unique[1])
            return
        send_picker(turn)


class ActionCheckupStep(BeaconAction):
    """The step buttons: Done, Skip, I can't find it."""

    def name(self) -> str:
        return "action_checkup_step"

    def respond(self, turn: Turn) -> None:
        if turn.intent == "checkup_cant_find":
            cant_find(turn)
        elif turn.intent == "checkup_skip":
            record(turn, "skip")
        else:
            record(turn, "done")


# Edited content files are re-read without a restart (actions.content.refresh); drop the parsed copies.
content.on_reload(_platforms.cache_clear)
content.on_reload(_alias_patterns.cache_clear)
content.on_reload(_step_keywords.cache_clear)
