"""``make report``: one self-contained HTML page for the content lead (``reports/content-report.html``).

Sections: coverage per language (content keys, training examples per intent), NLU quality per language
and intent on the held-out split with the most confused pairs, test-story results (from the last
``rasa test`` in ``results/core``), text awaiting native review, helpline entries by confidence and age,
and the content check's findings. No external assets: it opens from disk in any browser.

    .venv/bin/python -m tools.report [--no-nlu | --nlu-json FILE] [--stories DIR] [--out FILE]

By default the NLU section evaluates the current model (trained first if needed). ``--nlu-json`` uses
saved results instead (the file ``tools.nlu_eval --json`` writes), e.g. from CI or for the tests;
``--stories`` reads the test-story results from another folder than ``results/core``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import html
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml

from tools.check_content import LANGUAGE_NAMES, LANGUAGES, Checker, parse_date

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "reports" / "content-report.html"
STORIES = ROOT / "results" / "core"
STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#1b1b1b;padding:0 1rem}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:2px solid #2b5797;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0;width:100%}th,td{border:1px solid #c8c8c8;padding:.3rem .5rem;text-align:left}
th{background:#eef2f8}td.num{text-align:right}.bad{background:#fde2e1}.warn{background:#fff4ce}.ok{background:#e3f4e1}
code{background:#f3f3f3;padding:0 .2rem}.small{color:#555;font-size:.9rem}
"""


def esc(value: object) -> str:
    return html.escape(str(value))


def table(headers: List[str], rows: List[List[str]], classes: Optional[List[str]] = None) -> str:
    head = "".join(f"<th scope='col'>{esc(h)}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        css = f" class='{classes[index]}'" if classes and classes[index] else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def nlu_counts() -> Dict[str, Counter]:
    """Training examples per intent per language, read from data/nlu/<lang>/."""
    counts: Dict[str, Counter] = {}
    for lang in LANGUAGES:
        counter: Counter = Counter()
        for path in sorted((ROOT / "data" / "nlu" / lang).glob("*.yml")):
            for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
                if "intent" in block:
                    counter[block["intent"]] += sum(1 for line in str(block.get("examples", "")).splitlines()
                                                    if line.strip().startswith("- "))
        counts[lang] = counter
    return counts


def section_coverage(checker: Checker) -> str:
    english = len(checker.messages["en"])
    rows, classes = [], []
    counts = nlu_counts()
    intents = sorted(set().union(*[set(c) for c in counts.values()]))
    for lang in LANGUAGES:
        have = len([k for k in checker.messages[lang] if k in checker.messages["en"]])
        low = [i for i in intents if counts[lang][i] < 25]
        rows.append([esc(LANGUAGE_NAMES[lang]), f"{have} / {english}", str(sum(counts[lang].values())),
                     esc(", ".join(low) or "none")])
        classes.append("ok" if have == english and not low else "warn")
    out = table(["Language", "Content keys (of English)", "Training examples", "Intents under 25 examples"], rows, classes)
    grid = [[esc(i)] + [str(counts[lang][i]) for lang in LANGUAGES] for i in intents]
    out += "<details><summary>Training examples per intent</summary>"
    out += table(["Intent"] + [LANGUAGE_NAMES[lang] for lang in LANGUAGES], grid) + "</details>"
    return out


def section_nlu(nlu: Optional[Dict[str, dict]]) -> str:
    if not nlu:
        return "<p>No NLU evaluation in this report (run <code>make report</code> with a trained model).</p>"
    rows, classes = [], []
    with_classifier = any(data.get("classifier_macro_f1") is not None for data in nlu.values())
    for lang, data in nlu.items():
        f1 = data["macro_f1"]
        confused = "; ".join(f"{esc(c['gold'])} → {esc(c['predicted'])} ({c['count']})" for c in data["confusions"][:3])
        interval = data.get("macro_f1_interval")
        shown = f"{f1:.3f}" + (f" ({interval[0]:.2f}–{interval[1]:.2f})" if interval else "")
        sets = "; ".join(f"{esc(name)} set {v['macro_f1']:.3f} on {v['examples']}"
                         for name, v in (data.get("per_set") or {}).items())
        examples = str(data["examples"]) + (f" ({sets})" if sets else "")
        row = [esc(LANGUAGE_NAMES.get(lang, lang)), shown, examples, confused or "none"]
        if with_classifier:
            row[2:2] = [f"{data[key]:.3f}" if data.get(key) is not None else "–"
                        for key in ("answered_macro_f1", "classifier_macro_f1")]
        rows.append(row)
        classes.append("ok" if f1 >= 0.95 else "bad")
    headers = ["Language", "Macro-F1 (target ≥ 0.95) and likely range", "Held-out examples (each set's own macro-F1)",
               "Most confused (gold → predicted)"]
    if with_classifier:
        headers[2:2] = ["As answered (a sextortion question given the sextortion crisis reply counts)",
                        "Classifier alone (before the safety net)"]
    out = table(headers, rows, classes)
    if any(data.get("macro_f1_interval") for data in nlu.values()):
        out += ("<p>The likely range in brackets is where the figure would land with another draw of test sentences "
                "(bootstrap, 95 %). Two figures whose ranges overlap may not really differ.</p>")
    for lang, data in nlu.items():
        mistaken: Dict[str, List[str]] = {}
        for c in data["confusions"]:
            mistaken.setdefault(c["gold"], []).append(f"{esc(c['predicted'])} ({c['count']})")
        intent_rows = [[esc(i), f"{v['precision']:.2f}", f"{v['recall']:.2f}", f"{v['f1']:.2f}", str(v["support"]),
                        "; ".join(mistaken.get(i, [])[:2]) or "–"]
                       for i, v in sorted(data["per_intent"].items(), key=lambda item: item[1]["f1"])]
        out += f"<details><summary>{esc(LANGUAGE_NAMES.get(lang, lang))}: per intent</summary>"
        out += table(["Intent", "Precision", "Recall", "F1", "Examples", "Most often mistaken for"], intent_rows) + "</details>"
    return out


def failed_story_names(failed: Path) -> List[str]:
    """Names of the stories in Rasa's ``failed_test_stories.yml`` (empty when none failed)."""
    if not failed.exists():
        return []
    try:
        document = yaml.safe_load(failed.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return ["(unreadable failed_test_stories.yml)"]
    stories = document.get("stories") if isinstance(document, dict) else None
    return [str(s.get("story", "?")) for s in stories or [] if isinstance(s, dict)]


def section_stories(stories: Path = STORIES) -> str:
    report = stories / "story_report.json"
    failed = stories / "failed_test_stories.yml"
    where = esc(stories.relative_to(ROOT) if stories.is_relative_to(ROOT) else stories)
    if not report.exists():
        return f"<p>No test-story results yet: <code>make test</code> writes them to <code>{where}</code>.</p>"
    data = json.loads(report.read_text(encoding="utf-8"))
    out = ""
    conversations = data.get("conversation_accuracy")
    names = failed_story_names(failed)
    if isinstance(conversations, dict) and conversations.get("total"):
        total, correct = int(conversations["total"]), int(conversations.get("correct", 0))
        css = "ok" if correct == total and not names else "bad"
        out += f"<p class='{css}'><strong>{correct} of {total} test stories passed</strong>.</p>"
    if names:
        out += (f"<p class='bad'>Failed test stories (details in <code>{where}/failed_test_stories.yml</code>):</p><ul>"
                + "".join(f"<li>{esc(name)}</li>" for name in names) + "</ul>")
    else:
        out += "<p class='ok'>All test stories passed.</p>"
    summary = {k: v for k, v in data.items() if isinstance(v, dict) and "f1-score" in v}
    rows = [[esc(name), f"{v.get('precision', 0):.2f}", f"{v.get('recall', 0):.2f}", str(v.get("support", ""))]
            for name, v in sorted(summary.items())]
    classes = ["" if v.get("f1-score", 0) >= 1 else "bad" for _, v in sorted(summary.items())]
    out += "<details><summary>Predicted actions</summary>" + table(["Action", "Precision", "Recall", "Support"], rows, classes)
    return out + "</details>"


def section_review(checker: Checker) -> str:
    rows = []
    for lang in LANGUAGES:
        for key, (entry, path, line) in sorted(checker.messages[lang].items()):
            if entry.get("review"):
                rows.append([esc(LANGUAGE_NAMES[lang]), f"<code>{esc(key)}</code>", f"{esc(path.relative_to(ROOT))}:{line}",
                             esc(str(entry.get("text", ""))[:140])])
    counts = Counter(r[0] for r in rows)
    head = "<p>" + ", ".join(f"{lang}: {n}" for lang, n in counts.items()) + "</p>" if rows else "<p>Nothing awaits review.</p>"
    return head + (f"<details><summary>All {len(rows)} messages</summary>" + table(["Language", "Key", "Where", "Text"], rows)
                   + "</details>" if rows else "")


def section_helplines(today: dt.date, root: Path = ROOT) -> str:
    rows, classes, ages = [], [], []
    for path in sorted((root / "content" / "helplines").glob("*.yml")):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            continue  # the content check lists the broken file
        for service in document.get("services") or []:
            checked = parse_date(service.get("checked"))
            age = (today - checked).days if checked else None
            if age is not None:
                ages.append(age)
            rows.append([esc(path.stem), esc(service.get("short_name") or service.get("name")), esc(service.get("phone") or ""),
                         esc(service.get("confidence") or "missing"),
                         f"{checked} ({age} days)" if checked else "missing", str(len(service.get("source") or []))])
            classes.append("bad" if service.get("confidence") not in ("high", "medium") or age is None or age > 365 else
                           "warn" if service.get("hours_confidence") == "low" else "")
    by_conf = Counter(r[3] for r in rows)
    head = "<p>" + ", ".join(f"{k}: {v}" for k, v in sorted(by_conf.items())) + " (low confidence is shown with a caveat)</p>"
    buckets = Counter("under 6 months" if a < 183 else "6–12 months" if a <= 365 else "over 12 months" for a in ages)
    if buckets:
        head += "<p>Last checked: " + ", ".join(f"{name} ago: {buckets[name]}" for name in
                                                 ("under 6 months", "6–12 months", "over 12 months") if buckets[name]) + ".</p>"
    return head + table(["Country", "Service", "Phone", "Confidence", "Checked", "Sources"], rows, classes)


def section_checks(checker: Checker) -> str:
    if not checker.problems:
        return "<p class='ok'>No problems found.</p>"
    rows = [[esc(p.level), esc(p.where), esc(p.what), esc(p.todo)] for p in checker.problems]
    return table(["Level", "Where", "What", "What to do"], rows, ["bad" if p.level == "ERROR" else "warn" for p in checker.problems])


def build(nlu: Optional[Dict[str, dict]], today: Optional[dt.date] = None, stories: Path = STORIES) -> str:
    """The whole report as one HTML string; ``stories`` is the folder of ``rasa test core --out``."""
    today = today or dt.date.today()
    checker = Checker(today)
    checker.run()
    sections = [
        ("Coverage per language", section_coverage(checker)),
        ("NLU quality (held-out split)", section_nlu(nlu)),
        ("Test stories", section_stories(stories)),
        ("Text awaiting native review", section_review(checker)),
        ("Helplines by confidence and age", section_helplines(today)),
        ("Content check", section_checks(checker)),
    ]
    body = "".join(f"<section><h2>{esc(title)}</h2>{content}</section>" for title, content in sections)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Beacon content report</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head>"
            f"<body><main><h1>Beacon content report</h1><p class='small'>Generated {esc(today)}.</p>{body}</main></body></html>")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--no-nlu", action="store_true", help="skip the NLU evaluation (no model needed)")
    source.add_argument("--nlu-json", type=Path, help="use saved NLU results (written by tools.nlu_eval --json) instead of a model")
    parser.add_argument("--stories", type=Path, default=STORIES, help="folder with the test-story results (rasa test core --out)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    nlu = None
    if args.nlu_json:
        nlu = json.loads(args.nlu_json.read_text(encoding="utf-8"))
    elif not args.no_nlu:
        from tools.nlu_eval import as_json, evaluate
        from tools.stack import ensure_model

        nlu = as_json(asyncio.run(evaluate(ensure_model(quiet=True))))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(build(nlu, stories=args.stories), encoding="utf-8")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
