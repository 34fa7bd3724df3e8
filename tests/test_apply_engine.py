"""The apply engine against the in-memory FakeClient: order, dependencies, partial failure."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fakes import FakeClient, desired_from, mailbox, phone

from ringrx_iac.api.errors import ValidationError
from ringrx_iac.api.types import RemoteCallback, RemoteTarget
from ringrx_iac.reconcile.applier import Applier
from ringrx_iac.reconcile.engine import apply_and_verify, plan_for

CONFIG: dict[str, Any] = {
    "safety": {"max_delete_percent": 100},
    "callbacks": [
        {
            "name": "New",
            "type": "sms",
            "url": "https://n",
            "bind": {"phone_numbers": ["8185550010"]},
        },
        {"name": "Swap", "type": "voicemail", "url": "https://s", "bind": {"mailboxes": ["1001"]}},
        {"name": "Upd", "type": "cdr", "url": "https://u2"},
    ],
}


def client() -> FakeClient:
    return FakeClient(
        [
            RemoteCallback(1, "Swap", "fax", "https://s"),
            RemoteCallback(2, "Upd", "cdr", "https://u1"),
            RemoteCallback(3, "Old", "sms", "https://o"),
        ],
        {
            "phone_numbers": [phone(10, "8185550010"), phone(11, "8185550011", 3)],
            "mailboxes": [mailbox(20, "1001", "Front")],
        },
    )


# A replacement: live "Swap" is a cdr callback, the config wants a fax one bound to Main Fax.
SWAP_TO_FAX: dict[str, Any] = {
    "safety": {"max_delete_percent": 100},
    "callbacks": [
        {"name": "Swap", "type": "fax", "url": "https://s", "bind": {"fax_services": ["Main Fax"]}}
    ],
}


def swap_cdr_client(fax_bound_to: Any) -> FakeClient:
    """The live side of ``SWAP_TO_FAX``: cdr callback 1, fax service 5 bound to ``fax_bound_to``."""
    return FakeClient(
        [RemoteCallback(1, "Swap", "cdr", "https://s")],
        {"fax_services": [RemoteTarget("fax_services", 5, {"name": "Main Fax"}, fax_bound_to)]},
    )


async def run(c: FakeClient, config: dict[str, Any] = CONFIG, **kw: Any):  # type: ignore[no-untyped-def]
    desired = desired_from(config)
    plan = plan_for(desired, await c.fetch_account(), {}, Path("."))
    assert not plan.errors
    return plan, *(await apply_and_verify(plan, c, desired, {}, Path("."), **kw))


async def test_order_phases_and_convergence() -> None:
    c = client()
    _, report, after = await run(c)
    assert report.ok and report.converged and not after.has_changes
    kinds = [call[0] for call in c.calls]
    first_bind = kinds.index("bind")
    assert all(k in ("create", "update") for k in kinds[:first_bind])
    assert kinds[-2:] == ["delete", "delete"]  # the old Swap and Old, after every bind


async def test_replacement_creates_then_rebinds_then_deletes_old() -> None:
    c = FakeClient(
        [RemoteCallback(1, "Swap", "fax", "https://s")],
        {"mailboxes": [mailbox(20, "1001", "Front", 1)]},
    )
    config = {
        "safety": {"max_delete_percent": 100},
        "callbacks": [
            {
                "name": "Swap",
                "type": "voicemail",
                "url": "https://s",
                "bind": {"mailboxes": ["1001"]},
            }
        ],
    }
    plan, report, _ = await run(c, config)
    assert [ch.action for ch in plan.changes] == ["replace", "rebind"]
    assert plan.changes[1].to_dict()["from_callback"] == "Swap"
    assert c.calls == [("create", "Swap"), ("bind", "mailboxes", 20, 2), ("delete", 1)]
    assert report.converged


async def test_partial_failure_skips_dependents_and_keeps_independents() -> None:
    c = client()

    def fail(kind: str, *args: Any) -> Exception | None:
        if kind == "create" and args[0] == "New":
            return ValidationError({"url": ["is invalid"]})
        return None

    c.fail = fail
    _, report, after = await run(c)
    failed = {(f["action"], f["callback"]): f["error"] for f in report.failed}
    assert failed == {("create", "New"): "url: is invalid"}
    assert [(s["action"], s["callback"]) for s in report.skipped] == [("bind", "New")]
    assert "create of 'New'" in report.skipped[0]["reason"]
    done = {(d["action"], d["callback"]) for d in report.done}
    assert ("update", "Upd") in done and ("replace", "Swap") in done and ("delete", "Old") in done
    assert report.converged is False
    assert [(ch.action, ch.callback) for ch in after.changes] == [
        ("create", "New"),
        ("bind", "New"),
    ]
    c.fail = None
    _, report2, after2 = await run(c)
    assert report2.ok and report2.converged and not after2.has_changes


async def test_failed_rebind_keeps_the_old_callback_of_a_replacement() -> None:
    c = swap_cdr_client(fax_bound_to=1)
    c.fail = lambda kind, *a: ValidationError({"base": ["boom"]}) if kind == "bind" else None
    _, report, _ = await run(c, SWAP_TO_FAX)
    assert [(f["action"], f["error"]) for f in report.failed] == [("rebind", "boom")]
    assert [s["action"] for s in report.skipped] == ["replace"]
    assert 1 in c.callbacks  # the old one is kept: events are never dropped


async def test_interrupt_stops_scheduling_and_reports() -> None:
    c = FakeClient([], {"phone_numbers": [phone(i, f"81855500{i:02d}") for i in range(40)]})
    config = {
        "callbacks": [
            {
                "name": "S",
                "type": "sms",
                "url": "https://s",
                "bind": {"phone_numbers": [f"81855500{i:02d}" for i in range(40)]},
            }
        ]
    }
    holder: list[Applier] = []
    count = 0

    def fail(kind: str, *a: Any) -> None:
        nonlocal count
        count += 1
        if count == 5:
            holder[0].stop()  # as the SIGINT handler does

    c.fail = fail
    _, report, _ = await run(c, config, parallelism=2, on_applier=holder.append)
    assert report.interrupted
    assert 4 <= len(report.done) <= 7
    assert report.skipped and all("interrupted" in s["reason"] for s in report.skipped)
    assert len(report.done) + len(report.skipped) == 41


async def test_parallelism_is_bounded() -> None:
    in_flight = 0
    peak = 0

    class Slow(FakeClient):
        async def bind(self, kind: str, target_id: Any, callback_id: Any) -> Any:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.001)
            in_flight -= 1
            return await super().bind(kind, target_id, callback_id)

    c = Slow(
        [RemoteCallback(1, "S", "sms", "https://s")],
        {"phone_numbers": [phone(i, f"81855500{i:02d}") for i in range(30)]},
    )
    config = {
        "callbacks": [
            {
                "name": "S",
                "type": "sms",
                "url": "https://s",
                "bind": {"phone_numbers": [f"81855500{i:02d}" for i in range(30)]},
            }
        ]
    }
    _, report, _ = await run(c, config, parallelism=3)
    assert report.ok and peak == 3


async def test_log_records_have_no_secrets() -> None:
    c = FakeClient()
    records: list[dict[str, Any]] = []
    config = {
        "callbacks": [
            {
                "name": "A",
                "type": "cdr",
                "url": "https://a",
                "headers": {"X-Api-Key": "literal-secret-value"},
                "basic_auth": {"username": "u", "password": "pw-literal"},
            }
        ]
    }
    _, report, _ = await run(c, config, log=records.append)
    assert report.ok
    assert records[0]["action"] == "create" and records[0]["status"] == "done"
    assert "literal-secret-value" not in str(records) and "pw-literal" not in str(records)


async def test_interrupted_replacement_leaves_only_the_old_delete() -> None:
    c = swap_cdr_client(fax_bound_to=None)
    c.fail = lambda kind, *a: ValidationError({"base": ["busy"]}) if kind == "delete" else None
    _, report, after = await run(c, SWAP_TO_FAX)
    assert [f["action"] for f in report.failed] == ["replace"]
    assert "delete step" in report.failed[0]["error"]
    assert not after.errors  # two callbacks named Swap: the one of the right type is kept
    assert [(ch.action, getattr(ch, "id", None)) for ch in after.changes] == [("delete", 1)]
    c.fail = None
    _, report2, after2 = await run(c, SWAP_TO_FAX)
    assert report2.ok and not after2.has_changes and list(c.callbacks) == [2]
