"""Helpline data and selection: sources, dates, confidence, country rules, never-invented numbers."""

import re
from pathlib import Path

import pytest
import yaml

from actions import helplines
from actions.helplines import OFFERED_COUNTRIES, REPORTING_KINDS, select
from actions.safety import ActionCrisis
from tests.helpers import run, tracker

FACTS = Path(__file__).resolve().parents[2].parent / "shared" / "facts" / "helplines.yml"


def _all_services():
    for code in helplines.known_countries() + ["EU"]:
        document = helplines.load_country(code)
        for service in document["services"] + document.get("image_removal", [])[:0]:
            yield code, service
    for tool in helplines.load_country("EU")["image_removal"]:
        yield "EU", tool


def test_every_entry_has_source_date_and_confidence():
    for code, service in _all_services():
        assert service.get("source"), f"{code}:{service['id']} has no source"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(service.get("checked"))), f"{code}:{service['id']} no date"
        assert service.get("confidence") in ("high", "medium", "low"), f"{code}:{service['id']}"
        for source in service["source"]:
            assert "(checked " in source, f"{code}:{service['id']} source without its check date"


def test_every_number_exists_in_the_facts_file():
    if not FACTS.exists():
        pytest.skip("shared facts file not present in this checkout")
    known = {re.sub(r"\D", "", m) for m in re.findall(r'phone:\s*"([^"]+)"', FACTS.read_text(encoding="utf-8"))}
    for code, service in _all_services():
        if service.get("phone"):
            assert re.sub(r"\D", "", service["phone"]) in known, f"{code}:{service['id']} {service['phone']}"


def _numbers(items):
    return [s.phone.replace(" ", "") for s in items if s.phone]


def test_italy_teen_crisis_lists_child_lines_and_never_116111():
    first, rest = helplines.select("IT", "teen", "it", crisis=True)
    assert "19696" in _numbers(first)
    assert "116111" not in _numbers(first + rest)


def test_france_never_offers_116111():
    first, rest = helplines.select("FR", "teen", "fr")
    assert "116111" not in _numbers(first + rest)
    assert "119" in _numbers(first) or "3018" in _numbers(first)


def test_belgium_splits_by_language_community():
    nl_first, nl_rest = helplines.select("BE", "teen", "nl")
    fr_first, fr_rest = helplines.select("BE", "teen", "fr")
    assert "102" in _numbers(nl_first) and "103" not in _numbers(nl_first + nl_rest)
    assert "103" in _numbers(fr_first) and "102" not in _numbers(fr_first + fr_rest)
    en_first, en_rest = helplines.select("BE", "teen", "en")
    assert {"102", "103"} <= set(_numbers(en_first + en_rest))


def test_uk_carer_gets_nspcc_first_and_999_as_emergency():
    first, _ = helplines.select("GB", "carer", "en")
    assert _numbers(first)[0] == "08088005000"
    assert helplines.emergency_number("GB") == "999"
    assert helplines.emergency_number("IT") == "112"


def test_unknown_country_gets_eu_wide_numbers():
    first, rest = helplines.select(None, "teen", "en")
    numbers = _numbers(first + rest)
    assert "116111" in numbers and "116000" in numbers


def test_first_page_has_at_most_three():
    for code in helplines.known_countries():
        for audience in ("teen", "carer"):
            first, _ = helplines.select(code, audience, "en")
            assert len(first) <= 3


def test_low_confidence_entries_carry_a_caveat():
    labels = {"open_24_7": "24/7", "check_website": "CHECK-WEBSITE", "check_hours": "CHECK-HOURS"}
    labels.update({f"kind.{k}": k for k in ("emergency", "child_helpline", "carer_helpline", "missing_children",
                                            "online_safety_helpline", "abuse_report_hotline", "police_report")})
    for code in helplines.known_countries():
        for service in helplines.services(code):
            line = helplines.format_service(service, labels)
            if service.low_confidence:
                assert "CHECK-WEBSITE" in line, service.id
            if service.data.get("hours_confidence") == "low":
                assert "CHECK-WEBSITE" in line or "CHECK-HOURS" in line, service.id


@pytest.mark.parametrize("text,code,hint", [
    ("I'm in Italy", "IT", None), ("sono in Belgio", "BE", None), ("hulplijn in Vlaanderen", "BE", "nl"),
    ("numéro pour la Belgique francophone", "BE", "fr"), ("which number can a kid call in Greece?", "GR", None),
    ("vaikų linijos numeris Lietuvoje", "LT", None), ("I'm a worried parent in England", "GB", None),
    ("ζω στην Ελλάδα", "GR", None), ("I like pizza", None, None), ("speak italian please", None, None),
])
def test_country_from_text(text, code, hint):
    assert helplines.country_from_text(text) == (code, hint)


def test_generated_files_match_the_importer():
    """content/helplines was produced by tools/import_helplines.py; a hand edit must keep its fields."""
    for path in sorted(helplines.helpline_dir().glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert document["country"] == path.stem


@pytest.mark.parametrize("country", [*OFFERED_COUNTRIES, None])
@pytest.mark.parametrize("audience", ["teen", "carer"])
def test_a_self_harm_reply_names_no_reporting_line_first_and_loses_none(country, audience):
    """"I want to die" is answered with services that listen, not a police-report form or 116 000."""
    first, rest = select(country, audience, "en", crisis=True, listening_only=True)
    assert first and not [s.id for s in first if s.kind in REPORTING_KINDS]
    plain_first, plain_rest = select(country, audience, "en", crisis=True)
    assert {s.id for s in first + rest} == {s.id for s in plain_first + plain_rest}


def test_a_self_harm_reply_without_a_country_leads_with_116_111_not_europol():
    track = tracker("x", "crisis", slots={"audience": "teen"}, entities=[{"entity": "crisis_type", "value": "self_harm"}])
    helpline_block = [m["text"] for m in run(ActionCrisis(), track)[0] if "116 111" in (m.get("text") or "")]
    assert helpline_block and "Europol" not in helpline_block[0] and "116 000" not in helpline_block[0]
