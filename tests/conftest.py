"""Shared fixtures: one trained model for the whole suite, real servers on free loopback ports."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from tools import stack as stack_tool

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The model for the current training data, trained once if missing (cached by fingerprint)."""
    return stack_tool.ensure_model(quiet=True)


@pytest.fixture(scope="session")
def show_heldout() -> bool:
    """Whether held-out safety reports may list their messages (``BEACON_SHOW_HELDOUT=1``).

    Figures only by default: listing the messages invites tuning on them, which spoils the figure.
    """
    return os.environ.get("BEACON_SHOW_HELDOUT") == "1"


@pytest.fixture(scope="session")
def beacon(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[stack_tool.Stack]:
    """Action server + Rasa server (all channels) on free ports, SQLite tracker store in a temp dir."""
    var = tmp_path_factory.mktemp("beacon-var")
    env = {"BEACON_DB_NAME": str(var / "beacon.db"), "BEACON_VAR_DIR": str(var)}
    with stack_tool.running_stack(var / "log", env=env) as running:
        yield running


class RestClient:
    """Talks to Beacon through Rasa's standard REST channel."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def send(self, sender: str, message: Any, metadata: Optional[Dict[str, Any]] = None,
             timeout: float = 60) -> List[Dict[str, Any]]:
        body = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        request = urllib.request.Request(f"{self.base_url}/webhooks/rest/webhook", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            assert response.status == 200
            return json.loads(response.read() or b"[]")

    @staticmethod
    def text(replies: List[Dict[str, Any]]) -> str:
        parts = []
        for reply in replies:
            parts.append(reply.get("text") or "")
            parts.extend(b.get("title", "") for b in reply.get("buttons") or [])
        return "\n".join(parts)

    @staticmethod
    def new_sender() -> str:
        return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def rest(beacon: stack_tool.Stack) -> RestClient:
    return RestClient(beacon.servers[-1].url)
