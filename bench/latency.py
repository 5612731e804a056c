"""``make bench``: reply latency, throughput, memory, start-up and training time, printed as a table.

One Rasa server (the current model) exposes three channels side by side in the same run:
  bare   Rasa's own ``RestInput`` (the baseline)       POST /webhooks/rest/webhook
  beacon Beacon's hardened REST channel                POST /webhooks/beaconrest/webhook
  web    the parents' widget protocol (signed tokens)  POST /webhooks/web/webhook
Each is driven at 1, 10, 50 and 200 concurrent conversations (each conversation sends its turns one
after the other, as a person would). Results go to stdout and ``bench/results.md``.

Channels are measured in rounds whose order alternates (bare, beacon, web, then web, beacon, bare, ...)
so that warm caches and background load do not favour whichever channel runs first; each channel's
figures pool all its rounds. Big levels send fewer turns per conversation (``--max-messages`` per run)
to keep the whole benchmark near ten minutes on 2 cores.

Options: ``--levels 1,10,50,200 --turns 10 --rounds 3 --max-messages 600 --train``
(``--train`` also times a full retrain).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx

from tools import stack

ROOT = Path(__file__).resolve().parent.parent
TURNS = ["hi", "/i_am_teen", "what are red flags when chatting with someone online?", "/tell_me_more",
         "who can I call?", '/inform_country{"country":"IT"}', "/start_quiz", "/affirm", "/deny", "/ask_menu"]


@dataclass
class Result:
    """Latencies (seconds) and errors of one channel at one concurrency level."""

    channel: str
    level: int
    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def merge(self, other: "Result") -> None:
        """Pool another round of the same channel and level into this one."""
        self.latencies += other.latencies
        self.errors += other.errors
        self.wall += other.wall


class Driver:
    """Sends one conversation's turns through one channel."""

    def __init__(self, base: str, channel: str, client: httpx.AsyncClient) -> None:
        self.base, self.channel, self.client = base, channel, client

    async def conversation(self, turns: List[str], result: Result) -> None:
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        token: Optional[str] = None
        for text in turns:
            started = time.perf_counter()
            try:
                if self.channel == "web":
                    body = {"message": text, "language": "en"}
                    if token:
                        body["token"] = token
                    response = await self.client.post(f"{self.base}/webhooks/web/webhook", json=body)
                    if response.status_code == 200:
                        token = response.json().get("token", token)
                else:
                    path = "rest" if self.channel == "bare" else "beaconrest"
                    response = await self.client.post(f"{self.base}/webhooks/{path}/webhook",
                                                      json={"sender": sender, "message": text})
                ok = response.status_code == 200 and bool(response.json() if self.channel != "web" else response.json().get("messages"))
            except (httpx.HTTPError, ValueError):
                ok = False
            if ok:
                result.latencies.append(time.perf_counter() - started)
            else:
                result.errors += 1


async def run_level(base: str, channel: str, level: int, turns: List[str]) -> Result:
    result = Result(channel, level)
    limits = httpx.Limits(max_connections=level + 5, max_keepalive_connections=level + 5)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        driver = Driver(base, channel, client)
        started = time.perf_counter()
        await asyncio.gather(*(driver.conversation(turns, result) for _ in range(level)))
        result.wall = time.perf_counter() - started
    return result


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def time_training() -> float:
    """A full retrain (no cache) into a temporary directory, in seconds."""
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run([str(stack.VENV_BIN / "rasa"), "train", "--force", "--out", out], cwd=ROOT,
                       env=stack.environment(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,10,50,200")
    parser.add_argument("--turns", type=int, default=len(TURNS))
    parser.add_argument("--channels", default="bare,beacon,web")
    parser.add_argument("--rounds", type=int, default=3, help="alternating-order rounds per level")
    parser.add_argument("--max-messages", type=int, default=600, help="messages per channel per round, at most")
    parser.add_argument("--train", action="store_true", help="also time a full retrain")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    channels = args.channels.split(",")
    turns = (TURNS * 10)[: args.turns]

    model = stack.ensure_model()
    log_dir = Path(tempfile.mkdtemp(prefix="beacon-bench-"))
    env = {"BEACON_DB_NAME": str(log_dir / "bench.db"), "BEACON_VAR_DIR": str(log_dir),
           "BEACON_WEB_RATE_PER_MINUTE": "100000", "BEACON_WEB_IP_RATE_PER_MINUTE": "1000000"}
    started = time.monotonic()
    actions = stack.start_action_server(stack.free_port(), log_dir, env)
    rasa = stack.start_rasa(stack.free_port(), actions.port, log_dir, model=model,
                            credentials="bench/credentials.yml", env=env)
    startup = time.monotonic() - started
    results: List[Result] = []
    try:
        for channel in channels:  # warm-up: first requests load lazy caches; not measured
            asyncio.run(run_level(rasa.url, channel, 2, turns))
        for level in levels:
            level_turns = turns[: max(3, min(len(turns), args.max_messages // level))]
            pooled = {channel: Result(channel, level) for channel in channels}
            for round_no in range(args.rounds):
                order = channels if round_no % 2 == 0 else list(reversed(channels))
                for channel in order:
                    pooled[channel].merge(asyncio.run(run_level(rasa.url, channel, level, level_turns)))
            for channel in channels:
                result = pooled[channel]
                results.append(result)
                print(f"{channel:>6} x{level:<4} p50 {result.pct(0.5) * 1000:7.1f} ms  p95 {result.pct(0.95) * 1000:7.1f} ms  "
                      f"p99 {result.pct(0.99) * 1000:7.1f} ms  {result.throughput:6.1f} msg/s  errors {result.errors}", flush=True)
        memory = (rss_mb(rasa.process.pid), rss_mb(actions.process.pid))
    finally:
        rasa.stop()
        actions.stop()
    training = time_training() if args.train else None
    report = render(results, startup, memory, training, turns, args.rounds)
    print(report)
    (ROOT / "bench" / "results.md").write_text(report, encoding="utf-8")
    return 0


def render(results: List[Result], startup: float, memory: Tuple[float, float], training: Optional[float],
           turns: List[str], rounds: int) -> str:
    baseline: Dict[int, float] = {r.level: r.pct(0.5) for r in results if r.channel == "bare"}
    lines = [
        "# Beacon benchmark results",
        "",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: up to {len(turns)} turns per conversation, "
        f"{rounds} rounds per level in alternating channel order, all channels on the same Rasa server and model "
        "in the same run. msg/s is messages over the wall time of that channel's rounds.",
        "",
        "| channel | conversations | p50 ms | p95 ms | p99 ms | msg/s | errors | p50 vs bare REST |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = r.pct(0.5) / baseline[r.level] if baseline.get(r.level) else float("nan")
        lines.append(f"| {r.channel} | {r.level} | {r.pct(0.5) * 1000:.1f} | {r.pct(0.95) * 1000:.1f} | "
                     f"{r.pct(0.99) * 1000:.1f} | {r.throughput:.1f} | {r.errors} | {ratio:.2f}× |")
    lines += ["", f"- Start-up to first answer (action server + Rasa server, model loaded): {startup:.1f} s",
              f"- RSS after the run: Rasa server {memory[0]:.0f} MB, action server {memory[1]:.0f} MB"]
    if training is not None:
        lines.append(f"- Full training (`rasa train --force`): {training:.0f} s")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
