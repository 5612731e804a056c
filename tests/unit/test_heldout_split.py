"""The held-out NLU sets stay apart from the training data (issue #8), without printing their sentences.

A held-out sentence that also appears in ``data/nlu`` (compared case-, punctuation- and space-blind) would
be scored as if the model had generalised to it. Failures name the file and the number of sentences only:
listing held-out sentences invites fixing the training data with them, which spoils the figure.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Set

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from tools.nlu_eval import HELDOUT_SETS, heldout_files

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("en", "it", "el", "lt", "nl", "fr")


def comparable(text: str) -> str:
    """Case-, punctuation- and whitespace-blind form of a sentence."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@pytest.fixture(scope="module")
def training() -> Set[str]:
    return {comparable(m.get("text")) for lang in LANGUAGES
            for m in load_data(str(ROOT / "data" / "nlu" / lang)).intent_examples}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_held_out_set_exists_for_every_language(language: str) -> None:
    assert sorted(heldout_files(language)) == sorted(HELDOUT_SETS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_held_out_sentences_are_not_in_the_training_data(language: str, training: Set[str]) -> None:
    for name, path in heldout_files(language).items():
        texts = [m.get("text") for m in load_data(str(path)).intent_examples]
        shared = sum(comparable(t) in training for t in texts)
        assert shared == 0, (f"{shared} of {len(texts)} sentences of {path.relative_to(ROOT)} ({name} set) also "
                             f"appear in data/nlu: remove them from the held-out file (not from data/), without "
                             f"copying them anywhere")


@pytest.mark.parametrize("language", LANGUAGES)
def test_held_out_labels_are_domain_intents(language: str) -> None:
    intents = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])
    for path in heldout_files(language).values():
        unknown = {m.get("intent") for m in load_data(str(path)).intent_examples} - intents
        assert not unknown, f"{path.relative_to(ROOT)} uses intents the domain does not have: {sorted(unknown)}"
