"""Benchmark: ``apply`` of 1,000 creates and 10,000 binds, parallelism 16, 20 ms latency.

The simulator runs as a subprocess with 20 ms of latency on every request and an account
of 10,000 unbound phone numbers; the configuration creates 1,000 sms callbacks bound to
10 numbers each. The plan is made and applied in-process with the reconciler's
``Applier`` and the real client. The ideal is requests x latency / parallelism with
requests = 11,000; the goal is a wall time of at most 1.3x that.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ringrx_iac.api import endpoints as ep
from ringrx_iac.api.client import ClientSettings, RingRxClient
from ringrx_iac.config.loader import load
from ringrx_iac.demo import Simulator, admin
from ringrx_iac.reconcile.applier import Applier
from ringrx_iac.reconcile.desired import from_config
from ringrx_iac.reconcile.engine import plan_for
from ringrx_iac.simulator.seed import generate_seed

CALLBACKS = 1000
BINDS_PER_CALLBACK = 10
PARALLELISM = 16
LATENCY = 0.020
GOAL_RATIO = 1.3


def config_for_apply(seed: Mapping[str, Any]) -> str:
    """1,000 sms callbacks, each bound to 10 of the seed's phone numbers."""
    key = ep.TARGETS["phone_numbers"].natural_keys[0]
    numbers = []
    for n in seed["phone_numbers"][: CALLBACKS * BINDS_PER_CALLBACK]:
        digits = str(n[key]).lstrip("+")
        numbers.append("+" + (digits if len(digits) > 10 else "1" + digits))
    lines = ["version: 1", "callbacks:"]
    for i in range(CALLBACKS):
        mine = numbers[i * BINDS_PER_CALLBACK : (i + 1) * BINDS_PER_CALLBACK]
        lines += [
            f'  - name: "Bench SMS {i:04d}"',
            "    type: sms",
            f'    url: "https://hooks.example.com/bench/{i}/sms?to={{to}}"',
            "    bind:",
            "      phone_numbers: [" + ", ".join(f'"{m}"' for m in mine) + "]",
        ]
    return "\n".join(lines) + "\n"


async def _apply(config: Path, env: Mapping[str, str], base_url: str) -> dict[str, Any]:
    result = load(config, env=env)
    if result.config is None or result.has_errors:
        first = "; ".join(f"{d.location}: {d.message}" for d in result.errors[:3])
        raise RuntimeError(f"the generated configuration does not load: {first}")
    desired = from_config(result.config)
    settings = ClientSettings.from_env(env, parallelism=PARALLELISM)
    async with RingRxClient(settings) as client:
        account = await client.fetch_account()
        plan = plan_for(desired, account, env, result.base_dir)
        if plan.errors:
            raise RuntimeError(f"plan errors: {[e.message for e in plan.errors[:3]]}")
        summary = plan.summary()
        await asyncio.to_thread(admin, "POST", base_url, "/_sim/stats/reset")
        applier = Applier(plan, client, parallelism=PARALLELISM)
        t0 = time.perf_counter()
        report = await applier.run()
        wall = time.perf_counter() - t0
        stats = await asyncio.to_thread(admin, "GET", base_url, "/_sim/stats")
        after = plan_for(desired, await client.fetch_account(), env, result.base_dir)
    data = report.to_dict()["summary"]
    return {
        "wall": wall,
        "summary": summary,
        "report": data,
        "requests": int(stats.get("total", 0)),
        "left": len(after.changes),
    }


def run() -> list[str]:
    """Run the benchmark; one line per figure."""
    seed = generate_seed(phone_numbers=CALLBACKS * BINDS_PER_CALLBACK, callbacks=0, bound=0)
    with tempfile.TemporaryDirectory(prefix="ringrx-bench-apply-") as tmp:
        seed_path = Path(tmp) / "seed.json"
        seed_path.write_text(json.dumps(seed), encoding="utf-8")
        config = Path(tmp) / "callbacks.yaml"
        config.write_text(config_for_apply(seed), encoding="utf-8")
        sim = Simulator(["--seed", str(seed_path), "--latency", str(LATENCY)])
        try:
            sim.start()
            figures = asyncio.run(_apply(config, dict(sim.env), sim.base_url))
        finally:
            sim.stop()
    planned = figures["summary"]
    requests = planned.get("create", 0) + planned.get("bind", 0)
    ideal = requests * LATENCY / PARALLELISM
    ratio = figures["wall"] / ideal
    rep = figures["report"]
    return [
        f"apply {planned.get('create', 0):,} creates + {planned.get('bind', 0):,} binds, "
        f"parallelism {PARALLELISM}, {LATENCY * 1000:.0f} ms latency:",
        f"  done {rep['done']:,}, failed {rep['failed']}, skipped {rep['skipped']}; "
        f"requests seen by the simulator during apply: {figures['requests']:,}; "
        f"changes left after apply: {figures['left']}",
        f"  wall {figures['wall']:.2f} s; ideal {requests:,} x {LATENCY * 1000:.0f} ms / "
        f"{PARALLELISM} = {ideal:.2f} s",
        f"  ratio {ratio:.2f} (goal <= {GOAL_RATIO}: {'PASS' if ratio <= GOAL_RATIO else 'FAIL'})",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
