"""The content team's loop, timed: edit → check → (retrain) → try.

Measures on this machine, without touching the repository's own files:
  check         ``python -m tools.check_content`` on the real content
  hot reload    a running bot (action server + Rasa, REST channel) is asked "who can I call?" for
                Italy; a helpline's display name is edited in a private copy of ``content/``; the time
                until the bot's reply shows the edit (no restart, no retrain)
  retrain       in a private copy of the training inputs: a full ``rasa train --force``, then the
                retrain after adding one NLU example, then after editing one rule (Rasa reuses
                cached graph components whose inputs did not change)

    .venv/bin/python -m bench.edit_loop [--skip-train] [--out bench/edit_loop.md]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx
import yaml

from tools import stack

ROOT = Path(__file__).resolve().parent.parent
ASK_ITALY = ['/inform_country{"country":"IT"}', "/ask_helpline"]
MARKER = " (edited)"


def time_check() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "tools.check_content"], cwd=ROOT, env=stack.environment(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def _reply(client: httpx.Client, url: str, sender: str, text: str) -> str:
    response = client.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
    response.raise_for_status()
    return "\n".join(str(m.get("text") or "") for m in response.json())


def time_hot_reload(log_dir: Path) -> Tuple[float, float]:
    """(start-up to first answer, seconds from saving the edit to the bot saying it)."""
    content = log_dir / "content"
    shutil.copytree(ROOT / "content", content)
    env = {"BEACON_CONTENT_DIR": str(content), "BEACON_DB_NAME": str(log_dir / "loop.db"),
           "BEACON_VAR_DIR": str(log_dir)}
    started = time.monotonic()
    actions = stack.start_action_server(stack.free_port(), log_dir, env)
    rasa = stack.start_rasa(stack.free_port(), actions.port, log_dir, env=env, credentials="bench/credentials.yml")
    startup = time.monotonic() - started
    try:
        with httpx.Client(timeout=60) as client:
            for text in ASK_ITALY:
                before = _reply(client, rasa.url, "loop-user", text)
            if "Telefono Azzurro" not in before:
                raise RuntimeError(f"unexpected helpline reply: {before!r}")
            path = content / "helplines" / "IT.yml"
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            for service in document["services"]:
                if service["id"] == "it_telefono_azzurro":
                    service["short_name"] = service["name"] = "Telefono Azzurro" + MARKER
            saved = time.monotonic()
            path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
            while time.monotonic() - saved < 60:
                if MARKER in _reply(client, rasa.url, "loop-user", "/ask_helpline"):
                    return startup, time.monotonic() - saved
                time.sleep(0.2)
            raise RuntimeError("the edit never showed up")
    finally:
        rasa.stop()
        actions.stop()


def _train(project: Path, force: bool = False) -> float:
    started = time.monotonic()
    cmd = [str(stack.VENV_BIN / "rasa"), "train", "--out", str(project / "models")] + (["--force"] if force else [])
    subprocess.run(cmd, cwd=project, env=stack.environment({"PYTHONPATH": str(ROOT)}), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def time_retrains(workdir: Path) -> Dict[str, float]:
    """Full retrain, then retrains after one NLU example and after one story edit, with Rasa's cache."""
    project = workdir / "project"
    project.mkdir()
    for name in ("config.yml", "domain.yml", "data"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    times = {"full retrain (`rasa train --force`, empty cache)": _train(project, force=True)}
    nlu = project / "data" / "nlu" / "en" / "core.yml"
    nlu.write_text(nlu.read_text(encoding="utf-8").replace("      - thanks\n", "      - thanks\n      - thanks a ton\n", 1),
                   encoding="utf-8")
    times["after adding one NLU example (cache reused)"] = _train(project)
    dialogue = sorted((project / "data").rglob("*.yml"))
    rule_file: Optional[Path] = next((p for p in dialogue if "- rule: " in p.read_text(encoding="utf-8")), None)
    if rule_file is not None:
        rule_file.write_text(rule_file.read_text(encoding="utf-8").replace("- rule: ", "- rule: edited ", 1),
                             encoding="utf-8")
        times["after renaming one rule (cache reused)"] = _train(project)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-train", action="store_true", help="only check and hot reload")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "edit_loop.md")
    args = parser.parse_args()
    stack.ensure_model()
    rows: List[Tuple[str, float]] = [("`make check-content`", time_check())]
    with tempfile.TemporaryDirectory(prefix="beacon-loop-") as tmp:
        startup, reload_seconds = time_hot_reload(Path(tmp))
        rows += [("`make run` start-up to first answer (model already trained)", startup),
                 ("helpline edit saved → the running bot says it (no restart, no retrain)", reload_seconds)]
        print("\n".join(f"{name}: {value:.1f} s" for name, value in rows), flush=True)
        if not args.skip_train:
            for name, value in time_retrains(Path(tmp)).items():
                rows.append((name, value))
                print(f"{name}: {value:.1f} s", flush=True)
    lines = ["# Content editing loop", "",
             f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (`python -m bench.edit_loop`).", "",
             "| step | seconds |", "|---|---:|"]
    lines += [f"| {name} | {value:.1f} |" for name, value in rows]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
