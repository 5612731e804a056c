"""Fixtures for the scale-out tests: real PostgreSQL, real Redis, replicas of Rasa behind a proxy.

Missing server binaries FAIL the tests with the Debian package to install (CI installs them via
``.ci/run``); they never skip. Every process and temporary directory is removed, also on failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.scale.harness import Cluster, running_cluster
from tests.scale.services import MissingBinary, Postgres, Redis, postgres_server, redis_server

#: Replica settings that bound the known Rasa 3.6 lock-store failure modes (measured, docs/scale-out.md):
#: a ticket left by a killed replica blocks its conversation for up to TICKET_LOCK_LIFETIME seconds
#: (Rasa's default 60; docker-compose.yml uses 40); a request whose own ticket expired or was lost waits
#: until Sanic's RESPONSE_TIMEOUT cancels it (default 60 s) and then gets the safe fallback. The lifetime
#: stays above the response timeout so that a queue of messages of one conversation never outlives its
#: tickets.
REPLICA_ENV = {"TICKET_LOCK_LIFETIME": "40", "SANIC_RESPONSE_TIMEOUT": "30"}


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    try:
        with postgres_server() as server:
            yield server
    except MissingBinary as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="module")
def redis() -> Iterator[Redis]:
    try:
        with redis_server() as server:
            yield server
    except MissingBinary as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="module")
def cluster(model_path: Path, postgres: Postgres, redis: Redis) -> Iterator[Cluster]:
    """Action server + two Rasa replicas on PostgreSQL/Redis, proxies ``round_robin`` and ``sticky``."""
    with running_cluster(postgres, redis, model_path, replicas=2,
                         extra_env=REPLICA_ENV) as running:
        yield running
