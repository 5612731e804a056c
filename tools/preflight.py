"""Pre-flight check: can Beacon reach the tracker store and lock store that endpoints.yml points at?

Why: Rasa 3.6 does not stop when its database or Redis is missing. With PostgreSQL down it logs one
``Could not create tables: ... Connection refused`` line and starts anyway; every conversation then
silently starts from scratch on each message (the fail-safe tracker store keeps nothing). With Redis
down it also starts; then every message fails to take the conversation lock. Both look "up" to a
health check. This module says plainly, before ``rasa run``, which store is unreachable and which
``BEACON_*`` variables to look at.

Usage::

    python -m tools.preflight             # exit 0 when every store answers, 1 with the reasons
    python -m tools.preflight --wait 60   # keep retrying for up to 60 s (containers start together)

From Python: ``problems = check_endpoints(environment)``; an empty list means all good.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

ROOT = Path(__file__).resolve().parent.parent
_VARIABLE = re.compile(r"\$\{([^}:]+)\}")


def _resolve(value: Any, env: Mapping[str, str], missing: List[str]) -> Any:
    """Expand ``${VAR}`` like Rasa does; names of unset variables go to ``missing``."""
    if isinstance(value, dict):
        return {key: _resolve(item, env, missing) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, env, missing) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name not in env:
            missing.append(name)
            return ""
        return env[name]

    return _VARIABLE.sub(replace, value)


def load_endpoints(env: Mapping[str, str], path: Path) -> tuple:
    """endpoints.yml with the environment's values; returns (config, unset variable names)."""
    import yaml

    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing: List[str] = []
    return _resolve(raw, env, missing), sorted(set(missing))


def _tcp(host: str, port: int, timeout: float) -> Optional[str]:
    """None when something accepts connections on host:port, else the reason."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror as error:
        return f"cannot resolve host {host!r} ({error.strerror or error})"
    except OSError as error:
        return f"nothing accepts connections on {host}:{port} ({error.strerror or type(error).__name__})"


def _port(value: Any) -> Optional[int]:
    try:
        port = int(str(value).strip())
    except ValueError:
        return None
    return port if 0 < port < 65536 else None


def check_tracker_store(config: Optional[Dict[str, Any]], timeout: float = 3.0) -> List[str]:
    """Problems reaching the SQL tracker store (SQLite file or server database)."""
    if not config:
        return []  # no tracker_store: Rasa keeps conversations in memory (fine for a demo)
    kind = str(config.get("type") or "").lower()
    if kind in ("", "in_memory"):
        return []
    if kind != "sql":
        return []  # other store types are not what Beacon ships; nothing to check here
    dialect = str(config.get("dialect") or "sqlite").strip()
    name = str(config.get("db") or "").strip()
    if dialect == "sqlite":
        if not name:
            return ["tracker store: BEACON_DB_NAME is empty; set the path of the SQLite file"]
        directory = Path(name).expanduser().resolve().parent
        if not directory.is_dir():
            return [f"tracker store: the directory of the SQLite file BEACON_DB_NAME={name!r} does not exist "
                    f"(create {directory})"]
        if not os.access(directory, os.W_OK):
            return [f"tracker store: the directory {directory} of BEACON_DB_NAME is not writable"]
        return []
    what = {"postgresql": "PostgreSQL"}.get(dialect, dialect)
    host = str(config.get("url") or "").strip()
    port = _port(config.get("port"))
    problems = []
    if not host:
        problems.append(f"tracker store ({what}): BEACON_DB_HOST is empty")
    if port is None:
        problems.append(f"tracker store ({what}): BEACON_DB_PORT={config.get('port')!r} is not a port number")
    if not name:
        problems.append(f"tracker store ({what}): BEACON_DB_NAME is empty")
    if problems:
        return problems
    reason = _tcp(host, port, timeout)  # type: ignore[arg-type]
    if reason:
        return [f"tracker store ({what}) unreachable: {reason}. Is the database running? "
                "Check BEACON_DB_HOST and BEACON_DB_PORT."]
    if dialect != "postgresql":
        return []
    try:
        import psycopg2
    except ImportError:
        return [f"tracker store ({what}): the Python driver psycopg2 is not installed"]
    try:
        psycopg2.connect(host=host, port=port, dbname=name, user=str(config.get("username") or "") or None,
                         password=str(config.get("password") or "") or None,
                         connect_timeout=max(1, int(timeout))).close()
    except psycopg2.OperationalError as error:
        detail = " ".join(str(error).split())
        hint = "Check BEACON_DB_USER and BEACON_DB_PASSWORD." if "password" in detail or "authentication" in detail \
            else f"Create the database {name!r} (BEACON_DB_NAME)." if "does not exist" in detail \
            else "Check the BEACON_DB_* settings."
        # psycopg2 messages name host, port, database and user, never the password.
        return [f"tracker store ({what}) refused the login: {detail}. {hint}"]
    return []


def check_lock_store(config: Optional[Dict[str, Any]], timeout: float = 3.0) -> List[str]:
    """Problems reaching the Redis lock store (the in-memory lock store needs nothing)."""
    if not config:
        return []
    kind = str(config.get("type") or "in_memory").lower()
    if kind == "in_memory":
        return []
    if kind != "redis":
        return [f"lock store: BEACON_LOCK_STORE={kind!r} is unknown; use in_memory or redis"]
    host = str(config.get("url") or "").strip()
    port = _port(config.get("port"))
    if not host or port is None:
        return [f"lock store (Redis): BEACON_REDIS_HOST={host!r} / BEACON_REDIS_PORT={config.get('port')!r} "
                "are not a host and port"]
    reason = _tcp(host, port, timeout)
    if reason:
        return [f"lock store (Redis) unreachable: {reason}. Is Redis running? "
                "Check BEACON_REDIS_HOST and BEACON_REDIS_PORT (or set BEACON_LOCK_STORE=in_memory "
                "for a single replica)."]
    try:
        import redis
    except ImportError:
        return ["lock store (Redis): the Python package redis is not installed"]
    try:
        client = redis.StrictRedis(host=host, port=port, db=int(config.get("db") or 0),
                                   password=config.get("password") or None, socket_timeout=timeout,
                                   socket_connect_timeout=timeout)
        client.ping()
        client.close()
    except (redis.RedisError, ValueError) as error:
        return [f"lock store (Redis) at {host}:{port} does not answer PING: {error}. "
                "Check BEACON_REDIS_HOST, BEACON_REDIS_PORT and BEACON_REDIS_DB."]
    return []


def check_endpoints(env: Optional[Mapping[str, str]] = None, endpoints: Optional[Path] = None,
                    timeout: float = 3.0) -> List[str]:
    """Everything that would make ``rasa run`` start without its stores; empty when all is well.

    ``env`` defaults to the process environment with Beacon's defaults (tools.stack.environment()).
    """
    if env is None:
        from tools.stack import environment

        env = environment()
    path = endpoints or ROOT / "endpoints.yml"
    try:
        config, missing = load_endpoints(env, path)
    except (OSError, ValueError) as error:
        return [f"{path.name}: cannot be read ({error})"]
    if missing:
        return [f"{path.name}: variable(s) {', '.join(missing)} not set (tools/stack.py fills the defaults)"]
    return check_tracker_store(config.get("tracker_store"), timeout) + check_lock_store(config.get("lock_store"), timeout)


def describe(env: Optional[Mapping[str, str]] = None, endpoints: Optional[Path] = None) -> str:
    """One line naming the stores in use (no passwords)."""
    if env is None:
        from tools.stack import environment

        env = environment()
    config, _ = load_endpoints(env, endpoints or ROOT / "endpoints.yml")
    tracker, lock = config.get("tracker_store") or {}, config.get("lock_store") or {}
    if str(tracker.get("dialect")) == "sqlite":
        store = f"SQLite {tracker.get('db')}"
    else:
        store = f"{tracker.get('dialect')} {tracker.get('url')}:{tracker.get('port')}/{tracker.get('db')}"
    locks = f"Redis {lock.get('url')}:{lock.get('port')}/{lock.get('db')}" if lock.get("type") == "redis" \
        else "in-memory locks (one replica only)"
    return f"tracker store {store}; {locks}"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="retry until the stores answer or SECONDS have passed")
    parser.add_argument("--timeout", type=float, default=3.0, help="per-connection timeout in seconds")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.wait
    while True:
        problems = check_endpoints(timeout=args.timeout)
        if not problems or time.monotonic() >= deadline:
            break
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
    if problems:
        for problem in problems:
            print(f"preflight: {problem}", file=sys.stderr)
        return 1
    print(f"preflight: ok ({describe()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
