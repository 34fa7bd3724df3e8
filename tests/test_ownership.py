"""manage: no-purge (whole config and per glob) and previously: (rename in place)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import admin, cli_env, run_cli

from ringrx_iac.simulator.server import SimulatorServer

HOOKS = "https://hooks.example.com"
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [
        {"id": 7, "phonenumber": "+18185559876", "sms_callback_id": 1},
        {"id": 8, "phonenumber": "8185551234", "sms_callback_id": 4},
    ],
    "callbacks": [
        {"id": 1, "name": "Old SMS", "callback_type": "sms", "url": f"{HOOKS}/sms"},
        {"id": 3, "name": "CDR", "callback_type": "cdr", "url": f"{HOOKS}/cdr"},
        {"id": 4, "name": "Partner SMS", "callback_type": "sms", "url": f"{HOOKS}/p"},
        {"id": 5, "name": "Partner CDR", "callback_type": "cdr", "url": f"{HOOKS}/pc"},
        {"id": 6, "name": "Stray", "callback_type": "recording", "url": f"{HOOKS}/rec"},
    ],
}
SMS = (
    f'  - {{name: CRM SMS, type: sms, url: "{HOOKS}/sms", previously: ["Old SMS"], '
    'bind: {phone_numbers: ["+18185559876"]}}\n'
)
CDR = f'  - {{name: CDR, type: cdr, url: "{HOOKS}/cdr"}}\n'


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=SEED) as server:
        yield server


def config(tmp_path: Path, head: str, callbacks: str = SMS + CDR) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(f"version: 1\n{head}callbacks:\n{callbacks}", encoding="utf-8")
    return str(path)


def state(sim: SimulatorServer) -> tuple[dict[int, str], dict[int, Any]]:
    data = admin(sim, "GET", "/state")
    numbers = {t["id"]: t["sms_callback_id"] for t in data["targets"]["phone_numbers"]}
    return {c["id"]: c["name"] for c in data["callbacks"]}, numbers


def test_no_purge_whole_config_deletes_nothing_and_keeps_bindings(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(sim)
    path = config(tmp_path, "manage: no-purge\n")
    plan = run_cli(["plan", path, "--format", "json"], env)
    data = json.loads(plan.stdout)
    assert data["left_alone"] == ["Partner CDR", "Partner SMS", "Stray"]
    assert {c["action"] for c in data["changes"]} == {"update"}  # the rename only
    text = run_cli(["plan", path], env).stdout
    assert 'Left alone: 3 ("Partner CDR", "Partner SMS", "Stray").' in text
    md = run_cli(["plan", path, "--format", "markdown"], env).stdout
    assert "Left alone: 3 (`Partner CDR`, `Partner SMS`, `Stray`)." in md
    assert run_cli(["apply", path, "--auto-approve"], env).exit_code == 0
    names, numbers = state(sim)
    assert sorted(names.values()) == ["CDR", "CRM SMS", "Partner CDR", "Partner SMS", "Stray"]
    assert numbers == {7: 1, 8: 4}  # the left-alone callback keeps its number
    drift = run_cli(["drift", path, "--format", "json"], env)
    assert drift.exit_code == 0 and json.loads(drift.stdout)["in_sync"] is True


def test_no_purge_per_glob(sim: SimulatorServer, tmp_path: Path) -> None:
    env = cli_env(sim)
    path = config(tmp_path, 'manage: {no-purge: ["Partner *"]}\n')
    data = json.loads(run_cli(["plan", path, "--format", "json"], env).stdout)
    assert data["left_alone"] == ["Partner CDR", "Partner SMS"]
    deletes = [c["callback"] for c in data["changes"] if c["action"] == "delete"]
    assert deletes == ["Stray"]
    assert run_cli(["apply", path, "--auto-approve"], env).exit_code == 0
    names, numbers = state(sim)
    assert 6 not in names and names[4] == "Partner SMS" and numbers[8] == 4


def test_previously_renames_in_place_keeping_id_and_bindings(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(sim)
    path = config(tmp_path, "manage: no-purge\n")
    data = json.loads(run_cli(["plan", path, "--format", "json"], env).stdout)
    (update,) = data["changes"]
    assert update["action"] == "update" and update["callback"] == "CRM SMS" and update["id"] == 1
    assert update["fields"][0] == {"field": "name", "old": "Old SMS", "new": "CRM SMS"}
    assert data["summary"]["create"] == 0 and data["summary"]["delete"] == 0
    assert data["summary"]["bind"] == 0 and data["summary"]["rebind"] == 0
    assert run_cli(["apply", path, "--auto-approve"], env).exit_code == 0
    names, numbers = state(sim)
    assert names[1] == "CRM SMS" and numbers[7] == 1
    again = run_cli(["plan", path, "--detailed-exitcode"], env)
    assert again.exit_code == 0, again.stdout


def test_without_previously_a_rename_is_delete_and_create(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(sim)
    path = config(
        tmp_path,
        "manage: no-purge\n",
        SMS.replace(', previously: ["Old SMS"]', "") + CDR,
    )
    data = json.loads(run_cli(["plan", path, "--format", "json"], env).stdout)
    assert data["summary"]["create"] == 1 and "Old SMS" in data["left_alone"]


def test_previously_reaches_an_ignored_former_name(sim: SimulatorServer, tmp_path: Path) -> None:
    path = config(tmp_path, 'ignore: ["Old *"]\nmanage: no-purge\n')
    data = json.loads(run_cli(["plan", path, "--format", "json"], cli_env(sim)).stdout)
    assert [c["action"] for c in data["changes"]] == ["update"]
