"""drift (exit 0/2/1, read-only) and import (round trip) against the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fakes import admin, run_cli, sim_writes

from ringrx_iac.simulator.server import SimulatorServer

SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "demo-password"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [
        {"id": 7, "phonenumber": "+18185559876", "sms_callback_id": 1},
        {"id": 8, "phonenumber": "8185551234", "sms_callback_id": 1},
    ],
    "mailboxes": [{"id": 3, "name": "Front desk", "mailbox": "1001", "callback_id": 2}],
    "groups": [
        {"id": 9, "name": "Reception", "extension": "8000", "callback_id": 4},
        {"id": 10, "name": "Reception", "extension": "8100"},
    ],
    "callbacks": [
        {
            "id": 1,
            "name": "CRM inbound SMS",
            "callback_type": "sms",
            "url": "https://hooks.example.com/sms?to={to}",
            "use_basic_auth": True,
            "auth_username": "ringrx",
            "auth_password": "live-pw-1",
            "custom_headers": "X-Api-Key:live-key-1\r\nX-Env:prod",
        },
        {"id": 2, "name": "VM", "callback_type": "voicemail", "url": "http://internal/vm/{id}"},
        {"id": 3, "name": "All CDRs", "callback_type": "cdr", "url": "https://h/cdr/{id}"},
        {"id": 4, "name": "Alerts", "callback_type": "call_alert", "url": "https://h/alert"},
    ],
}

# The values of the variables import asks for (the seed's live secrets).
IMPORTED_SECRETS = {
    "RINGRX_SECRET_CRM_INBOUND_SMS_PASSWORD": "live-pw-1",
    "RINGRX_SECRET_CRM_INBOUND_SMS_X_API_KEY": "live-key-1",
}


def imported(env: dict[str, str], tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "imported.yaml"
    result = run_cli(["import", "--out", str(out)], env)
    assert result.exit_code == 0, result.stderr
    return out, out.read_text()


def test_import_writes_references_not_secrets(env: dict[str, str], tmp_path: Path) -> None:
    _, text = imported(env, tmp_path)
    assert "live-pw-1" not in text and "live-key-1" not in text
    assert "$schema" not in text  # no schema file near the output: no line pointing nowhere
    assert "RINGRX_SECRET_CRM_INBOUND_SMS_PASSWORD" in text.split("version: 1")[0]
    assert "${env:RINGRX_SECRET_CRM_INBOUND_SMS_X_API_KEY}" in text
    assert "allow_insecure_url: true" in text
    assert text.index("name: Alerts") < text.index("name: All CDRs") < text.index("name: CRM")
    assert "'8000'" in text  # the ambiguous group name is imported by its extension
    stdout = run_cli(["import"], env)
    assert stdout.exit_code == 0 and stdout.stdout == text


def test_import_points_at_a_real_schema_file_only(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "ringrx-iac.schema.json").write_text("{}", encoding="utf-8")
    (tmp_path / "callbacks").mkdir()
    out = tmp_path / "callbacks" / "all.yaml"
    assert run_cli(["import", "--out", str(out)], env).exit_code == 0
    first = out.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/ringrx-iac.schema.json"
    assert (out.parent / first.split("$schema=")[1]).is_file()
    stdout = run_cli(["import"], env).stdout  # stdout: where it goes is unknown, no line
    assert "$schema" not in stdout


def test_import_round_trip_plan_has_no_changes(env: dict[str, str], tmp_path: Path) -> None:
    out, _ = imported(env, tmp_path)
    env = {**env, **IMPORTED_SECRETS}
    result = run_cli(["plan", str(out), "--detailed-exitcode"], env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert run_cli(["validate", str(out)], env).exit_code == 0


def test_drift_exit_codes_and_never_writes(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    out, _ = imported(env, tmp_path)
    env = {**env, **IMPORTED_SECRETS}
    admin(sim, "POST", "/stats/reset")
    result = run_cli(["drift", str(out)], env)
    assert result.exit_code == 0 and "In sync" in result.stdout
    # someone edits the account in the portal
    admin(sim, "PATCH", "/callbacks/3", {"url": "https://h/cdr-edited"})
    admin(sim, "PATCH", "/targets/phone_numbers/8", {"sms_callback_id": None})
    result = run_cli(["drift", str(out), "--format", "json"], env)
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["in_sync"] is False
    assert {c["action"] for c in data["changes"]} == {"update", "bind"}
    md = run_cli(["drift", str(out), "--format", "markdown"], env)
    assert md.exit_code == 2 and "All CDRs" in md.stdout
    assert sim_writes(admin(sim, "GET", "/stats")) == 0
    env["RINGRX_API_TOKEN"] = "nope"
    assert run_cli(["drift", str(out)], env).exit_code == 1


def test_drift_password_changed_in_portal_is_sensitive(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    out, _ = imported(env, tmp_path)
    env = {**env, **IMPORTED_SECRETS}
    admin(sim, "PATCH", "/callbacks/1", {"auth_password": "portal-pw-2"})
    result = run_cli(["drift", str(out), "--format", "json"], env)
    assert result.exit_code == 2
    [change] = json.loads(result.stdout)["changes"]
    assert change["fields"] == [
        {"field": "basic_auth.password", "old": "(sensitive)", "new": "(sensitive value changed)"}
    ]
    assert "portal-pw-2" not in result.stdout and "live-pw-1" not in result.stdout


def test_import_refuses_duplicate_names(sim: SimulatorServer, env: dict[str, str]) -> None:
    admin(
        sim, "POST", "/callbacks", {"name": "VM", "callback_type": "voicemail", "url": "https://x"}
    )
    result = run_cli(["import"], env)
    assert result.exit_code == 1 and "'VM'" in result.stderr and "rename or delete" in result.stderr
