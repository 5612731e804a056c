"""Fixtures shared by the unit tests of Beacon's Rasa components."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    """Rasa's real model storage in a temporary folder, for components to persist and load themselves."""
    (tmp_path / "model").mkdir()  # Rasa's trainer creates it; here the test does
    return LocalModelStorage(tmp_path / "model")


@pytest.fixture()
def tokenizer(storage: LocalModelStorage) -> WhitespaceTokenizer:
    """Rasa's WhitespaceTokenizer, as config.yml uses it, for featurizer tests to tokenize their data."""
    return WhitespaceTokenizer.create(WhitespaceTokenizer.get_default_config(), storage, Resource("tok"),
                                      ExecutionContext(GraphSchema({}), "tokenizer"))
