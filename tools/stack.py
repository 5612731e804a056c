"""Beacon's local stack: train only when inputs changed, start the action and Rasa servers, stop them.

Used by ``make run`` (``python -m tools.stack run``), by the test suite (one model shared, servers on
free loopback ports) and by the benchmarks, so all three start Beacon the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
MODELS = ROOT / "models"
# Inputs of the trained model; content/ is read at run time and never needs a retrain.
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "components")
KEEP_MODELS = int(os.environ.get("BEACON_KEEP_MODELS", "5"))  # cached models kept in models/

# Defaults for every ${VAR} in endpoints.yml and credentials.yml; the environment overrides each one.
DEFAULTS: Dict[str, str] = {
    "BEACON_ACTION_URL": "http://127.0.0.1:5055/webhook",
    "BEACON_DB_DIALECT": "sqlite",
    "BEACON_DB_HOST": "",
    "BEACON_DB_PORT": "0",
    "BEACON_DB_NAME": str(ROOT / "var" / "beacon.db"),
    "BEACON_DB_USER": "",
    "BEACON_DB_PASSWORD": "",
    "BEACON_LOCK_STORE": "in_memory",
    "BEACON_REDIS_HOST": "127.0.0.1",
    "BEACON_REDIS_PORT": "6379",
    "BEACON_REDIS_DB": "1",
}


def environment(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The process environment with Beacon's defaults filled in, then ``extra`` on top."""
    env = dict(os.environ)
    for key, value in DEFAULTS.items():
        env.setdefault(key, value)
    env.setdefault("PYTHONPATH", str(ROOT))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.update(extra or {})
    return env


def install_defaults() -> Path:
    """Write a ``.pth`` hook into the venv so plain ``rasa shell`` / ``rasa run`` find the defaults too."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    target = site / "beacon_defaults.pth"
    pairs = ", ".join(f"{key!r}: {value!r}" for key, value in DEFAULTS.items())
    line = (
        "import os; [os.environ.setdefault(k, v) for k, v in {" + pairs + "}.items()]; "
        "os.environ.setdefault('RASA_TELEMETRY_ENABLED', 'false')\n"
    )
    target.write_text(line, encoding="utf-8")
    (ROOT / "var").mkdir(exist_ok=True)
    return target


def fingerprint() -> str:
    """Hash of everything ``rasa train`` reads; a model with this hash in its name is up to date."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    digest.update(Path(VENV_BIN / "rasa").read_bytes() if (VENV_BIN / "rasa").exists() else b"")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    """Where the model for the current training inputs lives (may not exist yet)."""
    return MODELS / f"beacon-{fingerprint()}.tar.gz"


def ensure_model(quiet: bool = False) -> Path:
    """Train unless a model with the current fingerprint exists; safe when called concurrently."""
    MODELS.mkdir(exist_ok=True)
    target = model_path()
    with open(MODELS / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        print(f"training model {target.name} (inputs changed) ...", flush=True)
        started = time.monotonic()
        cmd = [str(VENV_BIN / "rasa"), "train", "--fixed-model-name", target.name[: -len(".tar.gz")],
               "--out", str(MODELS)]
        subprocess.run(cmd, cwd=ROOT, env=environment(), check=True,
                       stdout=subprocess.DEVNULL if quiet else None)
        print(f"trained in {time.monotonic() - started:.0f} s", flush=True)
        (MODELS / "latest.txt").write_text(target.name, encoding="utf-8")
        prune_models(keep=KEEP_MODELS)
    return target


def prune_models(keep: int) -> List[Path]:
    """Delete all but the ``keep`` newest cached models (switching back to a recent state stays instant)."""
    models = sorted(MODELS.glob("beacon-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in models[keep:]:
        old.unlink(missing_ok=True)
    return models[keep:]


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 180.0, process: Optional[subprocess.Popen] = None) -> None:
    """Poll ``url`` until it answers (any HTTP status) or fail with the process's fate."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):  # nosec B310 - http://127.0.0.1 URL built above
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class Server:
    """A started server process and where it listens."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 15.0) -> None:
        """SIGINT first (clean shutdown), then SIGKILL."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def _spawn(name: str, cmd: List[str], port: int, env: Dict[str, str], log_dir: Path) -> Server:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}-{port}.log"
    handle = open(log, "ab")
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                               start_new_session=True)
    return Server(name, process, port, log)


def start_action_server(port: int, log_dir: Path, env: Optional[Dict[str, str]] = None) -> Server:
    """Start ``rasa run actions`` on 127.0.0.1:``port`` and wait until it answers."""
    # rasa-sdk binds to SANIC_HOST (0.0.0.0 by default); the action server should only face the Rasa server.
    # Sanic closes idle keep-alive connections after 5 s while Rasa's aiohttp pool reuses them longer:
    # under load that gave "Cannot write to closing transport" and lost replies, so keep them open longer.
    bind = {"SANIC_HOST": os.environ.get("BEACON_ACTION_HOST", "127.0.0.1"),
            "SANIC_KEEP_ALIVE_TIMEOUT": os.environ.get("SANIC_KEEP_ALIVE_TIMEOUT", "120"), **(env or {})}
    server = _spawn("actions", [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(port), "--actions", "actions"],
                    port, environment(bind), log_dir)
    try:
        wait_http(f"{server.url}/health", process=server.process)
    except BaseException:
        server.stop()
        raise
    return server


def start_rasa(
    port: int,
    action_port: int,
    log_dir: Path,
    model: Optional[Path] = None,
    credentials: str = "credentials.yml",
    env: Optional[Dict[str, str]] = None,
    extra_args: Optional[List[str]] = None,
) -> Server:
    """Start ``rasa run`` on 127.0.0.1:``port`` with Beacon's channels and wait until it is ready."""
    from tools.preflight import check_endpoints

    # Keep-alive longer than clients' and proxies' idle timeouts (often 60 s): a server that closes first
    # races with a request sent on the closing connection.
    extra = {"BEACON_ACTION_URL": f"http://127.0.0.1:{action_port}/webhook",
             "SANIC_KEEP_ALIVE_TIMEOUT": os.environ.get("SANIC_KEEP_ALIVE_TIMEOUT", "75"), **(env or {})}
    problems = check_endpoints(environment(extra))
    if problems:  # Rasa would start anyway and silently forget every conversation
        raise RuntimeError("Beacon cannot start: " + "; ".join(problems))
    cmd = [str(VENV_BIN / "rasa"), "run", "--interface", "127.0.0.1", "--port", str(port),
           "--model", str(model or ensure_model()), "--credentials", credentials,
           "--endpoints", "endpoints.yml", "--logging-config-file", str(ROOT / "config" / "logging.yml"),
           *(extra_args or [])]
    server = _spawn("rasa", cmd, port, environment(extra), log_dir)
    try:
        wait_http(f"{server.url}/webhooks/rest/", process=server.process)
        _wait_model_loaded(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_model_loaded(server: Server, timeout: float = 180.0) -> None:
    """``rasa run`` answers HTTP before the model is loaded; wait for the REST channel to reply."""
    import json

    deadline = time.monotonic() + timeout
    body = json.dumps({"sender": "stack-readiness-probe", "message": "/ask_menu"}).encode()
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"rasa exited with {server.process.returncode}; see {server.log}")
        request = urllib.request.Request(f"{server.url}/webhooks/rest/webhook", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310 - loopback URL
                if json.loads(response.read() or b"[]"):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"model not loaded within {timeout:.0f} s; see {server.log}")


@dataclass
class Stack:
    """Action server plus Rasa server, started together."""

    servers: List[Server] = field(default_factory=list)

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()


@contextlib.contextmanager
def running_stack(log_dir: Path, rasa_port: Optional[int] = None, action_port: Optional[int] = None,
                  env: Optional[Dict[str, str]] = None, credentials: str = "credentials.yml") -> Iterator[Stack]:
    """Start both servers (free ports unless given) and stop them on exit."""
    stack = Stack()
    try:
        actions = start_action_server(action_port or free_port(), log_dir, env)
        stack.servers.append(actions)
        stack.servers.append(start_rasa(rasa_port or free_port(), actions.port, log_dir,
                                        credentials=credentials, env=env))
        yield stack
    finally:
        stack.stop()


def run(args: argparse.Namespace) -> int:
    """``make run``: train if needed, start everything, wait for Ctrl-C, stop every child."""
    model = ensure_model()
    rasa_port = int(os.environ.get("BEACON_RASA_PORT", "5005"))
    action_port = int(os.environ.get("BEACON_ACTION_PORT", "5055"))
    log_dir = ROOT / "var" / "log"
    stack = Stack()
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        print(f"starting action server on 127.0.0.1:{action_port} ...", flush=True)
        from tools.preflight import check_endpoints

        problems = check_endpoints(environment())
        if problems:
            print("Beacon cannot start:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        actions = start_action_server(action_port, log_dir)
        stack.servers.append(actions)
        print(f"starting Rasa server on 127.0.0.1:{rasa_port} with {model.name} ...", flush=True)
        stack.servers.append(start_rasa(rasa_port, action_port, log_dir, model=model))
        base = f"http://127.0.0.1:{rasa_port}"
        telegram = "on (TELEGRAM_TOKEN is set)" if os.environ.get("TELEGRAM_TOKEN") else "off (set TELEGRAM_TOKEN to enable)"
        print(
            "\nBeacon is running.\n"
            f"  Web widget demo (parents and carers): {base}/webhooks/web/demo\n"
            f"  REST channel:  curl -s {base}/webhooks/rest/webhook -d '{{\"sender\":\"me\",\"message\":\"hi\"}}'\n"
            f"  Telegram:      {telegram}\n"
            f"  Logs:          {log_dir}\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping and all(s.process.poll() is None for s in stack.servers):
            time.sleep(0.5)
        for server in stack.servers:
            if server.process.poll() is not None and not stopping:
                print(f"{server.name} exited with {server.process.returncode}; see {server.log}", file=sys.stderr)
                return 1
        return 0
    finally:
        print("stopping ...", flush=True)
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="train if needed and start the bot")
    sub.add_parser("train", help="train only when config, domain, data or components changed")
    sub.add_parser("model", help="print the path of the current model (training it if needed)")
    sub.add_parser("install-defaults", help="write the venv hook that fills endpoint defaults")
    args = parser.parse_args()
    if args.command == "run":
        return run(args)
    if args.command == "train":
        ensure_model()
        return 0
    if args.command == "model":
        print(ensure_model(quiet=True))
        return 0
    if args.command == "install-defaults":
        print(install_defaults())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
