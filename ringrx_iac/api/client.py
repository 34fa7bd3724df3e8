"""The async RingRx client: one connection pool, bounded parallelism, retries, typed errors.

Wire names come from `ringrx_iac.api.endpoints` only; answers are translated to the domain
types of `ringrx_iac.api.types`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ringrx_iac.api import endpoints
from ringrx_iac.api.auth import RingRxAuth
from ringrx_iac.api.credentials import ENV_BASE_URL, ClientSettings
from ringrx_iac.api.debuglog import enable_debug_logging, log_request, log_response
from ringrx_iac.api.errors import (
    RateLimitError,
    ReadOnlyError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from ringrx_iac.api.limits import LimitedTransport
from ringrx_iac.api.outcome import status_may_have_reached, transport_error_may_have_reached
from ringrx_iac.api.ratelimit import RateLimitedTransport, RateLimiter
from ringrx_iac.api.responses import error_for, json_body
from ringrx_iac.api.retry import Failure, RetryBudget, parse_retry_after, retry
from ringrx_iac.api.transport import ConnectionPerWorkerTransport
from ringrx_iac.api.types import RemoteAccount, RemoteCallback, RemoteTarget
from ringrx_iac.api.wire import (
    as_list,
    callback_from_wire,
    callback_to_wire,
    target_endpoint,
    target_from_wire,
)
from ringrx_iac.gcpause import gc_paused

__all__ = ["ClientSettings", "RingRxClient"]

T = TypeVar("T")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "PATCH", "DELETE"})


def _write_refuser(base_url: str) -> Callable[[httpx.Request], Awaitable[None]]:
    """Request hook of a read-only client: the last line of defence, below every code path.

    Only the exact token endpoints under the base URL may be POSTed to.
    """
    prefix = httpx.URL(base_url).path.rstrip("/")
    allowed = {prefix + endpoints.TOKEN_PATH, prefix + endpoints.REFRESH_PATH}

    async def refuse_writes(request: httpx.Request) -> None:
        if request.method in WRITE_METHODS and not (
            request.method == "POST" and request.url.path in allowed
        ):
            raise ReadOnlyError(
                "refused: the client is read-only, no change is sent to RingRx",
                method=request.method,
                path=request.url.path,
            )

    return refuse_writes


def _transport_error(
    exc: httpx.TransportError, method: str, path: str, base_url: str
) -> TransportError:
    """A user-readable transport failure naming the server it could not talk to."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        kind = "cannot connect to"
    elif isinstance(exc, httpx.TimeoutException):
        kind = "no answer from"
    else:
        kind = "connection lost to"
    detail = str(exc).strip()
    reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return TransportError(
        f"{kind} {base_url} ({reason}); check {ENV_BASE_URL} and the network",
        method=method,
        path=path,
    )


class RingRxClient:
    """Async client of the RingRx callbacks API. Use as ``async with RingRxClient(settings)``."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.stats: Counter[str] = Counter()
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        self._semaphore = asyncio.Semaphore(settings.parallelism)
        self.auth = RingRxAuth(
            settings.credentials, settings.base_url, stats=self.stats, clock=clock
        )
        hooks_request: list[Callable[[httpx.Request], Awaitable[None]]] = [log_request]
        if settings.read_only:
            hooks_request.insert(0, _write_refuser(settings.base_url))
        if settings.debug:
            enable_debug_logging()
        # One connection per worker (see api/transport.py) and one pace for all of them.
        self.rate_limiter = RateLimiter(max_rate=settings.max_rate, clock=clock, sleep=sleep)
        transport = RateLimitedTransport(
            LimitedTransport(transport or ConnectionPerWorkerTransport(settings.parallelism)),
            self.rate_limiter,
        )
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            auth=self.auth,
            timeout=httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout)),
            verify=True,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "ringrx-iac"},
            event_hooks={"request": hooks_request, "response": [log_response]},
            follow_redirects=False,
        )
        self._base = str(self._http.base_url)  # see `_url`
        if not self._base.endswith("/"):
            self._base += "/"
        # How an ambiguous create is settled (see `create_callback`): the ids of the
        # callbacks that existed before this client's creates (None until first listed),
        # the ids this client's creates returned or recovered, and how many creates are
        # in flight (a list taken while one is may hold its unacknowledged callback, so it
        # must not become the baseline).
        self._baseline_ids: set[Any] | None = None
        self._claimed_ids: set[Any] = set()
        self._creates_in_flight = 0
        self._baseline_lock = asyncio.Lock()

    async def __aenter__(self) -> RingRxClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- the low-level request with retries ----------------------------------------------

    async def _send(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        missing_ok_after_retry: bool = False,
    ) -> httpx.Response:
        """Send a GET, PATCH or DELETE with retries; return a 2xx answer or raise a typed error.

        These are retried on 429, 5xx and transport errors: sending them twice does no harm
        (see `ringrx_iac.api.outcome`). A POST goes through `create_callback`.
        """
        if method not in _IDEMPOTENT_METHODS:
            # Retrying a request whose outcome is unknown is safe only when sending it twice
            # does no harm; a POST must go through create_callback's look-up instead.
            raise ValueError(f"_send retries idempotent requests only, not {method}")
        self._check_writable(method, path)
        started = self._clock()
        first = await self._try_once(kind, method, path, json)
        if not isinstance(first, Failure):
            return first  # the common case, without the retry loop's machinery
        reached = first.reached  # may an earlier try have reached the server?

        async def attempt() -> httpx.Response | Failure:
            nonlocal reached
            accept_404 = missing_ok_after_retry and reached
            result = await self._try_once(kind, method, path, json, accept_404=accept_404)
            if isinstance(result, Failure):
                reached = reached or result.reached
            return result

        return await self._retry(attempt, first=first, started=started)

    async def _try_once(
        self, kind: str, method: str, path: str, json: Any, *, accept_404: bool = False
    ) -> httpx.Response | Failure:
        """Send once: a 2xx answer, a `Failure` worth retrying, or raise a final error."""
        try:
            async with self._semaphore:
                self.stats[kind] += 1
                response = await self._http.request(method, self._url(path), json=json)
        except httpx.TransportError as exc:
            failed = _transport_error(exc, method, path, self.settings.base_url)
            return Failure(failed, cause=exc, reached=transport_error_may_have_reached(exc, path))
        except (RateLimitError, ServerError, TransportError) as exc:
            # From the auth flow (a failed token request): this request was not sent.
            delay = exc.retry_after if isinstance(exc, RateLimitError) else None
            return Failure(exc, delay=delay)
        status = response.status_code
        if response.is_success or (status == 404 and accept_404):
            return response
        error = error_for(response, response.request)
        if status == 429:
            return Failure(error, delay=parse_retry_after(response.headers.get("Retry-After")))
        if status_may_have_reached(status):
            return Failure(error, reached=True)
        raise error

    def _url(self, path: str) -> httpx.URL | str:
        """The absolute URL of an API path. httpx joins a relative one to the base URL by
        building the base anew for every request (~45 us); parsing the joined text costs
        less than half that, and gives the same URL for every path that starts with one
        ``/`` and has no ``#`` (any other is left to httpx)."""
        if path[:1] == "/" and path[1:2] != "/" and "#" not in path:
            return httpx.URL(self._base + path[1:])
        return path

    async def _retry(
        self,
        attempt: Callable[[], Awaitable[T | Failure]],
        give_up: Callable[[Failure], Awaitable[T]] | None = None,
        *,
        first: Failure | None = None,
        started: float | None = None,
    ) -> T:
        """`retry` with this client's policy; ``first``: the failure of a try already made
        (at ``started``), which counts as the first attempt."""
        budget = RetryBudget(self.settings.retry, clock=self._clock)
        if first is not None:
            budget.attempts = 1
            if started is not None:
                budget.started = started
        return await retry(
            attempt, budget, sleep=self._sleep, rng=self._rng, give_up=give_up, first=first
        )

    def _check_writable(self, method: str, path: str) -> None:
        """Refuse a write in read-only mode before anything is sent (the hook is the backstop)."""
        if self.settings.read_only and method in WRITE_METHODS:
            raise ReadOnlyError(
                "refused: the client is read-only, no change is sent to RingRx",
                method=method,
                path=path,
            )

    async def _get_json(self, kind: str, path: str) -> Any:
        response = await self._send(kind, "GET", path)
        return self._parse_body(response)

    @staticmethod
    def _parse_body(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise UnexpectedResponseError(
                "the answer is not JSON",
                method=response.request.method,
                path=response.request.url.path,
                status=response.status_code,
            ) from exc

    # -- reading ---------------------------------------------------------------------------

    async def _list_callbacks_raw(self) -> list[RemoteCallback]:
        data = await self._get_json("list", endpoints.CALLBACKS_PATH)
        return [callback_from_wire(item) for item in as_list(data, endpoints.CALLBACKS_PATH)]

    async def list_callbacks(self) -> list[RemoteCallback]:
        """All callbacks of the account (taken as the create baseline when no create runs)."""
        in_flight_before = self._creates_in_flight
        callbacks = await self._list_callbacks_raw()
        if in_flight_before == 0 and self._creates_in_flight == 0:
            self._baseline_ids = {cb.id for cb in callbacks}
        return callbacks

    async def get_callback(self, callback_id: Any) -> RemoteCallback:
        """One callback by id (`NotFoundError` when there is none)."""
        path = endpoints.CALLBACK_PATH.format(id=callback_id)
        return callback_from_wire(await self._get_json("get", path))

    async def list_targets(self, kind: str) -> list[RemoteTarget]:
        """All targets of one kind (a bind key such as ``phone_numbers``)."""
        target = target_endpoint(kind)
        items: list[Any] = as_list(await self._get_json("list", target.list_path), target.list_path)
        # Each decoded object goes once converted: 200,000 decoded numbers and their
        # targets alive together would be the peak memory of a plan (~50 MB more).
        out = []
        for i, item in enumerate(items):
            items[i] = None
            out.append(target_from_wire(kind, item))
        return out

    async def fetch_account(self) -> RemoteAccount:
        """Callbacks and the five target lists, all six requests concurrently."""
        kinds = list(endpoints.TARGETS)
        tasks: list[asyncio.Task[Any]] = [asyncio.ensure_future(self.list_callbacks())]
        tasks += [asyncio.ensure_future(self.list_targets(kind)) for kind in kinds]
        try:
            with gc_paused():  # decoding 100,000s of targets: see ringrx_iac.gcpause
                results = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return RemoteAccount(
            callbacks=results[0], targets=dict(zip(kinds, results[1:], strict=True))
        )

    # -- writing ---------------------------------------------------------------------------

    async def create_callback(
        self,
        fields: Mapping[str, Any],
        is_mine: Callable[[RemoteCallback], bool] | None = None,
    ) -> RemoteCallback:
        """Create a callback from domain fields; never duplicates it on a flaky network.

        Why an ambiguous create (sent, no definite answer: see `ringrx_iac.api.outcome`)
        is settled correctly at any parallelism: managed names are unique in the account,
        and apply creates a name only when the account has no callback of that name (or,
        for a replacement, only one of another type). So "is there now a live callback
        with this name and type that was not in the baseline (the account as listed
        before this client's creates) and that no other create of this client has
        claimed?" answers "did my POST happen?". Callbacks that other in-flight POSTs just
        created carry other names, or are claimed by the create they belong to, so they
        can never be mistaken for this one, nor hide it: the baseline is fixed before the
        creates start and a recovery lookup never adds to it. Only when the answer is
        "no" is the POST sent again. The lookup waits the backoff first, so a request the
        server was still processing when its answer was lost has landed by then.
        ``is_mine`` replaces the name-and-type test for a create whose name is not unique
        (the account lock: it is told apart by the random token it carries).
        """
        body = {endpoints.CALLBACK_ROOT_KEY: callback_to_wire(fields)}
        self._check_writable("POST", endpoints.CALLBACKS_PATH)
        await self._ensure_baseline()
        ambiguous = False  # may the last POST have created the callback?

        async def attempt() -> RemoteCallback | Failure:
            nonlocal ambiguous
            if ambiguous:  # look before sending again (after the backoff, see above)
                found = await self._find_created(fields, is_mine)
                if found is not None:
                    return found
            result = await self._try_once("create", "POST", endpoints.CALLBACKS_PATH, body)
            if isinstance(result, Failure):
                ambiguous = result.reached
                return result
            created = callback_from_wire(self._parse_body(result))
            self._claimed_ids.add(created.id)
            return created

        async def give_up(failure: Failure) -> RemoteCallback:
            if not ambiguous:
                raise failure.error from failure.cause
            # Out of retries: one last look, so a create that happened is kept.
            found = await self._find_created(fields, is_mine)
            if found is None:
                raise failure.error from None
            return found

        self._creates_in_flight += 1
        try:
            return await self._retry(attempt, give_up)
        finally:
            self._creates_in_flight -= 1

    async def _ensure_baseline(self) -> None:
        """List callbacks once if this client never has, so new ids can be told apart."""
        if self._baseline_ids is not None:
            return
        async with self._baseline_lock:
            if self._baseline_ids is None:
                self._baseline_ids = {cb.id for cb in await self._list_callbacks_raw()}

    async def _find_created(
        self,
        fields: Mapping[str, Any],
        is_mine: Callable[[RemoteCallback], bool] | None = None,
    ) -> RemoteCallback | None:
        """After an ambiguous POST: the callback it created, if it did (lowest such id)."""

        def same(cb: RemoteCallback) -> bool:
            if is_mine is not None:
                return is_mine(cb)
            return cb.name == fields.get("name") and (
                "type" not in fields or cb.type == fields["type"]
            )

        callbacks = await self._list_callbacks_raw()
        baseline = self._baseline_ids or set()
        candidates = [
            cb
            for cb in callbacks
            if cb.id not in baseline and cb.id not in self._claimed_ids and same(cb)
        ]
        if not candidates:
            return None
        found = candidates[0]
        with contextlib.suppress(TypeError):  # ids may be opaque: then the server's order
            found = min(candidates, key=lambda cb: cb.id)
        self._claimed_ids.add(found.id)
        return found

    async def update_callback(self, callback_id: Any, fields: Mapping[str, Any]) -> RemoteCallback:
        """PATCH only the given domain fields; returns the callback as stored."""
        body = {endpoints.CALLBACK_ROOT_KEY: callback_to_wire(fields)}
        path = endpoints.CALLBACK_PATH.format(id=callback_id)
        response = await self._send("update", "PATCH", path, json=body)
        if not response.content.strip():  # e.g. 204: read the callback as stored
            return await self.get_callback(callback_id)
        return callback_from_wire(self._parse_body(response))

    async def delete_callback(self, callback_id: Any) -> None:
        """Delete a callback (RingRx clears its bindings). A 404 after a lost answer is done."""
        path = endpoints.CALLBACK_PATH.format(id=callback_id)
        await self._send("delete", "DELETE", path, missing_ok_after_retry=True)

    async def bind(self, kind: str, target_id: Any, callback_id: Any) -> RemoteTarget:
        """Set (or with None clear) the binding field of one target, and only that field."""
        target = target_endpoint(kind)
        body = {target.root_key: {target.binding_field: callback_id}}
        path = target.item_path.format(id=target_id)
        response = await self._send("bind", "PATCH", path, json=body)
        data = json_body(response)
        if isinstance(data, dict) and endpoints.TARGET_ID_FIELD in data:
            return target_from_wire(kind, data)
        return RemoteTarget(kind=kind, id=target_id, callback_id=callback_id)
