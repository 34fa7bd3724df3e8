"""Benchmark: drift over a fleet (issue 11).

50 accounts x 100 callbacks (each bound to a phone number) on one shared configuration
rendered with each account's variables, every account its own simulator (own port, own API key) with 50 ms injected latency per request; the simulators
run in one helper process (``python -m bench.bench_fleet serve``), so that they do not
share the measured process's CPU. The fleet runs in-process through the same runner as
``ringrx-iac drift --fleet`` (``fleet.runner.run_fleet`` + ``fleet.account.run_account``:
load and lint the configuration, get a token, read the account, plan), so start-up time
is not measured.

Figures: one account's drift time alone (median of ``ROUNDS``, with the CPU time the
client process spent on it), the fleet's wall time at ``--accounts-parallelism 4``
(median of ``ROUNDS``), and its ratio to the ideal ``accounts / parallelism x one
account's time``. The fleet runs in one process, so it can also never beat ``accounts x
one account's CPU time`` (configuration load and lint, HTTP, plan): the goal is at most
1.25x the larger of the two.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCOUNTS = 50
CALLBACKS = 100
LATENCY = 0.05
PARALLELISM = 4
ROUNDS = 3
GOAL_RATIO = 1.25


def account_seed(index: int) -> dict[str, Any]:
    """An account of ``CALLBACKS`` sms callbacks, each bound to its own phone number."""
    return {
        "users": [{"username": "admin", "password": "bench-password"}],
        "api_keys": [{"token": f"bench-token-{index}", "secret": "bench-secret", "user": "admin"}],
        "phone_numbers": [
            {"id": i, "phonenumber": f"+1818555{i:04d}", "sms_callback_id": i}
            for i in range(1, CALLBACKS + 1)
        ],
        "callbacks": [
            {
                "id": i,
                "name": f"Callback {i:03d}",
                "callback_type": "sms",
                "url": f"https://hooks.example.com/p{index}/{i}",
            }
            for i in range(1, CALLBACKS + 1)
        ],
    }


def baseline() -> str:
    """The shared configuration: ``CALLBACKS`` callbacks, the practice in every URL."""
    lines = ["version: 1", "callbacks:"]
    for i in range(1, CALLBACKS + 1):
        lines += [
            f'  - name: "Callback {i:03d}"',
            "    type: sms",
            f'    url: "https://hooks.example.com/{{{{ practice }}}}/{i}"',
            f'    bind: {{phone_numbers: ["+1818555{i:04d}"]}}',
        ]
    return "\n".join(lines) + "\n"


def serve() -> None:
    """The helper process: start the simulators, print their URLs, serve until stdin closes."""
    from ringrx_iac.simulator.server import SimulatorServer

    sims = [SimulatorServer(seed=account_seed(i), latency=LATENCY) for i in range(ACCOUNTS)]
    for sim in sims:
        sim.start()
    print(json.dumps([sim.base_url for sim in sims]), flush=True)
    sys.stdin.read()
    for sim in sims:
        sim.stop()


def _inventory(tmp: Path, urls: list[str]) -> Path:
    (tmp / "baseline.yaml").write_text(baseline(), encoding="utf-8")
    lines = ["version: 1", "accounts:"]
    for i, url in enumerate(urls):
        lines += [
            f"  - key: practice-{i:02d}",
            f"    base_url: {url}",
            f'    credentials: {{api_key: "${{env:BENCH_TOKEN_{i}}}", api_secret: "${{env:BENCH_SECRET}}"}}',
            "    config: baseline.yaml",
            f"    variables: {{practice: p{i}}}",
        ]
    path = tmp / "fleet.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used (Linux; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(fleet: Path, helper_pid: int) -> Figures:
    from ringrx_iac.fleet.account import RunOptions, run_account
    from ringrx_iac.fleet.inventory import load_inventory
    from ringrx_iac.fleet.runner import run_fleet

    os.environ.update({f"BENCH_TOKEN_{i}": f"bench-token-{i}" for i in range(ACCOUNTS)})
    os.environ["BENCH_SECRET"] = "bench-secret"
    inv = load_inventory(fleet)
    assert not inv.errors, inv.errors
    opts = RunOptions(base_dir=inv.base_dir)

    async def drift(accounts: list[Any], parallelism: int) -> list[Any]:
        return await run_fleet(
            accounts,
            lambda a: run_account("drift", a, opts),
            parallelism=parallelism,
        )

    def timed(accounts: list[Any], parallelism: int) -> tuple[float, float, list[Any]]:
        start, cpu = time.perf_counter(), time.process_time()
        results = asyncio.run(drift(accounts, parallelism))
        return time.perf_counter() - start, time.process_time() - cpu, results

    timed(inv.accounts[:1], 1)  # warm-up: imports, template compilation
    singles = [timed(inv.accounts[i : i + 1], 1) for i in range(ROUNDS)]
    one = statistics.median(seconds for seconds, _, _ in singles)
    one_cpu = statistics.median(cpu for _, cpu, _ in singles)
    sim_cpu = _cpu_of(helper_pid)
    runs = [timed(inv.accounts, PARALLELISM) for _ in range(ROUNDS)]
    sim_cpu = (_cpu_of(helper_pid) - sim_cpu) / ROUNDS
    whole = statistics.median(seconds for seconds, _, _ in runs)
    whole_cpu = statistics.median(cpu for _, cpu, _ in runs)
    counts: dict[str, int] = {}
    for result in runs[-1][2]:
        counts[result.status] = counts.get(result.status, 0) + 1
    return Figures(one, one_cpu, whole, whole_cpu, sim_cpu, counts)


@dataclass
class Figures:
    one: float  # one account's drift, wall time
    one_cpu: float  # ... and the CPU time this process spent on it
    whole: float  # the fleet, wall time
    whole_cpu: float  # ... and its CPU time
    sim_cpu: float  # the simulators' CPU time during one fleet run (mean)
    counts: dict[str, int]


def run() -> list[str]:
    """Run the benchmark; one line per figure."""
    helper = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_fleet", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert helper.stdout is not None
        urls = json.loads(helper.stdout.readline())
        with tempfile.TemporaryDirectory(prefix="ringrx-bench-fleet-") as tmp:
            f = _measure(_inventory(Path(tmp), urls), helper.pid)
    finally:
        assert helper.stdin is not None
        helper.stdin.close()
        helper.wait(timeout=60)
    load = os.getloadavg()[0]
    ideal = ACCOUNTS / PARALLELISM * f.one
    cpu_floor = ACCOUNTS * f.one_cpu  # one process, one core: the CPU work cannot overlap
    bound = max(ideal, cpu_floor)
    ratio = f.whole / bound
    return [
        f"drift over a fleet of {ACCOUNTS} accounts x {CALLBACKS} callbacks, "
        f"{LATENCY * 1000:.0f} ms latency per request, --accounts-parallelism {PARALLELISM}:",
        f"  one account's drift alone (median of {ROUNDS}): {f.one * 1000:7.1f} ms "
        f"({f.one_cpu * 1000:.1f} ms of it CPU in this process)",
        f"  the fleet (median of {ROUNDS}):                {f.whole * 1000:7.1f} ms  "
        f"(accounts: {', '.join(f'{n} {s}' for s, n in sorted(f.counts.items()))}; "
        f"{f.whole_cpu * 1000:.0f} ms CPU, {f.whole_cpu / f.whole:.0%} of the wall time)",
        f"  the simulators' CPU during a fleet run: {f.sim_cpu * 1000:.0f} ms "
        f"({f.sim_cpu / f.whole:.0%} of the wall time; they share one process)",
        f"  ideal ({ACCOUNTS} / {PARALLELISM} x one account):      {ideal * 1000:7.1f} ms "
        f"(ratio {f.whole / ideal:.2f})",
        f"  CPU floor ({ACCOUNTS} x one account's CPU):    {cpu_floor * 1000:7.1f} ms "
        f"(ratio {f.whole / cpu_floor:.2f})",
        f"  ratio to the larger of the two: {ratio:.2f} (goal <= {GOAL_RATIO}: "
        f"{'PASS' if ratio <= GOAL_RATIO else 'FAIL'})",
        f"  (load average {load:.1f} on {os.cpu_count()} CPUs: a fleet whose CPU share is far "
        "below 100% was waiting for a CPU, not for RingRx)",
    ]


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
    else:
        print("\n".join(run()))
