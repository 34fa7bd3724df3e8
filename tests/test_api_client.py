"""RingRxClient against a MockTransport fake: translation, concurrency, retries, errors,
no duplicate on an ambiguous POST, read-only mode."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from api_fake import BASE, FakeRingRx, Sleeps, make_client

from ringrx_iac.api import endpoints
from ringrx_iac.api.client import RingRxClient
from ringrx_iac.api.credentials import ApiKeyCredentials, ClientSettings
from ringrx_iac.api.errors import (
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReadOnlyError,
    ServerError,
    TransportError,
    ValidationError,
)
from ringrx_iac.api.retry import Failure, RetryBudget, RetryPolicy, retry
from ringrx_iac.api.types import RemoteCallback, RemoteTarget

CALLBACKS = endpoints.CALLBACKS_PATH
NEW = {
    "name": "CRM inbound SMS",
    "type": "sms",
    "url": "https://hooks.example.com/sms?from={from}",
    "use_basic_auth": True,
    "auth_username": "ringrx",
    "auth_password": "s3cret",
    "custom_headers": "AuthToken:abc123",
}


def answer(status: int, **kw: object):  # type: ignore[no-untyped-def]
    return lambda request: httpx.Response(status, **kw)  # type: ignore[arg-type]


def drop(exc: type[httpx.TransportError] = httpx.RemoteProtocolError):  # type: ignore[no-untyped-def]
    def fault(request: httpx.Request) -> httpx.Response:
        raise exc("connection dropped", request=request)

    return fault


def process_then(exc: type[httpx.TransportError], fake: FakeRingRx):  # type: ignore[no-untyped-def]
    """The server processes the request, but the answer is lost."""

    def fault(request: httpx.Request) -> httpx.Response:
        fake.handle(request)
        raise exc("answer lost", request=request)

    return fault


async def test_fetch_account_translates_wire_to_domain() -> None:
    fake = FakeRingRx()
    fake.add_callback(
        name="A",
        callback_type="sms",
        url="https://a",
        use_basic_auth=True,
        auth_username="u",
        auth_password="********",
        custom_headers=None,
        created_at="2026-01-01T00:00:00Z",
    )
    fake.add_callback(name="B", callback_type="cdr", url="https://b", auth_password="pw")
    fake.targets["phone_numbers"] = [
        {"id": 7, "phonenumber": "8185559876", "extension": "8000", "sms_callback_id": 101}
    ]
    fake.targets["mailboxes"] = [{"id": 3, "name": "Front desk", "mailbox": "1001"}]
    fake.targets["fax_services"] = [{"id": 5, "name": "Main Fax", "extension": 7001}]
    async with make_client(fake) as client:
        account = await client.fetch_account()
    assert account.callbacks == [
        RemoteCallback(101, "A", "sms", "https://a", True, "u", None, ""),
        RemoteCallback(102, "B", "cdr", "https://b", False, None, "pw", ""),
    ]
    assert set(account.targets) == set(endpoints.TARGETS)
    assert account.targets["phone_numbers"] == [
        RemoteTarget("phone_numbers", 7, {"phonenumber": "8185559876"}, 101)
    ]
    assert account.targets["mailboxes"] == [
        RemoteTarget("mailboxes", 3, {"mailbox": "1001", "name": "Front desk"}, None)
    ]
    assert account.targets["fax_services"][0].keys == {"name": "Main Fax", "extension": "7001"}
    assert client.stats["list"] == 6


async def test_fetch_account_runs_the_six_lists_concurrently() -> None:
    fake = FakeRingRx()
    in_flight: set[str] = set()
    all_in = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            in_flight.add(request.url.path)
            if len(in_flight) == 6:
                all_in.set()
            await asyncio.wait_for(all_in.wait(), timeout=5)  # fails unless all six overlap
        return await fake(request)

    client = make_client(fake)
    client._http._transport = httpx.MockTransport(handler)
    async with client:
        account = await client.fetch_account()
    assert len(account.targets) == 5


async def test_parallelism_bounds_requests_in_flight() -> None:
    fake = FakeRingRx()
    current = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal current, peak
        current += 1
        peak = max(peak, current)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        current -= 1
        return await fake(request)

    client = make_client(fake, parallelism=2)
    client._http._transport = httpx.MockTransport(handler)
    async with client:
        await asyncio.gather(*(client.list_callbacks() for _ in range(10)))
    assert peak == 2


@pytest.mark.parametrize(
    "base", ["https://api.example/v2", "https://api.example/v2/", "http://127.0.0.1:8000"]
)
async def test_absolute_urls_are_the_ones_httpx_would_join(base: str) -> None:
    """`_url` joins paths itself (cheaper); the result is httpx's own join, or the path
    is left to httpx."""
    settings = ClientSettings(base_url=base, credentials=ApiKeyCredentials("k", "s"), insecure=True)
    paths = ["/pbxcallbacks", "/phonenumbers/12", "/x/a b", "/x/ü", "/x?y=1&z=ä", "/x/%41"]
    paths += ["/x/a%2Fb", "/x/[1]", "/x/../y", "/x#frag", "//host/x", "relative"]
    async with RingRxClient(settings) as client:
        for path in paths:
            joined = client._http.build_request("GET", path).url
            url = client._url(path)
            assert str(client._http.build_request("GET", url).url) == str(joined), path
            assert client._http.build_request("GET", url).url.raw_path == joined.raw_path


async def test_create_update_delete_bind_send_only_what_they_must() -> None:
    fake = FakeRingRx()
    fake.targets["phone_numbers"] = [{"id": 7, "phonenumber": "+18185559876", "tags": "main"}]
    async with make_client(fake) as client:
        created = await client.create_callback(NEW)
        assert created.id == 101 and created.auth_password == "s3cret"
        updated = await client.update_callback(created.id, {"url": "https://new"})
        assert updated.url == "https://new"
        target = await client.bind("phone_numbers", 7, created.id)
        assert target.callback_id == created.id
        await client.bind("phone_numbers", 7, None)
        await client.delete_callback(created.id)
    bodies = {f"{r.method} {r.url.path}": r for r in fake.requests}
    post = json.loads(bodies["POST /pbxcallbacks"].content)
    wire_new = {("callback_type" if k == "type" else k): v for k, v in NEW.items()}
    assert post == {"pbx_callback": wire_new}
    assert json.loads(bodies["PATCH /pbxcallbacks/101"].content) == {
        "pbx_callback": {"url": "https://new"}
    }
    patches = [json.loads(r.content) for r in fake.requests if r.url.path == "/phonenumbers/7"]
    assert patches == [
        {"pbx_phone_number": {"sms_callback_id": 101}},
        {"pbx_phone_number": {"sms_callback_id": None}},
    ]
    assert fake.callbacks == {}
    assert fake.targets["phone_numbers"][0]["tags"] == "main"
    assert +client.stats == {
        "token": 1,
        "list": 1,  # baseline of known ids before the first create
        "create": 1,
        "update": 1,
        "bind": 2,
        "delete": 1,
    }


async def test_unknown_field_or_kind_is_a_programming_error() -> None:
    async with make_client(FakeRingRx()) as client:
        with pytest.raises(ValueError, match="unknown callback field"):
            await client.update_callback(1, {"callback_type": "sms"})
        with pytest.raises(ValueError, match="unknown target kind"):
            await client.list_targets("phones")
        # A POST is never retried blindly: only create_callback sends one (with its look-up).
        with pytest.raises(ValueError, match="idempotent requests only"):
            await client._send("create", "POST", "/pbxcallbacks")


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (403, PermissionDeniedError, "PATCH /pbxcallbacks/5: permission denied (403)"),
        (404, NotFoundError, "PATCH /pbxcallbacks/5: not found (404)"),
    ],
)
async def test_client_errors_are_typed_and_not_retried(
    status: int, error: type[Exception], text: str
) -> None:
    fake = FakeRingRx()
    fake.faults[("PATCH", "/pbxcallbacks/5")] = [answer(status, json={"errors": ["x"]})] * 3
    async with make_client(fake) as client:
        with pytest.raises(error) as info:
            await client.update_callback(5, {"name": "n"})
    assert str(info.value).startswith(text)
    assert fake.count("PATCH", "/pbxcallbacks/5") == 1


async def test_validation_error_carries_field_messages() -> None:
    fake = FakeRingRx()
    body = {"errors": {"url": ["is invalid"], "name": ["can't be blank"]}}
    fake.faults[("POST", CALLBACKS)] = [answer(422, json=body)]
    async with make_client(fake) as client:
        with pytest.raises(ValidationError) as info:
            await client.create_callback(NEW)
    assert info.value.errors == {"url": ["is invalid"], "name": ["can't be blank"]}
    assert str(info.value) == "POST /pbxcallbacks: url: is invalid; name: can't be blank"


async def test_validation_error_speaks_domain_field_names() -> None:
    fake = FakeRingRx()
    body = {"errors": {"callback_type": ["cannot be changed"]}}
    fake.faults[("PATCH", "/pbxcallbacks/5")] = [answer(422, json=body)]
    async with make_client(fake) as client:
        with pytest.raises(ValidationError) as info:
            await client.update_callback(5, {"type": "fax"})
    assert info.value.errors == {"type": ["cannot be changed"]}


async def test_429_honours_retry_after_then_succeeds() -> None:
    fake = FakeRingRx()
    sleeps = Sleeps()
    fake.faults[("GET", CALLBACKS)] = [answer(429, headers={"Retry-After": "7"})]
    async with make_client(fake, sleeps=sleeps) as client:
        assert await client.list_callbacks() == []
    assert sleeps.delays == [7.0]


async def test_429_that_outlasts_the_budget_is_a_rate_limit_error() -> None:
    fake = FakeRingRx()
    fake.faults[("GET", CALLBACKS)] = [answer(429, headers={"Retry-After": "120"})]
    async with make_client(fake) as client:
        with pytest.raises(RateLimitError) as info:
            await client.list_callbacks()
    assert info.value.retry_after == 120
    assert fake.count("GET", CALLBACKS) == 1


async def test_5xx_and_dropped_connections_are_retried_with_backoff() -> None:
    fake = FakeRingRx()
    sleeps = Sleeps()
    fake.faults[("GET", CALLBACKS)] = [answer(500), drop(), answer(502)]
    async with make_client(fake, sleeps=sleeps) as client:
        assert await client.list_callbacks() == []
    assert sleeps.delays == [0.5, 1.0, 2.0]  # rng pinned to 1.0: the jitter ceiling


async def test_retries_are_bounded_in_attempts() -> None:
    fake = FakeRingRx()
    fake.faults[("GET", CALLBACKS)] = [answer(503)] * 10
    async with make_client(fake) as client:
        with pytest.raises(ServerError) as info:
            await client.list_callbacks()
    assert fake.count("GET", CALLBACKS) == 5
    assert "GET /pbxcallbacks: RingRx server error (503)" in str(info.value)


async def test_retries_are_bounded_in_time() -> None:
    fake = FakeRingRx()
    fake.faults[("GET", CALLBACKS)] = [drop(httpx.ReadTimeout)] * 10
    policy = RetryPolicy(attempts=100, total_time=3.0, base_delay=1.0, max_delay=1.0)
    async with make_client(fake, retry=policy) as client:
        with pytest.raises(TransportError) as info:
            await client.list_callbacks()
    assert fake.count("GET", CALLBACKS) == 3  # tries at t=0, 1, 2; a wait to t=3 is not allowed
    assert f"no answer from {BASE} (ReadTimeout" in str(info.value)
    assert "RINGRX_BASE_URL" in str(info.value)


async def test_a_failure_already_had_counts_as_the_first_attempt() -> None:
    """The client tries once outside the retry loop; the loop goes on from that failure."""
    budget = RetryBudget(RetryPolicy(attempts=3))
    budget.attempts = 1
    tries: list[int] = []
    delays: list[float] = []

    async def attempt() -> str | Failure:
        tries.append(budget.attempts)
        return Failure(ServerError("busy"), delay=0.25)

    async def sleep(delay: float) -> None:
        delays.append(delay)

    first = Failure(ServerError("busy"), delay=0.5)
    with pytest.raises(ServerError):
        await retry(attempt, budget, sleep=sleep, first=first)
    assert tries == [2, 3]  # two more tries: three in all
    assert delays == [0.5, 0.25]  # the first failure's own wait comes first


async def test_connection_refused_names_the_server() -> None:
    fake = FakeRingRx()
    fake.faults[("POST", endpoints.TOKEN_PATH)] = [drop(httpx.ConnectError)] * 10
    async with make_client(fake) as client:
        with pytest.raises(TransportError) as info:
            await client.list_callbacks()
    assert f"cannot connect to {BASE} (ConnectError" in str(info.value)
    assert fake.count("POST", endpoints.TOKEN_PATH) == RetryPolicy().attempts


async def test_dropped_connections_are_not_called_connect_failures() -> None:
    fake = FakeRingRx()
    fake.faults[("GET", CALLBACKS)] = [drop(httpx.RemoteProtocolError)] * 10
    async with make_client(fake) as client:
        with pytest.raises(TransportError) as info:
            await client.list_callbacks()
    assert f"connection lost to {BASE} (RemoteProtocolError" in str(info.value)


async def test_dropped_post_that_was_processed_is_found_not_duplicated() -> None:
    fake = FakeRingRx()
    fake.add_callback(name=NEW["name"], callback_type="sms", url="https://older")  # same name
    fake.faults[("POST", CALLBACKS)] = [process_then(httpx.RemoteProtocolError, fake)]
    async with make_client(fake) as client:
        await client.list_callbacks()
        created = await client.create_callback(NEW)
    assert created.id == 102 and created.url == NEW["url"]
    assert fake.count("POST", CALLBACKS) == 1
    assert len(fake.callbacks) == 2


async def test_post_5xx_that_was_processed_is_found_not_duplicated() -> None:
    fake = FakeRingRx()

    def processed_then_500(request: httpx.Request) -> httpx.Response:
        fake.handle(request)
        return httpx.Response(500)

    fake.faults[("POST", CALLBACKS)] = [processed_then_500]
    async with make_client(fake) as client:
        created = await client.create_callback(NEW)
    assert created.name == NEW["name"]
    assert fake.count("POST", CALLBACKS) == 1 and len(fake.callbacks) == 1


async def test_dropped_post_that_was_not_processed_is_sent_again() -> None:
    fake = FakeRingRx()
    fake.faults[("POST", CALLBACKS)] = [drop(httpx.ReadTimeout)]
    async with make_client(fake) as client:
        created = await client.create_callback(NEW)
    assert created.name == NEW["name"]
    assert fake.count("POST", CALLBACKS) == 2 and len(fake.callbacks) == 1
    assert fake.paths().count("GET /pbxcallbacks") == 2  # baseline, then the look after the drop


async def test_post_429_and_connect_error_are_retried_directly() -> None:
    fake = FakeRingRx()
    fake.faults[("POST", CALLBACKS)] = [answer(429), drop(httpx.ConnectError)]
    async with make_client(fake) as client:
        await client.list_callbacks()
        await client.create_callback(NEW)
    assert fake.count("POST", CALLBACKS) == 3
    assert fake.count("GET", CALLBACKS) == 1  # no re-list needed
    assert len(fake.callbacks) == 1


async def test_post_failing_ambiguously_every_time_ends_with_an_error() -> None:
    fake = FakeRingRx()
    fake.faults[("POST", CALLBACKS)] = [answer(500)] * 10
    async with make_client(fake) as client:
        with pytest.raises(ServerError):
            await client.create_callback(NEW)
    assert fake.count("POST", CALLBACKS) == 5
    assert fake.callbacks == {}


async def test_delete_whose_answer_was_lost_counts_as_done() -> None:
    fake = FakeRingRx()
    cb = fake.add_callback(name="x", callback_type="cdr", url="https://x")
    path = f"{CALLBACKS}/{cb['id']}"
    fake.faults[("DELETE", path)] = [process_then(httpx.ReadTimeout, fake)]
    async with make_client(fake) as client:
        await client.delete_callback(cb["id"])
        with pytest.raises(NotFoundError):  # a plain 404 is an error
            await client.delete_callback(cb["id"])
    assert fake.count("DELETE", path) == 3


async def test_read_only_refuses_every_write_before_sending() -> None:
    fake = FakeRingRx()
    async with make_client(fake, read_only=True) as client:
        account = await client.fetch_account()
        assert account.callbacks == []
        for write in (
            client.create_callback(NEW),
            client.update_callback(1, {"name": "n"}),
            client.delete_callback(1),
            client.bind("groups", 9, 1),
        ):
            with pytest.raises(ReadOnlyError) as info:
                await write
            assert "read-only" in str(info.value)
        # the transport-level hook refuses even a request that bypasses the client methods
        with pytest.raises(ReadOnlyError):
            await client._http.post(CALLBACKS, json={})
        # only the token endpoints themselves are exempt, not any path ending like them
        for method, path in (
            ("POST", CALLBACKS + endpoints.TOKEN_PATH),
            ("DELETE", endpoints.TOKEN_PATH),
            ("DELETE", endpoints.API_KEY_PATH.format(token="key-id")),
        ):
            with pytest.raises(ReadOnlyError):
                await client._http.request(method, path)
    assert all(r.method == "GET" or r.url.path.startswith("/auth/") for r in fake.requests)
    assert client.stats["create"] == 0


async def test_update_answered_204_without_a_body_reads_the_callback() -> None:
    fake = FakeRingRx()
    item = fake.add_callback(name="a", callback_type="cdr", url="https://x/1")
    path = f"{CALLBACKS}/{item['id']}"

    def no_body(request: httpx.Request) -> httpx.Response:
        fake.handle(request)
        return httpx.Response(204)

    fake.faults[("PATCH", path)] = [no_body]
    async with make_client(fake) as client:
        updated = await client.update_callback(item["id"], {"url": "https://x/2"})
    assert updated.url == "https://x/2"
    assert fake.paths()[-2:] == [f"PATCH {path}", f"GET {path}"]
