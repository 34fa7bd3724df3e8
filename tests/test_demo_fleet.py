"""``make demo-fleet`` doubles as a smoke test: the example fleet against three simulators."""

from __future__ import annotations

import os
import subprocess
import sys

from ringrx_iac.demo_fleet import DEMO_SECRETS


def test_demo_fleet_runs_every_step_with_the_expected_exit_codes() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGRX_")}
    proc = subprocess.run(
        [sys.executable, "-m", "ringrx_iac.demo_fleet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert out.count(": ok\n") == 8 and "UNEXPECTED" not in out
    assert "Fleet: 3 accounts: 2 in sync, 1 with changes." in out
    assert all(secret not in out for secret in DEMO_SECRETS.values())
    assert "-secret" not in out  # the accounts' API secrets
