"""Build ``content/helplines/<CC>.yml`` from the project's sourced facts file.

Run by a developer or content lead when ``../shared/facts/helplines.yml`` changes:

    .venv/bin/python tools/import_helplines.py [--facts ../shared/facts/helplines.yml] [--checked YYYY-MM-DD]

Each service keeps its source list, its confidence and the date it was checked against the facts file.
Short display names (proper nouns, the same in every language) come from ``SHORT_NAMES`` below when the
facts file's name is a long English description. Nothing here invents a number, address or hour.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any, Dict

import yaml

ROOT = Path(__file__).resolve().parent.parent
KEEP = ("id", "name", "kind", "phone", "url", "chat", "hours_confidence", "audience", "languages",
        "free", "anonymous", "confidence")
# Proper-noun display names; the facts' "name" is kept beside it as the full description.
SHORT_NAMES = {
    "it_telefono_azzurro": "Telefono Azzurro", "it_114": "114 Emergenza Infanzia",
    "it_116000": "116 000 Bambini scomparsi", "it_commissariato_ps_online": "Polizia Postale – Commissariato di P.S. Online",
    "it_youpol": "YOUPOL", "it_stop_it": "Stop-It (Save the Children)", "it_clicca_e_segnala": "Clicca e Segnala (Telefono Azzurro)",
    "it_112": "112", "gb_childline": "Childline", "gb_nspcc_helpline": "NSPCC Helpline", "gb_ceop": "CEOP Safety Centre",
    "gb_iwf": "Internet Watch Foundation", "gb_116000": "Missing People 116 000", "gb_999": "999", "gb_101": "101",
    "gb_revenge_porn_helpline": "Revenge Porn Helpline", "gr_sos_1056": "SOS 1056 – Το Χαμόγελο του Παιδιού",
    "gr_116111": "116 111 – Το Χαμόγελο του Παιδιού", "gr_116000": "116 000 – Το Χαμόγελο του Παιδιού",
    "gr_sic_helpline": "SaferInternet4Kids", "gr_safeline": "SafeLine", "gr_cyber_crime_division": "Δίωξη Ηλεκτρονικού Εγκλήματος",
    "gr_112": "112", "lt_vaiku_linija": "Vaikų linija", "lt_vaiko_teisiu_linija": "Vaiko teisių linija",
    "lt_jaunimo_linija": "Jaunimo linija", "lt_116000": "116 000", "lt_svarus_internetas": "Švarus internetas", "lt_112": "112",
    "be_112": "112", "be_child_focus_116000": "Child Focus 116 000", "be_awel_102": "Awel", "be_ecoute_enfants_103": "Écoute-Enfants",
    "be_police_101": "101", "fr_119": "119 Allô Enfance en Danger", "fr_3018": "3018 e-Enfance", "fr_116000": "116 000 Enfants Disparus",
    "fr_pharos": "PHAROS", "fr_17": "17", "fr_114_sms": "114 (SMS)", "fr_112": "112",
    "de_nummer_gegen_kummer": "Nummer gegen Kummer", "de_elterntelefon": "Elterntelefon",
    "de_hilfetelefon_missbrauch": "Hilfetelefon Sexueller Missbrauch", "de_116000": "116 000 Initiative Vermisste Kinder",
    "de_jugendschutz_net": "jugendschutz.net", "de_internet_beschwerdestelle": "Internet-Beschwerdestelle", "de_110": "110",
    "de_112": "112", "es_anar": "Teléfono ANAR", "es_116111": "116 111 (ANAR)", "es_anar_adultos": "ANAR del Adulto y la Familia",
    "es_116000": "116 000 (ANAR)", "es_incibe_017": "INCIBE 017", "es_incibe_hotline": "INCIBE", "es_112": "112",
    "us_cybertipline": "NCMEC CyberTipline", "us_fbi": "FBI tips", "us_911": "911", "us_988": "988",
    "us_crisis_text_line_thorn": "Crisis Text Line",
    "emergency_112": "112", "missing_children_116000": "116 000", "child_helpline_116111": "116 111",
    "eu_europol_sayno": "Europol #SayNo", "eu_inhope": "INHOPE", "eu_insafe_helplines": "Insafe (Better Internet for Kids)",
    "take_it_down": "Take It Down", "report_remove": "Report Remove", "stopncii": "StopNCII.org",
}
# Numbers that US entries spell with letters are not dialable as digits; they stay out of content.
SKIP_IDS = {"us_fbi"}


def _service(raw: Dict[str, Any], sid: str, checked: str) -> Dict[str, Any]:
    entry = {key: raw[key] for key in KEEP if key in raw}
    entry["id"] = sid
    entry["short_name"] = SHORT_NAMES.get(sid, raw.get("name"))
    # Free-text hours and notes stay in the facts file: the bot only ever says "open 24/7" (when the
    # facts say so with confidence) or "check their website for current hours".
    entry["open_24_7"] = raw.get("hours") == "24/7" and raw.get("hours_confidence") != "low"
    sources = raw.get("source") or []
    entry["source"] = [f"{url} (checked {checked})" for url in ([sources] if isinstance(sources, str) else sources)]
    entry["checked"] = checked
    return entry


def build(facts_path: Path, checked: str) -> Dict[str, Dict[str, Any]]:
    """Return ``{file stem: document}`` for every country plus ``EU``."""
    facts = yaml.safe_load(facts_path.read_text(encoding="utf-8"))
    out: Dict[str, Dict[str, Any]] = {}
    eu = facts["eu_wide"]
    eu_services = [_service(eu[k], k, checked) for k in ("emergency_112", "missing_children_116000", "child_helpline_116111")]
    eu_services += [_service(s, s["id"], checked) for s in eu.get("reporting_and_directories", [])]
    removal = {k: _service(v, k, checked) for k, v in facts["image_removal"].items()}
    for key, tool in removal.items():
        for extra in ("countries", "ages"):
            if extra in facts["image_removal"][key]:
                tool[extra] = facts["image_removal"][key][extra]
    out["EU"] = {
        "country": "EU",
        "note": "EU-wide numbers, shown when the country is unknown or not covered.",
        "child_helpline_116111_not_operational_in": [c["country"] for c in eu["child_helpline_116111"].get("not_operational_in", [])],
        "services": eu_services,
        "image_removal": list(removal.values()),
    }
    for code, country in facts["countries"].items():
        services = [_service(s, s["id"], checked) for s in country["services"] if s["id"] not in SKIP_IDS]
        out[code] = {
            "country": code,
            "name": country["name"],
            "services": services,
            "image_removal": country.get("image_removal", []),
            "gaps": country.get("gaps", []),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, default=ROOT.parent / "shared" / "facts" / "helplines.yml")
    parser.add_argument("--checked", default=dt.date.today().isoformat())
    parser.add_argument("--out", type=Path, default=ROOT / "content" / "helplines")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    header = (
        "# Generated by tools/import_helplines.py from shared/facts/helplines.yml; edit the facts file or\n"
        "# this file, keeping source, checked date and confidence on every entry (make check-content checks).\n"
    )
    for stem, document in build(args.facts, args.checked).items():
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100000)
        (args.out / f"{stem}.yml").write_text(header + text, encoding="utf-8")
        print(f"wrote {args.out / stem}.yml")


if __name__ == "__main__":
    main()
