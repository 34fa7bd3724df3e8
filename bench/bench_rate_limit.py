"""Benchmark: apply against a rate-limited simulator (issue 10, goal 2).

The simulator answers 429 (``Retry-After: 1``) past ``--rate-limit N`` requests per second
and token. Goal: apply reaches at least 0.9 N writes/s with at most 2% of its requests
answered 429, for N = 20 and 200, whether or not the server sends ``X-RateLimit-*``
headers (without them the client learns the limit from its first 429s). Parallelism 16;
the apply is ``SECONDS`` of work at the limit (twice as long with ``--full``). A last
line applies the N = 200 writes with no limit: on a loaded machine the client's own speed
may be below 200 writes/s, and then that, not the pacing, is the ceiling.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from bench import full_size, verdict
from bench.bench_apply import BINDS_PER_CALLBACK, apply_real, config_for_apply
from ringrx_iac.harness import SimulatorProcess, admin
from ringrx_iac.simulator.seed import generate_seed

PARALLELISM = 16
SECONDS = 10
GOAL_SHARE_OF_LIMIT = 0.9
GOAL_MAX_429 = 0.02


def _case(limit: int, headers: bool | None) -> list[str]:
    """One apply of ``SECONDS`` at ``limit``; ``headers`` None: the same with no limit."""
    seconds = SECONDS * (2 if full_size() else 1)
    callbacks = max(1, limit * seconds // (1 + BINDS_PER_CALLBACK))
    seed = generate_seed(phone_numbers=callbacks * BINDS_PER_CALLBACK, callbacks=0, bound=0)
    with tempfile.TemporaryDirectory(prefix="ringrx-bench-rate-") as tmp:
        seed_path = Path(tmp) / "seed.json"
        seed_path.write_text(json.dumps(seed), encoding="utf-8")
        config = Path(tmp) / "callbacks.yaml"
        config.write_text(config_for_apply(seed, callbacks), encoding="utf-8")
        sim = SimulatorProcess(["--seed", str(seed_path), "--rate-limit", str(limit)])
        try:
            sim.start()
            faults = {
                "rate_limit_headers": bool(headers),
                "rate_limit": 0 if headers is None else limit,
            }
            admin("POST", sim.base_url, "/_sim/faults", faults)
            figures = asyncio.run(apply_real(config, dict(sim.env), PARALLELISM))
            requests = int(admin("GET", sim.base_url, "/_sim/stats").get("total", 0))
        finally:
            sim.stop()
    rate = figures.writes / figures.wall
    if headers is None:
        return [
            f"limit {limit:>3}/s, reference: the same {figures.writes:,} writes with no limit: "
            f"{rate:.1f}/s (what this client reaches on this machine now)"
        ]
    share = figures.throttled / max(1, requests)
    ok = rate >= GOAL_SHARE_OF_LIMIT * limit and share <= GOAL_MAX_429 and not figures.failed
    kind = "with X-RateLimit-* headers" if headers else "429 + Retry-After only  "
    return [
        f"limit {limit:>3}/s, {kind}: {figures.writes:,} writes in {figures.wall:.1f} s = "
        f"{rate:.1f}/s ({rate / limit:.2f} of the limit, goal >= {GOAL_SHARE_OF_LIMIT}); "
        f"429s {figures.throttled} of {requests:,} requests ({share:.1%}, goal <= "
        f"{GOAL_MAX_429:.0%})"
        + (f"; {figures.failed} failed" if figures.failed else "")
        + (f"; paced at {figures.paced:.1f}/s at the end" if figures.paced else "")
        + f": {verdict(ok)}"
    ]


def run() -> list[str]:
    """The benchmark's report lines."""
    cases: list[tuple[int, bool | None]] = [(20, True), (20, False), (200, True), (200, False)]
    cases.append((200, None))
    return [line for limit, headers in cases for line in _case(limit, headers)]


if __name__ == "__main__":
    print("\n".join(run()))
