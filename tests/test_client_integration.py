"""The RingRx client against the simulator over real loopback HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pyotp
import pytest

from ringrx_iac.api import endpoints
from ringrx_iac.api.client import RingRxClient
from ringrx_iac.api.credentials import ClientSettings
from ringrx_iac.api.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReadOnlyError,
    ServerError,
    ValidationError,
)
from ringrx_iac.api.retry import RetryPolicy
from ringrx_iac.simulator.server import SimulatorServer

FAST_RETRY = RetryPolicy(attempts=5, total_time=20.0, base_delay=0.05, max_delay=0.2)
NEW: dict[str, Any] = {
    "name": "CRM inbound SMS",
    "type": "sms",
    "url": "https://hooks.example.com/sms?from={from}",
    "use_basic_auth": True,
    "auth_username": "ringrx",
    "auth_password": "s3cret",
    "custom_headers": "AuthToken:abc123\r\nX-Env:prod",
}


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


def client_for(sim: SimulatorServer, env: dict[str, str] | None = None, **kw: Any) -> RingRxClient:
    kw.setdefault("retry", FAST_RETRY)
    clock = kw.pop("clock", None)
    settings = ClientSettings.from_env(env or sim.env(), **kw)
    return RingRxClient(settings, clock=clock) if clock else RingRxClient(settings)


def user_env(sim: SimulatorServer, username: str, password: str, otp: str | None = None):  # type: ignore[no-untyped-def]
    env = {
        "RINGRX_BASE_URL": sim.base_url,
        "RINGRX_USERNAME": username,
        "RINGRX_PASSWORD": password,
    }
    if otp is not None:
        env["RINGRX_OTP"] = otp
    return env


def sim_stats(sim: SimulatorServer) -> dict[str, int]:
    return httpx.get(sim.base_url + "/_sim/stats").json()


def set_faults(sim: SimulatorServer, **faults: Any) -> None:
    response = httpx.post(sim.base_url + "/_sim/faults", json=faults)
    assert response.status_code == 200, response.text


def user_of(sim: SimulatorServer, name: str) -> Any:
    return sim.state.users[name]


# -- authentication paths ---------------------------------------------------------------


async def test_api_key_fetches_the_whole_account(sim: SimulatorServer) -> None:
    async with client_for(sim) as client:
        account = await client.fetch_account()
    assert account.callbacks == []
    phones = {t.keys["phonenumber"] for t in account.targets["phone_numbers"]}
    assert phones == {"+18185559876", "8185551234", "+18185550100"}  # raw, as stored
    assert {t.keys["mailbox"] for t in account.targets["mailboxes"]} == {"1001", "1002"}
    assert +client.stats == {"token": 1, "list": 6}
    assert sim_stats(sim)["POST /auth/token"] == 1


async def test_username_and_password(sim: SimulatorServer) -> None:
    async with client_for(sim, user_env(sim, "demo", "demo-password")) as client:
        assert len(await client.list_targets("groups")) == 2


async def test_username_password_and_totp(sim: SimulatorServer) -> None:
    code = pyotp.TOTP(user_of(sim, "doctor").otp_secret).now()
    async with client_for(sim, user_env(sim, "doctor", "doctor-password", code)) as client:
        assert len(await client.list_targets("mailboxes")) == 2


async def test_otp_missing_says_so(sim: SimulatorServer) -> None:
    async with client_for(sim, user_env(sim, "doctor", "doctor-password")) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.list_callbacks()
    message = str(info.value)
    assert "two-factor" in message and "RINGRX_OTP" in message and "API key" in message
    assert "doctor-password" not in message


async def test_wrong_otp_says_so(sim: SimulatorServer) -> None:
    env = user_env(sim, "doctor", "doctor-password", "000000")
    async with client_for(sim, env) as client:
        with pytest.raises(AuthenticationError, match="wrong or expired"):
            await client.list_callbacks()


async def test_wrong_password_one_clear_error_no_storm(sim: SimulatorServer) -> None:
    async with client_for(sim, user_env(sim, "demo", "nope")) as client:
        results = await asyncio.gather(
            *(client.list_callbacks() for _ in range(8)), return_exceptions=True
        )
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert "wrong username or password" in str(results[0])
    stats = sim_stats(sim)
    assert stats["POST /auth/token"] == 1 and stats["total"] == 1


# -- expiry, refresh, rotation -----------------------------------------------------------


async def test_short_token_lifetime_refreshes_ahead_mid_run(sim: SimulatorServer) -> None:
    set_faults(sim, token_lifetime=1)
    async with client_for(sim) as client:
        for _ in range(3):
            await client.fetch_account()
            await asyncio.sleep(1.1)
        await client.fetch_account()
    assert client.stats["token"] == 1
    assert client.stats["refresh"] >= 3
    assert sim_stats(sim).get("POST /auth/token") == 1


async def test_expired_token_answers_401_and_is_refreshed_once(sim: SimulatorServer) -> None:
    set_faults(sim, token_lifetime=1)
    frozen = [0.0]  # the client's clock stands still: it never refreshes ahead
    async with client_for(sim, clock=lambda: frozen[0]) as client:
        await client.list_callbacks()
        await asyncio.sleep(2.1)  # the server-side token has expired
        await asyncio.gather(*(client.list_callbacks() for _ in range(8)))
    assert client.stats["refresh"] == 1 and client.stats["token"] == 1
    assert sim_stats(sim)["POST /auth/refresh"] == 1


async def test_refresh_tokens_rotate(sim: SimulatorServer) -> None:
    set_faults(sim, token_lifetime=1)
    async with client_for(sim) as client:
        await client.list_callbacks()
        first_refresh = client.auth._refresh
        await asyncio.sleep(1.1)
        await client.list_callbacks()  # refreshed with first_refresh, which is now spent
        assert client.auth._refresh not in (None, first_refresh)
        await asyncio.sleep(1.1)
        await client.list_callbacks()  # the rotated one works
    assert client.stats["refresh"] == 2 and client.stats["token"] == 1
    old = httpx.post(sim.base_url + endpoints.REFRESH_PATH, json={"refresh_token": first_refresh})
    assert old.status_code == 401


async def test_spent_refresh_token_falls_back_to_authentication(sim: SimulatorServer) -> None:
    set_faults(sim, token_lifetime=1)
    async with client_for(sim) as client:
        await client.list_callbacks()
        # someone else spends our refresh token
        httpx.post(
            sim.base_url + endpoints.REFRESH_PATH, json={"refresh_token": client.auth._refresh}
        )
        await asyncio.sleep(1.1)
        await client.list_callbacks()
    assert client.stats["refresh"] == 1 and client.stats["token"] == 2


async def test_api_key_deleted_mid_run_ends_with_one_clear_error(sim: SimulatorServer) -> None:
    env = sim.env()
    async with client_for(sim) as client:
        await client.fetch_account()
        async with client_for(sim) as other:  # delete the key through the API
            await other.list_callbacks()
            token = env["RINGRX_API_TOKEN"]
            response = await other._http.delete(endpoints.API_KEY_PATH.format(token=token))
            assert response.status_code == 204
        httpx.post(sim.base_url + "/_sim/stats/reset")
        results = await asyncio.gather(
            *(client.list_targets("phone_numbers") for _ in range(8)), return_exceptions=True
        )
        assert all(isinstance(r, AuthenticationError) for r in results)
        with pytest.raises(AuthenticationError):
            await client.fetch_account()
    assert "deleted" in str(results[0])
    stats = sim_stats(sim)
    assert stats.get("POST /auth/refresh") == 1 and stats.get("POST /auth/token") == 1
    assert stats["total"] <= 8 + 2


# -- error answers -----------------------------------------------------------------------


async def test_403_for_a_read_only_user(sim: SimulatorServer) -> None:
    env = {
        "RINGRX_BASE_URL": sim.base_url,
        "RINGRX_API_TOKEN": "auditor-api-token",
        "RINGRX_API_SECRET": "auditor-api-secret",
    }
    async with client_for(sim, env) as client:
        await client.fetch_account()
        with pytest.raises(PermissionDeniedError) as info:
            await client.create_callback(NEW)
    assert str(info.value).startswith("POST /pbxcallbacks: permission denied (403)")
    assert sim.state.callbacks == {}


async def test_404(sim: SimulatorServer) -> None:
    async with client_for(sim) as client:
        with pytest.raises(NotFoundError, match="GET /pbxcallbacks/424242: not found"):
            await client.get_callback(424242)
        with pytest.raises(NotFoundError):
            await client.delete_callback(424242)
        with pytest.raises(NotFoundError):
            await client.bind("groups", 424242, None)


async def test_422_carries_the_server_field_messages(sim: SimulatorServer) -> None:
    async with client_for(sim) as client:
        with pytest.raises(ValidationError) as info:
            await client.create_callback({**NEW, "url": "not a url", "name": ""})
        assert {"url", "name"} <= set(info.value.errors)
        assert str(info.value).startswith("POST /pbxcallbacks: ")
        created = await client.create_callback(NEW)
        with pytest.raises(ValidationError) as info:
            await client.update_callback(created.id, {"type": "fax"})
        assert "type" in info.value.errors
        with pytest.raises(ValidationError):  # binding an sms callback to a mailbox
            await client.bind("mailboxes", 3, created.id)


async def test_429_is_retried_after_retry_after(sim: SimulatorServer) -> None:
    rule = {"method": "GET", "path": "/pbxcallbacks", "status": 429, "retry_after": 1}
    set_faults(sim, fail_next=[rule])
    async with client_for(sim) as client:
        assert await client.list_callbacks() == []
    assert sim_stats(sim)["GET /pbxcallbacks"] == 2


async def test_persistent_429_ends_with_a_rate_limit_error(sim: SimulatorServer) -> None:
    rule = {"method": "GET", "path": "/pbxgroups", "status": 429, "retry_after": 1, "count": 9}
    set_faults(sim, fail_next=[rule])
    async with client_for(sim, retry=RetryPolicy(attempts=2, base_delay=0.01)) as client:
        with pytest.raises(RateLimitError, match="GET /pbxgroups: rate limited"):
            await client.list_targets("groups")
    assert sim_stats(sim)["GET /pbxgroups"] == 2


async def test_rate_limit_per_token_is_absorbed(sim: SimulatorServer) -> None:
    set_faults(sim, rate_limit=5)
    async with client_for(sim, retry=RetryPolicy(attempts=6, total_time=30)) as client:
        results = await asyncio.gather(*(client.list_targets("groups") for _ in range(8)))
    assert all(len(r) == 2 for r in results)


async def test_5xx_is_retried(sim: SimulatorServer) -> None:
    rules = [{"method": "GET", "path": "/phonenumbers", "status": 503, "count": 2}]
    set_faults(sim, fail_next=rules)
    async with client_for(sim) as client:
        assert len(await client.list_targets("phone_numbers")) == 3
    assert sim_stats(sim)["GET /phonenumbers"] == 3


async def test_persistent_5xx_ends_with_a_server_error(sim: SimulatorServer) -> None:
    set_faults(sim, fail_next=[{"path": "/pbxfaxes", "status": 500, "count": 50}])
    async with client_for(sim) as client:
        with pytest.raises(ServerError, match="GET /pbxfaxes: RingRx server error"):
            await client.fetch_account()
    assert sim_stats(sim)["GET /pbxfaxes"] == FAST_RETRY.attempts


# -- no duplicates on ambiguous failures --------------------------------------------------


async def test_dropped_post_that_was_applied_creates_no_duplicate(sim: SimulatorServer) -> None:
    rule = {"method": "POST", "path": "/pbxcallbacks", "drop": True, "after_apply": True}
    set_faults(sim, fail_next=[rule])
    async with client_for(sim) as client:
        await client.fetch_account()
        created = await client.create_callback(NEW)
    assert created.name == NEW["name"] and created.auth_password == "s3cret"
    assert list(sim.state.callbacks) == [created.id]
    assert sim_stats(sim)["POST /pbxcallbacks"] == 1


async def test_dropped_post_that_was_not_applied_is_sent_again(sim: SimulatorServer) -> None:
    set_faults(sim, fail_next=[{"method": "POST", "path": "/pbxcallbacks", "drop": True}])
    async with client_for(sim) as client:
        created = await client.create_callback(NEW)
    assert list(sim.state.callbacks) == [created.id]
    assert sim_stats(sim)["POST /pbxcallbacks"] == 2


async def test_post_5xx_after_apply_creates_no_duplicate(sim: SimulatorServer) -> None:
    rule = {"method": "POST", "path": "/pbxcallbacks", "status": 502, "after_apply": True}
    set_faults(sim, fail_next=[rule])
    async with client_for(sim) as client:
        created = await client.create_callback(NEW)
    assert list(sim.state.callbacks) == [created.id]


async def test_dropped_delete_that_was_applied_is_done(sim: SimulatorServer) -> None:
    async with client_for(sim) as client:
        created = await client.create_callback(NEW)
        rule = {"method": "DELETE", "path": "/pbxcallbacks/{id}", "drop": True, "after_apply": True}
        set_faults(sim, fail_next=[rule])
        await client.delete_callback(created.id)
    assert sim.state.callbacks == {}


async def test_full_write_cycle_and_bindings(sim: SimulatorServer) -> None:
    async with client_for(sim) as client:
        created = await client.create_callback(NEW)
        assert created.custom_headers == NEW["custom_headers"]
        updated = await client.update_callback(created.id, {"url": "https://hooks.example.com/v2"})
        assert updated.url == "https://hooks.example.com/v2" and updated.name == NEW["name"]
        bound = await client.bind("phone_numbers", 8, created.id)
        assert bound.callback_id == created.id and bound.keys == {"phonenumber": "8185551234"}
        account = await client.fetch_account()
        by_id = {t.id: t for t in account.targets["phone_numbers"]}
        assert by_id[8].callback_id == created.id
        await client.bind("phone_numbers", 8, None)
        await client.delete_callback(created.id)
        assert await client.list_callbacks() == []
    phone = sim.state.get_target("phone_numbers", 8)
    assert phone["sms_callback_id"] is None and phone["tags"] == "triage"  # untouched


# -- read-only mode ----------------------------------------------------------------------


async def test_read_only_mode_sends_no_write(sim: SimulatorServer) -> None:
    async with client_for(sim, read_only=True) as client:
        await client.fetch_account()
        with pytest.raises(ReadOnlyError):
            await client.create_callback(NEW)
        with pytest.raises(ReadOnlyError):
            await client.bind("phone_numbers", 7, 1)
        with pytest.raises(ReadOnlyError):
            await client._http.delete("/pbxcallbacks/1")
    stats = sim_stats(sim)
    writes = [k for k in stats if k.split()[0] in ("POST", "PATCH", "DELETE", "PUT")]
    assert writes == ["POST /auth/token"]
