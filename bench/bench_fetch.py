"""Benchmark: ``fetch_account()`` runs its six list calls concurrently (issue 3).

Account: the simulator's ``generate_seed`` (20,000 phone numbers, 1,000 callbacks), served
by ``ringrx-iac simulator`` as a subprocess with 50 ms injected latency per request. After
a warm-up (token obtained, connections open, the simulator's list cache filled), each of the
six list calls is timed alone, then ``fetch_account()``; each figure is the median of
``ROUNDS`` runs. Goal: ``fetch_account()`` takes at most 1.5x the slowest single list call.
"""

from __future__ import annotations

import asyncio
import functools
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from ringrx_iac.api import endpoints
from ringrx_iac.api.client import ClientSettings, RingRxClient
from ringrx_iac.harness import SimulatorProcess
from ringrx_iac.simulator.seed import generate_seed

PHONE_NUMBERS = 20000
CALLBACKS = 1000
LATENCY = 0.05
ROUNDS = 5
GOAL_RATIO = 1.5


async def _median(call: Callable[[], Awaitable[Any]]) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def _measure(env: Mapping[str, str]) -> tuple[dict[str, float], float, int]:
    settings = ClientSettings.from_env(env, read_only=True)
    async with RingRxClient(settings) as client:
        account = await client.fetch_account()  # warm-up
        phones = len(account.targets["phone_numbers"])
        singles = {"callbacks": await _median(client.list_callbacks)}
        for kind in endpoints.TARGETS:
            singles[kind] = await _median(functools.partial(client.list_targets, kind))
        together = await _median(client.fetch_account)
    return singles, together, phones


def run() -> list[str]:
    """Run the benchmark; one line per figure."""
    seed = generate_seed(phone_numbers=PHONE_NUMBERS, callbacks=CALLBACKS)
    with tempfile.TemporaryDirectory(prefix="ringrx-bench-fetch-") as tmp:
        seed_path = Path(tmp) / "seed.json"
        seed_path.write_text(json.dumps(seed), encoding="utf-8")
        sim = SimulatorProcess(["--seed", str(seed_path), "--latency", str(LATENCY)])
        try:
            sim.start()
            singles, together, phones = asyncio.run(_measure(dict(sim.env)))
        finally:
            sim.stop()
    slowest_kind = max(singles, key=lambda k: singles[k])
    slowest = singles[slowest_kind]
    ratio = together / slowest
    lines = [
        f"fetch_account, {phones:,} phone numbers, {CALLBACKS:,} callbacks, "
        f"{LATENCY * 1000:.0f} ms latency per request (median of {ROUNDS}):",
    ]
    lines += [f"  {kind:<18} alone: {seconds * 1000:7.1f} ms" for kind, seconds in singles.items()]
    lines += [
        f"  sum of the six alone: {sum(singles.values()) * 1000:7.1f} ms (what sequential costs)",
        f"  fetch_account (6 concurrent): {together * 1000:7.1f} ms",
        f"  ratio to the slowest single call ({slowest_kind}): {ratio:.2f} "
        f"(goal <= {GOAL_RATIO}: {'PASS' if ratio <= GOAL_RATIO else 'FAIL'})",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
