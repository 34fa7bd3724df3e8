"""Exactly once under faults: ambiguous writes never duplicate, at any parallelism.

Against the simulator over loopback HTTP: random dropped connections (after the change was
made), 5xx answers (before and after the change) and random delays that reorder the
requests, at parallelism 1..32.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import admin, cli_env, desired_from, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringrx_iac.api.client import RingRxClient
from ringrx_iac.api.credentials import ClientSettings
from ringrx_iac.api.retry import RetryPolicy
from ringrx_iac.reconcile.engine import apply_and_verify, plan_for
from ringrx_iac.simulator.server import SimulatorServer

FAST_RETRY = RetryPolicy(attempts=12, total_time=60.0, base_delay=0.005, max_delay=0.05)
PHONES = [f"+1818555{n:04d}" for n in range(40)]
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [{"id": 100 + i, "phonenumber": p} for i, p in enumerate(PHONES)],
    "callbacks": [
        {"id": 1, "name": "Keep", "callback_type": "cdr", "url": "https://h/keep"},
        {"id": 2, "name": "Gone", "callback_type": "cdr", "url": "https://h/gone"},
        {"id": 3, "name": "Retype", "callback_type": "cdr", "url": "https://h/retype"},
        {"id": 4, "name": "Text", "callback_type": "sms", "url": "https://h/text"},
    ],
}


def config(creates: int) -> dict[str, Any]:
    """Creates (half of them sms with two bindings), an update, a replace and a delete."""
    callbacks: list[dict[str, Any]] = [
        {"name": "Keep", "type": "cdr", "url": "https://h/keep/v2"},
        {"name": "Retype", "type": "sms", "url": "https://h/retype"},
    ]
    for i in range(creates):
        if i % 2:
            pair = PHONES[2 * i : 2 * i + 2]
            spec = {"type": "sms", "bind": {"phone_numbers": pair}}
        else:
            spec = {"type": "cdr"}
        callbacks.append({"name": f"cb {i:02d}", "url": f"https://h/{i}", **spec})
    return {"safety": {"max_delete_percent": 100}, "callbacks": callbacks}


class JitterTransport(httpx.AsyncHTTPTransport):
    """Real loopback HTTP, each request held back a random moment (reorders them)."""

    def __init__(self, rng: random.Random, max_delay: float) -> None:
        super().__init__()
        self.rng = rng
        self.max_delay = max_delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(self.rng.random() * self.max_delay)
        return await super().handle_async_request(request)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=SEED) as server:
        yield server


def duplicates(sim: SimulatorServer) -> dict[str, int]:
    names = Counter(cb["name"] for cb in sim.state.callbacks.values())
    return {name: n for name, n in names.items() if n > 1}


async def apply_once(
    sim: SimulatorServer, cfg: dict[str, Any], parallelism: int, transport: Any = None
) -> bool:
    """One plan + apply + re-read; True when it converged."""
    desired = desired_from(cfg)
    settings_ = ClientSettings.from_env(sim.env(), parallelism=parallelism, retry=FAST_RETRY)
    async with RingRxClient(settings_, transport=transport) as client:
        plan = plan_for(desired, await client.fetch_account(), {}, Path("."))
        assert not plan.errors, [d.message for d in plan.errors]
        report, _ = await apply_and_verify(
            plan, client, desired, {}, Path("."), parallelism=parallelism
        )
    return bool(report.converged)


def set_faults(sim: SimulatorServer, **faults: Any) -> None:
    admin(sim, "POST", "/faults", faults)


def clear_faults(sim: SimulatorServer) -> None:
    set_faults(sim, drop_rate=0, error_rate=0, latency=0, rate_limit=0, fail_next=[])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    parallelism=st.integers(1, 32),
    drop_rate=st.floats(0.0, 0.3),
    error_rate=st.floats(0.0, 0.2),
    posts_failing_after_create=st.integers(0, 4),
    seed=st.integers(0, 2**31),
)
def test_random_drops_and_delays_never_duplicate(
    sim: SimulatorServer,
    parallelism: int,
    drop_rate: float,
    error_rate: float,
    posts_failing_after_create: int,
    seed: int,
) -> None:
    admin(sim, "POST", "/reset")
    after_create = {"method": "POST", "path": "/pbxcallbacks", "status": 503, "after_apply": True}
    after_create["count"] = posts_failing_after_create
    rules = [after_create] if posts_failing_after_create else []
    set_faults(sim, drop_rate=drop_rate, error_rate=error_rate, seed=seed, fail_next=rules)
    transport = JitterTransport(random.Random(seed), max_delay=0.01)
    cfg = config(16)
    try:
        converged = asyncio.run(apply_once(sim, cfg, parallelism, transport))
        assert duplicates(sim) == {}
        clear_faults(sim)
        if not converged:  # a request may exhaust its retries; a re-run finishes the job
            assert asyncio.run(apply_once(sim, cfg, parallelism))
    finally:
        clear_faults(sim)
    assert duplicates(sim) == {}
    names = sorted(cb["name"] for cb in sim.state.callbacks.values())
    assert names == sorted(c["name"] for c in cfg["callbacks"])


@pytest.mark.parametrize("parallelism", [8, 32])
@pytest.mark.parametrize("fault", ["drop", "503"])
def test_every_create_failing_after_it_happened_makes_no_duplicate(
    sim: SimulatorServer, parallelism: int, fault: str
) -> None:
    """Every first POST fails after the server created the callback: all are recovered."""
    admin(sim, "POST", "/reset")
    cfg = config(20)
    rule: dict[str, Any] = {"method": "POST", "path": "/pbxcallbacks", "after_apply": True}
    rule.update({"drop": True} if fault == "drop" else {"status": 503})
    set_faults(sim, fail_next=[{**rule, "count": 21}])  # 20 creates + the replacement
    admin(sim, "POST", "/stats/reset")
    try:
        assert asyncio.run(apply_once(sim, cfg, parallelism))
    finally:
        clear_faults(sim)
    assert duplicates(sim) == {}
    assert admin(sim, "GET", "/stats")["POST /pbxcallbacks"] == 21  # none sent twice


# -- updates, binds and deletes are idempotent: a retry after a lost answer is harmless -----


@pytest.mark.parametrize("fault", [{"drop": True}, {"status": 502}])
def test_update_and_bind_retried_after_a_lost_answer_end_in_the_same_state(
    sim: SimulatorServer, fault: dict[str, Any]
) -> None:
    admin(sim, "POST", "/reset")

    async def run() -> None:
        settings_ = ClientSettings.from_env(sim.env(), retry=FAST_RETRY)
        async with RingRxClient(settings_) as client:
            rules = [
                {"method": "PATCH", "path": "/pbxcallbacks/{id}", "after_apply": True, **fault},
                {"method": "PATCH", "path": "/phonenumbers/{id}", "after_apply": True, **fault},
            ]
            set_faults(sim, fail_next=rules)
            updated = await client.update_callback(1, {"url": "https://h/keep/v3"})
            bound = await client.bind("phone_numbers", 100, 4)
            assert updated.url == "https://h/keep/v3" and bound.callback_id == 4

    admin(sim, "POST", "/stats/reset")
    try:
        asyncio.run(run())
    finally:
        clear_faults(sim)
    stats = admin(sim, "GET", "/stats")
    assert stats["PATCH /pbxcallbacks/{id}"] == 2 and stats["PATCH /phonenumbers/{id}"] == 2
    assert sim.state.callbacks[1]["url"] == "https://h/keep/v3"
    assert sim.state.get_target("phone_numbers", 100)["sms_callback_id"] == 4


def test_delete_retried_after_a_lost_answer_is_done(sim: SimulatorServer) -> None:
    admin(sim, "POST", "/reset")

    async def run() -> None:
        settings_ = ClientSettings.from_env(sim.env(), retry=FAST_RETRY)
        async with RingRxClient(settings_) as client:
            rule = {"method": "DELETE", "path": "/pbxcallbacks/{id}", "after_apply": True}
            set_faults(sim, fail_next=[{**rule, "status": 503}])
            await client.delete_callback(2)

    try:
        asyncio.run(run())
    finally:
        clear_faults(sim)
    assert 2 not in sim.state.callbacks


# -- through the CLI, as a CI job on a flaky network would run it ----------------------------

CLI_CONFIG = "version: 1\nsafety: {max_delete_percent: 100}\ncallbacks:\n" + "".join(
    f'  - {{name: "cli {i:02d}", type: sms, url: "https://h/{i}", '
    f'bind: {{phone_numbers: ["{PHONES[i]}"]}}}}\n'
    for i in range(30)
)


@pytest.mark.parametrize("parallelism", ["8", "32"])
def test_cli_apply_under_drops_and_503_converges_without_duplicates(
    sim: SimulatorServer, tmp_path: Path, parallelism: str
) -> None:
    admin(sim, "POST", "/reset")
    path = tmp_path / "callbacks.yaml"
    path.write_text(CLI_CONFIG)
    after_create = {"method": "POST", "path": "/pbxcallbacks", "status": 503, "after_apply": True}
    set_faults(sim, drop_rate=0.1, seed=int(parallelism), fail_next=[{**after_create, "count": 5}])
    env = cli_env(sim)
    try:
        result = run_cli(["apply", str(path), "--auto-approve", "--parallelism", parallelism], env)
    finally:
        clear_faults(sim)
    assert duplicates(sim) == {}
    assert result.exit_code == 0, result.stderr
    again = run_cli(["plan", str(path), "--detailed-exitcode"], env)
    assert again.exit_code == 0, again.stdout
    assert duplicates(sim) == {}


def test_all_five_faults_at_once_then_apply_again_converges(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    """Latency, 429s, 5xx, drops and 1-second tokens together: the first apply may fail
    part-way (retries run out), a second one finishes; never a duplicate."""
    admin(sim, "POST", "/reset")
    path = tmp_path / "callbacks.yaml"
    path.write_text(CLI_CONFIG)
    faults = {"latency": 0.005, "rate_limit": 40, "error_rate": 0.1, "drop_rate": 0.1}
    set_faults(sim, **faults, seed=5, token_lifetime=1)
    env = cli_env(sim)
    args = ["apply", str(path), "--auto-approve", "--parallelism", "16"]
    try:
        first = run_cli(args, env)
        assert duplicates(sim) == {}
        second = run_cli(args, env)
        assert duplicates(sim) == {}
    finally:
        clear_faults(sim)
        set_faults(sim, token_lifetime=3600)
    assert first.exit_code == 0 or second.exit_code == 0, first.stderr + second.stderr
    assert run_cli(["plan", str(path), "--detailed-exitcode"], env).exit_code == 0
    assert duplicates(sim) == {}
