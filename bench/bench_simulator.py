"""How many simple requests per second the simulator serves (goal: at least 500).

Two measurements of ``GET /pbxcallbacks`` with a valid token through a concurrent httpx
client: the simulator in this process (a background thread, sharing the GIL with the
client: what the test suite and the other benchmarks do) and as a separate
``ringrx-iac simulator`` process.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import httpx

from ringrx_iac.simulator.server import SimulatorServer

GOAL_RPS = 500.0
REQUESTS = 3000
CONCURRENCY = 16
CREDS = {"token": "demo-api-token", "secret": "demo-api-secret"}


async def _hammer(base_url: str, requests: int = REQUESTS, concurrency: int = CONCURRENCY) -> float:
    """Requests per second for ``requests`` GETs with ``concurrency`` in flight."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        token = (await client.post("/auth/token", json=CREDS)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        queue = iter(range(requests))
        failures = 0

        async def worker() -> None:
            nonlocal failures
            for _ in queue:
                r = await client.get("/pbxcallbacks", headers=headers)
                failures += r.status_code != 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))  # warm-up connections
        queue = iter(range(requests))
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{failures} requests failed")
    return requests / elapsed


def _line(label: str, rps: float) -> str:
    verdict = "ok" if rps >= GOAL_RPS else "BELOW GOAL"
    return f"simulator {label}: {rps:,.0f} req/s ({rps / GOAL_RPS:.1f}x the {GOAL_RPS:.0f} req/s goal, {verdict})"


def measure_in_process() -> float:
    """The simulator in a background thread of this process."""
    with SimulatorServer() as sim:
        return asyncio.run(_hammer(sim.base_url))


def measure_subprocess() -> float:
    """The simulator as its own process (``python -m ringrx_iac simulator --port 0``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ringrx_iac", "simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = ""
        for line in proc.stdout:
            if line.startswith("RINGRX_BASE_URL="):
                base_url = line.strip().partition("=")[2]
                break
        if not base_url:
            raise RuntimeError("the simulator process printed no RINGRX_BASE_URL")
        return asyncio.run(_hammer(base_url))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run() -> list[str]:
    """The benchmark's report lines."""
    return [
        _line(
            f"in-process ({REQUESTS} x GET /pbxcallbacks, {CONCURRENCY} in flight)",
            measure_in_process(),
        ),
        _line(
            f"own process ({REQUESTS} x GET /pbxcallbacks, {CONCURRENCY} in flight)",
            measure_subprocess(),
        ),
    ]


if __name__ == "__main__":
    for report_line in run():
        print(report_line)
