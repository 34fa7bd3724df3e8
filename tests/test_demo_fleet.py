"""``make demo-fleet`` doubles as a smoke test: the example fleet against three simulators."""

from __future__ import annotations

from fakes import run_demo

from ringrx_iac.demo_fleet import DEMO_SECRETS


def test_demo_fleet_runs_every_step_with_the_expected_exit_codes() -> None:
    code, out = run_demo("ringrx_iac.demo_fleet")
    assert code == 0, out[-4000:]
    assert out.count(": ok\n") == 8 and "UNEXPECTED" not in out
    assert "Fleet: 3 accounts: 2 in sync, 1 with changes." in out
    assert all(secret not in out for secret in DEMO_SECRETS.values())
    assert "-secret" not in out  # the accounts' API secrets
