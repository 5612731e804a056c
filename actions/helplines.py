"""Helpline data (``content/helplines/<CC>.yml``) and the choice of which services to show.

Rules from the facts file, applied here once: never show a service without a number or address; show
low-confidence entries only with a "check their website" caveat; in Belgium pick the Dutch- or
French-speaking line by language; where 116 111 is reported not to run (Italy, France) never offer it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from actions import content as content_module

EU = "EU"
# Countries offered as buttons; any other country gets the EU-wide numbers.
OFFERED_COUNTRIES = ("IT", "GR", "LT", "BE", "GB", "FR", "DE", "ES")
# Where one language points to one country, a crisis reply can name that country's lines at once.
COUNTRY_BY_LANGUAGE = {"it": "IT", "el": "GR", "lt": "LT"}
FIRST_PAGE = 3

# Lower rank = shown first. Emergency numbers are shown separately in crisis replies.
_RANK = {
    ("teen", False): ["child_helpline", "online_safety_helpline", "emergency", "police_report",
                      "abuse_report_hotline", "missing_children"],
    ("teen", True): ["emergency", "child_helpline", "online_safety_helpline", "police_report",
                     "missing_children", "abuse_report_hotline"],
    ("carer", False): ["carer_helpline", "child_helpline", "online_safety_helpline", "police_report",
                       "abuse_report_hotline", "emergency", "missing_children"],
    ("carer", True): ["emergency", "carer_helpline", "child_helpline", "police_report", "online_safety_helpline",
                      "abuse_report_hotline", "missing_children"],
}
# Where to report a crime or a missing child. A self-harm reply's first page leaves these out: someone who says
# "I want to die" needs a service that listens (or the emergency services), not a police-report form.
REPORTING_KINDS = ("police_report", "abuse_report_hotline", "missing_children")
_AUDIENCE_TAGS = {"teen": {"children", "under_18", "everyone"}, "carer": {"carers", "adults", "everyone"}}
_CONFIDENCE = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Service:
    """One helpline, reporting channel or tool, as stored in content/helplines."""

    data: Dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def kind(self) -> str:
        return str(self.data.get("kind"))

    @property
    def phone(self) -> Optional[str]:
        return self.data.get("phone") or None

    @property
    def url(self) -> Optional[str]:
        return self.data.get("url") or self.data.get("chat") or None

    @property
    def name(self) -> str:
        return str(self.data.get("short_name") or self.data.get("name"))

    @property
    def low_confidence(self) -> bool:
        return self.data.get("confidence") == "low"

    @property
    def hours_uncertain(self) -> bool:
        return self.data.get("hours_confidence") == "low" or not self.data.get("open_24_7")

    def serves(self, audience: str) -> bool:
        return bool(set(self.data.get("audience") or []) & _AUDIENCE_TAGS[audience])

    def speaks(self, language: str) -> bool:
        languages = self.data.get("languages")
        return not isinstance(languages, list) or language in languages


def helpline_dir() -> Path:
    """``content/helplines``, looked up on each call so a test or a reload can point elsewhere."""
    return content_module.CONTENT_DIR / "helplines"


@cache
def load_country(code: str) -> Dict[str, Any]:
    """The helpline document of ``code`` (``EU`` for the EU-wide numbers)."""
    path = helpline_dir() / f"{code}.yml"
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def known_countries() -> List[str]:
    """Country codes with a helpline file."""
    return sorted(p.stem for p in helpline_dir().glob("*.yml") if p.stem != EU)


def services(country: Optional[str]) -> List[Service]:
    """Every contactable service for ``country``; EU-wide when unknown."""
    code = country if country in known_countries() else EU
    found = [Service(s) for s in load_country(code)["services"]]
    return [s for s in found if s.phone or s.url]


def emergency_number(country: Optional[str]) -> str:
    """The number to call in immediate danger: 999 in the UK, 112 everywhere else in Europe."""
    return "999" if country == "GB" else "112"


def select(
    country: Optional[str], audience: str, language: str, crisis: bool = False, listening_only: bool = False
) -> Tuple[List[Service], List[Service]]:
    """Services for the situation, best first, split into (first page, the rest).

    The emergency number shown in the crisis header is left out of the list so it is not said twice.
    With ``listening_only`` (self-harm), the first page leaves out the ``REPORTING_KINDS``, which move to
    the rest; where nothing else is left, the order is unchanged.
    """
    order = _RANK[(audience, crisis)]
    header_number = emergency_number(country).replace(" ", "")
    code_is_eu = country not in known_countries()
    candidates = []
    for position, service in enumerate(services(country)):
        if service.kind not in order or not service.serves(audience) or not service.speaks(language):
            if not (country == "BE" and language not in ("nl", "fr") and service.serves(audience)
                    and service.kind in order):
                continue  # Belgium: an English speaker gets both language communities' lines
        if crisis and service.phone and service.phone.replace(" ", "") == header_number:
            continue
        if service.id == "fr_114_sms" and audience == "teen" and crisis:
            position += 100  # deaf users' SMS line: in "more", not first
        if code_is_eu:
            candidates.append(((position,), service))  # EU-wide file is already in the order to show
            continue
        rank = (order.index(service.kind), _CONFIDENCE.get(service.data.get("confidence"), 3), position)
        candidates.append((rank, service))
    ranked = [service for _, service in sorted(candidates, key=lambda pair: pair[0])]
    listening = [service for service in ranked if service.kind not in REPORTING_KINDS]
    if listening_only and listening:
        reporting = [service for service in ranked if service.kind in REPORTING_KINDS]
        return listening[:FIRST_PAGE], listening[FIRST_PAGE:] + reporting
    return ranked[:FIRST_PAGE], ranked[FIRST_PAGE:]


def image_removal_tools(country: Optional[str]) -> List[Service]:
    """Image-removal tools for young people in ``country`` (Report Remove only in the UK)."""
    tools = {s["id"]: Service(s) for s in load_country(EU)["image_removal"]}
    wanted = ["report_remove", "take_it_down"] if country == "GB" else ["take_it_down"]
    return [tools[tid] for tid in wanted if tid in tools]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _aliases() -> List[Tuple[re.Pattern[str], str, Optional[str]]]:
    """(pattern, country code, language hint) from content/countries.yml, longest alias first."""
    document = yaml.safe_load((content_module.CONTENT_DIR / "countries.yml").read_text(encoding="utf-8"))
    entries = []
    for code, spec in document["countries"].items():
        for alias in spec.get("aliases", []):
            entries.append((alias, code, None))
        for hint, aliases in (spec.get("regions") or {}).items():
            for alias in aliases:
                entries.append((alias, code, hint))
    entries.sort(key=lambda entry: -len(entry[0]))
    return [(re.compile(r"(?<!\w)" + re.escape(_fold(alias)) + r"(?!\w)"), code, hint) for alias, code, hint in entries]


def country_from_text(text: str) -> Tuple[Optional[str], Optional[str]]:
    """Country named in free text ("I'm in Italy", "in Belgio", "Vlaanderen") and a language hint."""
    folded = _fold(text or "")
    for pattern, code, hint in _aliases():
        if pattern.search(folded):
            return code, hint
    return None, None


def format_service(service: Service, labels: Dict[str, str]) -> str:
    """One service as a short line: name, kind, number, address and any caveat, from content labels."""
    parts = [f"• {service.name} ({labels['kind.' + service.kind]})"]
    if service.phone:
        parts.append(f"📞 {service.phone}")
    if service.url:
        parts.append(f"🌐 {service.url}")
    line = " — ".join(parts)
    notes = []
    if service.data.get("open_24_7"):
        notes.append(labels["open_24_7"])
    if service.low_confidence:
        notes.append(labels["check_website"])
    elif service.hours_uncertain:
        notes.append(labels["check_hours"])
    if notes:
        line += "\n  " + " · ".join(notes)
    return line


def tel_links(items: Sequence[Service]) -> List[Dict[str, str]]:
    """Tap-to-call links for channels that support them (the web widget renders ``tel:``)."""
    return [{"title": f"{s.name}: {s.phone}", "url": "tel:" + re.sub(r"[^\d+]", "", s.phone)}
            for s in items if s.phone]


# Edited content files are re-read without a restart (actions.content.refresh); drop the parsed copies.
content_module.on_reload(load_country.cache_clear)
content_module.on_reload(_aliases.cache_clear)
