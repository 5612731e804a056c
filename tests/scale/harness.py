"""Scale-out harness: Rasa replicas sharing PostgreSQL + Redis behind the test proxy, a retrying client,
and readers for the ``events`` table that Rasa's SQL tracker store writes.

Every server is a real process started the way ``tools/stack.py`` starts it (same command, same
environment helper); the replicas get their stores ONLY through the ``BEACON_*`` variables that
``endpoints.yml`` reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from tests.scale.proxy import Proxy
from tests.scale.services import Postgres, Redis
from tools import stack as stack_tool

FALLBACK_MARK = "can't answer properly right now"  # content/en/core.yml fallback.unavailable
RETRY_STATUSES = (502, 503, 504)


# --- starting servers without leaking them -------------------------------------------------------
#
# The servers are started by tools/stack.py itself (start_rasa / start_action_server), so the tests run
# Beacon exactly as `make run` does: same command line, flags, environment and readiness checks. Those
# functions do not hand back the process when readiness fails, so every process they spawn is recorded
# (per thread) and stopped here if the start fails.

_spawned = threading.local()
_install_lock = threading.Lock()


def _install_spawn_recorder() -> None:
    with _install_lock:
        if getattr(stack_tool._spawn, "beacon_recorder", False):
            return
        original = stack_tool._spawn

        def recording(*args: Any, **kwargs: Any) -> stack_tool.Server:
            server = original(*args, **kwargs)
            _spawned.server = server
            return server

        recording.beacon_recorder = True  # type: ignore[attr-defined]
        stack_tool._spawn = recording


def _started(start: Any, *args: Any, **kwargs: Any) -> stack_tool.Server:
    _install_spawn_recorder()
    _spawned.server = None
    try:
        return start(*args, **kwargs)
    except BaseException:
        if _spawned.server is not None:
            _spawned.server.stop()
        raise


def spawn_rasa(port: int, action_port: int, log_dir: Path, model: Path, env: Dict[str, str],
               extra_args: Sequence[str] = ()) -> stack_tool.Server:
    """``tools.stack.start_rasa``; the process is stopped if it never gets ready."""
    return _started(stack_tool.start_rasa, port, action_port, log_dir, model=model, env=env,
                    extra_args=list(extra_args))


def spawn_actions(port: int, log_dir: Path, env: Dict[str, str]) -> stack_tool.Server:
    """``tools.stack.start_action_server``; the process is stopped if it never answers."""
    return _started(stack_tool.start_action_server, port, log_dir, env)


@dataclass
class Cluster:
    """One action server and N Rasa replicas on shared stores, a round-robin and a sticky proxy."""

    pg: Postgres
    redis: Redis
    model: Path
    env: Dict[str, str]
    log_dir: Path
    actions: Optional[stack_tool.Server] = None
    replicas: List[stack_tool.Server] = field(default_factory=list)
    round_robin: Optional[Proxy] = None
    sticky: Optional[Proxy] = None

    def logs(self) -> str:
        return "\n".join(f"{s.name}:{s.port} -> {s.log}" for s in [self.actions, *self.replicas] if s)


@contextlib.contextmanager
def running_cluster(pg: Postgres, redis: Redis, model: Path, replicas: int = 2,
                    extra_env: Optional[Dict[str, str]] = None) -> Iterator[Cluster]:
    """Start everything (replicas in parallel), stop everything and remove temp dirs on exit."""
    var = Path(tempfile.mkdtemp(prefix="beacon-scale-"))
    # Like separate containers: each replica its own var dir, the two keys shared through the environment
    # (without them each replica would invent its own: other pseudonyms, web tokens refused elsewhere).
    env = {**pg.env, **redis.env, "BEACON_ID_KEY": os.urandom(32).hex(), "BEACON_WEB_SECRET": os.urandom(32).hex(),
           **(extra_env or {})}
    cluster = Cluster(pg=pg, redis=redis, model=model, env=env, log_dir=var / "log")
    try:
        cluster.actions = spawn_actions(stack_tool.free_port(), cluster.log_dir, {**env, "BEACON_VAR_DIR": str(var / "actions")})
        ports = [stack_tool.free_port() for _ in range(replicas)]
        with ThreadPoolExecutor(replicas) as pool:
            futures = [pool.submit(spawn_rasa, port, cluster.actions.port, cluster.log_dir, model,
                                   {**env, "BEACON_VAR_DIR": str(var / f"replica{i}")})
                       for i, port in enumerate(ports)]
            errors = []
            for future in futures:
                try:
                    cluster.replicas.append(future.result())
                except BaseException as error:  # noqa: BLE001 - stop the others, then re-raise
                    errors.append(error)
            if errors:
                raise errors[0]
        backends = [("127.0.0.1", s.port) for s in cluster.replicas]
        cluster.round_robin = Proxy(backends).start()
        cluster.sticky = Proxy(backends, sticky=True).start()
        yield cluster
    finally:
        for proxy in (cluster.round_robin, cluster.sticky):
            if proxy:
                proxy.stop()
        for server in reversed(cluster.replicas):
            server.stop()
        if cluster.actions:
            cluster.actions.stop()
        keep = os.environ.get("BEACON_TEST_KEEP_LOGS")  # a directory: copy the server logs there
        if keep and cluster.log_dir.exists():
            shutil.copytree(cluster.log_dir, Path(keep) / var.name, dirs_exist_ok=True)
        shutil.rmtree(var, ignore_errors=True)


# --- the client ----------------------------------------------------------------------------------


@dataclass
class Reply:
    """What the client finally got for one message."""

    sender: str
    message: str
    status: int
    replies: List[Dict[str, Any]]
    attempts: int
    started: float
    finished: float

    @property
    def texts(self) -> List[str]:
        return [r.get("text") or "" for r in self.replies]

    @property
    def fallback(self) -> bool:
        return any(FALLBACK_MARK in t for t in self.texts)

    @property
    def ok(self) -> bool:
        """A real answer: HTTP 200, not empty and not the "try again" fallback."""
        return self.status == 200 and bool(self.replies) and not self.fallback


class Client:
    """REST client that retries when the load balancer cannot reach a replica (like a real widget would)."""

    def __init__(self, base_url: str, retry_for: float = 60.0, timeout: float = 90.0) -> None:
        self.base_url = base_url
        self.retry_for = retry_for
        self.timeout = timeout

    def post(self, sender: str, message: str) -> Tuple[int, List[Dict[str, Any]]]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(f"{self.base_url}/webhooks/rest/webhook", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read() or b"[]")
        except urllib.error.HTTPError as error:
            return error.code, []

    def send(self, sender: str, message: str) -> Reply:
        started = time.monotonic()
        deadline = started + self.retry_for
        attempts = 0
        while True:
            attempts += 1
            try:
                status, replies = self.post(sender, message)
            except OSError:  # connection refused/reset by the proxy itself
                status, replies = 0, []
            if status not in (0, *RETRY_STATUSES) or time.monotonic() > deadline:
                return Reply(sender, message, status, replies, attempts, started, time.monotonic())
            time.sleep(0.3)


def text_of(replies: List[Dict[str, Any]]) -> str:
    parts = []
    for reply in replies:
        parts.append(reply.get("text") or "")
        parts.extend(b.get("title", "") for b in reply.get("buttons") or [])
    return "\n".join(parts)


# --- reading what the tracker store holds ---------------------------------------------------------


@dataclass
class Event:
    id: int
    type: str
    action: Optional[str]
    text: Optional[str]


def events_of(pg: Postgres, sender: str) -> List[Event]:
    """Every stored event of ``sender`` in storage order (Rasa orders by id too)."""
    rows = pg.query("SELECT id, type_name, action_name, data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
    events = []
    for row_id, kind, action, data in rows:
        payload = json.loads(data or "{}")
        events.append(Event(row_id, kind, action, payload.get("text")))
    return events


@dataclass
class Turn:
    user: str
    actions: List[str]
    bot: List[str]
    closed: bool  # ended with action_listen before the next user message


def turns_of(events: List[Event]) -> List[Turn]:
    """Split events into user turns: a user message and everything up to the next user message."""
    turns: List[Turn] = []
    for event in events:
        if event.type == "user":
            turns.append(Turn(event.text or "", [], [], False))
        elif turns:
            turn = turns[-1]
            if event.type == "action" and event.action:
                if turn.closed:
                    turn.actions.append("<after-listen>")
                turn.actions.append(event.action)
                turn.closed = event.action == "action_listen"
            elif event.type == "bot":
                turn.bot.append(event.text or "")
    return turns


def contains_in_order(haystack: List[str], needles: List[str]) -> bool:
    """True when ``needles`` is a subsequence of ``haystack``."""
    position = 0
    for needle in needles:
        while position < len(haystack) and haystack[position] != needle:
            position += 1
        if position == len(haystack):
            return False
        position += 1
    return True
