"""The plan repairs duplicate live callbacks: keep the best match, move bindings, delete."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fakes import FakeClient, admin, cli_env, desired_from, phone, run_cli

from ringrx_iac.api.types import RemoteAccount, RemoteCallback
from ringrx_iac.reconcile.applier import Applier
from ringrx_iac.reconcile.engine import plan_for
from ringrx_iac.render.plan import render_plan_text
from ringrx_iac.simulator.server import SimulatorServer


def plan(data: dict[str, Any], callbacks: list[RemoteCallback], phones: Any = ()) -> Any:
    acct = RemoteAccount(list(callbacks), {"phone_numbers": list(phones)})
    return plan_for(desired_from(data), acct, {}, Path("."))


def changes(p: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (c["action"], c["callback"], c.get("id"), c.get("duplicate", False))
        for c in p.to_dict()["changes"]
        if c["action"] in ("create", "update", "replace", "delete")
    )


def cdr(cb_id: int, name: str, url: str = "https://h/a") -> RemoteCallback:
    return RemoteCallback(cb_id, name, "cdr", url)


ALL = {"safety": {"max_delete_percent": 100}}


def test_a_name_the_yaml_drops_keeps_nothing_and_deletes_every_copy() -> None:
    p = plan({**ALL, "callbacks": []}, [cdr(7, "Dup"), cdr(4, "Dup"), cdr(9, "Dup")])
    assert not p.errors
    assert changes(p) == [
        ("delete", "Dup", 4, False),
        ("delete", "Dup", 7, True),
        ("delete", "Dup", 9, True),
    ]


def test_keeps_the_copy_whose_fields_match_then_the_lowest_id() -> None:
    spec = {"name": "Dup", "type": "cdr", "url": "https://h/b"}
    p = plan({**ALL, "callbacks": [spec]}, [cdr(3, "Dup"), cdr(8, "Dup", "https://h/b")])
    assert changes(p) == [("delete", "Dup", 3, True)]  # 8 matches: kept, no update
    p = plan({**ALL, "callbacks": [spec]}, [cdr(8, "Dup"), cdr(3, "Dup")])
    assert changes(p) == [("delete", "Dup", 8, True), ("update", "Dup", 3, False)]


def test_prefers_the_right_type_and_the_copy_already_bound() -> None:
    spec = {
        "name": "S",
        "type": "sms",
        "url": "https://h/a",
        "bind": {"phone_numbers": ["8185550001"]},
    }
    cbs = [
        cdr(1, "S"),
        RemoteCallback(2, "S", "sms", "https://h/a"),
        RemoteCallback(3, "S", "sms", "https://h/a"),
    ]
    p = plan({**ALL, "callbacks": [spec]}, cbs, [phone(50, "8185550001", 3)])
    assert changes(p) == [("delete", "S", 1, True), ("delete", "S", 2, True)]
    assert not [c for c in p.to_dict()["changes"] if c["action"] in ("bind", "rebind")]


def test_bindings_the_yaml_wants_move_to_the_kept_copy_and_others_go_with_the_delete() -> None:
    spec = {
        "name": "S",
        "type": "sms",
        "url": "https://h/a",
        "bind": {"phone_numbers": ["8185550001", "8185550002"]},
    }
    cbs = [
        RemoteCallback(2, "S", "sms", "https://h/a"),
        RemoteCallback(5, "S", "sms", "https://h/a"),
    ]
    phones = [phone(50, "8185550001", 5), phone(51, "8185550002", 2), phone(52, "8185550003", 5)]
    p = plan({**ALL, "callbacks": [spec]}, cbs, phones)
    # 2 and 5 tie on fields and hold one wanted target each: the lowest id is kept
    data = p.to_dict()["changes"]
    assert [(c["action"], c.get("target_id"), c.get("id")) for c in data] == [
        ("delete", None, 5),
        ("rebind", 50, None),
    ]
    assert p.callback_ids == {"S": 2}


def test_ignored_names_are_left_alone() -> None:
    p = plan({"ignore": ["Legacy*"], "callbacks": []}, [cdr(1, "Legacy"), cdr(2, "Legacy")])
    assert not p.errors and not p.has_changes


def test_duplicate_deletes_count_toward_the_safety_threshold() -> None:
    spec = {"name": "A", "type": "cdr", "url": "https://h/a"}
    cbs = [cdr(1, "A"), cdr(2, "A"), cdr(3, "A"), cdr(4, "B")]
    p = plan({"callbacks": [spec, {**spec, "name": "B"}]}, cbs)
    [violation] = p.safety_violations()
    assert violation.code == "RRX720" and "deletes or replaces 2 of 4" in violation.message


def test_text_plan_shows_delete_duplicate() -> None:
    p = plan(
        {**ALL, "callbacks": [{"name": "Dup", "type": "cdr", "url": "https://h/a"}]},
        [cdr(1, "Dup"), cdr(2, "Dup")],
    )
    text = render_plan_text(p.to_dict(), False, "plan")
    assert '- delete duplicate "Dup" (id 2)' in text
    assert "1 to delete" in text


def test_a_duplicate_is_not_deleted_when_moving_its_targets_failed() -> None:
    spec = {
        "name": "S",
        "type": "sms",
        "url": "https://h/a",
        "bind": {"phone_numbers": ["8185550001"]},
    }
    cbs = [
        RemoteCallback(2, "S", "sms", "https://h/a"),
        RemoteCallback(5, "S", "sms", "https://h/b"),
    ]
    phones = [phone(50, "8185550001", 5)]
    p = plan({**ALL, "callbacks": [spec]}, cbs, phones)
    client = FakeClient(cbs, {"phone_numbers": phones})
    client.fail = lambda kind, *args: RuntimeError("boom") if kind == "bind" else None
    report = asyncio.run(Applier(p, client).run())
    assert [c["action"] for c in report.skipped] == ["delete"]
    assert 5 in client.callbacks  # still holds the target: no event is dropped


SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [
        {"id": 7, "phonenumber": "8185559876", "sms_callback_id": 3},
        {"id": 8, "phonenumber": "8185551234", "sms_callback_id": 2},
    ],
    "callbacks": [
        {"id": 1, "name": "A", "callback_type": "cdr", "url": "https://h/old"},
        {"id": 2, "name": "S", "callback_type": "sms", "url": "https://h/s"},
        {"id": 3, "name": "S", "callback_type": "sms", "url": "https://h/s"},
        {"id": 4, "name": "A", "callback_type": "cdr", "url": "https://h/a"},
        {"id": 5, "name": "S", "callback_type": "sms", "url": "https://h/s"},
    ],
}
CONFIG = """\
version: 1
safety: {max_delete_percent: 100}
callbacks:
  - {name: A, type: cdr, url: "https://h/a"}
  - {name: S, type: sms, url: "https://h/s", bind: {phone_numbers: ["+18185559876", "8185551234"]}}
"""


def test_seeded_duplicates_are_repaired_through_the_cli(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    with SimulatorServer(seed=SEED) as sim:
        env = cli_env(sim)
        imported = run_cli(["import"], env)
        assert imported.exit_code == 1
        assert "(ids 1, 4)" in imported.stderr and "apply" in imported.stderr
        shown = run_cli(["plan", str(cfg)], env)
        assert shown.exit_code == 0, shown.stderr
        assert '- delete duplicate "A" (id 1)' in shown.stdout
        assert '- delete duplicate "S" (id 3)' in shown.stdout
        assert '- delete duplicate "S" (id 5)' in shown.stdout
        applied = run_cli(["apply", str(cfg), "--auto-approve"], env)
        assert applied.exit_code == 0, applied.stderr
        assert sorted(sim.state.callbacks) == [2, 4]
        assert sim.state.get_target("phone_numbers", 7)["sms_callback_id"] == 2
        assert run_cli(["plan", str(cfg), "--detailed-exitcode"], env).exit_code == 0
        assert run_cli(["import"], env).exit_code == 0
        admin(sim, "GET", "/state")
