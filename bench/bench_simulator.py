"""How many simple requests per second the simulator serves in its own process (goal 1,000).

``ringrx-iac simulator`` runs as a subprocess; ``GET /pbxcallbacks`` with a valid token is
sent by ``PROCESSES`` processes of the light load generator (``bench/loadgen.py``, raw
keep-alive HTTP/1.1, a few tens of microseconds per request) for ``SECONDS`` seconds,
``CONNECTIONS`` connections each. For comparison the same load from one process of httpx
(about a millisecond of client CPU per request: on a 2-core machine that client, not the
simulator, is the limit).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import httpx

from bench import verdict
from ringrx_iac.api import endpoints as ep
from ringrx_iac.harness import DEFAULT_SIM_ENV, SimulatorProcess

GOAL_RPS = 1000.0
PROCESSES = 2
CONNECTIONS = 8
SECONDS = 3.0
PATH = ep.CALLBACKS_PATH


def _token(base_url: str) -> str:
    creds = dict(
        zip(
            ep.AUTH_API_KEY_FIELDS,
            (DEFAULT_SIM_ENV["RINGRX_API_TOKEN"], DEFAULT_SIM_ENV["RINGRX_API_SECRET"]),
            strict=True,
        )
    )
    answer = httpx.post(base_url + ep.TOKEN_PATH, json=creds, timeout=10)
    return str(answer.json()[ep.TOKEN_ACCESS_FIELD])


def light_load(base_url: str, token: str) -> tuple[float, int]:
    """Requests per second from ``PROCESSES`` load generator processes, and failures."""
    args = [base_url, PATH, token, str(SECONDS), str(CONNECTIONS)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen", *args], stdout=subprocess.PIPE, text=True
        )
        for _ in range(PROCESSES)
    ]
    done = failed = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=SECONDS + 60)
        n, f = out.split()
        done, failed = done + int(n), failed + int(f)
    return done / SECONDS, failed


async def _httpx_load(base_url: str, token: str) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits) as client:
        count = 0
        deadline = time.monotonic() + SECONDS

        async def worker() -> None:
            nonlocal count
            while time.monotonic() < deadline:
                (await client.get(PATH)).raise_for_status()
                count += 1

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return count / SECONDS


def run() -> list[str]:
    """The benchmark's report lines."""
    sim = SimulatorProcess()
    try:
        sim.start()
        token = _token(sim.base_url)
        light, failed = light_load(sim.base_url, token)
        heavy = asyncio.run(_httpx_load(sim.base_url, token))
    finally:
        sim.stop()
    ratio = light / GOAL_RPS
    return [
        f"simulator in its own process, GET {PATH}, {PROCESSES} load generator processes x "
        f"{CONNECTIONS} connections, {SECONDS:.0f} s: {light:,.0f} req/s"
        + (f" ({failed} not 200)" if failed else ""),
        f"  ratio to the {GOAL_RPS:,.0f} req/s goal: {ratio:.2f} ({verdict(ratio >= 1)})",
        f"  for comparison, one httpx client process: {heavy:,.0f} req/s (the client's limit)",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
