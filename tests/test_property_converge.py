"""Property: for random live and desired states, apply then plan is empty."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fakes import FakeClient, cli_env, desired_from, group, mailbox, phone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringrx_iac.api.client import ClientSettings, RingRxClient
from ringrx_iac.api.types import RemoteCallback, RemoteTarget
from ringrx_iac.reconcile.engine import apply_and_verify, plan_for
from ringrx_iac.simulator.server import SimulatorServer

PHONES = ["8185550001", "+18185550002", "8185550003", "+18185550004"]
BOXES = [("1001", "Front"), ("1002", "Billing")]
GROUPS = [("Reception", "8000"), ("Triage", "8100")]
NAMES = ["A", "B", "C", "D", "E"]
TYPES = ["sms", "voicemail", "cdr", "call_alert"]
BIND_KEY = {"sms": "phone_numbers", "voicemail": "mailboxes", "call_alert": "groups"}
HEADERS = st.dictionaries(
    st.sampled_from(["X-Env", "X-Api-Key", "Authorization", "X-Tag"]),
    st.sampled_from(["a", "b", "{from}", "x:y"]),
    max_size=3,
)
URLS = st.sampled_from(["https://h/1", "https://h/2?x={id}", "https://h/3"])


@st.composite
def live_state(draw: Any) -> tuple[list[RemoteCallback], dict[str, list[RemoteTarget]]]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=5))
    cbs = []
    for i, name in enumerate(names, start=1):
        auth = draw(st.booleans())
        headers = draw(HEADERS)
        cbs.append(
            RemoteCallback(
                i,
                name,
                draw(st.sampled_from(TYPES)),
                draw(URLS),
                auth,
                "user" if auth else None,
                draw(st.sampled_from([None, "pw1", "pw2"])) if auth else None,
                "\r\n".join(f"{k}:{v}" for k, v in headers.items()),
            )
        )

    def bound_to(kind: str) -> Any:
        ids = [cb.id for cb in cbs if BIND_KEY.get(cb.type) == kind]
        return draw(st.sampled_from([None, *ids]))

    targets = {
        "phone_numbers": [
            phone(10 + i, p, bound_to("phone_numbers")) for i, p in enumerate(PHONES)
        ],
        "mailboxes": [
            mailbox(20 + i, b, n, bound_to("mailboxes")) for i, (b, n) in enumerate(BOXES)
        ],
        "groups": [group(30 + i, n, e, bound_to("groups")) for i, (n, e) in enumerate(GROUPS)],
    }
    return cbs, targets


@st.composite
def desired_config(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=5))
    taken: set[tuple[str, int]] = set()
    callbacks = []
    for name in names:
        cb_type = draw(st.sampled_from(TYPES))
        spec: dict[str, Any] = {"name": name, "type": cb_type, "url": draw(URLS)}
        headers = draw(HEADERS)
        if headers:
            spec["headers"] = headers
        if draw(st.booleans()):
            spec["basic_auth"] = {
                "username": "user",
                "password": draw(st.sampled_from(["pw1", "pw2"])),
            }
        key = BIND_KEY.get(cb_type)
        if key:
            pool = {
                "phone_numbers": PHONES,
                "mailboxes": [b for b, _ in BOXES],
                "groups": [n for n, _ in GROUPS],
            }[key]
            picks = draw(st.lists(st.integers(0, len(pool) - 1), unique=True, max_size=len(pool)))
            refs = [pool[j] for j in picks if (key, j) not in taken]
            taken.update((key, j) for j in picks)
            if refs:
                spec["bind"] = {key: refs}
        callbacks.append(spec)
    return {"safety": {"max_delete_percent": 100}, "callbacks": callbacks}


async def converge(client: Any, config: dict[str, Any]) -> None:
    desired = desired_from(config)
    plan = plan_for(desired, await client.fetch_account(), {}, Path("."))
    assert not plan.errors, plan.errors
    report, after = await apply_and_verify(plan, client, desired, {}, Path("."), parallelism=4)
    assert report.ok, report.to_dict()
    assert not after.has_changes, after.to_dict()["changes"]
    assert report.converged


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(live=live_state(), config=desired_config())
def test_apply_then_plan_is_empty(live: Any, config: dict[str, Any]) -> None:
    cbs, targets = live
    asyncio.run(converge(FakeClient(cbs, targets), config))


def test_one_example_through_the_simulator() -> None:
    seed = {
        "users": [{"username": "demo", "password": "pw"}],
        "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
        "phone_numbers": [
            {"id": 10, "phonenumber": PHONES[0], "sms_callback_id": 1},
            {"id": 11, "phonenumber": PHONES[1]},
        ],
        "mailboxes": [{"id": 20, "mailbox": "1001", "name": "Front", "callback_id": 2}],
        "callbacks": [
            {
                "id": 1,
                "name": "A",
                "callback_type": "sms",
                "url": "https://h/1",
                "custom_headers": "X-Env:a",
            },
            {"id": 2, "name": "B", "callback_type": "voicemail", "url": "https://h/2"},
        ],
    }
    config = {
        "safety": {"max_delete_percent": 100},
        "callbacks": [
            {
                "name": "A",
                "type": "voicemail",
                "url": "https://h/1",
                "bind": {"mailboxes": ["Front"]},
            },
            {
                "name": "C",
                "type": "sms",
                "url": "https://h/3",
                "headers": {"X-Api-Key": "k"},
                "bind": {"phone_numbers": PHONES[:2]},
            },
        ],
    }
    with SimulatorServer(seed=seed) as sim:
        env = cli_env(sim)

        async def run() -> None:
            async with RingRxClient(ClientSettings.from_env(env)) as client:
                await converge(client, config)

        asyncio.run(run())
