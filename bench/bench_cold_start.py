"""Cold start of the CLI (issue 10, goal 5): ``--version`` <= 0.2 s, ``validate`` of a
one-callback file <= 0.4 s.

Each command runs as a fresh process (the installed ``ringrx-iac`` script next to this
interpreter, else ``python -m ringrx_iac``) ``RUNS`` times; min and median wall times are
printed with the bare interpreter's start (``python -c pass``) for scale, and the median
CPU time (user + system), which a loaded machine inflates far less than the wall time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
GOALS = {"--version": 0.2, "validate (1 callback)": 0.4}
ONE_CALLBACK = (
    "version: 1\ncallbacks:\n  - name: One\n    type: sms\n"
    '    url: "https://hooks.example.com/sms?to={to}"\n'
    '    bind: {phone_numbers: ["+18185559876"]}\n'
)


def cli_command() -> list[str]:
    """How to start the installed CLI: its console script when there is one."""
    script = Path(sys.executable).with_name("ringrx-iac")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ringrx_iac"]


def timed(args: list[str], runs: int = RUNS) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds of ``runs`` runs of ``args`` (each must exit 0)."""
    walls, cpus = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise RuntimeError(f"{args} exited {proc.returncode}")
    return walls, cpus


def _line(label: str, times: tuple[list[float], list[float]], goal: float | None) -> str:
    walls, cpus = times
    low, mid = min(walls), statistics.median(walls)
    text = (
        f"{label:<24} wall min {low:.3f} s, median {mid:.3f} s; CPU median "
        f"{statistics.median(cpus):.3f} s ({len(walls)} runs)"
    )
    if goal is not None:
        verdict = "PASS" if mid <= goal else "FAIL"
        text += f"; goal <= {goal} s: ratio {mid / goal:.2f} (median) {verdict}"
    return text


def run() -> list[str]:
    """The benchmark's report lines."""
    cli = cli_command()
    with tempfile.TemporaryDirectory(prefix="ringrx-bench-cold-") as tmp:
        config = Path(tmp) / "one.yaml"
        config.write_text(ONE_CALLBACK, encoding="utf-8")
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "--version": [*cli, "--version"],
            "validate (1 callback)": [*cli, "validate", str(config)],
        }
        return [_line(label, timed(args), GOALS.get(label)) for label, args in cases.items()]


if __name__ == "__main__":
    print("\n".join(run()))
