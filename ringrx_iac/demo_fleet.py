"""``make demo-fleet``: the fleet of ``examples/fleet/`` end to end, one simulator per account.

Starts three simulators (each its own account: its own seed, numbers and API key), writes
a copy of the example inventory pointed at them, then runs the real CLI as a user would:
validate --fleet, plan (2: changes), apply the canary wave then the rest, drift (0), an
edit "in the portal" of one account, drift (2: that account only), apply that account,
drift (0), and the CI matrix. Exits 1 when any step's exit code is not the expected one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from ringrx_iac.simulator.server import SimulatorServer

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet"
# key -> (main phone number, front-desk mailbox) of each practice's simulated account
PRACTICES: dict[str, tuple[str, str]] = {
    "smile-west": ("+18185559876", "1001"),
    "smile-east": ("+12125550100", "2001"),
    "kids-north": ("+16125550142", "3001"),
}
# Demo-only values of the configuration's ${env:...} secrets.
DEMO_SECRETS = {"CRM_KEY": "demo-crm-key", "KIDS_CRM_KEY": "demo-kids-crm-key"}
STEP_TIMEOUT = 120.0


def credential_env(key: str) -> dict[str, str]:
    """The example inventory's credential variables for ``key``, with the demo values."""
    prefix = key.upper().replace("-", "_") + "_RINGRX_API_"
    return {prefix + "TOKEN": f"{key}-token", prefix + "SECRET": f"{key}-secret"}


def practice_seed(key: str) -> dict[str, Any]:
    """A simulator seed for one practice: its own API key, number and mailbox."""
    number, mailbox = PRACTICES[key]
    return {
        "users": [{"username": "admin", "password": f"{key}-password"}],
        "api_keys": [{"token": f"{key}-token", "secret": f"{key}-secret", "user": "admin"}],
        "phone_numbers": [
            {"id": 7, "phonenumber": number, "extension": "8000", "sms_extension": "8000"}
        ],
        "mailboxes": [{"id": 3, "name": "Front desk", "mailbox": mailbox}],
        "callbacks": [],
    }


def write_inventory(workdir: Path, base_urls: dict[str, str]) -> Path:
    """Copy the example fleet into ``workdir`` with each account's base_url set."""
    shutil.copytree(EXAMPLE, workdir, dirs_exist_ok=True)
    yaml = YAML()
    path = workdir / "fleet.yaml"
    data = yaml.load(path.read_text(encoding="utf-8"))
    for account in data["accounts"]:
        account["base_url"] = base_urls[account["key"]]
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    return path


class Demo:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.failures = 0

    def step(self, title: str, args: Sequence[str], expect: int) -> str:
        print(f"\n=== {title}\n$ ringrx-iac {' '.join(args)}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", "ringrx_iac", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        print(proc.stdout, end="")
        if proc.stderr:
            print(proc.stderr, end="", file=sys.stderr)
        verdict = "ok" if proc.returncode == expect else "UNEXPECTED"
        print(f"--- exit {proc.returncode} (expected {expect}): {verdict}", flush=True)
        if proc.returncode != expect:
            self.failures += 1
        return proc.stdout


def main() -> int:
    sims = {key: SimulatorServer(seed=practice_seed(key)) for key in PRACTICES}
    workdir = Path(tempfile.mkdtemp(prefix="ringrx-fleet-demo-"))
    try:
        for sim in sims.values():
            sim.start()
        fleet = str(write_inventory(workdir, {k: s.base_url for k, s in sims.items()}))
        env = {**os.environ, **DEMO_SECRETS, "NO_COLOR": "1"}
        for key in PRACTICES:
            env.update(credential_env(key))
        demo = Demo(env)
        f = ["--fleet", fleet]
        demo.step("validate the whole fleet, offline", ["validate", *f], 0)
        demo.step("plan every account", ["plan", *f, "--all"], 2)
        demo.step(
            "apply: the canary wave first, then the rest",
            ["apply", *f, "--all", "--wave", "tier=canary", "--auto-approve"],
            0,
        )
        demo.step("drift over the fleet: in sync", ["drift", *f, "--all"], 0)
        print("\n=== someone edits smile-east's CDR callback in the portal", flush=True)
        admin = sims["smile-east"].base_url + "/_sim/callbacks"
        live = httpx.get(sims["smile-east"].base_url + "/_sim/state", timeout=10).json()
        cdr = next(cb for cb in live["callbacks"] if cb["name"] == "All CDRs")
        edit = {"url": "https://changed-in-the-portal.example.com/{id}"}
        httpx.patch(f"{admin}/{cdr['id']}", json=edit, timeout=10).raise_for_status()
        demo.step("drift finds it, in that account only", ["drift", *f, "--all"], 2)
        demo.step(
            "apply that account", ["apply", *f, "--account", "smile-east", "--auto-approve"], 0
        )
        demo.step("drift: in sync again", ["drift", *f, "--all"], 0)
        demo.step("the CI matrix (one job per account)", ["fleet", "matrix", *f], 0)
        if demo.failures:
            print(f"\nfleet demo FAILED: {demo.failures} step(s) misbehaved", file=sys.stderr)
            return 1
        print("\nfleet demo complete: every step behaved as expected.")
        return 0
    finally:
        for sim in sims.values():
            sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
