"""plan/apply end to end against the simulator over loopback HTTP, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import admin, cli_env, run_cli, sim_writes

from ringrx_iac.simulator.server import SimulatorServer

SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "demo-password"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [
        {"id": 7, "phonenumber": "+18185559876", "sms_callback_id": 2},
        {"id": 8, "phonenumber": "8185551234", "sms_callback_id": 3},
        {"id": 9, "phonenumber": "8185550100", "sms_callback_id": 3},
    ],
    "mailboxes": [{"id": 3, "name": "Front desk", "mailbox": "1001", "callback_id": 4}],
    "fax_services": [{"id": 5, "name": "Main Fax", "extension": "7001"}],
    "outreach_profiles": [{"id": 2, "name": "Reminders"}],
    "groups": [{"id": 9, "name": "Reception", "extension": "8000"}],
    "callbacks": [
        {
            "id": 1,
            "name": "Upd",
            "callback_type": "cdr",
            "url": "https://h/old",
            "custom_headers": "",
        },
        {"id": 2, "name": "Keep SMS", "callback_type": "sms", "url": "https://h/sms"},
        {"id": 3, "name": "Old SMS", "callback_type": "sms", "url": "https://h/old-sms"},
        {"id": 4, "name": "Swap", "callback_type": "voicemail", "url": "https://h/swap"},
    ],
}

CONFIG = """\
version: 1
safety: {max_delete_percent: 100}
callbacks:
  - name: Upd
    type: cdr
    url: "https://h/new/{id}"
    headers: {X-Api-Key: "${env:API_KEY}"}
  - name: Keep SMS
    type: sms
    url: https://h/sms
    bind: {phone_numbers: ["(818) 555-1234"]}
  - name: Swap
    type: fax
    url: https://h/swap
    bind: {fax_services: [Main Fax]}
  - name: Fresh
    type: call_alert
    url: https://h/alert
    bind: {groups: [Reception]}
"""


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=SEED) as server:
        yield server


@pytest.fixture
def env(sim: SimulatorServer) -> dict[str, str]:
    return cli_env(sim, API_KEY="k-secret-1")


def _fail_next_create(sim: SimulatorServer) -> None:
    """The next callback create is refused (422), as by a validation error (the first POST,
    apply's account lock, passes)."""
    rule = {"method": "POST", "path": "/pbxcallbacks", "status": 422, "skip": 1}
    admin(sim, "POST", "/faults", {"fail_next": [rule]})


def write(tmp_path: Path, text: str = CONFIG) -> str:
    path = tmp_path / "ringrx.yaml"
    path.write_text(text)
    return str(path)


def callbacks(sim: SimulatorServer) -> dict[str, dict[str, Any]]:
    return {cb["name"]: cb for cb in admin(sim, "GET", "/state?secrets=1")["callbacks"]}


def test_every_action_kind_then_converged(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    cfg = write(tmp_path)
    result = run_cli(["plan", cfg, "--format", "json", "--detailed-exitcode"], env)
    assert result.exit_code == 2, result.stderr
    plan = json.loads(result.stdout)
    assert {c["action"] for c in plan["changes"]} == {
        "create",
        "update",
        "replace",
        "delete",
        "bind",
        "rebind",
        "unbind",
    }
    assert "k-secret-1" not in result.stdout
    result = run_cli(["apply", cfg, "--auto-approve"], env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Account converged." in result.stdout
    live = callbacks(sim)
    assert set(live) == {"Upd", "Keep SMS", "Swap", "Fresh"}
    assert live["Swap"]["callback_type"] == "fax" and live["Swap"]["id"] != 4
    assert live["Upd"]["custom_headers"] == "X-Api-Key:k-secret-1"
    again = run_cli(["plan", cfg, "--detailed-exitcode"], env)
    assert again.exit_code == 0 and "No changes" in again.stdout


def test_plan_is_read_only_and_invalid_config_never_contacts(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    admin(sim, "POST", "/stats/reset")
    assert run_cli(["plan", write(tmp_path)], env).exit_code == 0
    assert sim_writes(admin(sim, "GET", "/stats")) == 0
    admin(sim, "POST", "/stats/reset")
    bad = write(
        tmp_path, "version: 1\ncallbacks:\n  - name: X\n    type: sms\n    url: https://h/{nope}\n"
    )
    result = run_cli(["plan", bad], env)
    assert result.exit_code == 1 and "nope" in result.stderr
    assert admin(sim, "GET", "/stats").get("total", 0) == 0


def test_missing_secret_names_variable_and_line(env: dict[str, str], tmp_path: Path) -> None:
    del env["API_KEY"]
    result = run_cli(["plan", write(tmp_path)], env)
    assert result.exit_code == 1
    assert "API_KEY" in result.stderr and "ringrx.yaml:7" in result.stderr


def test_unknown_target_error_with_location_and_suggestion(
    env: dict[str, str], tmp_path: Path
) -> None:
    cfg = write(tmp_path, CONFIG.replace("[Reception]", "[Receptoin]"))
    result = run_cli(["plan", cfg], env)
    assert result.exit_code == 1
    assert "Receptoin" in result.stderr and "'Reception'" in result.stderr
    assert "ringrx.yaml:19:" in result.stderr


def test_client_error_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    env["RINGRX_API_SECRET"] = "bad-secret-xyz"
    result = run_cli(["plan", write(tmp_path)], env)
    assert result.exit_code == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr and "bad-secret-xyz" not in result.stderr


def test_apply_refuses_without_tty_or_auto_approve(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    result = run_cli(["apply", write(tmp_path)], env)
    assert result.exit_code == 1
    assert "refusing to apply without --auto-approve" in result.stderr
    assert callbacks(sim)["Upd"]["url"] == "https://h/old"


def test_safety_percent_refuses_unless_force(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    cfg = write(tmp_path, "version: 1\ncallbacks: []\n")  # 4 of 4 managed deleted
    result = run_cli(["apply", cfg, "--auto-approve"], env)
    assert result.exit_code == 1 and "safety.max_delete_percent" in result.stderr
    assert len(callbacks(sim)) == 4
    assert "RRX720" in run_cli(["plan", cfg], env).stdout  # plan shows it as a warning
    result = run_cli(["apply", cfg, "--auto-approve", "--force"], env)
    assert result.exit_code == 0, result.stderr
    assert callbacks(sim) == {}


def test_safety_protected_refuses_unless_force(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    cfg = write(
        tmp_path,
        CONFIG.replace(
            "safety: {max_delete_percent: 100}",
            "safety: {max_delete_percent: 100, protected: [Swap]}",
        ),
    )
    result = run_cli(["apply", cfg, "--auto-approve"], env)
    assert result.exit_code == 1 and "safety.protected" in result.stderr and "Swap" in result.stderr
    assert callbacks(sim)["Swap"]["id"] == 4
    assert run_cli(["apply", cfg, "--auto-approve", "--force"], env).exit_code == 0


def test_saved_plan_applies_and_stale_plan_is_refused(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    cfg = write(tmp_path)
    out = tmp_path / "plan.json"
    assert run_cli(["plan", cfg, "--out", str(out)], env).exit_code == 0
    assert "k-secret-1" not in out.read_text() and "${env:API_KEY}" in out.read_text()
    admin(sim, "PATCH", "/callbacks/2", {"url": "https://h/edited-in-portal"})
    admin(sim, "POST", "/stats/reset")
    result = run_cli(["apply", "--plan", str(out)], env)
    assert result.exit_code == 1
    assert "the plan is stale: the live account changed since it was made" in result.stderr
    assert "run plan again" in result.stderr and "most likely" not in result.stderr
    assert sim_writes(admin(sim, "GET", "/stats")) == 0
    assert run_cli(["plan", cfg, "--out", str(out)], env).exit_code == 0
    env["API_KEY"] = "k-secret-2"  # a secret changed since the plan: refused, named
    admin(sim, "POST", "/stats/reset")
    result = run_cli(["apply", "--plan", str(out)], env)
    assert result.exit_code == 1 and "environment variable API_KEY" in result.stderr
    assert "k-secret" not in result.stderr
    assert sim_writes(admin(sim, "GET", "/stats")) == 0
    env["API_KEY"] = "k-secret-1"  # the value the plan was made with
    result = run_cli(["apply", "--plan", str(out)], env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert callbacks(sim)["Upd"]["custom_headers"] == "X-Api-Key:k-secret-1"


def test_reapplying_an_applied_plan_says_it_was_probably_applied_already(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    cfg = write(tmp_path)
    out = tmp_path / "plan.json"
    assert run_cli(["plan", cfg, "--out", str(out)], env).exit_code == 0
    assert run_cli(["apply", "--plan", str(out)], env).exit_code == 0
    admin(sim, "POST", "/stats/reset")
    result = run_cli(["apply", "--plan", str(out)], env)
    assert result.exit_code == 1
    assert "the plan is stale" in result.stderr
    assert "already matches it, so this plan was most likely applied already" in result.stderr
    assert sim_writes(admin(sim, "GET", "/stats")) == 0


def test_plan_out_refuses_a_literal_secret_and_says_what_to_do(
    env: dict[str, str], tmp_path: Path
) -> None:
    # X-Api-Key looks secret by its name; a plan file never holds a secret, so plan --out
    # refuses at once (not later at apply --plan) and says how to fix it.
    cfg = write(tmp_path, CONFIG.replace('"${env:API_KEY}"', "literal-key-123"))
    out = tmp_path / "plan.json"
    result = run_cli(["plan", cfg, "--out", str(out)], env)
    assert result.exit_code == 1 and not out.exists()
    assert "Upd: headers.X-Api-Key" in result.stderr
    assert "${env:" in result.stderr and "ringrx-iac apply PATH" in result.stderr
    assert "literal-key-123" not in result.stdout + result.stderr
    assert run_cli(["plan", cfg], env).exit_code == 0  # plan without --out still works


def test_partial_failure_reports_and_plan_shows_what_is_left(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    cfg = write(tmp_path)
    _fail_next_create(sim)
    log = tmp_path / "apply.log"
    result = run_cli(["apply", cfg, "--auto-approve", "--log", str(log)], env)
    assert result.exit_code == 1
    assert "Failed (1)" in result.stdout and "Skipped" in result.stdout
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert {r["status"] for r in records} >= {"done", "failed", "skipped"}
    assert "k-secret-1" not in log.read_text()
    left = json.loads(run_cli(["plan", cfg, "--format", "json"], env).stdout)
    assert 1 <= len(left["changes"]) <= 4
    assert run_cli(["apply", cfg, "--auto-approve"], env).exit_code == 0
    assert run_cli(["plan", cfg, "--detailed-exitcode"], env).exit_code == 0


def test_no_changes_apply(env: dict[str, str], tmp_path: Path) -> None:
    cfg = write(tmp_path)
    assert run_cli(["apply", cfg, "--auto-approve"], env).exit_code == 0
    result = run_cli(["apply", cfg], env)
    assert result.exit_code == 0 and result.stdout.startswith("No changes.")


def _keys(changes: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(c["action"], c["callback"], c.get("target")) for c in changes}


def test_partial_failure_next_plan_is_exactly_failed_and_skipped(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    cfg = write(tmp_path)
    _fail_next_create(sim)
    result = run_cli(["apply", cfg, "--auto-approve", "--format", "json"], env)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    report = data["report"]
    assert report["failed"] and report["done"]
    assert all(f["error"] for f in report["failed"])  # the server's message
    left = _keys(report["failed"]) | _keys(report["skipped"])
    plan = json.loads(run_cli(["plan", cfg, "--format", "json"], env).stdout)
    assert _keys(plan["changes"]) == left == _keys(data["remaining"]["changes"])
    text = run_cli(["apply", cfg, "--auto-approve"], env)  # what is left now succeeds
    assert text.exit_code == 0 and "Done (" not in text.stdout


def test_partial_failure_text_report_lists_done_failed_skipped(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    _fail_next_create(sim)
    result = run_cli(["apply", write(tmp_path), "--auto-approve"], env)
    assert result.exit_code == 1
    out = result.stdout
    assert "Done (" in out and "Failed (1):" in out and "Skipped (" in out
    assert out.index("Done (") < out.index("Failed (1):") < out.index("Skipped (")


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "CFG", "--out", "BAD/plan.json"],
        ["import", "--out", "BAD/imported.yaml"],
        ["apply", "CFG", "--auto-approve", "--log", "BAD/apply.jsonl"],
    ],
)
def test_unwritable_output_is_one_line_and_changes_nothing(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    cfg = write(tmp_path)
    bad = str(tmp_path / "no-such-dir")
    argv = [a.replace("CFG", cfg).replace("BAD", bad) for a in args]
    admin(sim, "POST", "/stats/reset")
    result = run_cli(argv, env)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("error: cannot write the ")
    assert bad in result.stderr and "Traceback" not in result.stderr
    assert sim_writes(admin(sim, "GET", "/stats")) == 0
