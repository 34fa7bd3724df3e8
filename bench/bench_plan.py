"""Benchmark: ``plan`` with no changes on big accounts (issues 4 and 10, goal 3).

Accounts from the simulator's ``generate_seed``: N callbacks and 20 N phone numbers, 10 N
of them bound, with the YAML configuration that matches each exactly. For each size a
fresh process (``python -m bench.bench_plan N CONFIG``) loads + lints, fetches, diffs and
renders the plan against the simulator (a subprocess); this process reports its phases
and its peak memory (``ru_maxrss``). Local work = total - HTTP fetch. Sizes: 1,000 and
5,000 by default, 1,000 / 5,000 / 10,000 with ``--full``. Goals at 10,000: local work
<= 3 s, peak memory <= 300 MB, growth from 1,000 linear (local work per callback at
10,000 <= 1.3x that at 1,000). At 1,000 the old checks stay: 1 token request and 6 list
requests, local work <= 3 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench import full_size, verdict
from ringrx_iac.api import endpoints as ep
from ringrx_iac.harness import SimulatorProcess, admin
from ringrx_iac.simulator.seed import generate_seed

GOAL_SECONDS = 3.0
GOAL_MB = 300
GOAL_GROWTH = 1.3
TOKEN_STAT = "POST " + ep.TOKEN_PATH
LIST_STATS = {"GET " + ep.CALLBACKS_PATH} | {"GET " + t.list_path for t in ep.TARGETS.values()}


def sizes() -> tuple[int, ...]:
    return (1000, 5000, 10000) if full_size() else (1000, 5000)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def config_for_seed(seed: Mapping[str, Any]) -> str:
    """A YAML configuration that matches the seeded account exactly (so plan is empty)."""
    f = ep.CALLBACK_FIELDS
    phones = ep.TARGETS["phone_numbers"]
    key = phones.natural_keys[0]
    bound: dict[Any, list[str]] = {}
    for number in seed.get("phone_numbers", []):
        cb_id = number.get(phones.binding_field)
        if cb_id is not None:
            digits = str(number[key]).lstrip("+")
            e164 = "+" + (digits if len(digits) > 10 else "1" + digits)
            bound.setdefault(cb_id, []).append(e164)
    lines = ["version: 1", "callbacks:"]
    for cb in seed.get("callbacks", []):
        lines.append(f"  - name: {_q(cb[f['name']])}")
        lines.append(f"    type: {cb[f['type']]}")
        lines.append(f"    url: {_q(cb[f['url']])}")
        targets = bound.get(cb[f["id"]])
        if targets:
            lines.append("    bind:")
            lines.append("      phone_numbers: [" + ", ".join(_q(t) for t in targets) + "]")
    return "\n".join(lines) + "\n"


async def _plan(config: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The phases of one plan, in this process (the worker)."""
    from ringrx_iac.api.client import ClientSettings, RingRxClient
    from ringrx_iac.reconcile.desired import from_config
    from ringrx_iac.reconcile.engine import plan_for
    from ringrx_iac.render.plan import render_plan_text
    from ringrx_iac.validate import validate as load

    t0 = time.perf_counter()
    result = load(config, env=env)
    if result.config is None or result.has_errors:
        first = "; ".join(f"{d.location}: {d.message}" for d in result.errors[:3])
        raise RuntimeError(f"the generated configuration does not load: {first}")
    # What the CLI keeps (cli/commands_reconcile._load_desired): the rest of the result
    # (the parsed config, its files' text) is freed before the fetch.
    desired, base_dir, locate = from_config(result.config), result.base_dir, result.sources.locate
    del result
    t1 = time.perf_counter()
    settings = ClientSettings.from_env(env, read_only=True)
    async with RingRxClient(settings) as client:
        f0 = time.perf_counter()
        account = await client.fetch_account()
        f1 = time.perf_counter()
    t2 = time.perf_counter()
    plan = plan_for(desired, account, env, base_dir, locate)
    render_plan_text(plan.to_dict(), color=False)
    t3 = time.perf_counter()
    return {
        "load": t1 - t0,
        "fetch": f1 - f0,
        "diff": t3 - t2,
        "local": (t3 - t0) - (f1 - f0),
        "changes": len(plan.changes),
        "errors": [str(e.message) for e in plan.errors][:2],
    }


def _measure(callbacks: int) -> dict[str, Any]:
    """Plan once at ``callbacks`` in a fresh worker process; its phases and peak memory."""
    seed = generate_seed(phone_numbers=20 * callbacks, callbacks=callbacks, bound=10 * callbacks)
    with tempfile.TemporaryDirectory(prefix="ringrx-bench-plan-") as tmp:
        seed_path = Path(tmp) / "seed.json"
        seed_path.write_text(json.dumps(seed), encoding="utf-8")
        config = Path(tmp) / "callbacks.yaml"
        config.write_text(config_for_seed(seed), encoding="utf-8")
        del seed
        sim = SimulatorProcess(["--seed", str(seed_path)])
        try:
            sim.start()
            admin("POST", sim.base_url, "/_sim/stats/reset")
            worker = subprocess.Popen(
                [sys.executable, "-m", "bench.bench_plan", str(config)],
                env={**os.environ, **sim.env},
                stdout=subprocess.PIPE,
                text=True,
            )
            assert worker.stdout is not None
            out = worker.stdout.read()
            _, status, usage = os.wait4(worker.pid, 0)
            worker.returncode = os.waitstatus_to_exitcode(status)
            if worker.returncode:
                raise RuntimeError(f"the plan worker failed ({worker.returncode})")
            stats = admin("GET", sim.base_url, "/_sim/stats")
        finally:
            sim.stop()
    figures: dict[str, Any] = json.loads(out)
    figures["mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    figures["tokens"] = int(stats.get(TOKEN_STAT, 0))
    figures["lists"] = sum(int(n) for k, n in stats.items() if k in LIST_STATS)
    return figures


def run() -> list[str]:
    """Run the benchmark; one line per figure."""
    results = {n: _measure(n) for n in sizes()}
    lines = ["plan, no changes, N callbacks / 20 N phone numbers (10 N bound), fresh process each:"]
    for n, f in results.items():
        problems = f"; {f['changes']} changes, errors {f['errors']}" if f["changes"] else ""
        lines.append(
            f"  {n:>6,}: local {f['local']:.2f} s (load+lint {f['load']:.2f}, "
            f"diff+plan+render {f['diff']:.2f}), fetch {f['fetch']:.2f} s, "
            f"peak {f['mb']:.0f} MB, {f['local'] / n * 1e6:.0f} us/callback; "
            f"requests: {f['tokens']} token + {f['lists']} list{problems}"
        )
    small, big = min(results), max(results)
    s, b = results[small], results[big]
    requests_ok = s["tokens"] == 1 and s["lists"] == 6
    lines.append(
        f"  {small:,}: local {s['local']:.2f} s vs {GOAL_SECONDS:.0f} s goal, "
        f"1 token + 6 list requests: {verdict(s['local'] <= GOAL_SECONDS and requests_ok)}"
    )
    growth = (b["local"] / big) / (s["local"] / small)
    lines.append(
        f"  growth {small:,} -> {big:,}: {growth:.2f}x per callback (goal <= {GOAL_GROWTH}: "
        f"{verdict(growth <= GOAL_GROWTH)})"
    )
    if big >= 10000:
        ok = b["local"] <= GOAL_SECONDS and b["mb"] <= GOAL_MB
        lines.append(
            f"  {big:,}: local {b['local']:.2f} s (goal <= {GOAL_SECONDS:.0f} s), peak "
            f"{b['mb']:.0f} MB (goal <= {GOAL_MB}): {verdict(ok)}"
        )
    return lines


if __name__ == "__main__":
    if len(sys.argv) == 2:  # the worker: one plan, figures as JSON on stdout
        print(json.dumps(asyncio.run(_plan(Path(sys.argv[1]), os.environ))))
    else:
        print("\n".join(run()))
