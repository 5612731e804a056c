"""Fixtures shared by the unit tests of Beacon's Rasa components."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    """Rasa's real model storage in a temporary folder, for components to persist and load themselves."""
    (tmp_path / "model").mkdir()  # Rasa's trainer creates it; here the test does
    return LocalModelStorage(tmp_path / "model")
