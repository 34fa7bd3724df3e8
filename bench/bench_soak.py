"""Soak (issue 8): 20 rounds of random config edits applied under random faults.

Each round edits the configuration at random (add, remove, retype, re-URL, re-header
callbacks, move phone numbers), turns on a random mix of the simulator's five faults
(drops, 5xx, 429 rate limit, short-lived tokens, latency) at a random parallelism (1..32)
and applies the way ``ringrx-iac apply`` does (the account lock, plan, apply, re-read),
again when an apply ends before converging (retries exhausted), up to 4 times. Then,
with the faults off, a plan must be empty and no callback name may be duplicated.

Figures: rounds, requests, retries (requests answered by a fault: drop, 5xx or 429),
applies, duplicates (goal 0) and empty plans after each round (goal: all). ``make soak``
runs it alone; the default is short (a small account, fast retries): about a minute.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench import full_size, verdict
from ringrx_iac.api.client import ClientSettings, RingRxClient
from ringrx_iac.api.errors import RingRxError
from ringrx_iac.api.retry import RetryPolicy
from ringrx_iac.config.models import Config
from ringrx_iac.reconcile.desired import from_config
from ringrx_iac.reconcile.engine import apply_and_verify, plan_for
from ringrx_iac.reconcile.lock import AccountLock
from ringrx_iac.simulator.server import SimulatorServer

ROUNDS = 20
PHONES = [f"+1818555{n:04d}" for n in range(60)]
TYPES = ["sms", "sms", "cdr", "voicemail", "call_alert"]
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [{"id": 100 + i, "phonenumber": p} for i, p in enumerate(PHONES)],
    "mailboxes": [{"id": 200 + i, "mailbox": str(1001 + i), "name": f"Box {i}"} for i in range(8)],
    "groups": [{"id": 300 + i, "name": f"Group {i}", "extension": str(8000 + i)} for i in range(8)],
}
RETRY = RetryPolicy(attempts=6, total_time=30.0, base_delay=0.05, max_delay=0.5)


class CountingTransport(httpx.AsyncHTTPTransport):
    """Loopback HTTP that counts requests and the ones a fault answered."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.counts["requests"] += 1
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError:
            self.counts["faults"] += 1
            raise
        if response.status_code == 429 or response.status_code >= 500:
            self.counts["faults"] += 1
        return response


def _bind_pool(kind: str) -> list[str]:
    if kind == "voicemail":
        return [str(1001 + i) for i in range(8)]
    if kind == "call_alert":
        return [f"Group {i}" for i in range(8)]
    return PHONES


BIND_KEY = {"sms": "phone_numbers", "voicemail": "mailboxes", "call_alert": "groups"}


def edit(callbacks: dict[str, dict[str, Any]], rng: random.Random, serial: list[int]) -> None:
    """One to five random edits, keeping names unique and each target bound once."""
    for _ in range(rng.randint(1, 5)):
        move = rng.choice(["add", "add", "remove", "url", "type", "header", "rebind"])
        names = sorted(callbacks)
        if move == "add" or not names:
            serial[0] += 1
            cb_type = rng.choice(TYPES)
            callbacks[f"cb {serial[0]:03d}"] = {"type": cb_type, "url": f"https://h/{serial[0]}"}
            continue
        name = rng.choice(names)
        cb = callbacks[name]
        if move == "remove":
            del callbacks[name]
        elif move == "url":
            cb["url"] = f"https://h/{name.split()[-1]}/v{rng.randint(1, 99)}"
        elif move == "type":
            cb["type"] = rng.choice([t for t in TYPES if t != cb["type"]])
            cb.pop("bind", None)
        elif move == "header":
            cb["headers"] = {"X-Env": rng.choice(["a", "b", "c"])}
        if move in ("rebind", "type") and cb.get("type") in BIND_KEY and name in callbacks:
            key = BIND_KEY[cb["type"]]
            taken = {
                ref for other in callbacks.values() for ref in other.get("bind", {}).get(key, [])
            }
            free = [ref for ref in _bind_pool(cb["type"]) if ref not in taken]
            if free:
                cb["bind"] = {key: rng.sample(free, min(len(free), rng.randint(1, 3)))}


def desired(callbacks: dict[str, dict[str, Any]]) -> Any:
    data = {
        "version": 1,
        "safety": {"max_delete_percent": 100},
        "callbacks": [{"name": n, **cb} for n, cb in sorted(callbacks.items())],
    }
    return from_config(Config.model_validate(data))


async def apply_once(
    sim: SimulatorServer, state: Any, parallelism: int, counts: Counter[str]
) -> bool:
    """The account lock, plan, apply and re-read, as ``apply --auto-approve``; True: converged."""
    transport = CountingTransport()
    settings = ClientSettings.from_env(sim.env(), parallelism=parallelism, retry=RETRY)
    try:
        async with (
            RingRxClient(settings, transport=transport) as client,
            AccountLock(client, timeout=60),
        ):
            plan = plan_for(state, await client.fetch_account(), {}, Path("."))
            if plan.errors:
                raise RuntimeError(f"plan errors: {[d.message for d in plan.errors]}")
            counts["applies"] += 1
            if not plan.has_changes:
                return True
            report, _ = await apply_and_verify(
                plan, client, state, {}, Path("."), parallelism=parallelism
            )
            return bool(report.converged)
    except RingRxError:
        return False
    finally:
        counts.update(transport.counts)


async def plan_is_empty(sim: SimulatorServer, state: Any) -> bool:
    """A plan against the account (faults off) has no change and no error."""
    async with RingRxClient(ClientSettings.from_env(sim.env(), retry=RETRY)) as client:
        plan = plan_for(state, await client.fetch_account(), {}, Path("."))
        return not plan.errors and not plan.has_changes


def set_faults(sim: SimulatorServer, rng: random.Random | None) -> None:
    faults = sim.simulator.faults
    if rng is None:
        faults.update({"drop_rate": 0, "error_rate": 0, "rate_limit": 0, "latency": 0})
        sim.simulator.authority.token_lifetime = 3600
        return
    faults.update(
        {
            "drop_rate": rng.choice([0, 0.05, 0.1]),
            "error_rate": rng.choice([0, 0.05, 0.1]),
            "rate_limit": rng.choice([0, 0, 60]),
            "latency": rng.choice([0, 0.002, 0.01]),
            "seed": rng.randint(0, 2**31),
        }
    )
    sim.simulator.authority.token_lifetime = rng.choice([3600, 2, 5])


def soak(rounds: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    callbacks: dict[str, dict[str, Any]] = {}
    serial = [0]
    empty_plans = duplicates = 0
    with SimulatorServer(seed=SEED) as sim:
        for _ in range(rounds):
            for _ in range(10 if not callbacks else 2):
                edit(callbacks, rng, serial)
            state = desired(callbacks)
            set_faults(sim, rng)
            parallelism = rng.randint(1, 32)
            for _ in range(4):
                if asyncio.run(apply_once(sim, state, parallelism, counts)):
                    break
            set_faults(sim, None)
            names = Counter(cb["name"] for cb in sim.state.callbacks.values())
            duplicates += sum(n - 1 for n in names.values() if n > 1)
            empty_plans += asyncio.run(plan_is_empty(sim, state))
        callbacks_left = len(sim.state.callbacks)
    return {
        "rounds": rounds,
        "requests": counts["requests"],
        "retries": counts["faults"],
        "applies": counts["applies"],
        "duplicates": duplicates,
        "empty_plans": empty_plans,
        "callbacks": callbacks_left,
    }


def run() -> list[str]:
    start = time.perf_counter()
    found = soak(ROUNDS * (5 if full_size() else 1), seed=8)
    ok_dup = found["duplicates"] == 0
    ok_plans = found["empty_plans"] == found["rounds"]
    return [
        f"rounds {found['rounds']}, requests {found['requests']}, retries {found['retries']} "
        f"(requests answered by a drop, 5xx or 429), applies {found['applies']}, "
        f"{found['callbacks']} callbacks at the end, {time.perf_counter() - start:.1f} s",
        f"duplicates {found['duplicates']} (goal 0) {verdict(ok_dup)}",
        f"empty plan after each round {found['empty_plans']}/{found['rounds']} "
        f"(goal {found['rounds']}) {verdict(ok_plans)}",
    ]
