"""Event delivery: callbacks fired at a real local receiver, exactly as RingRx describes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from receiver import Receiver

from ringrx_iac.simulator.server import SimulatorServer
from ringrx_iac.webhook.request import parse_headers, replace_tokens


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture()
def admin(sim: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, timeout=30) as client:
        client.post("/_sim/reset").raise_for_status()
        client.delete("/_sim/deliveries").raise_for_status()
        yield client


def add(admin: httpx.Client, **fields: Any) -> dict[str, Any]:
    r = admin.post("/_sim/callbacks", json=fields)
    assert r.status_code == 200, r.text
    return r.json()


def bind(admin: httpx.Client, kind: str, target_id: int, field: str, cb_id: int) -> None:
    admin.patch(f"/_sim/targets/{kind}/{target_id}", json={field: cb_id}).raise_for_status()


def test_sms_event_fires_the_bound_callback(admin: httpx.Client, receiver: Receiver) -> None:
    cb = add(
        admin,
        name="CRM inbound SMS",
        callback_type="sms",
        url=receiver.url + "/sms/{to}?from={from}&msg={message}&x={unknown}",
        use_basic_auth=True,
        auth_username="ringrx-{from}",
        auth_password="s3cret",
        custom_headers="AuthToken:abc-{from}\r\nX-Message:{message}\r\nX-Static:literal",
    )
    bind(admin, "phone_numbers", 7, "sms_callback_id", cb["id"])
    r = admin.post("/_sim/events/sms", json={})  # the doc's sample, to 8185559876
    assert r.status_code == 200
    deliveries = r.json()["deliveries"]
    assert [d["status"] for d in deliveries] == [200]
    [got] = receiver.requests
    assert got.path == "/sms/8185559876?from=8185551234&msg=Test%20callback&x={unknown}"
    assert got.header("AuthToken") == "abc-8185551234"
    assert got.header("X-Message") == "Test callback"
    assert got.header("X-Static") == "literal"
    expected = base64.b64encode(b"ringrx-{from}:s3cret").decode()  # auth is not replaced
    assert got.header("Authorization") == "Basic " + expected
    assert got.header("Content-Type") == "application/json"
    assert json.loads(got.body) == {
        "from": "8185551234",
        "to": "8185559876",
        "message": "Test callback",
        "timestamp": "2019-02-15T23:48:54+00:00",
        "uuid": "6ed8654e-a9d1-4a7c-9502-581210d0985f",
    }
    # The log redacts secrets.
    [logged] = admin.get("/_sim/deliveries").json()
    assert logged["callback_id"] == cb["id"]
    assert logged["headers"]["AuthToken"] == "(redacted)"
    assert "s3cret" not in json.dumps(logged)
    assert logged["headers"]["Authorization"] == "(redacted)"


def test_explicit_target_and_custom_payload(admin: httpx.Client, receiver: Receiver) -> None:
    a = add(admin, name="a", callback_type="sms", url=receiver.url + "/a?to={to}")
    b = add(admin, name="b", callback_type="sms", url=receiver.url + "/b?to={to}")
    bind(admin, "phone_numbers", 7, "sms_callback_id", a["id"])
    bind(admin, "phone_numbers", 8, "sms_callback_id", b["id"])
    # Stored without +1, named with it: numbers are compared normalised.
    r = admin.post("/_sim/events/sms", json={"target": "+18185551234"})
    assert [d["callback_name"] for d in r.json()["deliveries"]] == ["b"]
    assert receiver.requests[-1].path == "/b?to=8185551234"
    payload = {"from": "+1 555 000", "to": "8185559876", "message": "a&b=c"}
    r = admin.post("/_sim/events/sms", json={"payload": payload})
    assert [d["callback_name"] for d in r.json()["deliveries"]] == ["a"]
    assert receiver.requests[-1].path == "/a?to=8185559876"
    assert json.loads(receiver.requests[-1].body) == payload


def test_unbound_or_unknown_target(admin: httpx.Client) -> None:
    assert admin.post("/_sim/events/sms", json={}).json() == {"deliveries": []}
    r = admin.post("/_sim/events/sms", json={"target": "+19999999999"})
    assert r.status_code == 422
    assert admin.post("/_sim/events/nope", json={}).status_code == 404


def test_voicemail_posts_the_file(admin: httpx.Client, receiver: Receiver) -> None:
    cb = add(
        admin,
        name="VM",
        callback_type="voicemail",
        url=receiver.url + "/vm?caller={caller}&file={filename}&mb={mailbox}",
    )
    bind(admin, "mailboxes", 4, "callback_id", cb["id"])
    r = admin.post("/_sim/events/voicemail", json={"target": "Billing"})
    assert r.json()["deliveries"][0]["status"] == 200
    [got] = receiver.requests
    assert got.path == "/vm?caller=%2B18185551234&file=voicemail-5012.wav&mb=1002"
    assert got.header("Content-Type") == "audio/wav"
    assert got.body.startswith(b"RIFF") and b"WAVE" in got.body[:12]


def test_fax_with_a_given_file(admin: httpx.Client, receiver: Receiver) -> None:
    cb = add(admin, name="Fax", callback_type="fax", url=receiver.url + "/fax/{pages}")
    bind(admin, "fax_services", 5, "callback_id", cb["id"])
    file = {
        "content_base64": base64.b64encode(b"%PDF-fake").decode(),
        "content_type": "application/pdf",
    }
    r = admin.post("/_sim/events/fax", json={"file": file})  # sample mailbox 7001 = Main Fax
    assert r.json()["deliveries"][0]["body"] == {"content_type": "application/pdf", "bytes": 9}
    [got] = receiver.requests
    assert got.path == "/fax/2"
    assert got.body == b"%PDF-fake"
    assert got.header("Content-Type") == "application/pdf"


def test_global_types_fire_every_callback(admin: httpx.Client, receiver: Receiver) -> None:
    add(admin, name="cdr1", callback_type="cdr", url=receiver.url + "/1/{direction}")
    add(admin, name="cdr2", callback_type="cdr", url=receiver.url + "/2/{caller_id_name}")
    add(admin, name="rec", callback_type="recording", url=receiver.url + "/rec")
    r = admin.post("/_sim/events/cdr", json={})
    assert sorted(d["callback_name"] for d in r.json()["deliveries"]) == ["cdr1", "cdr2"]
    assert sorted(x.path for x in receiver.requests) == ["/1/inbound", "/2/Dr%20Smith"]


def test_call_alert_carries_the_callback_id(admin: httpx.Client, receiver: Receiver) -> None:
    cb = add(
        admin,
        name="alert",
        callback_type="call_alert",
        url=receiver.url + "/alert?name={caller_name}&cb={callback_id}",
    )
    bind(admin, "groups", 9, "callback_id", cb["id"])  # Reception, ext 8000 = the sample's
    r = admin.post("/_sim/events/call_alert", json={})
    assert len(r.json()["deliveries"]) == 1
    [got] = receiver.requests
    assert got.path == f"/alert?name=Dr%20Smith&cb={cb['id']}"
    assert json.loads(got.body)["callback_id"] == cb["id"]


def test_outreach_needs_a_target_when_several_are_bound(
    admin: httpx.Client, receiver: Receiver
) -> None:
    cb = add(admin, name="o", callback_type="outreach", url=receiver.url + "/o?c={confirmed}")
    bind(admin, "outreach_profiles", 2, "callback_id", cb["id"])
    r = admin.post("/_sim/events/outreach", json={})  # exactly one bound: fired
    assert len(r.json()["deliveries"]) == 1
    assert receiver.requests[-1].path == "/o?c=true"
    bind(admin, "outreach_profiles", 6, "callback_id", cb["id"])
    assert admin.post("/_sim/events/outreach", json={}).status_code == 422
    r = admin.post("/_sim/events/outreach", json={"target": "Recalls"})
    assert len(r.json()["deliveries"]) == 1


def test_unreachable_receiver_is_recorded(admin: httpx.Client) -> None:
    add(admin, name="dead", callback_type="cdr", url="http://127.0.0.1:9/x")
    [d] = admin.post("/_sim/events/cdr", json={}).json()["deliveries"]
    assert d["status"] is None
    assert d["error"]


def test_token_helpers() -> None:
    payload = {"from": "a b", "confirmed": True, "event_log": [1], "caller_nname": "Dr"}
    assert replace_tokens("{from}", "sms", payload, url=True) == "a%20b"
    assert replace_tokens("{from}", "sms", payload, url=False) == "a b"
    assert replace_tokens("{confirmed}/{event_log}", "outreach", payload, url=False) == "true/[1]"
    assert replace_tokens("{caller_name}", "call_alert", payload, url=False) == "Dr"
    assert replace_tokens("{pages }", "fax", {"pages": 3}, url=False) == "3"
    assert parse_headers("A:b:c\r\nBad\r\n\r\nX-Y: z ") == [("A", "b:c"), ("X-Y", "z")]
