"""``make report`` (tools/report.py) opened in a real Chromium, as the content lead opens it: from disk.

The report is generated into a temporary folder from the real content and training data, with small
saved NLU results and test-story results (``--nlu-json``, ``--stories``) instead of a trained model, so
the test takes seconds. Asserted: no console errors; self-contained (the only request is the file
itself; any http(s) request is recorded and aborted); every section visible, for all six languages;
no serious or critical axe-core violations. Uses only the ``browser`` fixture: no Beacon server needed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, serious_axe_violations
from tools import report
from tools.check_content import LANGUAGE_NAMES, LANGUAGES, review_queue

ROOT = Path(__file__).resolve().parents[2]
INTENTS = ("greet", "ask_helpline", "ask_warning_signs", "crisis")
FAILED_STORY = "carer asks for helplines in Lithuanian"


def nlu_results() -> Dict[str, Any]:
    """What ``tools.nlu_eval --json`` writes, for the six languages (Dutch below the 0.95 target)."""
    results: Dict[str, Any] = {}
    for number, lang in enumerate(LANGUAGES):
        f1 = 0.91 if lang == "nl" else 0.97 - number * 0.001
        results[lang] = {
            "macro_f1": f1,
            "macro_f1_interval": [f1 - 0.03, min(1.0, f1 + 0.02)],
            "classifier_macro_f1": f1 - 0.02,
            "answered_macro_f1": f1 + 0.004,
            "examples": 120 + number,
            "per_set": {"first": {"macro_f1": f1 + 0.01, "examples": 60}, "second": {"macro_f1": f1 - 0.01, "examples": 60 + number}},
            "per_intent": {intent: {"precision": f1, "recall": f1 - 0.01 * index, "f1": f1 - 0.005 * index, "support": 30}
                           for index, intent in enumerate(INTENTS)},
            "confusions": [{"gold": "ask_helpline", "predicted": "crisis", "count": 3 + number},
                           {"gold": "greet", "predicted": "ask_warning_signs", "count": 1}],
            "errors": [{"text": "who do i call", "gold": "ask_helpline", "predicted": "crisis"}],
        }
    return results


def story_results(folder: Path) -> Path:
    """What ``rasa test core --out`` writes: story_report.json and failed_test_stories.yml (one failure)."""
    folder.mkdir(parents=True)
    actions = {name: {"precision": 1.0, "recall": recall, "f1-score": 2 * recall / (1 + recall), "support": 8}
               for name, recall in (("action_greet", 1.0), ("action_signposting", 0.875), ("action_menu", 1.0))}
    report_json = {**actions, "accuracy": 0.96,
                   "macro avg": {"precision": 1.0, "recall": 0.96, "f1-score": 0.98, "support": 24},
                   "conversation_accuracy": {"accuracy": 0.75, "correct": 3, "with_warnings": 0, "total": 4}}
    (folder / "story_report.json").write_text(json.dumps(report_json), encoding="utf-8")
    (folder / "failed_test_stories.yml").write_text(
        'version: "3.1"\nstories:\n'
        f"- story: {FAILED_STORY} (tests/stories/core.yml)\n"
        "  steps:\n  - intent: ask_helpline\n  - action: action_signposting  # predicted: action_default_fallback\n",
        encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    nlu = folder / "nlu.json"
    nlu.write_text(json.dumps(nlu_results()), encoding="utf-8")
    out = folder / "out" / "content-report.html"
    assert report.main(["--nlu-json", str(nlu), "--stories", str(story_results(folder / "core")), "--out", str(out)]) == 0
    return out


class Opened:
    """A page showing the report, with what the browser requested and complained about."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.requests: List[str] = []
        self.blocked: List[str] = []
        self.errors: List[str] = []


@pytest.fixture
def opened(browser: Any, report_file: Path) -> Iterator[Opened]:
    """The report opened from disk in a fresh context: http(s) requests are recorded and aborted."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    view = Opened(page)

    def block(route: Any) -> None:
        view.blocked.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^https?://"), block)
    page.on("request", lambda request: view.requests.append(request.url))
    page.on("console", lambda message: view.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: view.errors.append(str(error)))
    page.on("requestfailed", lambda request: view.errors.append(f"request failed: {request.url}"))
    page.goto(report_file.as_uri())
    page.wait_for_load_state("load")
    yield view
    context.close()


def section(page: Any, title: str) -> Any:
    """The <section> whose heading is ``title``, asserted visible."""
    heading = page.get_by_role("heading", level=2, name=title)
    expect(heading).to_be_visible()
    return page.locator("section").filter(has=heading)


def open_all_details(page: Any) -> None:
    for summary in page.locator("summary").all():
        summary.click()
    assert page.locator("details:not([open])").count() == 0


def test_renders_self_contained_without_console_errors(opened, report_file):
    page = opened.page
    expect(page).to_have_title("Beacon content report")
    expect(page.get_by_role("heading", level=1, name="Beacon content report")).to_be_visible()
    open_all_details(page)  # nothing hidden inside a <details> may load anything either
    page.wait_for_load_state("networkidle")
    assert opened.errors == [], opened.errors
    assert opened.blocked == [], f"the report must not load anything from the network: {opened.blocked}"
    assert opened.requests == [report_file.as_uri()], opened.requests
    html = report_file.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b|@import|url\(", html, re.IGNORECASE), "no external assets"


def test_coverage_per_language(opened):
    coverage = section(opened.page, "Coverage per language")
    rows = coverage.locator("table").first.locator("tbody tr")
    expect(rows).to_have_count(len(LANGUAGES))
    for lang in LANGUAGES:
        row = rows.filter(has_text=LANGUAGE_NAMES[lang])
        expect(row).to_be_visible()
        expect(row.locator("td").nth(1)).to_have_text(re.compile(r"^\d+ / \d+$"))
    coverage.locator("summary", has_text="Training examples per intent").click()
    grid = coverage.locator("details table")
    expect(grid).to_be_visible()
    expect(grid.locator("thead th")).to_have_text(["Intent", *(LANGUAGE_NAMES[lang] for lang in LANGUAGES)])
    expect(grid.locator("tbody tr").filter(has_text="ask_helpline")).to_be_visible()


def test_nlu_per_language_and_intent_with_confused_pairs(opened):
    nlu = section(opened.page, "NLU quality (held-out split)")
    rows = nlu.locator("table").first.locator("tbody tr")
    expect(rows).to_have_count(len(LANGUAGES))
    for number, lang in enumerate(LANGUAGES):
        row = rows.filter(has_text=LANGUAGE_NAMES[lang])
        expect(row).to_contain_text(f"ask_helpline → crisis ({3 + number})")
        expect(row).to_contain_text("greet → ask_warning_signs (1)")
    expect(rows.filter(has_text="Dutch")).to_contain_text("0.910 (0.88–0.93)")  # with its likely range
    expect(rows.filter(has_text="Dutch")).to_contain_text("0.914")  # as answered
    expect(rows.filter(has_text="Dutch")).to_contain_text("first set 0.920 on 60; second set 0.900 on 64")
    expect(rows.filter(has_text="Dutch")).to_contain_text("0.890")  # classifier alone
    expect(nlu).to_contain_text("likely range")
    expect(rows.filter(has_text="Dutch")).to_have_class("bad")  # below the 0.95 target
    expect(rows.filter(has_text="English")).to_have_class("ok")
    for lang in LANGUAGES:
        nlu.locator("summary", has_text=f"{LANGUAGE_NAMES[lang]}: per intent").click()
        per_intent = nlu.locator("details", has_text=f"{LANGUAGE_NAMES[lang]}: per intent").locator("table")
        expect(per_intent).to_be_visible()
        expect(per_intent.locator("tbody tr")).to_have_count(len(INTENTS))
        expect(per_intent.locator("tbody tr").first.locator("td").first).to_have_text("crisis")  # weakest first
        expect(per_intent.locator("tbody tr").filter(has_text="ask_helpline")).to_contain_text(f"crisis ({3 + LANGUAGES.index(lang)})")


def test_story_results(opened):
    stories = section(opened.page, "Test stories")
    expect(stories.get_by_text("3 of 4 test stories passed")).to_be_visible()
    expect(stories.get_by_role("listitem").filter(has_text=FAILED_STORY)).to_be_visible()
    stories.locator("summary", has_text="Predicted actions").click()
    expect(stories.locator("tbody tr").filter(has_text="action_signposting")).to_have_class("bad")


def test_review_queue(opened):
    review = section(opened.page, "Text awaiting native review")
    queue = review_queue()
    assert queue, "the real content has translations awaiting review"
    for lang, count in queue.items():
        expect(review.locator("p").first).to_contain_text(f"{LANGUAGE_NAMES[lang]}: {count}")
    review.locator("summary").click()
    expect(review.locator("tbody tr")).to_have_count(sum(queue.values()))
    expect(review.locator("tbody tr").first.locator("td").nth(2)).to_have_text(re.compile(r"^content/\w+/\w+\.yml:\d+$"))


def test_helplines_by_confidence_and_age(opened):
    helplines = section(opened.page, "Helplines by confidence and age")
    expect(helplines.locator("p").first).to_contain_text(re.compile(r"(high|medium|low): \d+"))
    expect(helplines.get_by_text(re.compile(r"^Last checked: .*ago: \d+"))).to_be_visible()
    rows = helplines.locator("tbody tr")
    countries = sorted(path.stem for path in (ROOT / "content" / "helplines").glob("*.yml"))
    for country in countries:
        expect(rows.filter(has_text=re.compile(rf"^{country}")).first).to_be_visible()
    expect(rows.first.locator("td").nth(4)).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2} \(\d+ days\)$"))
    expect(section(opened.page, "Content check").locator("table, p").first).to_be_visible()


def test_axe_finds_no_serious_violations(opened):
    page = opened.page
    open_all_details(page)
    serious = serious_axe_violations(page)
    assert not serious, json.dumps(serious, indent=2)
    assert opened.errors == [], opened.errors


def test_without_model_or_story_results_the_page_says_so(browser, tmp_path):
    out = tmp_path / "report.html"
    assert report.main(["--no-nlu", "--stories", str(tmp_path / "none"), "--out", str(out)]) == 0
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: List[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(out.as_uri())
        expect(section(page, "NLU quality (held-out split)")).to_contain_text("No NLU evaluation in this report")
        expect(section(page, "Test stories")).to_contain_text("No test-story results yet")
        assert errors == []
    finally:
        context.close()
