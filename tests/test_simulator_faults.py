"""Fault injection (flags and /_sim/faults), the admin API, stats and --state persistence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ringrx_iac.simulator.seed import build_state, generate_seed
from ringrx_iac.simulator.server import SimulatorError, SimulatorServer

DEMO_KEY = {"token": "demo-api-token", "secret": "demo-api-secret"}
SMS = {"pbx_callback": {"name": "n", "callback_type": "sms", "url": "https://x/y"}}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture()
def http(sim: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url) as client:
        client.post("/_sim/reset").raise_for_status()
        client.post(
            "/_sim/faults",
            json={"fail_next": [], "latency": 0, "rate_limit": 0, "error_rate": 0, "drop_rate": 0},
        ).raise_for_status()
        client.post("/_sim/stats/reset").raise_for_status()
        yield client


def auth(http: httpx.Client) -> dict[str, str]:
    return {
        "Authorization": "Bearer " + http.post("/auth/token", json=DEMO_KEY).json()["access_token"]
    }


def names(http: httpx.Client, h: dict[str, str]) -> list[str]:
    return [c["name"] for c in http.get("/pbxcallbacks", headers=h).json()]


def test_fail_next_status_then_recovers(http: httpx.Client) -> None:
    h = auth(http)
    rule = {"method": "POST", "path": "/pbxcallbacks", "status": 503, "count": 2}
    assert http.post("/_sim/faults", json={"fail_next": [rule]}).is_success
    assert http.post("/pbxcallbacks", headers=h, json=SMS).status_code == 503
    assert http.get("/pbxcallbacks", headers=h).status_code == 200  # other method unaffected
    assert http.post("/pbxcallbacks", headers=h, json=SMS).status_code == 503
    assert names(http, h) == []  # not applied
    assert http.post("/pbxcallbacks", headers=h, json=SMS).status_code == 200
    assert http.get("/_sim/faults").json()["fail_next"] == []


def test_fail_next_matches_route_templates(http: httpx.Client) -> None:
    h = auth(http)
    rule = {"method": "PATCH", "path": "/phonenumbers/{id}", "status": 429, "retry_after": 3}
    http.post("/_sim/faults", json={"fail_next": [rule]}).raise_for_status()
    r = http.patch(
        "/phonenumbers/8", headers=h, json={"pbx_phone_number": {"sms_callback_id": None}}
    )
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "3"


def test_status_after_apply_is_ambiguous(http: httpx.Client) -> None:
    h = auth(http)
    rule = {"method": "POST", "path": "/pbxcallbacks", "status": 502, "after_apply": True}
    http.post("/_sim/faults", json={"fail_next": [rule]}).raise_for_status()
    assert http.post("/pbxcallbacks", headers=h, json=SMS).status_code == 502
    assert names(http, h) == ["n"]


def test_dropped_post_applies_the_change(http: httpx.Client) -> None:
    h = auth(http)
    rule = {"method": "POST", "path": "/pbxcallbacks", "drop": True, "after_apply": True}
    http.post("/_sim/faults", json={"fail_next": [rule]}).raise_for_status()
    with pytest.raises(httpx.TransportError):
        http.post("/pbxcallbacks", headers=h, json=SMS)
    assert names(http, h) == ["n"]


def test_drop_before_apply(http: httpx.Client) -> None:
    h = auth(http)
    rule = {"method": "POST", "path": "/pbxcallbacks", "drop": True}
    http.post("/_sim/faults", json={"fail_next": [rule]}).raise_for_status()
    with pytest.raises(httpx.TransportError):
        http.post("/pbxcallbacks", headers=h, json=SMS)
    assert names(http, h) == []


def test_drop_rate_one_drops_every_request_after_applying(http: httpx.Client) -> None:
    h = auth(http)
    http.post("/_sim/faults", json={"drop_rate": 1}).raise_for_status()
    with pytest.raises(httpx.TransportError):
        http.post("/pbxcallbacks", headers=h, json=SMS)
    http.post("/_sim/faults", json={"drop_rate": 0}).raise_for_status()
    assert names(http, h) == ["n"]


def test_error_rate_one_answers_5xx(http: httpx.Client) -> None:
    h = auth(http)
    http.post("/_sim/faults", json={"error_rate": 1.0}).raise_for_status()
    statuses = {http.get("/pbxcallbacks", headers=h).status_code for _ in range(30)}
    assert statuses <= {500, 502, 503}
    assert http.get("/_sim/state").status_code == 200  # the admin API is never faulted


def test_rate_limit_answers_429_with_retry_after(http: httpx.Client) -> None:
    h = auth(http)
    http.post("/_sim/faults", json={"rate_limit": 3}).raise_for_status()
    answers = [http.get("/pbxcallbacks", headers=h) for _ in range(10)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited, "no request was rate limited"
    assert all(int(r.headers["Retry-After"]) >= 1 for r in limited)
    assert sum(r.status_code == 200 for r in answers) <= 6  # 3 per one-second window


def test_latency_setting_is_reported(http: httpx.Client) -> None:
    r = http.post("/_sim/faults", json={"latency": 0.01, "token_lifetime": 120})
    assert r.json()["latency"] == 0.01
    assert r.json()["token_lifetime"] == 120
    assert http.post("/auth/token", json=DEMO_KEY).json()["expires_in"] == 120
    http.post("/_sim/faults", json={"token_lifetime": 3600}).raise_for_status()


@pytest.mark.parametrize(
    "body",
    [
        {"latency": -1},
        {"error_rate": 2},
        {"bogus": 1},
        {"fail_next": [{"method": "GET"}]},
        {"fail_next": [{"status": 503, "nope": 1}]},
        {"token_lifetime": 0},
        {"fail_next": [{"status": 503, "count": "2"}]},
        {"latency": 5, "error_rate": "x"},  # all or nothing: latency is not applied
    ],
)
def test_bad_fault_settings_are_422(http: httpx.Client, body: dict) -> None:
    r = http.post("/_sim/faults", json=body)
    assert r.status_code == 422
    assert r.json()["errors"]["base"]
    assert http.get("/_sim/faults").json()["latency"] == 0


def test_constructor_faults() -> None:
    rule = {"method": "GET", "path": "/pbxcallbacks", "status": 500}
    with (
        SimulatorServer(fail_next=[rule], latency=0.001) as sim,
        httpx.Client(base_url=sim.base_url) as http,
    ):
        h = auth(http)
        assert http.get("/pbxcallbacks", headers=h).status_code == 500
        assert http.get("/pbxcallbacks", headers=h).status_code == 200


def test_non_loopback_host_is_refused() -> None:
    with pytest.raises(SimulatorError):
        SimulatorServer(host="0.0.0.0")


# --------------------------------------------------------------------------- admin API


def test_stats_count_by_route_template(http: httpx.Client) -> None:
    h = auth(http)
    http.get("/phonenumbers", headers=h)
    http.get("/pbxcallbacks/1", headers=h)
    http.get("/pbxcallbacks/2", headers=h)
    stats = http.get("/_sim/stats").json()
    assert stats == {
        "GET /pbxcallbacks/{id}": 2,
        "GET /phonenumbers": 1,
        "POST /auth/token": 1,
        "total": 4,
    }
    assert http.post("/_sim/stats/reset").json() == {"total": 0}


def test_admin_edits_state_like_the_portal(http: httpx.Client) -> None:
    h = auth(http)
    r = http.post(
        "/_sim/callbacks", json={"name": "portal", "callback_type": "sms", "url": "https://p"}
    )
    assert r.status_code == 200
    cb = r.json()
    r = http.patch(
        f"/_sim/callbacks/{cb['id']}", json={"url": "https://changed", "callback_type": "fax"}
    )
    assert r.json()["url"] == "https://changed"
    assert r.json()["callback_type"] == "fax"  # the admin API may do what the API may not
    r = http.patch("/_sim/targets/phone_numbers/7", json={"sms_callback_id": cb["id"], "tags": "x"})
    assert r.json()["sms_callback_id"] == cb["id"]
    assert r.json()["tags"] == "x"
    assert http.get("/phonenumbers/7", headers=h).json()["tags"] == "x"
    assert http.delete(f"/_sim/callbacks/{cb['id']}").status_code == 204
    assert http.get("/phonenumbers/7", headers=h).json()["sms_callback_id"] is None
    assert http.patch("/_sim/targets/nope/7", json={}).status_code == 404
    assert http.patch("/_sim/targets/groups/777", json={}).status_code == 404
    state = http.get("/_sim/state").json()
    assert set(state) == {"callbacks", "targets", "users", "api_keys"}
    assert "password" not in json.dumps(state["users"])


def test_admin_seed_and_reset(http: httpx.Client) -> None:
    seed = {
        "users": [{"username": "demo", "password": "pw"}],
        "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
        "callbacks": [{"id": 40, "name": "cb", "callback_type": "sms", "url": "https://x"}],
        "phone_numbers": [{"id": 1, "phonenumber": "8185550000", "sms_callback_id": 40}],
    }
    assert http.post("/_sim/seed", json=seed).is_success
    h = {
        "Authorization": "Bearer "
        + http.post("/auth/token", json={"token": "t", "secret": "s"}).json()["access_token"]
    }
    assert http.get("/phonenumbers", headers=h).json() == [
        {"id": 1, "phonenumber": "8185550000", "sms_callback_id": 40}
    ]
    http.delete("/pbxcallbacks/40", headers=h).raise_for_status()
    http.post("/_sim/reset").raise_for_status()
    assert [c["id"] for c in http.get("/pbxcallbacks", headers=h).json()] == [40]
    bad = {"phone_numbers": [{"id": 1, "phonenumber": "1", "sms_callback_id": 99}]}
    assert http.post("/_sim/seed", json=bad).status_code == 422


def test_admin_is_unauthenticated_and_json_404(http: httpx.Client) -> None:
    assert http.get("/_sim/nope").status_code == 404


# --------------------------------------------------------------------------- seeds and --state


def test_state_file_writes_are_batched_and_flushed_on_stop(tmp_path: Path) -> None:
    """A burst of writes costs a few file writes, not one each; stop() writes the rest."""
    path = tmp_path / "state.json"
    with SimulatorServer(state_file=path) as sim:
        for i in range(300):
            sim.state.create_callback(
                {"name": f"cb{i}", "callback_type": "cdr", "url": "https://x"}
            )
        persister = sim.simulator.persister
        assert persister is not None
    assert persister.writes < 10  # the initial write, the last one, maybe one in between
    saved = json.loads(path.read_text())
    assert len(saved["callbacks"]) == 300
    assert not list(tmp_path.glob(".*.tmp"))


def test_generated_seed_is_big_and_consistent() -> None:
    seed = generate_seed(phone_numbers=2000, callbacks=100, bound=1000)
    state = build_state(seed)
    assert len(state.targets["phone_numbers"]) == 2000
    assert len(state.callbacks) == 100
    bound = [n for n in state.targets["phone_numbers"].values() if n["sms_callback_id"]]
    assert len(bound) == 1000
    assert all(state.callbacks[n["sms_callback_id"]]["callback_type"] == "sms" for n in bound)


def test_state_file_persists_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with SimulatorServer(state_file=path) as sim, httpx.Client(base_url=sim.base_url) as http:
        h = auth(http)
        cb = http.post("/pbxcallbacks", headers=h, json=SMS).json()
        body = {"pbx_phone_number": {"sms_callback_id": cb["id"]}}
        http.patch("/phonenumbers/8", headers=h, json=body).raise_for_status()
    assert path.exists()
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files
    with SimulatorServer(state_file=path) as sim, httpx.Client(base_url=sim.base_url) as http:
        h = auth(http)
        assert names(http, h) == ["n"]
        assert http.get("/phonenumbers/8", headers=h).json()["sms_callback_id"] == cb["id"]
        # New ids continue after the persisted ones.
        assert http.post("/pbxcallbacks", headers=h, json=SMS).json()["id"] > cb["id"]
