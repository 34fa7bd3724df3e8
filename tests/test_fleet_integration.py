"""A fleet against several simulators at once: one per account, each with its own seed and
API key (examples/fleet/), over real loopback HTTP through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import admin, run_cli, sim_writes, spy_max_rates

from ringrx_iac.demo_fleet import practice_seed
from ringrx_iac.simulator.server import SimulatorServer

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet"
KEYS = ("smile-west", "smile-east", "kids-north")
NUMBERS = {"smile-west": "+18185559876", "smile-east": "+12125550100", "kids-north": "+16125550142"}
TAGS = {
    "smile-west": "{region: west, tier: canary}",
    "smile-east": "{region: east, tier: stable}",
    "kids-north": "{region: north, tier: stable}",
}
PRACTICE = {"smile-west": "1201", "smile-east": "1202", "kids-north": "3301"}


def _env_name(key: str, what: str) -> str:
    return f"{key.upper().replace('-', '_')}_RINGRX_API_{what}"


@pytest.fixture
def sims() -> Iterator[dict[str, SimulatorServer]]:
    servers = {k: SimulatorServer(seed=practice_seed(k)) for k in KEYS}
    for s in servers.values():
        s.start()
    try:
        yield servers
    finally:
        for s in servers.values():
            s.stop()


def write_fleet(tmp_path: Path, sims: dict[str, SimulatorServer], **base_urls: str) -> Path:
    """The example's inventory, pointed at the simulators (same configs, same credentials)."""
    lines = ["version: 1", "defaults: {variables: {crm_host: crm.example-msp.com}}", "accounts:"]
    for key in KEYS:
        url = base_urls.get(key.replace("-", "_"), sims[key].base_url)
        lines += [
            f"  - key: {key}",
            f"    name: Practice {key}",
            f"    base_url: {url}",
            "    credentials:",
            f'      api_key: "${{env:{_env_name(key, "TOKEN")}}}"',
            f'      api_secret: "${{file:secrets/{key}.secret}}"',
            f"    config: {EXAMPLE / 'practices' / key}/",
            f'    variables: {{practice_id: "{PRACTICE[key]}", main_number: "{NUMBERS[key]}"}}',
            f"    tags: {TAGS[key]}",
        ]
    (tmp_path / "secrets").mkdir()
    for key in KEYS:
        (tmp_path / "secrets" / f"{key}.secret").write_text(f"{key}-secret\n")
    path = tmp_path / "fleet.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def fleet_env() -> dict[str, str]:
    """Per-account tokens (secrets come from files) and the CRM keys; no RINGRX_* at all."""
    env = {_env_name(k, "TOKEN"): f"{k}-token" for k in KEYS}
    return {**env, "CRM_KEY": "crm-key", "KIDS_CRM_KEY": "kids-key"}


def run_json(args: list[str], env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    result = run_cli([*args, "--format", "json"], env or fleet_env())
    return result.exit_code, json.loads(result.stdout)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {a["key"]: a["status"] for a in report["accounts"]}


def writes(sim: SimulatorServer) -> int:
    return sim_writes(admin(sim, "GET", "/stats"))


def test_plan_apply_drift_over_the_fleet(tmp_path: Path, sims: dict[str, SimulatorServer]) -> None:
    fleet = str(write_fleet(tmp_path, sims))
    code, plan = run_json(["plan", "--fleet", fleet, "--all"])
    assert code == 2
    assert statuses(plan) == dict.fromkeys(KEYS, "changes")
    assert plan["totals"]["changes"] == 3 and plan["totals"]["accounts"] == 3
    west = plan["accounts"][0]
    assert west["summary"]["create"] == 3 and west["plan"]["summary"]["bind"] == 2
    assert sum(writes(s) for s in sims.values()) == 0  # plan is read-only

    log = tmp_path / "apply.jsonl"
    code, applied = run_json(
        ["apply", "--fleet", fleet, "--all", "--auto-approve", "--log", str(log)]
    )
    assert code == 0, applied
    assert statuses(applied) == dict.fromkeys(KEYS, "applied")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert {r["account"] for r in records} == set(KEYS)
    assert len(records) == sum(a["changes"] for a in applied["accounts"]) == 11
    assert "crm-key" not in log.read_text()
    for key, sim in sims.items():
        live = {cb["name"]: cb for cb in admin(sim, "GET", "/state")["callbacks"]}
        assert f"/collect/{PRACTICE[key]}/" in live["All CDRs"]["url"]
    kids = {cb["name"]: cb for cb in admin(sims["kids-north"], "GET", "/state")["callbacks"]}
    assert kids["CRM inbound SMS"]["url"] == "https://kids-crm.example.org/inbound/3301"

    code, drift = run_json(["drift", "--fleet", fleet, "--all"])
    assert (code, statuses(drift)) == (0, dict.fromkeys(KEYS, "in_sync"))

    cdr = next(cb for cb in admin(sims["smile-east"], "GET", "/state")["callbacks"])
    admin(sims["smile-east"], "PATCH", f"/callbacks/{cdr['id']}", {"url": "https://evil/{id}"})
    code, drift = run_json(["drift", "--fleet", fleet, "--all"])
    assert code == 2
    assert statuses(drift) == {
        "smile-west": "in_sync",
        "smile-east": "changes",
        "kids-north": "in_sync",
    }
    assert drift["totals"]["total_changes"] == 1
    [finding] = drift["accounts"][1]["plan"]["findings"]
    assert finding["severity"] in ("low", "high")  # issue 9's classification, per account
    code, drift = run_json(["drift", "--fleet", fleet, "--all", "--fail-on", "critical"])
    assert (code, statuses(drift)["smile-east"]) == (0, "in_sync")


def test_a_failing_account_does_not_stop_the_others(
    tmp_path: Path, sims: dict[str, SimulatorServer]
) -> None:
    env = fleet_env()
    env[_env_name("smile-east", "TOKEN")] = "wrong-token"
    fleet = str(write_fleet(tmp_path, sims, kids_north="http://127.0.0.1:9"))
    code, report = run_json(["apply", "--fleet", fleet, "--all", "--auto-approve"], env)
    assert code == 1
    assert statuses(report) == {
        "smile-west": "applied",
        "smile-east": "error",
        "kids-north": "error",
    }
    assert report["totals"]["error"] == 2 and report["totals"]["applied"] == 1
    assert "wrong-token" not in json.dumps(report)
    assert writes(sims["smile-west"]) > 0 and writes(sims["smile-east"]) == 0

    text = run_cli(["drift", "--fleet", fleet, "--all"], env)
    assert text.exit_code == 1
    assert "smile-west" in text.stdout and "in sync" in text.stdout
    assert "Fleet: 3 accounts: 1 in sync, 2 error." in text.stdout


def test_an_unset_credential_is_that_accounts_error(
    tmp_path: Path, sims: dict[str, SimulatorServer]
) -> None:
    fleet = str(write_fleet(tmp_path, sims))
    env = fleet_env()
    del env[_env_name("kids-north", "TOKEN")]
    code, report = run_json(["plan", "--fleet", fleet, "--all"], env)
    assert code == 1
    kids = report["accounts"][2]
    assert kids["status"] == "error"
    assert _env_name("kids-north", "TOKEN") in kids["error"]
    assert statuses(report)["smile-west"] == "changes"


def test_tag_and_account_selection(tmp_path: Path, sims: dict[str, SimulatorServer]) -> None:
    fleet = str(write_fleet(tmp_path, sims))
    code, report = run_json(["apply", "--fleet", fleet, "--tag", "tier=canary", "--auto-approve"])
    assert (code, statuses(report)) == (0, {"smile-west": "applied"})
    assert writes(sims["smile-east"]) == writes(sims["kids-north"]) == 0
    code, report = run_json(
        ["plan", "--fleet", fleet, "--account", "kids-north", "--account", "smile-west"]
    )
    assert statuses(report) == {"smile-west": "in_sync", "kids-north": "changes"}
    bad = run_cli(["plan", "--fleet", fleet, "--account", "kids-nort"], fleet_env())
    assert bad.exit_code == 1 and "did you mean 'kids-north'" in bad.stderr
    none = run_cli(["plan", "--fleet", fleet, "--tag", "region=south"], fleet_env())
    assert none.exit_code == 1 and "no account" in none.stderr
    unselected = run_cli(["apply", "--fleet", fleet, "--auto-approve"], fleet_env())
    assert unselected.exit_code == 1 and "--all" in unselected.stderr


def test_wave_stops_the_rollout_after_a_failing_canary(
    tmp_path: Path, sims: dict[str, SimulatorServer]
) -> None:
    env = fleet_env()
    env[_env_name("smile-west", "TOKEN")] = "wrong-token"  # the canary fails
    fleet = str(write_fleet(tmp_path, sims))
    args = ["apply", "--fleet", fleet, "--all", "--wave", "tier=canary", "--auto-approve"]
    code, report = run_json(args, env)
    assert code == 1
    assert statuses(report) == {
        "smile-west": "error",
        "smile-east": "skipped",
        "kids-north": "skipped",
    }
    assert "tier=canary" in report["accounts"][1]["error"]
    assert writes(sims["smile-east"]) == writes(sims["kids-north"]) == 0

    code, report = run_json(args, fleet_env())  # a healthy canary: then the rest
    assert (code, set(statuses(report).values())) == (0, {"applied"})


def test_max_failures_stops_starting_new_accounts(
    tmp_path: Path, sims: dict[str, SimulatorServer]
) -> None:
    fleet = str(write_fleet(tmp_path, sims, smile_west="http://127.0.0.1:9"))
    args = ["apply", "--fleet", fleet, "--all", "--auto-approve", "--accounts-parallelism", "1"]
    code, report = run_json([*args, "--max-failures", "1"])
    assert code == 1
    assert statuses(report) == {
        "smile-west": "error",
        "smile-east": "skipped",
        "kids-north": "skipped",
    }
    assert "--max-failures 1" in report["accounts"][2]["error"]
    assert writes(sims["smile-east"]) == 0


def test_import_writes_one_directory_per_account(
    tmp_path: Path, sims: dict[str, SimulatorServer]
) -> None:
    fleet = str(write_fleet(tmp_path, sims))
    assert run_json(["apply", "--fleet", fleet, "--all", "--auto-approve"])[0] == 0
    out = tmp_path / "imported"
    result = run_cli(["import", "--fleet", fleet, "--all", "--out", str(out)], fleet_env())
    assert result.exit_code == 0, result.stdout + result.stderr
    for key in KEYS:
        text = (out / key / "callbacks.yaml").read_text()
        assert f"/collect/{PRACTICE[key]}/" in text
        assert "crm-key" not in text  # secrets become ${env:...} references
    assert "Fleet: 3 accounts: 3 imported." in result.stdout


def test_markdown_report_is_a_table_then_details(
    tmp_path: Path, sims: dict[str, SimulatorServer]
) -> None:
    fleet = str(write_fleet(tmp_path, sims))
    result = run_cli(["plan", "--fleet", fleet, "--all", "--format", "markdown"], fleet_env())
    assert result.exit_code == 2
    md = result.stdout
    assert md.index("| account | name | status | changes |") < md.index("<details>")
    assert "| `smile-west` | Practice smile\\-west | 5 changes | 5 |" in md
    assert "<summary>`kids-north`: 3 changes</summary>" in md
    assert md.count("<details>") >= 3
    assert "crm-key" not in md


def test_a_locked_account_fails_alone_and_force_unlock_clears_it(
    tmp_path: Path, sims: dict[str, SimulatorServer]
) -> None:
    from ringrx_iac.reconcile.lock import LOCK_NAME

    held = (
        "X-Ringrx-Iac-Lock:abc\r\nX-Ringrx-Iac-Holder:ci@runner pid 7\r\n"
        "X-Ringrx-Iac-Started:2026-01-02T03:04:05+00:00\r\n"
        "X-Ringrx-Iac-Expires:2999-01-01T00:00:00+00:00"
    )
    lock = {"name": LOCK_NAME, "callback_type": "sms", "url": "https://lock.ringrx-iac.invalid/x"}
    admin(sims["smile-east"], "POST", "/callbacks", {**lock, "custom_headers": held})
    fleet = str(write_fleet(tmp_path, sims))
    args = ["apply", "--fleet", fleet, "--all", "--auto-approve", "--lock-timeout", "0"]
    code, report = run_json(args)
    assert code == 1
    assert statuses(report) == {
        "smile-west": "applied",
        "smile-east": "error",
        "kids-north": "applied",
    }
    assert "ci@runner pid 7" in report["accounts"][1]["error"]
    names = [cb["name"] for cb in admin(sims["smile-east"], "GET", "/state")["callbacks"]]
    assert names == [LOCK_NAME]  # nothing written while another apply holds the lock

    code, report = run_json([*args, "--account", "smile-east", "--force-unlock"])
    assert (code, statuses(report)) == (0, {"smile-east": "applied"})
    names = [cb["name"] for cb in admin(sims["smile-east"], "GET", "/state")["callbacks"]]
    assert LOCK_NAME not in names


def test_max_rate_caps_every_account(
    sims: dict[str, SimulatorServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = str(write_fleet(tmp_path, sims))
    caps = spy_max_rates(monkeypatch)
    code, _ = run_json(["plan", "--fleet", fleet, "--all", "--max-rate", "7"])
    assert code in (0, 2) and caps == [7.0] * len(KEYS)
