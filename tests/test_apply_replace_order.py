"""A replacement against the simulator: create the new callback, move its targets, delete the old."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fakes import admin, cli_env, desired_from

from ringrx_iac.api.client import ClientSettings, RingRxClient
from ringrx_iac.reconcile.engine import apply_and_verify, plan_for
from ringrx_iac.simulator.server import SimulatorServer

SEED = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "fax_services": [{"id": 5, "name": "Main Fax", "extension": "7001"}],
    "mailboxes": [
        {"id": 3, "name": "Front desk", "mailbox": "1001", "callback_id": 1},
        {"id": 4, "name": "Billing", "mailbox": "1002", "callback_id": 1},
    ],
    "callbacks": [{"id": 1, "name": "Inbox", "callback_type": "voicemail", "url": "https://h/vm"}],
}


class Recording:
    """Wraps a client and records each write in order, with when it finished."""

    def __init__(self, client: RingRxClient) -> None:
        self.client = client
        self.calls: list[tuple[Any, ...]] = []

    async def fetch_account(self) -> Any:
        return await self.client.fetch_account()

    async def create_callback(self, fields: dict[str, Any]) -> Any:
        created = await self.client.create_callback(fields)
        self.calls.append(("create", fields["type"], created.id))
        return created

    async def update_callback(self, cb_id: Any, fields: dict[str, Any]) -> Any:
        self.calls.append(("update", cb_id))
        return await self.client.update_callback(cb_id, fields)

    async def delete_callback(self, cb_id: Any) -> None:
        await self.client.delete_callback(cb_id)
        self.calls.append(("delete", cb_id))

    async def bind(self, kind: str, target_id: Any, cb_id: Any) -> Any:
        result = await self.client.bind(kind, target_id, cb_id)
        self.calls.append(("bind", kind, target_id, cb_id))
        return result


def test_replacement_order_against_the_simulator() -> None:
    # voicemail -> voicemail with a new type is impossible; the callback becomes a fax
    # callback bound to the fax service, while its two mailboxes go to a new voicemail one.
    config = {
        "safety": {"max_delete_percent": 100},
        "callbacks": [
            {
                "name": "Inbox",
                "type": "fax",
                "url": "https://h/fax",
                "bind": {"fax_services": ["Main Fax"]},
            },
            {
                "name": "VM",
                "type": "voicemail",
                "url": "https://h/vm",
                "bind": {"mailboxes": ["1001", "1002"]},
            },
        ],
    }
    with SimulatorServer(seed=SEED) as sim:
        env = cli_env(sim)

        async def run() -> Recording:
            async with RingRxClient(ClientSettings.from_env(env)) as client:
                rec = Recording(client)
                desired = desired_from(config)
                plan = plan_for(desired, await client.fetch_account(), {}, Path("."))
                changes = [
                    (c["action"], c["callback"], c.get("from_callback"))
                    for c in plan.to_dict()["changes"]
                ]
                assert changes == [
                    ("create", "VM", None),
                    ("replace", "Inbox", None),
                    ("bind", "Inbox", None),
                    ("rebind", "VM", "Inbox"),
                    ("rebind", "VM", "Inbox"),
                ]
                report, after = await apply_and_verify(plan, rec, desired, {}, Path("."))
                assert report.ok and report.converged and not after.has_changes
                return rec

        rec = asyncio.run(run())
        kinds = [c[0] for c in rec.calls]
        assert kinds[:2] == ["create", "create"] and kinds[-1] == "delete"
        assert rec.calls[-1] == ("delete", 1)  # the old callback goes last
        assert kinds.count("bind") == 3  # the rebinds came before the delete
        state = admin(sim, "GET", "/state")
        assert {cb["callback_type"] for cb in state["callbacks"]} == {"fax", "voicemail"}
