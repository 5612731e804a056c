"""Faults, durability, retention and log privacy, against real servers (no mocks).

One action server + one Rasa server with the default SQLite tracker store in a temp dir (module scope),
started the way tools/stack.py starts them; the action server is stopped, frozen and restarted on the
same port, Rasa is restarted on the same database. Order matters: the log-privacy check runs last and
greps everything the servers logged during all the faults above.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from tests.scale.harness import spawn_actions, spawn_rasa, text_of
from tests.scale.services import MissingBinary, postgres_server, redis_server
from tools import stack as stack_tool
from tools.preflight import check_endpoints

ROOT = Path(__file__).resolve().parents[2]
CARER_MENU = "Signs to look for"
CANARY = "zebra-canary-42 someone wants my pics"
CANARY_TOKEN = "zebra-canary-42"
REPLY_TIMEOUT = "4"  # seconds the channels wait for a frozen action server before the safe reply


@dataclass
class Beacon:
    """The servers of this module and what is needed to restart them."""

    var: Path
    env: Dict[str, str]
    model: Path
    actions: stack_tool.Server
    rasa: stack_tool.Server
    logs: List[Path] = field(default_factory=list)
    raw_ids: List[str] = field(default_factory=list)  # ids that must never reach a log

    @property
    def db(self) -> Path:
        return Path(self.env["BEACON_DB_NAME"])

    def restart_rasa(self, **env: str) -> None:
        self.rasa.stop()
        self.rasa = spawn_rasa(self.rasa.port, self.actions.port, self.var / "log", self.model, {**self.env, **env})
        self._note_logs()

    def restart_actions(self) -> None:
        self.actions.stop()
        self.actions = spawn_actions(self.actions.port, self.var / "log", self.env)
        self._note_logs()

    def _note_logs(self) -> None:
        for server in (self.actions, self.rasa):
            if server.log not in self.logs:
                self.logs.append(server.log)

    # --- talking to it

    def rest(self, sender: str, message: str, timeout: float = 60) -> List[Dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(f"{self.rasa.url}/webhooks/rest/webhook", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            assert response.status == 200
            return json.loads(response.read() or b"[]")

    def web(self, message: str, token: Optional[str] = None, timeout: float = 60) -> Dict[str, Any]:
        body = json.dumps({"message": message, "language": "en", **({"token": token} if token else {})}).encode()
        request = urllib.request.Request(f"{self.rasa.url}/webhooks/web/webhook", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            assert response.status == 200
            return json.loads(response.read())


def _texts(replies: List[Dict[str, Any]]) -> str:
    return text_of(replies)


def _web_text(answer: Dict[str, Any]) -> str:
    return text_of(answer.get("messages") or [])


def _assert_safe_fallback(text: str) -> None:
    assert "112" in text, f"no emergency number in the safe reply: {text!r}"


@pytest.fixture(scope="module")
def beacon_faults(model_path: Path) -> Iterator[Beacon]:
    var = Path(tempfile.mkdtemp(prefix="beacon-faults-"))
    env = {"BEACON_DB_NAME": str(var / "beacon.db"), "BEACON_VAR_DIR": str(var),
           "BEACON_WEB_REPLY_TIMEOUT": REPLY_TIMEOUT, "BEACON_REST_REPLY_TIMEOUT": REPLY_TIMEOUT}
    servers: List[stack_tool.Server] = []
    beacon: Optional[Beacon] = None
    try:
        servers.append(spawn_actions(stack_tool.free_port(), var / "log", env))
        servers.append(spawn_rasa(stack_tool.free_port(), servers[0].port, var / "log", model_path, env))
        beacon = Beacon(var, env, model_path, servers[0], servers[1])
        beacon._note_logs()
        yield beacon
    finally:
        if beacon is not None:
            servers = [beacon.actions, beacon.rasa]  # restarted ones
        for server in reversed(servers):
            _resume(server)
            server.stop()
        shutil.rmtree(var, ignore_errors=True)


def _resume(server: stack_tool.Server) -> None:
    """A frozen (SIGSTOPped) process ignores SIGINT until continued."""
    if server.process.poll() is None:
        try:
            os.killpg(server.process.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass


# --- (a) action server down or slow ---------------------------------------------------------------


def test_action_server_down_gives_safe_fallback_then_conversation_continues(beacon_faults: Beacon) -> None:
    b = beacon_faults
    sender = f"faults-down-{uuid.uuid4().hex[:8]}"
    b.raw_ids.append(sender)
    assert "How can I help" in _texts(b.rest(sender, "/i_am_carer"))
    token = b.web("hello")["token"]
    b.raw_ids.append(token)

    b.actions.stop()
    try:
        for message in ("/ask_menu", "what are the warning signs of grooming?", CANARY):
            replies = b.rest(sender, message, timeout=30)
            assert replies, "silence while the action server is down"
            _assert_safe_fallback(_texts(replies))
        _assert_safe_fallback(_web_text(b.web(CANARY, token, timeout=30)))
    finally:
        b.restart_actions()  # same port, as a supervisor would

    after = _texts(b.rest(sender, "/ask_menu"))
    assert CARER_MENU in after, f"the audience slot was lost across the outage: {after!r}"
    assert _web_text(b.web("/ask_menu", token)), "web conversation did not resume"


def test_action_server_frozen_web_channel_answers_within_its_timeout(beacon_faults: Beacon) -> None:
    """A hung action server (SIGSTOP: connections accepted, never answered) = the slow case."""
    b = beacon_faults
    token = b.web("hi")["token"]
    b.raw_ids.append(token)
    os.killpg(b.actions.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        answer = b.web(CANARY, token, timeout=30)
        took = time.monotonic() - started
    finally:
        os.killpg(b.actions.process.pid, signal.SIGCONT)
    _assert_safe_fallback(_web_text(answer))
    assert took < float(REPLY_TIMEOUT) + 5, f"safe reply took {took:.1f} s"
    assert CARER_MENU in _web_text(b.web("/ask_menu", token)), "conversation did not continue after the stall"


def test_action_server_frozen_rest_channel_answers_within_its_timeout(beacon_faults: Beacon) -> None:
    """channels/rest_channel.py answers with the safe fallback after BEACON_REST_REPLY_TIMEOUT, like the web
    channel, instead of keeping the client waiting for Rasa's 300 s action timeout."""
    b = beacon_faults
    sender = f"faults-slow-{uuid.uuid4().hex[:8]}"
    b.raw_ids.append(sender)
    assert CARER_MENU in _texts(b.rest(sender, "/i_am_carer"))
    os.killpg(b.actions.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        try:
            replies = b.rest(sender, "/ask_menu", timeout=float(REPLY_TIMEOUT) + 4)
        except (TimeoutError, urllib.error.URLError, OSError) as error:
            pytest.fail(f"REST channel kept the client waiting while the action server hung ({error!r}); "
                        "channels/rest_channel.py needs asyncio.wait_for(on_new_message(...), "
                        "BEACON_REST_REPLY_TIMEOUT)")
        took = time.monotonic() - started
    finally:
        os.killpg(b.actions.process.pid, signal.SIGCONT)
    _assert_safe_fallback(_texts(replies))
    assert took < float(REPLY_TIMEOUT) + 5
    assert CARER_MENU in _texts(b.rest(sender, "/ask_menu")), "conversation did not continue after the stall"


# --- (b) stores unavailable at start ---------------------------------------------------------------


def _closed_port() -> int:
    return stack_tool.free_port()  # bound and released: nothing listens there


def test_preflight_names_an_unreachable_database() -> None:
    port = _closed_port()
    env = stack_tool.environment({"BEACON_DB_DIALECT": "postgresql", "BEACON_DB_HOST": "127.0.0.1",
                                  "BEACON_DB_PORT": str(port), "BEACON_DB_NAME": "beacon",
                                  "BEACON_DB_USER": "beacon", "BEACON_DB_PASSWORD": "s3cret-pw",
                                  "BEACON_LOCK_STORE": "in_memory"})
    problems = check_endpoints(env, timeout=2)
    assert len(problems) == 1, problems
    assert "tracker store (PostgreSQL) unreachable" in problems[0]
    assert f"127.0.0.1:{port}" in problems[0] and "BEACON_DB_HOST" in problems[0] and "BEACON_DB_PORT" in problems[0]
    assert "s3cret-pw" not in problems[0]


def test_preflight_names_an_unreachable_redis() -> None:
    port = _closed_port()
    env = stack_tool.environment({"BEACON_LOCK_STORE": "redis", "BEACON_REDIS_HOST": "127.0.0.1",
                                  "BEACON_REDIS_PORT": str(port)})
    problems = check_endpoints(env, timeout=2)
    assert len(problems) == 1 and "lock store (Redis) unreachable" in problems[0], problems
    assert f"127.0.0.1:{port}" in problems[0] and "BEACON_REDIS_PORT" in problems[0]


def test_preflight_cli_exit_codes_against_real_servers(tmp_path: Path) -> None:
    """Real PostgreSQL + Redis: ok (exit 0); wrong password and missing database are named (exit 1)."""
    try:
        with postgres_server() as pg, redis_server() as redis:
            base = stack_tool.environment({**pg.env, **redis.env})
            ok = subprocess.run([sys.executable, "-m", "tools.preflight"], cwd=ROOT, env=base,
                                capture_output=True, text=True, timeout=60)
            assert ok.returncode == 0, ok.stderr
            assert "preflight: ok" in ok.stdout and pg.password not in ok.stdout
            wrong = check_endpoints({**base, "BEACON_DB_PASSWORD": "wrong-password"}, timeout=2)
            assert len(wrong) == 1 and "BEACON_DB_PASSWORD" in wrong[0] and "wrong-password" not in wrong[0], wrong
            missing = check_endpoints({**base, "BEACON_DB_NAME": "nope"}, timeout=2)
            assert len(missing) == 1 and "'nope'" in missing[0] and "BEACON_DB_NAME" in missing[0], missing
            redis.stop()
            down = subprocess.run([sys.executable, "-m", "tools.preflight", "--timeout", "1"], cwd=ROOT, env=base,
                                  capture_output=True, text=True, timeout=60)
            assert down.returncode == 1 and "lock store (Redis) unreachable" in down.stderr, down.stderr
    except MissingBinary as error:
        pytest.fail(str(error), pytrace=False)


def test_preflight_sqlite_directory_must_exist(tmp_path: Path) -> None:
    env = stack_tool.environment({"BEACON_DB_DIALECT": "sqlite", "BEACON_DB_NAME": str(tmp_path / "no" / "beacon.db"),
                                  "BEACON_LOCK_STORE": "in_memory"})
    problems = check_endpoints(env)
    assert len(problems) == 1 and "does not exist" in problems[0], problems


def test_rasa_with_database_and_redis_down_at_start(model_path: Path, tmp_path: Path) -> None:
    """Starting the stack (tools/stack.py) with PostgreSQL and Redis unreachable. Acceptable outcomes:
    the start fails with an error naming both stores (the pre-flight check, once tools/stack.py calls
    it), or — Rasa 3.6's own behaviour — Rasa serves anyway, logs the connection failure and answers
    every message with the safe fallback (never silence, never a 500)."""
    db_port, redis_port = _closed_port(), _closed_port()
    env = {"BEACON_DB_DIALECT": "postgresql", "BEACON_DB_HOST": "127.0.0.1", "BEACON_DB_PORT": str(db_port),
           "BEACON_DB_NAME": "beacon", "BEACON_DB_USER": "beacon", "BEACON_DB_PASSWORD": "s3cret-pw",
           "BEACON_LOCK_STORE": "redis", "BEACON_REDIS_HOST": "127.0.0.1", "BEACON_REDIS_PORT": str(redis_port),
           "BEACON_VAR_DIR": str(tmp_path)}
    try:
        server = spawn_rasa(stack_tool.free_port(), _closed_port(), tmp_path / "log", model_path, env)
    except Exception as error:  # noqa: BLE001 - a refused start must say what is missing
        message = str(error)
        assert f"127.0.0.1:{db_port}" in message and f"127.0.0.1:{redis_port}" in message, message
        assert "s3cret-pw" not in message
        return
    try:
        request = urllib.request.Request(f"{server.url}/webhooks/rest/webhook",
                                         data=json.dumps({"sender": "down", "message": "/ask_menu"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
            _assert_safe_fallback(text_of(json.loads(response.read() or b"[]")))
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    assert "Could not create tables" in log and f"port {db_port} failed" in log, log[-3000:]
    assert f"{redis_port}" in log and "lock" in log.lower(), log[-3000:]
    assert "s3cret-pw" not in log, "the database password reached the log"


# --- (c) durability, (d) retention ---------------------------------------------------------------


def _insert_old_conversation(db: Path, sender: str, days_old: float) -> None:
    stamp = time.time() - days_old * 86400
    with sqlite3.connect(db, timeout=30) as conn:
        for kind, data in (("action", {"event": "action", "name": "action_listen"}),
                           ("user", {"event": "user", "text": "an old message"}),
                           ("bot", {"event": "bot", "text": "an old reply"})):
            conn.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                         (sender, kind, stamp, json.dumps({**data, "timestamp": stamp})))


def _count(db: Path, sender: str) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]


def test_conversation_survives_rasa_restart_and_purge_runs_at_start_and_on_interval(beacon_faults: Beacon) -> None:
    b = beacon_faults
    sender = f"faults-durable-{uuid.uuid4().hex[:8]}"
    b.raw_ids.append(sender)
    assert "Thank you" in _texts(b.rest(sender, "/i_am_carer"))
    stale_at_start, stale_later = f"stale-a-{uuid.uuid4().hex[:6]}", f"stale-b-{uuid.uuid4().hex[:6]}"
    _insert_old_conversation(b.db, stale_at_start, days_old=40)  # default retention: 30 days
    assert _count(b.db, stale_at_start) == 3

    b.restart_rasa(BEACON_PURGE_INTERVAL_MINUTES="0.02")  # same BEACON_DB_NAME; purge every 1.2 s
    assert CARER_MENU in _texts(b.rest(sender, "/ask_menu")), "the audience was forgotten across the restart"
    assert _count(b.db, stale_at_start) == 0, "the start-up purge left a 40-day-old conversation"

    _insert_old_conversation(b.db, stale_later, days_old=31)
    deadline = time.monotonic() + 20
    while _count(b.db, stale_later) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _count(b.db, stale_later) == 0, "the interval purge did not run"
    assert _count(b.db, sender) > 0, "the purge removed a live conversation"


def test_purge_command_deletes_only_stale_conversations(beacon_faults: Beacon) -> None:
    b = beacon_faults
    fresh = f"faults-fresh-{uuid.uuid4().hex[:8]}"
    b.rest(fresh, "/i_am_teen")
    stale = f"stale-c-{uuid.uuid4().hex[:6]}"
    _insert_old_conversation(b.db, stale, days_old=2)
    env = stack_tool.environment({**b.env, "BEACON_RETENTION_DAYS": "1"})
    done = subprocess.run([sys.executable, "-m", "tools.purge"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"removed [1-9]\d* events", done.stdout), done.stdout
    assert _count(b.db, stale) == 0 and _count(b.db, fresh) > 0

    copy = b.var / "copy.db"  # a tiny retention deletes everything, also what was written a second ago
    shutil.copy(b.db, copy)
    time.sleep(1.1)
    env = stack_tool.environment({**b.env, "BEACON_DB_NAME": str(copy), "BEACON_RETENTION_DAYS": "0.00001"})
    done = subprocess.run([sys.executable, "-m", "tools.purge"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(copy, timeout=30) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0


# --- (e) nothing personal in the logs ------------------------------------------------------------------


def test_logs_contain_no_message_text_and_no_raw_ids(beacon_faults: Beacon) -> None:
    """Runs last: the logs now hold a normal conversation plus every fault above (errors are where text
    and ids usually leak). Neither the canary text nor any raw sender id / web token may appear."""
    b = beacon_faults
    sender = f"privacy-raw-{uuid.uuid4().hex[:8]}"
    b.raw_ids.append(sender)
    # Text starting with "/" goes through Rasa's payload parser, which complains about what it cannot parse.
    slash_texts = ("/" + CANARY, "/help " + CANARY, '/ask_menu{"' + CANARY_TOKEN + '": 1}', "/ask_menu{" + CANARY)
    for message in ("hi", CANARY, "/i_am_teen", CANARY, "/start_quiz", "/affirm", *slash_texts):
        assert b.rest(sender, message)
    token = b.web(CANARY)["token"]
    b.raw_ids.append(token)
    for message in (CANARY, *slash_texts):
        b.web(message, token)
    time.sleep(0.5)
    offenders = []
    for log in b.logs:
        for line in log.read_text(errors="replace").splitlines():
            if any(needle in line for needle in [CANARY_TOKEN, *b.raw_ids]):
                offenders.append(f"{log.name}: {line.strip()[:240]}")
    assert not offenders, (
        f"{len(offenders)} log line(s) with message text or raw ids:\n" + "\n".join(offenders[:10]) +
        "\nRasa's payload parser quotes any text starting with '/' in warnings: pass "
        "--logging-config-file config/logging.yml in tools/stack.py, and let the channels forward only "
        "valid payloads (docs/scale-out.md, Logs).")
