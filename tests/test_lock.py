"""One apply at a time per account: the lease kept as an inert callback, over loopback HTTP."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import admin, cli_env, run_cli, run_cli_process

from ringrx_iac.api.client import RingRxClient
from ringrx_iac.api.credentials import ClientSettings
from ringrx_iac.api.retry import RetryPolicy
from ringrx_iac.reconcile.lock import LOCK_NAME, AccountLock, LockHeld, read_leases
from ringrx_iac.simulator.server import SimulatorServer

FAST = RetryPolicy(attempts=8, total_time=30.0, base_delay=0.01, max_delay=0.05)
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [{"id": 100 + i, "phonenumber": f"+1818555{i:04d}"} for i in range(30)],
    "callbacks": [{"id": 1, "name": "Keep", "callback_type": "cdr", "url": "https://h/keep"}],
}
CONFIG = "version: 1\ncallbacks:\n  - {name: Keep, type: cdr, url: 'https://h/keep'}\n" + "".join(
    f"  - {{name: 'cb {i:02d}', type: sms, url: 'https://h/{i}', "
    f"bind: {{phone_numbers: ['+1818555{i:04d}']}}}}\n"
    for i in range(30)
)


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=SEED) as server:
        yield server


def client(sim: SimulatorServer) -> RingRxClient:
    return RingRxClient(ClientSettings.from_env(sim.env(), retry=FAST))


def locks(sim: SimulatorServer) -> list[dict[str, Any]]:
    return [cb for cb in sim.state.callbacks.values() if cb["name"] == LOCK_NAME]


def lock_seed(expires: str, holder: str = "ci@runner pid 7") -> dict[str, Any]:
    headers = (
        f"X-Ringrx-Iac-Lock:abc\r\nX-Ringrx-Iac-Holder:{holder}\r\n"
        f"X-Ringrx-Iac-Started:2026-01-02T03:04:05+00:00\r\nX-Ringrx-Iac-Expires:{expires}"
    )
    return {
        "name": LOCK_NAME,
        "callback_type": "sms",
        "url": "https://lock.ringrx-iac.invalid/x",
        "custom_headers": headers,
    }


def test_the_lock_is_an_unbound_sms_callback_removed_at_the_end(sim: SimulatorServer) -> None:
    async def run() -> None:
        async with client(sim) as c, AccountLock(c, timeout=0, holder="me@here pid 1") as lock:
            [held] = locks(sim)
            assert held["callback_type"] == "sms" and held["url"].startswith("https://")
            assert "me@here pid 1" in held["custom_headers"]
            assert lock.lease is not None and lock.lease.id == held["id"]
            before = lock.lease.expires
            await asyncio.sleep(1.1)
            await lock.renew()
            [renewed] = await read_leases(c)
            assert renewed.expires > before and renewed.started == lock.lease.started

    asyncio.run(run())
    assert locks(sim) == []
    assert all(t["sms_callback_id"] is None for t in sim.state.targets["phone_numbers"].values())


def test_a_held_lock_refuses_naming_holder_and_start(sim: SimulatorServer) -> None:
    async def run() -> None:
        async with (
            client(sim) as c,
            AccountLock(c, timeout=0, holder="first@a pid 1"),
            client(sim) as c2,
        ):
            with pytest.raises(LockHeld) as caught:
                await AccountLock(c2, timeout=0.3, poll_seconds=0.1).acquire()
        message = str(caught.value)
        assert "locked by another apply: first@a pid 1 since 20" in message
        assert "ringrx-iac unlock" in message

    asyncio.run(run())
    assert locks(sim) == []  # the loser never left its own lock behind


def test_simultaneous_acquires_exactly_one_wins_lowest_id(sim: SimulatorServer) -> None:
    async def run() -> list[Any]:
        clients = [client(sim) for _ in range(6)]
        contenders = [AccountLock(c, timeout=0, holder=f"h{i}") for i, c in enumerate(clients)]
        results = await asyncio.gather(*(a.acquire() for a in contenders), return_exceptions=True)
        held = locks(sim)
        for lock in contenders:
            await lock.release()
        for c in clients:
            await c.aclose()
        return [results, held]

    results, held = asyncio.run(run())
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1 and all(isinstance(r, LockHeld) for r in results if r not in winners)
    assert [cb["id"] for cb in held] == [winners[0].id]
    assert locks(sim) == []


def test_an_expired_lease_is_taken_over(sim: SimulatorServer) -> None:
    stale = admin(sim, "POST", "/callbacks", lock_seed("2026-01-02T03:06:05+00:00"))

    async def run() -> None:
        async with client(sim) as c, AccountLock(c, timeout=0) as lock:
            assert lock.lease is not None and lock.lease.id != stale["id"]
            assert [cb["id"] for cb in locks(sim)] == [lock.lease.id]

    asyncio.run(run())


def test_plan_drift_and_import_never_show_or_take_the_lock(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    admin(sim, "POST", "/callbacks", lock_seed("2999-01-01T00:00:00+00:00"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\ncallbacks:\n  - {name: Keep, type: cdr, url: 'https://h/keep'}\n")
    env = cli_env(sim)
    assert run_cli(["plan", str(cfg), "--detailed-exitcode"], env).exit_code == 0
    assert run_cli(["drift", str(cfg)], env).exit_code == 0
    imported = run_cli(["import"], env)
    assert imported.exit_code == 0 and LOCK_NAME not in imported.stdout
    assert len(locks(sim)) == 1


def test_apply_with_nothing_to_do_takes_no_lock(sim: SimulatorServer, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\ncallbacks:\n  - {name: Keep, type: cdr, url: 'https://h/keep'}\n")
    admin(sim, "POST", "/stats/reset")
    assert run_cli(["apply", str(cfg), "--auto-approve"], cli_env(sim)).exit_code == 0
    assert "POST /pbxcallbacks" not in admin(sim, "GET", "/stats")


def test_apply_refuses_or_waits_while_another_holds_the_lock(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    held = admin(sim, "POST", "/callbacks", lock_seed("2999-01-01T00:00:00+00:00"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    env = cli_env(sim)
    args = ["apply", str(cfg), "--auto-approve"]
    refused = run_cli([*args, "--lock-timeout", "0"], env)
    assert refused.exit_code == 1
    assert "locked by another apply: ci@runner pid 7 since 2026-01-02T03:04:05+00:00" in (
        refused.stderr
    )
    waited = run_cli([*args, "--lock-timeout", "1s"], env)
    assert waited.exit_code == 1 and "Waiting for the account lock" in waited.stderr
    assert len(sim.state.callbacks) == 2  # nothing written: Keep and the lock
    bad = run_cli_process([*args, "--lock-timeout", "soon"], env)
    assert bad.returncode == 1 and "is not a duration" in bad.stderr
    forced = run_cli([*args, "--force-unlock"], env)
    assert forced.exit_code == 0, forced.stderr
    assert "Removed the account lock held by ci@runner pid 7" in forced.stderr
    assert held["id"] not in sim.state.callbacks and locks(sim) == []


def test_unlock_removes_a_lock_left_by_a_dead_apply(sim: SimulatorServer) -> None:
    admin(sim, "POST", "/callbacks", lock_seed("2999-01-01T00:00:00+00:00"))
    result = run_cli(["unlock"], cli_env(sim))
    assert result.exit_code == 0 and "held by ci@runner pid 7" in result.stderr
    assert locks(sim) == []
    again = run_cli(["unlock"], cli_env(sim))
    assert again.exit_code == 0 and "No lock" in again.stderr


def test_apply_rereads_before_its_first_write_and_refuses_a_changed_account(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    """Planned, then the lock is busy; meanwhile the portal changes: refused, nothing written."""
    held = admin(sim, "POST", "/callbacks", lock_seed("2999-01-01T00:00:00+00:00"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ringrx_iac", "apply", str(cfg), "--auto-approve"],
        env={**__import__("os").environ, **cli_env(sim)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline
            and admin(sim, "GET", "/stats").get("GET /pbxcallbacks", 0) < 2
        ):
            time.sleep(0.1)  # the apply planned and is waiting for the lock
        admin(sim, "PATCH", "/callbacks/1", {"url": "https://h/edited-in-the-portal"})
        admin(sim, "DELETE", f"/callbacks/{held['id']}")
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert "the account changed since the plan was made" in err and "nothing was written" in err
    assert sorted(cb["name"] for cb in sim.state.callbacks.values()) == ["Keep"]


def test_two_concurrent_applies_as_processes_never_duplicate(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    admin(sim, "POST", "/faults", {"latency": 0.02})
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    env = {**__import__("os").environ, **cli_env(sim)}
    argv = [sys.executable, "-m", "ringrx_iac", "apply", str(cfg), "--auto-approve"]
    procs = [
        subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.communicate(timeout=120), p.returncode) for p in procs]
    names = Counter(cb["name"] for cb in sim.state.callbacks.values())
    assert max(names.values()) == 1 and len(names) == 31
    assert locks(sim) == []
    for (_, err), code in results:  # each applied, or waited and found nothing left, or refused
        assert code == 0 or "changed since the plan was made" in err, err
    assert run_cli(["plan", str(cfg), "--detailed-exitcode"], cli_env(sim)).exit_code == 0


def test_the_lock_name_is_reserved_in_the_configuration(tmp_path: Path) -> None:
    from ringrx_iac.lint.checks import RESERVED_LOCK_NAME

    assert RESERVED_LOCK_NAME == LOCK_NAME
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"version: 1\ncallbacks:\n  - {{name: {LOCK_NAME}, type: cdr, url: 'https://h'}}\n"
    )
    result = run_cli_process(["validate", str(cfg)], {})
    assert result.returncode == 1 and "RRX605" in result.stdout + result.stderr
