"""drift always reports: errors never hide differences; findings, severities, --fail-on."""

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
    "phone_numbers": [{"id": 7, "phonenumber": "+18185559876", "sms_callback_id": 1}],
    "mailboxes": [{"id": 3, "name": "Front desk", "mailbox": "1001", "callback_id": 2}],
    "callbacks": [
        {
            "id": 1,
            "name": "SMS",
            "callback_type": "sms",
            "url": f"{HOOKS}/sms",
            "use_basic_auth": True,
            "auth_username": "ringrx",
            "auth_password": "sms-password-1",
            "custom_headers": "X-Api-Key:sms-key-123456\r\nX-Env:prod",
        },
        {"id": 2, "name": "VM", "callback_type": "voicemail", "url": f"{HOOKS}/vm"},
        {"id": 3, "name": "CDR", "callback_type": "cdr", "url": f"{HOOKS}/cdr"},
        {"id": 5, "name": "Legacy rec", "callback_type": "recording", "url": f"{HOOKS}/rec"},
    ],
}
CONFIG = f"""version: 1
ignore: ["Legacy *"]
callbacks:
  - name: SMS
    type: sms
    url: "{HOOKS}/sms"
    headers: {{X-Api-Key: "${{env:SMS_KEY}}", X-Env: prod}}
    basic_auth: {{username: ringrx, password: "${{env:SMS_PW}}"}}
    bind: {{phone_numbers: ["+18185559876"]}}
  - name: VM
    type: voicemail
    url: "{HOOKS}/vm"
    bind: {{mailboxes: ["Front desk"]}}
  - name: CDR
    type: cdr
    url: "{HOOKS}/cdr"
"""
SECRETS = {"SMS_KEY": "sms-key-123456", "SMS_PW": "sms-password-1"}
POLICY = 'policy: {allowed_hosts: ["hooks.example.com"]}\n'


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=SEED) as server:
        yield server


@pytest.fixture
def env(sim: SimulatorServer) -> dict[str, str]:
    return cli_env(sim, **SECRETS)


def write(tmp_path: Path, text: str = CONFIG) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def drift_json(path: str, env: dict[str, str], *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(["drift", path, "--format", "json", *extra], env)
    return result.exit_code, json.loads(result.stdout)


def kinds(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["severity"], f["kind"]) for f in data["findings"]]


def test_in_sync_is_zero_with_empty_findings(env: dict[str, str], tmp_path: Path) -> None:
    code, data = drift_json(write(tmp_path), env)
    assert code == 0 and data["in_sync"] is True
    assert data["changes"] == [] and data["errors"] == [] and data["findings"] == []


def test_renamed_mailbox_never_hides_a_hijacked_cdr_url(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    """The issue's scenario: RRX703 plus the CDR URL moved to another host."""
    path = write(tmp_path)
    admin(sim, "PATCH", "/targets/mailboxes/3", {"name": "Reception"})
    admin(sim, "PATCH", "/callbacks/3", {"url": "https://evil.example.net/cdr"})
    text = run_cli(["drift", path], env)
    assert text.exit_code == 1
    assert 'reroute: "https://evil.example.net" -> "https://hooks.example.com"' in text.stdout
    assert "HIGH     callback 'CDR' now sends to https://evil.example.net" in text.stdout
    assert "RRX703" in text.stderr and "Drift check incomplete" in text.stdout
    code, data = drift_json(path, env)
    assert code == 1
    assert {"in_sync", "changes", "errors", "findings"} <= set(data)
    assert data["in_sync"] is False and data["complete"] is False
    assert [e["code"] for e in data["errors"]] == ["RRX703"]
    (update,) = [c for c in data["changes"] if c["action"] == "update"]
    assert update["callback"] == "CDR" and update["reroute"] is True
    assert ("high", "reroute") in kinds(data)
    md = run_cli(["drift", path, "--format", "markdown"], env)
    assert md.exit_code == 1
    assert "evil\\.example\\.net" in md.stdout and "RRX703" in md.stdout
    assert "#### Errors (1)" in md.stdout and "#### Findings" in md.stdout


def test_severities_and_fail_on(sim: SimulatorServer, env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path)
    admin(sim, "PATCH", "/callbacks/3", {"url": f"{HOOKS}/cdr-v2"})  # low: same origin
    code, data = drift_json(path, env)
    assert code == 2 and kinds(data) == [("low", "changed")]
    assert "url" in data["findings"][0]["message"]
    assert drift_json(path, env, "--fail-on", "high")[0] == 0
    assert run_cli(["drift", path, "--fail-on", "high"], env).exit_code == 0
    admin(sim, "PATCH", "/callbacks/2", {"url": "https://other.example.net/vm"})  # high
    code, data = drift_json(path, env, "--fail-on", "high")
    assert code == 2 and ("high", "reroute") in kinds(data)
    assert drift_json(path, env, "--fail-on", "critical")[0] == 0
    admin(sim, "PATCH", "/callbacks/1", {"use_basic_auth": False})  # critical
    code, data = drift_json(path, env, "--fail-on", "critical")
    assert code == 2 and kinds(data)[0] == ("critical", "lost-basic-auth")


def test_lost_secret_header_is_critical_and_shows_no_value(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    admin(sim, "PATCH", "/callbacks/1", {"custom_headers": "X-Env:staging"})
    result = run_cli(["drift", write(tmp_path), "--format", "json"], env)
    data = json.loads(result.stdout)
    assert result.exit_code == 2
    assert kinds(data) == [("critical", "lost-secret-header"), ("low", "changed")]
    assert "sms-key-123456" not in result.output and "staging" not in json.dumps(data["findings"])


def test_unknown_cdr_callback_is_critical(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    admin(sim, "POST", "/callbacks", {"name": "Copy", "callback_type": "cdr", "url": f"{HOOKS}/c"})
    code, data = drift_json(write(tmp_path), env, "--fail-on", "critical")
    assert code == 2 and kinds(data) == [("critical", "unknown-global-callback")]
    assert "Copy" in data["findings"][0]["message"]


def test_silenced_targets_are_high(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    admin(sim, "PATCH", "/targets/phone_numbers/7", {"sms_callback_id": None})
    code, data = drift_json(write(tmp_path), env, "--fail-on", "high")
    assert code == 2 and kinds(data) == [("high", "silenced")]
    assert "+18185559876" in data["findings"][0]["message"]


def test_policy_checks_every_live_callback_even_ignored(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path, CONFIG.replace("version: 1\n", "version: 1\n" + POLICY))
    assert drift_json(path, env)[0] == 0
    admin(sim, "PATCH", "/callbacks/5", {"url": "https://partner.example.org/rec"})  # ignored
    code, data = drift_json(path, env, "--fail-on", "critical")
    assert code == 2 and data["changes"] == [] and data["in_sync"] is False
    assert kinds(data) == [("critical", "host-not-allowed")]
    assert "'Legacy rec'" in data["findings"][0]["message"]
    assert data["findings"][0]["hosts"] == ["partner.example.org"]
    text = run_cli(["drift", path], env)
    assert text.exit_code == 2 and "In sync" not in text.stdout
    admin(sim, "PATCH", "/callbacks/3", {"url": "https://evil.example.net/cdr"})  # managed
    code, data = drift_json(path, env)
    assert kinds(data)[:2] == [("critical", "reroute"), ("critical", "host-not-allowed")]
    assert "outside policy.allowed_hosts" in data["findings"][0]["message"]


def test_unset_secret_is_an_error_not_a_change(env: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in env.items() if k != "SMS_KEY"}
    code, data = drift_json(write(tmp_path), env)
    assert code == 1 and [e["code"] for e in data["errors"]] == ["RRX711"]
    assert data["changes"] == [] and data["findings"] == []


def test_unreachable_account_and_invalid_config_still_print_json(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, data = drift_json(write(tmp_path), {**env, "RINGRX_API_TOKEN": "wrong"})
    assert code == 1 and data["in_sync"] is False and data["changes"] == []
    assert "cannot read the account" in data["errors"][0]["message"]
    bad = write(tmp_path, 'version: 1\ncallbacks:\n  - {name: X, type: smss, url: "https://h/x"}\n')
    code, data = drift_json(bad, env)
    assert code == 1 and data["errors"][0]["code"] == "RRX021" and data["findings"] == []
    for fmt in ("text", "markdown"):
        assert run_cli(["drift", bad, "--format", fmt], env).exit_code == 1


def test_plan_with_errors_shows_differences_then_fails(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    admin(sim, "PATCH", "/targets/mailboxes/3", {"name": "Reception"})
    admin(sim, "PATCH", "/callbacks/3", {"url": "https://evil.example.net/cdr"})
    result = run_cli(["plan", write(tmp_path), "--format", "json"], env)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [e["code"] for e in data["errors"]] == ["RRX703"]
    assert any(c["callback"] == "CDR" and c["reroute"] for c in data["changes"])


def test_a_callback_named_like_the_lock_cannot_hide(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    admin(
        sim,
        "POST",
        "/callbacks",
        {"name": "ringrx-iac lock", "callback_type": "cdr", "url": "https://evil.example.net/x"},
    )
    code, data = drift_json(write(tmp_path), env)
    assert code == 2 and kinds(data) == [("critical", "lock-impostor")]
    assert data["findings"][0]["hosts"] == ["evil.example.net"]


def test_losing_the_policy_required_header_is_critical(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    text = CONFIG.replace("version: 1\n", "version: 1\npolicy: {require_header: {sms: X-Env}}\n")
    admin(sim, "PATCH", "/callbacks/1", {"custom_headers": "X-Api-Key:sms-key-123456"})
    code, data = drift_json(write(tmp_path, text), env, "--fail-on", "critical")
    assert code == 2 and kinds(data) == [("critical", "lost-secret-header")]
    assert "'X-Env'" in data["findings"][0]["message"]
