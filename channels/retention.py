"""Retention: conversations untouched for longer than ``BEACON_RETENTION_DAYS`` (default 30) are deleted.

Registered like a channel in ``credentials.yml`` so that every ``rasa run`` purges at start-up and then
every ``BEACON_PURGE_INTERVAL_MINUTES`` (default 60), whatever the deployment. It exposes no route that
accepts messages. ``make purge`` runs the same deletion once from the command line (tools/purge.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

PURGE_SQL = (
    "DELETE FROM events WHERE sender_id IN "
    "(SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff)"
)


def retention_seconds() -> float:
    """How long an untouched conversation is kept."""
    return float(os.environ.get("BEACON_RETENTION_DAYS", "30")) * 86400


def purge_sql_store(store: Any, now: Optional[float] = None) -> int:
    """Delete stale conversations from a Rasa ``SQLTrackerStore``; returns the number of events removed."""
    from sqlalchemy import text

    cutoff = (now or time.time()) - retention_seconds()
    with store.session_scope() as session:
        result = session.execute(text(PURGE_SQL), {"cutoff": cutoff})
        session.commit()
        return int(result.rowcount or 0)


def purge_agent(agent: Any) -> int:
    """Purge the tracker store behind a running agent (SQL stores; others expire by their own TTL)."""
    from rasa.core.tracker_store import SQLTrackerStore

    store = getattr(getattr(agent, "tracker_store", None), "_tracker_store", None) or getattr(agent, "tracker_store", None)
    if isinstance(store, SQLTrackerStore):
        return purge_sql_store(store)
    return 0


class RetentionInput(InputChannel):
    """Not a conversation channel: runs the retention purge inside the Rasa server."""

    @classmethod
    def name(cls) -> str:
        return "retention"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("beacon_retention", __name__)
        state: dict = {}

        @blueprint.route("/", methods=["GET"])
        async def status(_: Request) -> HTTPResponse:
            return response.json({"retention_days": retention_seconds() / 86400, "last_purge": state.get("last")})

        async def loop(app: Any) -> None:
            interval = float(os.environ.get("BEACON_PURGE_INTERVAL_MINUTES", "60")) * 60
            while True:
                agent = getattr(app.ctx, "agent", None)
                if agent is not None and getattr(agent, "tracker_store", None) is not None:
                    try:
                        removed = await asyncio.get_running_loop().run_in_executor(None, purge_agent, agent)
                        state["last"] = time.time()
                        logger.info("retention purge removed %d events", removed)
                    except Exception:  # noqa: BLE001 - a failed purge must not stop the server
                        logger.exception("retention purge failed")
                    await asyncio.sleep(interval)
                else:
                    await asyncio.sleep(2)  # the model and tracker store are still loading

        @blueprint.listener("after_server_start")
        async def start(app: Any, _: Any) -> None:
            state["task"] = asyncio.ensure_future(loop(app))

        @blueprint.listener("before_server_stop")
        async def stop(app: Any, _: Any) -> None:
            task = state.get("task")
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

        return blueprint
