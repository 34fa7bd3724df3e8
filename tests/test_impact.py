"""Impact: reroutes and silences in every format, the thresholds, --force and --log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fakes import FakeClient, admin, cli_env, desired_from, phone, run_cli, sim_writes

from ringrx_iac.api.types import RemoteCallback
from ringrx_iac.reconcile.engine import plan_for
from ringrx_iac.reconcile.plan import Plan
from ringrx_iac.simulator.server import SimulatorServer

HOOKS = "https://hooks.example.com"
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "demo-password"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [
        {"id": 7, "phonenumber": "+18185559876", "sms_callback_id": 1},
        {"id": 8, "phonenumber": "8185551234", "sms_callback_id": 1},
        {"id": 9, "phonenumber": "8185551235", "sms_callback_id": 1},
        {"id": 10, "phonenumber": "8185551236", "sms_callback_id": 1},
    ],
    "mailboxes": [{"id": 3, "name": "Front desk", "mailbox": "1001", "callback_id": 2}],
    "callbacks": [
        {"id": 1, "name": "SMS", "callback_type": "sms", "url": f"{HOOKS}/sms"},
        {"id": 2, "name": "VM", "callback_type": "voicemail", "url": f"{HOOKS}/vm"},
        {"id": 3, "name": "CDR", "callback_type": "cdr", "url": f"{HOOKS}/cdr"},
        {"id": 4, "name": "REC", "callback_type": "recording", "url": f"{HOOKS}/rec"},
    ],
}


def live_plan(config: dict[str, Any], callbacks: list[RemoteCallback], targets: Any) -> Plan:
    client = FakeClient(callbacks, targets)
    account = asyncio.run(client.fetch_account())
    return plan_for(desired_from(config), account, {}, Path("."))


def cbk(i: int, name: str, type_: str, url: str) -> RemoteCallback:
    return RemoteCallback(i, name, type_, url, False, None, None, "")


FOUR = [
    cbk(1, "A", "cdr", f"{HOOKS}/a"),
    cbk(2, "B", "recording", f"{HOOKS}/b"),
    cbk(3, "C", "sms", f"{HOOKS}/c"),
    cbk(4, "D", "sms", f"{HOOKS}/d"),
]
NUMBERS = {"phone_numbers": [phone(10 + i, f"+1818555100{i}", 3) for i in range(4)]}


def conf(urls: dict[str, str], **extra: Any) -> dict[str, Any]:
    types = {"A": "cdr", "B": "recording", "C": "sms", "D": "sms"}
    callbacks = []
    for name, type_ in types.items():
        spec: dict[str, Any] = {
            "name": name,
            "type": type_,
            "url": urls.get(name, f"{HOOKS}/{name.lower()}"),
        }
        if name == "C":
            spec["bind"] = {"phone_numbers": [f"+1818555100{i}" for i in range(4)]}
        callbacks.append(spec)
    return {"callbacks": callbacks, **extra}


def codes(plan: Plan) -> list[str]:
    return [d.code for d in plan.safety_violations()]


def test_reroute_is_an_origin_change_not_a_path_change() -> None:
    plan = live_plan(
        conf(
            {"A": f"{HOOKS}/other/path", "B": "https://evil.example.net/b", "D": f"{HOOKS}:8443/d"}
        ),
        FOUR,
        NUMBERS,
    )
    reroutes = {r.callback: (r.old_origin, r.new_origin) for r in plan.impact.reroutes}
    assert reroutes == {
        "B": (HOOKS, "https://evil.example.net"),
        "D": (HOOKS, HOOKS + ":8443"),
    }
    data = plan.to_dict()
    by_name = {c["callback"]: c for c in data["changes"]}
    assert by_name["A"]["reroute"] is False and "new_host" not in by_name["A"]
    assert by_name["B"]["reroute"] is True
    assert (by_name["B"]["old_host"], by_name["B"]["new_host"]) == (
        "hooks.example.com",
        "evil.example.net",
    )
    assert data["impact"]["summary"] == "2 reroutes, 0 targets silenced"
    assert data["format_version"] == "1.1"


def test_scheme_change_is_a_reroute() -> None:
    plan = live_plan(conf({"A": "http://hooks.example.com/a"}), FOUR, NUMBERS)
    assert [r.new_origin for r in plan.impact.reroutes] == ["http://hooks.example.com"]


def test_silences_by_unbind_and_by_delete_of_a_bound_callback() -> None:
    config = conf({})
    config["callbacks"][2]["bind"] = {"phone_numbers": ["+18185551000"]}  # 3 numbers unbound
    plan = live_plan(config, FOUR, NUMBERS)
    assert sorted((s.target, s.via) for s in plan.impact.silenced) == [
        ("+18185551001", "unbind"),
        ("+18185551002", "unbind"),
        ("+18185551003", "unbind"),
    ]
    assert plan.impact.silenced[0].old_origin == HOOKS
    config = conf({})
    del config["callbacks"][2]  # C deleted: its 4 numbers lose their callback
    plan = live_plan(config, FOUR, NUMBERS)
    data = plan.to_dict()
    (delete,) = [c for c in data["changes"] if c["action"] == "delete"]
    assert delete["silence"] is True and len(delete["silenced_targets"]) == 4
    assert data["impact"]["summary"] == "0 reroutes, 4 targets silenced"


def test_rebind_to_another_callback_is_not_a_silence() -> None:
    config = conf({})
    config["callbacks"][2]["bind"] = {"phone_numbers": []}
    config["callbacks"][3]["bind"] = {"phone_numbers": [f"+1818555100{i}" for i in range(4)]}
    plan = live_plan(config, FOUR, NUMBERS)
    assert plan.impact.silenced == [] and plan.summary()["rebind"] == 4


def test_thresholds_and_the_min_impact_floor() -> None:
    evil = {n: f"https://evil.example.net/{n}" for n in "ABCD"}
    assert codes(live_plan(conf(evil), FOUR, NUMBERS)) == ["RRX722"]  # 4 of 4
    three = {n: f"https://evil.example.net/{n}" for n in "ABC"}
    assert codes(live_plan(conf(three), FOUR, NUMBERS)) == []  # 75%, but not above the floor 3
    low_floor = {"safety": {"min_impact": 2}}
    assert codes(live_plan(conf(three, **low_floor), FOUR, NUMBERS)) == ["RRX722"]
    two = {n: f"https://evil.example.net/{n}" for n in "AB"}
    assert codes(live_plan(conf(two, **low_floor), FOUR, NUMBERS)) == []
    raised = {"safety": {"max_reroute_percent": 100}}
    assert codes(live_plan(conf(evil, **raised), FOUR, NUMBERS)) == []
    config = conf({})
    config["callbacks"][2]["bind"] = {"phone_numbers": []}
    assert codes(live_plan(config, FOUR, NUMBERS)) == ["RRX723"]  # 4 of 4 targets
    config["safety"] = {"max_unbind_percent": 100}
    assert codes(live_plan(config, FOUR, NUMBERS)) == []


def test_reroutes_to_allowed_hosts_do_not_count() -> None:
    back = {n: f"https://new.crm.example.org/{n}" for n in "ABCD"}
    policy = {"policy": {"allowed_hosts": ["hooks.example.com", "*.crm.example.org"]}}
    plan = live_plan(conf(back, **policy), FOUR, NUMBERS)
    assert len(plan.impact.reroutes) == 4 and plan.impact.counted_reroutes == []
    assert codes(plan) == []
    assert codes(live_plan(conf(back), FOUR, NUMBERS)) == ["RRX722"]


def test_violation_names_the_setting() -> None:
    evil = {n: f"https://evil.example.net/{n}" for n in "ABCD"}
    (d,) = live_plan(conf(evil), FOUR, NUMBERS).safety_violations()
    assert "safety.max_reroute_percent (30%)" in d.message and "evil.example.net" in d.message
    assert "--force" in d.hint


# -- CLI, against the simulator --------------------------------------------------------------


HIJACK = """version: 1
callbacks:
  - {name: SMS, type: sms, url: "https://evil.example.net/sms"}
  - {name: VM, type: voicemail, url: "https://evil.example.net/vm", bind: {mailboxes: ["1001"]}}
  - {name: CDR, type: cdr, url: "https://evil.example.net:8443/cdr"}
  - {name: REC, type: recording, url: "https://evil.example.net/rec"}
"""


def test_apply_refuses_hijack_and_unbind_all_then_force_logs_it(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    env = cli_env(sim)
    path = tmp_path / "c.yaml"
    path.write_text(HIJACK, encoding="utf-8")
    plan = run_cli(["plan", str(path)], env)
    assert plan.exit_code == 0
    assert 'reroute: "https://hooks.example.com" -> "https://evil.example.net"' in plan.stdout
    assert "Impact: 4 reroutes, 4 targets silenced." in plan.stdout
    assert "(targets silenced)" in plan.stdout
    md = run_cli(["plan", str(path), "--format", "markdown"], env)
    assert "**Impact: 4 reroutes, 4 targets silenced.**" in md.stdout and "reroute:" in md.stdout
    admin(sim, "POST", "/stats/reset")
    refused = run_cli(["apply", str(path), "--auto-approve"], env)
    assert refused.exit_code == 1
    assert "safety.max_reroute_percent" in refused.stderr
    assert "safety.max_unbind_percent" in refused.stderr
    assert sim_writes(admin(sim, "GET", "/stats")) == 0
    log = tmp_path / "audit.jsonl"
    forced = run_cli(["apply", str(path), "--auto-approve", "--force", "--log", str(log)], env)
    assert forced.exit_code == 0, forced.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    reroutes = {
        r["callback"]: (r["old_origin"], r["new_origin"]) for r in records if r.get("reroute")
    }
    assert reroutes == {
        "SMS": ("https://hooks.example.com", "https://evil.example.net"),
        "VM": ("https://hooks.example.com", "https://evil.example.net"),
        "CDR": ("https://hooks.example.com", "https://evil.example.net:8443"),
        "REC": ("https://hooks.example.com", "https://evil.example.net"),
    }
    silences = [r for r in records if r.get("silence")]
    assert len(silences) == 4 and all(r["action"] == "unbind" for r in silences)
    assert all(r["old_origin"] == "https://hooks.example.com" for r in silences)


def test_small_account_everyday_edit_is_not_refused(sim: SimulatorServer, tmp_path: Path) -> None:
    """3 of 4 callbacks moved (75%) and 3 of 5 targets unbound (60%): over both shares,
    but not above the floor of 3 (safety.min_impact), so no --force is needed."""
    env = cli_env(sim)
    path = tmp_path / "c.yaml"
    path.write_text(
        """version: 1
callbacks:
  - name: SMS
    type: sms
    url: "https://hooks.example.com/sms"
    bind: {phone_numbers: ["+18185559876"]}
  - {name: VM, type: voicemail, url: "https://new.example.net/vm", bind: {mailboxes: ["1001"]}}
  - {name: CDR, type: cdr, url: "https://new.example.net/cdr"}
  - {name: REC, type: recording, url: "https://new.example.net/rec"}
""",
        encoding="utf-8",
    )
    result = run_cli(["apply", str(path), "--auto-approve"], env)
    assert result.exit_code == 0, result.stderr
    assert "Impact: 3 reroutes, 3 targets silenced." in result.stdout
