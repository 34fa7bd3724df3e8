"""The httpx.Auth flow: token, refresh ahead of expiry, 401 -> refresh once, rotation,
fallback to full authentication, single-flight renewal, one clear error."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from api_fake import FakeRingRx, Sleeps, make_client

from ringrx_iac.api import endpoints
from ringrx_iac.api.credentials import UserCredentials
from ringrx_iac.api.errors import AuthenticationError, ServerError, TransportError
from ringrx_iac.api.retry import RetryPolicy

CALLBACKS = endpoints.CALLBACKS_PATH


async def test_first_request_authenticates_with_json_body() -> None:
    fake = FakeRingRx()
    async with make_client(fake) as client:
        assert await client.list_callbacks() == []
        await client.list_callbacks()
    assert fake.paths() == ["POST /auth/token", "GET /pbxcallbacks", "GET /pbxcallbacks"]
    assert fake.body(0) == {"token": "key-id", "secret": "key-secret"}
    assert fake.requests[0].url.query == b""  # credentials never in the URL
    assert fake.requests[1].headers["authorization"] == "Bearer access-1"
    assert client.stats["token"] == 1 and client.stats["list"] == 2


async def test_refresh_ahead_of_expiry_and_rotation() -> None:
    fake = FakeRingRx(expires_in=100)
    sleeps = Sleeps()
    async with make_client(fake, sleeps=sleeps) as client:
        await client.list_callbacks()
        sleeps.now += 89  # 11 s left of 100: not yet within the 10 % margin
        await client.list_callbacks()
        sleeps.now += 2  # 9 s left: refresh before sending
        await client.list_callbacks()
        sleeps.now += 95  # again: uses the rotated refresh token
        await client.list_callbacks()
    assert fake.paths() == [
        "POST /auth/token",
        "GET /pbxcallbacks",
        "GET /pbxcallbacks",
        "POST /auth/refresh",
        "GET /pbxcallbacks",
        "POST /auth/refresh",
        "GET /pbxcallbacks",
    ]
    assert fake.body(3) == {"refresh_token": "refresh-1"}
    assert fake.body(5) == {"refresh_token": "refresh-2"}
    assert client.stats["refresh"] == 2 and client.stats["token"] == 1


async def test_refresh_answer_without_a_refresh_token_keeps_the_old_one() -> None:
    fake = FakeRingRx(expires_in=100, rotate_refresh=False)
    sleeps = Sleeps()
    async with make_client(fake, sleeps=sleeps) as client:
        await client.list_callbacks()
        for _ in range(2):
            sleeps.now += 95
            await client.list_callbacks()
    assert fake.paths() == [
        "POST /auth/token",
        "GET /pbxcallbacks",
        "POST /auth/refresh",
        "GET /pbxcallbacks",
        "POST /auth/refresh",
        "GET /pbxcallbacks",
    ]
    assert fake.body(2) == fake.body(4) == {"refresh_token": "refresh-1"}


async def test_401_refreshes_once_and_retries_once() -> None:
    fake = FakeRingRx()
    async with make_client(fake) as client:
        await client.list_callbacks()
        fake.expire_all_access_tokens()
        await client.list_callbacks()
    assert fake.paths()[2:] == ["GET /pbxcallbacks", "POST /auth/refresh", "GET /pbxcallbacks"]
    assert fake.requests[-1].headers["authorization"] == "Bearer access-2"


async def test_spent_refresh_token_falls_back_to_full_authentication() -> None:
    fake = FakeRingRx()
    async with make_client(fake) as client:
        await client.list_callbacks()
        fake.expire_all_access_tokens()
        fake.valid_refresh.clear()
        await client.list_callbacks()
    assert fake.paths()[2:] == [
        "GET /pbxcallbacks",
        "POST /auth/refresh",
        "POST /auth/token",
        "GET /pbxcallbacks",
    ]


async def test_persistent_401_after_renewal_is_an_authentication_error() -> None:
    fake = FakeRingRx()
    reject = lambda r: httpx.Response(401, json={"errors": ["Not Authenticated"]})  # noqa: E731
    fake.faults[("GET", CALLBACKS)] = [reject, reject]
    async with make_client(fake) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.list_callbacks()
    assert str(info.value).startswith("GET /pbxcallbacks: ")
    assert fake.count("GET", CALLBACKS) == 2  # retried once, not more


async def test_wrong_credentials_one_clear_error_and_no_storm() -> None:
    fake = FakeRingRx()
    fake.reject_credentials = True
    async with make_client(fake) as client:
        results = await asyncio.gather(
            *(client.list_callbacks() for _ in range(8)), return_exceptions=True
        )
        with pytest.raises(AuthenticationError):
            await client.list_callbacks()
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert fake.count("POST", endpoints.TOKEN_PATH) == 1
    assert fake.count("GET", CALLBACKS) == 0
    message = str(results[0])
    assert "RINGRX_API_TOKEN" in message and "deleted" in message
    assert "key-secret" not in message


async def test_key_deleted_mid_run_under_parallel_load() -> None:
    fake = FakeRingRx()
    async with make_client(fake) as client:
        await client.list_callbacks()
        fake.expire_all_access_tokens()
        fake.valid_refresh.clear()
        fake.reject_credentials = True
        results = await asyncio.gather(
            *(client.list_callbacks() for _ in range(8)), return_exceptions=True
        )
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert fake.count("POST", endpoints.REFRESH_PATH) == 1
    assert fake.count("POST", endpoints.TOKEN_PATH) == 2  # the first and the failed one


async def test_eight_concurrent_401s_cause_one_refresh() -> None:
    fake = FakeRingRx()
    gate = asyncio.Event()
    arrived = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal arrived
        if request.url.path == CALLBACKS and "access-1" in request.headers.get("authorization", ""):
            arrived += 1
            if arrived == 8:
                gate.set()
            await gate.wait()  # all eight are in flight with the old token
            fake.valid_access.discard("access-1")
        return await fake(request)

    client = make_client(fake)
    client._http._transport = httpx.MockTransport(handler)
    async with client:
        await client.list_targets("mailboxes")  # obtain access-1
        results = await asyncio.gather(*(client.list_callbacks() for _ in range(8)))
    assert results == [[]] * 8
    assert fake.count("POST", endpoints.REFRESH_PATH) == 1
    assert fake.count("POST", endpoints.TOKEN_PATH) == 1
    assert client.stats["refresh"] == 1


async def test_first_requests_share_one_token() -> None:
    fake = FakeRingRx()
    async with make_client(fake) as client:
        await client.fetch_account()
    assert fake.count("POST", endpoints.TOKEN_PATH) == 1


@pytest.mark.parametrize(
    ("otp", "expected"),
    [(None, "has two-factor authentication: set RINGRX_OTP"), ("000000", "wrong or expired")],
)
async def test_otp_required(otp: str | None, expected: str) -> None:
    fake = FakeRingRx()
    fake.faults[("POST", endpoints.TOKEN_PATH)] = [
        lambda r: httpx.Response(401, json={"error": "Not Authenticated", "otp_required": True})
    ]
    creds = UserCredentials("ann", "pw", otp)
    async with make_client(fake, credentials=creds) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.list_callbacks()
    message = str(info.value)
    assert expected in message and "API key" in message
    assert "pw" not in message.split(":", 1)[1].replace("password", "")
    assert json.loads(fake.requests[0].content).get("otp") == otp


async def test_token_endpoint_5xx_is_retried_then_reported() -> None:
    fake = FakeRingRx()
    fail = lambda r: httpx.Response(503)  # noqa: E731
    fake.faults[("POST", endpoints.TOKEN_PATH)] = [fail, fail]
    async with make_client(fake) as client:
        assert await client.list_callbacks() == []
    assert fake.count("POST", endpoints.TOKEN_PATH) == 3
    fake2 = FakeRingRx()
    fake2.faults[("POST", endpoints.TOKEN_PATH)] = [fail] * 10
    async with make_client(fake2) as client:
        with pytest.raises(ServerError) as info:
            await client.list_callbacks()
    assert "POST /auth/token" in str(info.value)
    assert fake2.count("POST", endpoints.TOKEN_PATH) == 5


async def test_streamed_token_answers_are_read_by_the_flow() -> None:
    """Real transports stream bodies: the flow must read the answers it inspects itself."""
    fake = FakeRingRx()

    def streamed(request: httpx.Request) -> httpx.Response:
        minted = fake.handle(request)
        return httpx.Response(minted.status_code, stream=httpx.ByteStream(minted.content))

    fake.faults[("POST", endpoints.TOKEN_PATH)] = [streamed]
    fake.faults[("GET", CALLBACKS)] = [
        lambda r: httpx.Response(401, stream=httpx.ByteStream(b'{"errors": ["x"]}'))
    ]
    async with make_client(fake) as client:
        assert await client.list_callbacks() == []
    assert client.stats["token"] == 1 and client.stats["refresh"] == 1


async def test_requests_waiting_for_a_failed_token_request_share_its_failure() -> None:
    """A hung token endpoint costs one timeout per retry, not one per waiting request."""
    fake = FakeRingRx()

    class Hung(FakeRingRx):
        async def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == endpoints.TOKEN_PATH:
                fake.requests.append(request)
                await asyncio.sleep(0.01)  # the others queue up behind this one meanwhile
                raise httpx.ReadTimeout("timed out", request=request)
            return await fake(request)

    async with make_client(Hung()) as client:
        with pytest.raises(TransportError):
            await client.fetch_account()
    assert fake.count("POST", endpoints.TOKEN_PATH) <= RetryPolicy().attempts


async def test_token_requests_carry_the_client_timeouts() -> None:
    """httpx sets timeouts only on requests the client builds: the flow's own must copy them,
    or a hung token endpoint is waited on forever."""
    fake = FakeRingRx(expires_in=100)
    sleeps = Sleeps()
    async with make_client(fake, sleeps=sleeps) as client:
        await client.list_callbacks()
        sleeps.now += 95
        await client.list_callbacks()
    token, refresh = fake.requests[0], fake.requests[2]
    assert (token.url.path, refresh.url.path) == (endpoints.TOKEN_PATH, endpoints.REFRESH_PATH)
    expected = fake.requests[1].extensions["timeout"]
    assert expected["read"] is not None
    assert token.extensions.get("timeout") == refresh.extensions.get("timeout") == expected


@pytest.mark.parametrize("expires_in", [None, 0, "soon"])
async def test_without_a_usable_lifetime_the_401_path_renews(expires_in: object) -> None:
    fake = FakeRingRx(expires_in=expires_in)
    sleeps = Sleeps()
    async with make_client(fake, sleeps=sleeps) as client:
        await client.list_callbacks()
        sleeps.now += 10_000
        await client.list_callbacks()  # no renewal ahead of time
        fake.expire_all_access_tokens()
        await client.list_callbacks()  # 401 -> one refresh -> retried
    assert client.stats["token"] == 1 and client.stats["refresh"] == 1


async def test_lifetime_given_as_a_numeric_string_is_honoured() -> None:
    fake = FakeRingRx(expires_in="100")
    sleeps = Sleeps()
    async with make_client(fake, sleeps=sleeps) as client:
        await client.list_callbacks()
        sleeps.now += 95
        await client.list_callbacks()
    assert fake.paths()[2] == "POST /auth/refresh"
