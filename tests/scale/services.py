"""Real PostgreSQL and Redis servers for tests: temporary, on free loopback ports, always cleaned up.

No mocks: ``initdb`` + ``postgres`` from the Debian ``postgresql`` package and ``redis-server`` from the
``redis-server`` package. When a binary is missing the test FAILS (it does not skip) and names the
package, because CI installs both (``.ci/run``) and a silently skipped scale test proves nothing.

PostgreSQL refuses to run as root: when the tests run as root, the data directory is created in a
fresh ``/tmp/beacon-pg-*`` directory owned by the ``postgres`` user and the server runs as that user
(``subprocess.Popen(user=...)``, no ``su``/``runuser`` process in between, so our pid is the server's).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from tools.stack import free_port

PG_PACKAGE_HINT = ("PostgreSQL server binaries (initdb, postgres) not found. Install the Debian package "
                   "'postgresql' (apt-get install -y postgresql); CI installs it via .ci/run.")
REDIS_PACKAGE_HINT = ("redis-server not found. Install the Debian package 'redis-server' "
                      "(apt-get install -y redis-server); CI installs it via .ci/run.")


class MissingBinary(RuntimeError):
    """A server binary the test needs is not installed (the message names the Debian package)."""


def postgres_bin_dir() -> Path:
    """The directory holding ``initdb`` and ``postgres`` (newest /usr/lib/postgresql/<v>/bin, or PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.split("/")[4].split(".")])
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).parent
    raise MissingBinary(PG_PACKAGE_HINT)


def redis_binary() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    if not found:
        raise MissingBinary(REDIS_PACKAGE_HINT)
    return found


def _die_with_parent(sig: int) -> Optional[object]:
    """A ``preexec_fn`` that makes the child get ``sig`` when the test process dies (Linux prctl), so a
    killed pytest (CI timeout) does not leave servers behind; None where prctl is unavailable."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:  # runs in the child after the user switch, so the setting survives it
        prctl(pr_set_pdeathsig, int(sig), 0, 0, 0)

    return preexec


def _wait_port(port: int, process: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def _stop(process: subprocess.Popen, first: int = signal.SIGINT, timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, first)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


# --- PostgreSQL ----------------------------------------------------------------------------------


@dataclass
class Postgres:
    """A running PostgreSQL cluster with one database and one password-protected user."""

    port: int
    user: str
    password: str
    database: str
    root: Path
    process: Optional[subprocess.Popen] = None
    log: Optional[Path] = None

    @property
    def env(self) -> Dict[str, str]:
        """Beacon's tracker-store variables pointing at this server (see endpoints.yml)."""
        return {
            "BEACON_DB_DIALECT": "postgresql",
            "BEACON_DB_HOST": "127.0.0.1",
            "BEACON_DB_PORT": str(self.port),
            "BEACON_DB_NAME": self.database,
            "BEACON_DB_USER": self.user,
            "BEACON_DB_PASSWORD": self.password,
        }

    def connect(self, database: Optional[str] = None):  # -> psycopg2 connection
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                                dbname=database or self.database, connect_timeout=5)
        conn.autocommit = True
        return conn

    def query(self, sql: str, params: tuple = ()) -> List[tuple]:
        conn = self.connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process, signal.SIGINT)  # "fast" shutdown


@contextlib.contextmanager
def postgres_server(database: str = "beacon", user: str = "beacon") -> Iterator[Postgres]:
    """initdb into a temp dir, start ``postgres`` on a free loopback port, create ``database``; clean up."""
    bin_dir = postgres_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="beacon-pg-"))
    password = "pw-" + os.urandom(8).hex()
    run_as: Dict[str, object] = {}
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError as error:
            shutil.rmtree(root, ignore_errors=True)
            raise MissingBinary("running as root needs the 'postgres' system user; " + PG_PACKAGE_HINT) from error
        os.chown(root, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    server = Postgres(port=free_port(), user=user, password=password, database=database, root=root)
    try:
        data, sockets, pwfile = root / "data", root / "sock", root / "pwfile"
        pwfile.write_text(password + "\n")
        sockets.mkdir()
        if run_as:
            for path in (pwfile, sockets):
                os.chown(path, run_as["user"], run_as["group"])  # type: ignore[arg-type]
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(root)}
        init = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", user, f"--pwfile={pwfile}", "-E", "UTF8",
             "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions"],
            env=env, cwd=root, capture_output=True, text=True, timeout=120, **run_as)
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
        server.log = root / "postgres.log"
        log = open(server.log, "ab")
        server.process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(server.port), "-k", str(sockets),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=100", "-c", "log_min_messages=warning"],
            env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent(signal.SIGQUIT), **run_as)  # SIGQUIT: immediate shutdown
        log.close()
        _wait_port(server.port, server.process, "postgres")
        deadline = time.monotonic() + 30
        while True:  # the port opens slightly before the server accepts logins
            try:
                conn = server.connect("postgres")
                break
            except Exception:  # noqa: BLE001
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with conn.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{database}"')
        conn.close()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- Redis ---------------------------------------------------------------------------------------


@dataclass
class Redis:
    """A running ``redis-server`` without persistence."""

    port: int
    root: Path
    db: int = 1
    process: Optional[subprocess.Popen] = None
    log: Optional[Path] = None
    history: List[int] = field(default_factory=list)

    @property
    def env(self) -> Dict[str, str]:
        """Beacon's lock-store variables pointing at this server (see endpoints.yml)."""
        return {"BEACON_LOCK_STORE": "redis", "BEACON_REDIS_HOST": "127.0.0.1",
                "BEACON_REDIS_PORT": str(self.port), "BEACON_REDIS_DB": str(self.db)}

    def client(self):
        import redis

        return redis.StrictRedis(host="127.0.0.1", port=self.port, db=self.db, socket_timeout=5)

    def start(self) -> None:
        """(Re)start on the same port."""
        if self.process is not None and self.process.poll() is None:
            return
        self.log = self.root / "redis.log"
        log = open(self.log, "ab")
        self.process = subprocess.Popen(
            [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.root), "--protected-mode", "yes"],
            cwd=self.root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent(signal.SIGTERM))
        log.close()
        self.history.append(self.process.pid)
        _wait_port(self.port, self.process, "redis-server")
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except Exception:  # noqa: BLE001
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process, signal.SIGTERM)


@contextlib.contextmanager
def redis_server() -> Iterator[Redis]:
    """``redis-server --save '' --appendonly no`` on a free loopback port; stopped and removed after."""
    redis_binary()
    root = Path(tempfile.mkdtemp(prefix="beacon-redis-"))
    server = Redis(port=free_port(), root=root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
