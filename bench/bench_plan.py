"""Benchmark: ``plan`` with no changes on a big account (issue 4).

Account: 1,000 callbacks and 20,000 phone numbers, 10,000 of them bound (the simulator's
``generate_seed``), and the YAML configuration that matches it exactly. The plan runs
in-process (load + lint, fetch, diff, render) against the simulator running as a
subprocess. Reported: token and list requests (from ``GET /_sim/stats``; expected 1 and
6), and the local work time (total minus the time spent fetching over HTTP) against the
3 s goal.
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

from ringrx_iac.api import endpoints as ep
from ringrx_iac.api.client import ClientSettings, RingRxClient
from ringrx_iac.config.loader import load
from ringrx_iac.demo import Simulator, admin
from ringrx_iac.reconcile.desired import from_config
from ringrx_iac.reconcile.engine import plan_for
from ringrx_iac.render.plan import render_plan_text
from ringrx_iac.simulator.seed import generate_seed

CALLBACKS = 1000
PHONE_NUMBERS = 20000
BOUND = 10000
GOAL_SECONDS = 3.0
TOKEN_STAT = "POST " + ep.TOKEN_PATH
LIST_STATS = {"GET " + ep.CALLBACKS_PATH} | {"GET " + t.list_path for t in ep.TARGETS.values()}


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
    t0 = time.perf_counter()
    result = load(config, env=env)
    if result.config is None or result.has_errors:
        first = "; ".join(f"{d.location}: {d.message}" for d in result.errors[:3])
        raise RuntimeError(f"the generated configuration does not load: {first}")
    desired = from_config(result.config)
    t1 = time.perf_counter()
    settings = ClientSettings.from_env(env, read_only=True)
    async with RingRxClient(settings) as client:
        f0 = time.perf_counter()
        account = await client.fetch_account()
        f1 = time.perf_counter()
    t2 = time.perf_counter()
    plan = plan_for(desired, account, env, result.base_dir)
    text = render_plan_text(plan.to_dict(), color=False)
    t3 = time.perf_counter()
    return {
        "load": t1 - t0,
        "fetch": f1 - f0,
        "diff": t3 - t2,
        "total": t3 - t0,
        "changes": len(plan.changes),
        "errors": [str(e.message) for e in plan.errors],
        "text": text,
    }


def _cli_plan(config: Path, env: Mapping[str, str]) -> tuple[int, float]:
    """The same plan through the CLI, as a user runs it (Python start-up included)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "ringrx_iac", "plan", str(config), "--detailed-exitcode"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.returncode, time.perf_counter() - t0


def run() -> list[str]:
    """Run the benchmark; one line per figure."""
    seed = generate_seed(phone_numbers=PHONE_NUMBERS, callbacks=CALLBACKS, bound=BOUND)
    with tempfile.TemporaryDirectory(prefix="ringrx-bench-plan-") as tmp:
        seed_path = Path(tmp) / "seed.json"
        seed_path.write_text(json.dumps(seed), encoding="utf-8")
        config = Path(tmp) / "callbacks.yaml"
        config.write_text(config_for_seed(seed), encoding="utf-8")
        sim = Simulator(["--seed", str(seed_path)])
        try:
            sim.start()
            env = dict(sim.env)
            admin("POST", sim.base_url, "/_sim/stats/reset")
            figures = asyncio.run(_plan(config, env))
            stats = admin("GET", sim.base_url, "/_sim/stats")
            cli_code, cli_time = _cli_plan(config, env)
        finally:
            sim.stop()
    tokens = int(stats.get(TOKEN_STAT, 0))
    lists = sum(int(n) for k, n in stats.items() if k in LIST_STATS)
    local = figures["total"] - figures["fetch"]
    ratio = local / GOAL_SECONDS
    size = f"{CALLBACKS:,} callbacks, {PHONE_NUMBERS:,} phone numbers ({BOUND:,} bound)"
    lines = [
        f"plan, no changes, {size}:",
        f"  changes found: {figures['changes']} (expect 0)"
        + (f"; plan errors: {figures['errors'][:2]}" if figures["errors"] else ""),
        f"  token requests: {tokens} (expect 1); list requests: {lists} (expect 6); "
        f"all requests: {stats.get('total', '?')}",
        f"  local work {local:.2f} s (load+lint {figures['load']:.2f} s, "
        f"diff+plan+render {figures['diff']:.2f} s); HTTP fetch {figures['fetch']:.2f} s",
        f"  local work vs the {GOAL_SECONDS:.0f} s goal: ratio {ratio:.2f} "
        f"({'PASS' if ratio <= 1 and tokens == 1 and lists == 6 else 'FAIL'})",
        f"  CLI `plan --detailed-exitcode` end to end: {cli_time:.2f} s, exit {cli_code} (expect 0)",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
