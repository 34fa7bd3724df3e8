"""Saved plans are exact: apply --plan makes the reviewed changes, or refuses with zero writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import admin, cli_env, run_cli, sim_writes

from ringrx_iac.simulator.server import SimulatorServer

SEED = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
}


def config(first_url: str) -> str:
    """Six callbacks sharing one secret; only the first one's URL varies."""
    lines = ["version: 1", "callbacks:"]
    for i in range(6):
        url = first_url if i == 0 else f"https://h/{i}"
        lines.append(
            f"  - {{name: 'cb {i}', type: cdr, url: '{url}', "
            "headers: {X-Api-Key: '${env:SHARED_KEY}'}}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[SimulatorServer, dict[str, str], Path, Path]]:
    """An account in sync with ``config``, then a reviewed plan of ONE url update."""
    with SimulatorServer(seed=SEED) as sim:
        env = cli_env(sim, SHARED_KEY="key-value-one-7c2d")
        cfg = tmp_path / "callbacks.yaml"
        cfg.write_text(config("https://h/0"))
        assert run_cli(["apply", str(cfg), "--auto-approve"], env).exit_code == 0
        cfg.write_text(config("https://h/0/v2"))
        out = tmp_path / "plan.json"
        shown = run_cli(["plan", str(cfg), "--out", str(out), "--format", "json"], env)
        assert shown.exit_code == 0, shown.stderr
        assert json.loads(shown.stdout)["summary"]["update"] == 1
        admin(sim, "POST", "/stats/reset")
        yield sim, env, cfg, out


def test_the_file_keeps_an_hmac_of_each_secret_and_an_integrity_check(
    setup: tuple[SimulatorServer, dict[str, str], Path, Path],
) -> None:
    _, _, _, out = setup
    data = json.loads(out.read_text())
    assert "key-value-one-7c2d" not in out.read_text()
    assert set(data["secrets"]["hmac"]) == {"${env:SHARED_KEY}"}
    assert data["secrets"]["hmac"]["${env:SHARED_KEY}"].startswith("hmac-sha256:")
    assert len(data["secrets"]["key"]) == 64 and data["integrity"].startswith("sha256:")
    assert [c["action"] for c in data["plan"]["changes"]] == ["update"]


def test_a_changed_secret_is_refused_naming_the_variable_with_zero_writes(
    setup: tuple[SimulatorServer, dict[str, str], Path, Path],
) -> None:
    sim, env, _, out = setup
    env["SHARED_KEY"] = "key-value-two-9e1f"  # would make 6 updates, not the reviewed 1
    result = run_cli(["apply", "--plan", str(out)], env)
    assert result.exit_code == 1
    assert "environment variable SHARED_KEY resolves to a different value" in result.stderr
    assert "key-value" not in result.stderr + result.stdout
    assert sim_writes(admin(sim, "GET", "/stats")) == 0
    del env["SHARED_KEY"]
    result = run_cli(["apply", "--plan", str(out)], env)
    assert result.exit_code == 1 and "SHARED_KEY" in result.stderr
    assert sim_writes(admin(sim, "GET", "/stats")) == 0


def test_the_reviewed_change_and_only_it_is_applied(
    setup: tuple[SimulatorServer, dict[str, str], Path, Path],
) -> None:
    sim, env, cfg, out = setup
    result = run_cli(["apply", "--plan", str(out), "--format", "json"], env)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["report"]
    assert [c["action"] for c in report["done"]] == ["update"]
    assert admin(sim, "GET", "/stats").get("PATCH /pbxcallbacks/{id}") == 1
    assert run_cli(["plan", str(cfg), "--detailed-exitcode"], env).exit_code == 0


@pytest.mark.parametrize("where", ["desired", "plan", "secrets"])
def test_an_edited_plan_file_is_refused_with_zero_writes(
    setup: tuple[SimulatorServer, dict[str, str], Path, Path], where: str
) -> None:
    sim, env, _, out = setup
    data = json.loads(out.read_text())
    if where == "desired":  # URLs pointed elsewhere
        for cb in data["desired"]["callbacks"]:
            cb["url"] = "https://attacker.example/steal"
    elif where == "plan":
        data["plan"]["changes"][0]["fields"][0]["new"] = "https://attacker.example/x"
    else:
        data["secrets"]["hmac"] = {}
    out.write_text(json.dumps(data, indent=2))
    result = run_cli(["apply", "--plan", str(out)], env)
    assert result.exit_code == 1
    assert "was edited after it was saved" in result.stderr
    assert sim_writes(admin(sim, "GET", "/stats")) == 0
    assert all("attacker" not in cb["url"] for cb in sim.state.callbacks.values())


def test_changes_refusal_and_reference_names() -> None:
    from ringrx_iac.reconcile.plan_seal import changes_refusal, describe_reference

    saved = [{"action": "update", "callback": "A", "id": 1, "fields": []}]
    assert changes_refusal(saved, [dict(saved[0])]) is None
    refusal = changes_refusal(saved, [*saved, {"action": "delete", "callback": "B"}])
    assert refusal is not None and "lists 1 change(s)" in refusal and "2 different" in refusal
    assert describe_reference("${file:keys/crm.txt}") == "secret file keys/crm.txt"
    assert describe_reference("${env:CRM_KEY}") == "environment variable CRM_KEY"
