"""Compare Beacon's NLU pipeline with Rasa's default (``rasa init``) pipeline on the same data.

Trains an NLU-only model with each config (same ``data/``), evaluates them on the held-out sets
(``tests/nlu/``, all held-out sets pooled) and prints macro-F1 per language side by side, plus training time. The
pipeline that wins on the weakest language is the one to keep in ``config.yml``. A third row,
``beacon-logreg``, is Beacon's pipeline with Rasa's ``LogisticRegressionClassifier`` (its classifier until
2026-11-29) in place of ``LinearIntentClassifier``, the baseline that change is measured against.

    .venv/bin/python -m bench.nlu_compare [--epochs 100] [--out bench/nlu_compare.md]

``--epochs`` lowers DIET's epochs when the full 100 do not fit the time available (DIET costs tens of
seconds per epoch on 2 cores with this much data); the report says which value was used.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict

import yaml

from tools import stack
from tools.nlu_eval import evaluate

ROOT = Path(__file__).resolve().parent.parent
# Rasa 3.6's default pipeline (what `rasa init` uses when the pipeline is left empty), plus the safety
# net so both are compared as the server would run them.
DEFAULT_CONFIG = """recipe: default.v1
language: en
assistant_id: beacon-default
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: {epochs}
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: {epochs}
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
  - name: components.safety_net.SafetyNet
policies: []
"""


def logreg_config() -> str:
    """Beacon's config.yml with Rasa's LogisticRegressionClassifier (as configured before) as classifier."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = [
        {"name": "LogisticRegressionClassifier", "max_iter": 200, "solver": "lbfgs", "tol": 0.0001, "random_state": 7}
        if step["name"].endswith("LinearIntentClassifier") else step
        for step in config["pipeline"]
    ]
    config["assistant_id"] = "beacon-logreg"
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def training_examples() -> int:
    """How many intent examples ``data/nlu`` holds (what every pipeline was trained on)."""
    from rasa.shared.nlu.training_data.loading import load_data

    return len(load_data(str(ROOT / "data" / "nlu")).intent_examples)


def train_nlu(config: Path, out: Path, name: str) -> float:
    started = time.monotonic()
    subprocess.run([str(stack.VENV_BIN / "rasa"), "train", "nlu", "--config", str(config), "--nlu", "data/nlu",
                    "--out", str(out), "--fixed-model-name", name], cwd=ROOT, env=stack.environment(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "nlu_compare.md")
    parser.add_argument("--epochs", type=int, default=100, help="DIET/ResponseSelector epochs of the default pipeline")
    args = parser.parse_args()
    results: Dict[str, Dict[str, float]] = {}
    times: Dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "default.yml").write_text(DEFAULT_CONFIG.replace("{epochs}", str(args.epochs)), encoding="utf-8")
        (tmpdir / "logreg.yml").write_text(logreg_config(), encoding="utf-8")
        pipelines = (("beacon", ROOT / "config.yml"), ("beacon-logreg", tmpdir / "logreg.yml"),
                     ("rasa-default", tmpdir / "default.yml"))
        for name, config in pipelines:
            times[name] = train_nlu(config, tmpdir, name)
            scores = asyncio.run(evaluate(tmpdir / f"{name}.tar.gz"))
            results[name] = {lang: score.macro_f1 for lang, score in scores.items()}
            heldout = sum(score.examples for score in scores.values())
            print(f"{name}: trained in {times[name]:.0f} s; " + ", ".join(f"{k} {v:.3f}" for k, v in results[name].items()),
                  flush=True)
    languages = sorted(results["beacon"])
    lines = ["# NLU pipeline comparison (held-out macro-F1)", "",
             f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; rasa-default = the `rasa init` pipeline "
             f"with DIETClassifier at {args.epochs} epochs; beacon-logreg = Beacon's pipeline with Rasa's "
             "LogisticRegressionClassifier; all with Beacon's safety net last. "
             f"Data: {training_examples():,} training examples (`data/nlu`), {heldout:,} held-out sentences "
             "(`tests/nlu/`, all sets pooled); macro-F1 as deployed (after the safety net).", "",
             "| pipeline | training s | " + " | ".join(languages) + " | weakest |",
             "|---|---:|" + "---:|" * len(languages) + "---:|"]
    for name, scores in results.items():
        lines.append(f"| {name} | {times[name]:.0f} | " + " | ".join(f"{scores[lang]:.3f}" for lang in languages)
                     + f" | {min(scores.values()):.3f} |")
    winner = max(results, key=lambda name: min(results[name].values()))
    lines += ["", f"Winner on the weakest language: **{winner}**."]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
