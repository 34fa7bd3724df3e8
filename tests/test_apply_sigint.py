"""Ctrl-C during apply: requests in flight finish, the rest is skipped, report, exit 1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fakes import admin, run_cli_process

from ringrx_iac.simulator.server import SimulatorServer

N = 60
SEED = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [{"id": i, "phonenumber": f"81855500{i:02d}"} for i in range(N)],
}


def test_sigint_stops_scheduling_and_reports(tmp_path: Path) -> None:
    numbers = ", ".join(f'"81855500{i:02d}"' for i in range(N))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"version: 1\ncallbacks:\n  - name: S\n    type: sms\n    url: https://h/s\n"
        f"    bind: {{phone_numbers: [{numbers}]}}\n"
    )
    with SimulatorServer(seed=SEED, latency=0.05) as sim:
        env = {**os.environ, **sim.env()}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ringrx_iac",
                "apply",
                str(cfg),
                "--auto-approve",
                "--parallelism",
                "1",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # wait until some binds are done
                bound = [
                    t
                    for t in admin(sim, "GET", "/state")["targets"]["phone_numbers"]
                    if t.get("sms_callback_id")
                ]
                if len(bound) >= 3:
                    break
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 1, err
        assert "Apply interrupted" in out and "Traceback" not in err
        bound = [
            t
            for t in admin(sim, "GET", "/state")["targets"]["phone_numbers"]
            if t.get("sms_callback_id")
        ]
        assert 3 <= len(bound) < N
        assert "Done (" in out and "interrupted (Ctrl-C) before it started" in out
        # running plan again shows exactly what is left: the binds not done
        plan = run_cli_process(["plan", str(cfg), "--format", "json"], env)
        changes = json.loads(plan.stdout)["changes"]
        assert {c["action"] for c in changes} == {"bind"}
        assert len(changes) == N - len(bound)
