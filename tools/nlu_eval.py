"""NLU quality on the held-out split (``tests/nlu/``): macro-F1 per language and per intent.

Three held-out sets, written at different times by different writers who never saw the training data:
``tests/nlu/<lang>.yml`` (the first, ~9 sentences per intent), ``tests/nlu/second/<lang>.yml`` (12 per
intent) and ``tests/nlu/third/<lang>.yml`` (10 per intent; first measured before any decision looked at it,
its Greek figure then prompted the Greeklish training data). The headline figures pool them; each set's own
figure is printed beside them, so a change can be checked on each. The held-out sentences never appear in
``data/``; the evaluation parses them with a trained model
(``Agent.parse_message``, the same NLU + safety net the server runs) and compares the final intent.
Three scores per language: *as deployed* (after the safety net, which deliberately escalates some
questions such as "what do I do if someone has my nudes and wants money" to ``crisis``), *as answered*
(the same, but a sextortion question escalated to the sextortion crisis reply counts as answered: that
reply carries the same steps, removal services and helplines as the lesson, plus the emergency number),
and *classifier* (the intent the classifier gave before the net stepped in).

    .venv/bin/python -m tools.nlu_eval [--model models/x.tar.gz] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from components.safety_net import SAFETY_NET_KEY

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "tests" / "nlu"
# Set name -> file of a language; a language is evaluated on every set that has a file for it.
HELDOUT_SETS = {"first": "{language}.yml", "second": "second/{language}.yml", "third": "third/{language}.yml"}
# (gold intent, safety-net category) pairs whose crisis reply contains everything the intent's own reply
# gives (ActionCrisis sends the sextortion steps and removal services for the sextortion category).
INTENDED_ESCALATIONS = {("ask_sextortion", "sextortion")}


@contextlib.contextmanager
def quiet_parse_log() -> Iterator[None]:
    """Keep Rasa's debug log, which prints every parsed text, quiet while held-out sets are parsed.

    Held-out sentences must not reach anyone's screen (or the eyes of whoever writes training data next):
    only the figures are shown.
    """
    import structlog

    previous = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        yield
    finally:
        structlog.configure(**previous)


def as_answered(gold: str, final: str, category: Optional[str]) -> str:
    """The intent whose content the user received: an intended escalation counts as ``gold``."""
    return gold if final == "crisis" and (gold, category) in INTENDED_ESCALATIONS else final


@dataclass
class LanguageScore:
    """Per-intent precision, recall and F1 for one language, plus the most confused pairs."""

    language: str
    per_intent: Dict[str, Tuple[float, float, float, int]] = field(default_factory=dict)
    confusions: List[Tuple[str, str, int]] = field(default_factory=list)
    examples: int = 0
    errors: List[Tuple[str, str, str]] = field(default_factory=list)
    classifier: Optional["LanguageScore"] = None  # the same examples scored before the safety net
    answered: Optional["LanguageScore"] = None  # as deployed, intended escalations counted as answered
    interval: Tuple[float, float] = (0.0, 0.0)  # bootstrap 95 % interval of macro_f1
    per_set: Dict[str, Tuple[float, int]] = field(default_factory=dict)  # set -> (macro-F1 as deployed, examples)

    @property
    def macro_f1(self) -> float:
        scores = [f1 for _, _, f1, support in self.per_intent.values() if support]
        return sum(scores) / len(scores) if scores else 0.0


def heldout_files(language: str, sets: Optional[List[str]] = None) -> Dict[str, Path]:
    """The held-out file of each set (all by default) that exists for ``language``."""
    files = {name: HELDOUT / pattern.format(language=language) for name, pattern in HELDOUT_SETS.items()
             if sets is None or name in sets}
    return {name: path for name, path in files.items() if path.exists()}


def _pairs(path: Path) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def per_intent_scores(gold: List[str], predicted: List[str]) -> Dict[str, Tuple[float, float, float, int]]:
    """Precision, recall, F1 and support of every intent present in ``gold``."""
    gold_counts, pred_counts = Counter(gold), Counter(predicted)
    correct = Counter(g for g, p in zip(gold, predicted, strict=True) if g == p)
    scores = {}
    for intent in sorted(gold_counts):
        precision = correct[intent] / pred_counts[intent] if pred_counts[intent] else 0.0
        recall = correct[intent] / gold_counts[intent]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[intent] = (precision, recall, f1, gold_counts[intent])
    return scores


def macro_f1(gold: List[str], predicted: List[str]) -> float:
    """Mean F1 over the intents present in ``gold`` (a prediction like ``nlu_fallback`` only costs)."""
    scores = per_intent_scores(gold, predicted)
    return sum(f1 for _, _, f1, _ in scores.values()) / len(scores) if scores else 0.0


def bootstrap_interval(gold: List[str], predicted: List[str], rounds: int = 1000,
                       seed: int = 0) -> Tuple[float, float]:
    """95 % bootstrap interval of the macro-F1: how much the figure moves with which examples were drawn.

    With ~10 held-out examples per intent one error moves an intent's F1 by ~0.05, so a language's
    macro-F1 is only known to about ±0.02; the interval says how far apart two figures must be to differ.
    """
    if not gold:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(gold)
    samples = []
    for _ in range(rounds):
        picks = [rng.randrange(n) for _ in range(n)]
        samples.append(macro_f1([gold[i] for i in picks], [predicted[i] for i in picks]))
    samples.sort()
    return (samples[int(0.025 * rounds)], samples[min(rounds - 1, int(0.975 * rounds))])


def score(language: str, pairs: List[Tuple[str, str]], predicted: List[str]) -> LanguageScore:
    """Compute per-intent P/R/F1, the most confused pairs and the bootstrap interval."""
    result = LanguageScore(language, examples=len(pairs))
    gold = [g for _, g in pairs]
    pairs_confused: Counter = Counter()
    for (text, expected), pred in zip(pairs, predicted, strict=True):
        if expected != pred:
            pairs_confused[(expected, pred)] += 1
            result.errors.append((text, expected, pred))
    result.per_intent = per_intent_scores(gold, list(predicted))
    result.confusions = [(g, p, n) for (g, p), n in pairs_confused.most_common(10)]
    result.interval = bootstrap_interval(gold, list(predicted))
    return result


async def evaluate(model: Path, languages: Optional[List[str]] = None) -> Dict[str, LanguageScore]:
    """Parse every held-out example with ``model`` and score each language."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    results: Dict[str, LanguageScore] = {}
    with quiet_parse_log():
        for language in _languages(languages):
            results[language] = await _evaluate_language(agent, language)
    return results


def _languages(wanted: Optional[List[str]]) -> List[str]:
    found = {p.stem for p in HELDOUT.glob("*.yml")} | {p.stem for p in HELDOUT.glob("*/*.yml")}
    return [language for language in sorted(found) if not wanted or language in wanted]


async def _evaluate_language(agent: Any, language: str) -> LanguageScore:
    pairs: List[Tuple[str, str]] = []
    predicted, classified, answered = [], [], []
    sizes: Dict[str, int] = {}
    for name, path in heldout_files(language).items():
        subset = _pairs(path)
        sizes[name] = len(subset)
        pairs += subset
        for text, gold in subset:
            parsed = await agent.parse_message(text)
            final = (parsed.get("intent") or {}).get("name") or ""
            net = parsed.get(SAFETY_NET_KEY) or {}
            predicted.append(final)
            classified.append(net.get("classifier_intent") or final)
            answered.append(as_answered(gold, final, net.get("category")))
    result = score(language, pairs, predicted)
    result.classifier = score(language, pairs, classified)
    result.answered = score(language, pairs, answered)
    start = 0
    for name, size in sizes.items():
        part = pairs[start:start + size]
        result.per_set[name] = (score(language, part, predicted[start:start + size]).macro_f1, size)
        start += size
    return result


def as_json(results: Dict[str, LanguageScore]) -> Dict[str, object]:
    return {
        lang: {"macro_f1": r.macro_f1, "examples": r.examples,
               "macro_f1_interval": list(r.interval),
               "classifier_macro_f1": r.classifier.macro_f1 if r.classifier else None,
               "answered_macro_f1": r.answered.macro_f1 if r.answered else None,
               "per_set": {name: {"macro_f1": f1, "examples": n} for name, (f1, n) in r.per_set.items()},
               "per_intent": {i: {"precision": p, "recall": rc, "f1": f, "support": s}
                              for i, (p, rc, f, s) in r.per_intent.items()},
               "confusions": [{"gold": g, "predicted": p, "count": n} for g, p, n in r.confusions],
               "errors": [{"text": t, "gold": g, "predicted": p} for t, g, p in r.errors]}
        for lang, r in results.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.model is None:
        from tools.stack import ensure_model

        args.model = ensure_model(quiet=True)
    elif not args.model.is_file():
        # Rasa would silently load the newest model in that folder instead: a wrong figure, not an error.
        parser.error(f"no model file at {args.model}")
    results = asyncio.run(evaluate(args.model))
    for lang, result in results.items():
        worst = sorted(result.per_intent.items(), key=lambda item: item[1][2])[:3]
        others = (f"; as answered {result.answered.macro_f1:.3f}" if result.answered else "") + (
            f"; classifier alone {result.classifier.macro_f1:.3f}" if result.classifier else "")
        low, high = result.interval
        print(f"{lang}: macro-F1 {result.macro_f1:.3f} (95 % interval {low:.3f}–{high:.3f}){others} "
              f"on {result.examples} held-out examples "
              f"({', '.join(f'{name} set {f1:.3f} on {n}' for name, (f1, n) in result.per_set.items())}); "
              f"weakest: {', '.join(f'{i} {v[2]:.2f}' for i, v in worst)}")
        for gold, pred, count in result.confusions[:3]:
            print(f"    {gold} → {pred}: {count}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(as_json(results), ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
