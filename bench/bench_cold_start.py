"""Cold start of the CLI (issue 10, goal 5): ``--version`` <= 0.2 s, ``validate`` of a
one-callback file <= 0.4 s.

Each command runs as a fresh process (the installed ``ringrx-iac`` script next to this
interpreter, else ``python -m ringrx_iac``) ``RUNS`` times; min and median wall times are
printed with the bare interpreter's start (``python -c pass``) for scale.
"""

from __future__ import annotations

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


def timed(args: list[str], runs: int = RUNS) -> list[float]:
    """Wall seconds of ``runs`` runs of ``args`` (each must exit 0)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def _line(label: str, times: list[float], goal: float | None) -> str:
    low, mid = min(times), statistics.median(times)
    text = f"{label:<24} min {low:.3f} s, median {mid:.3f} s over {len(times)} runs"
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
