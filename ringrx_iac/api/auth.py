"""The RingRx authentication flow as an ``httpx.Auth``.

- obtains a token from ``POST /auth/token`` (API key or user login, JSON body);
- refreshes it ahead of expiry from ``expires_in`` with ``POST /auth/refresh``, keeping the
  rotated refresh token (or the old one when the answer carries none);
- on a 401 refreshes once and retries the request once;
- a refresh token that is spent or expired falls back to full authentication;
- a 401 on full authentication is final: `AuthenticationError`, remembered, so that parallel
  requests fail at once instead of storming the server;
- only one refresh/authentication runs at a time (an ``asyncio.Lock``); requests that waited
  reuse the token the winner obtained (compared by token generation), or share its failure.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import httpx

from ringrx_iac import redact
from ringrx_iac.api import endpoints
from ringrx_iac.api.credentials import ENV_OTP, ApiKeyCredentials, Credentials
from ringrx_iac.api.errors import (
    AuthenticationError,
    RingRxError,
    TransportError,
    UnexpectedResponseError,
)
from ringrx_iac.api.responses import error_for, json_body

# Statuses of /auth/refresh meaning "this refresh token is no good": authenticate afresh.
_REFRESH_REJECTED = frozenset({400, 401, 403, 404, 422})
# Refresh when less than this share of the token's lifetime remains (and at most 30 s early).
_REFRESH_SHARE = 0.1
_REFRESH_MAX_MARGIN = 30.0


def is_auth_path(path: str) -> bool:
    """True for the token endpoints, which carry credentials and need no bearer token."""
    return path.endswith(endpoints.TOKEN_PATH) or path.endswith(endpoints.REFRESH_PATH)


class RingRxAuth(httpx.Auth):
    """Bearer-token authentication with refresh, rotation and single-flight renewal."""

    # Bodies of the answers this flow inspects are read by the flow itself (httpx only does
    # that for flows built on ``auth_flow``); a normal answer is left to the caller.
    requires_response_body = False

    def __init__(
        self,
        credentials: Credentials,
        base_url: str,
        *,
        stats: Counter[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = credentials
        self._base_url = base_url.rstrip("/")
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self._clock = clock
        self._lock = asyncio.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0
        self._refresh_at = 0.0
        self._generation = 0  # bumped each time a new access token is stored
        self._failure: AuthenticationError | None = None
        self._renewal_attempts = 0  # renewals finished, successful or not
        self._renewal_error: RingRxError | None = None  # how the last renewal failed

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("RingRxAuth works with httpx.AsyncClient only")
        yield request  # pragma: no cover

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        rejected_generation: int | None = None
        for _ in range(2):  # the request, then at most one retry after a 401
            self._raise_if_failed(request)
            if self._needs_renewal(rejected_generation):
                renewal = self._locked_renewal(request, rejected_generation)
                try:
                    auth_request = await _step(renewal, None)
                    while auth_request is not None:
                        auth_request = await _step(renewal, (yield auth_request))
                finally:
                    await renewal.aclose()  # on an abandoned flow too: release the lock
            rejected_generation = self._generation
            assert self._access is not None
            request.headers["Authorization"] = f"Bearer {self._access}"
            response = yield request
            if response.status_code != 401:
                return
            await response.aread()

    async def _locked_renewal(
        self, request: httpx.Request, rejected_generation: int | None
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Renew under the lock, unless a request that held it first renewed or failed."""
        seen_attempts = self._renewal_attempts
        async with self._lock:
            self._raise_if_failed(request)
            self._raise_if_renewal_failed_meanwhile(seen_attempts)
            if not self._needs_renewal(rejected_generation):
                return
            # Until the renewal completes, assume the worst: the token request never got
            # an answer (httpx closes the flow on such errors).
            outcome: RingRxError | None = TransportError(
                "no answer while obtaining an access token (connection failed or timed out)",
                method="POST",
                path=endpoints.TOKEN_PATH,
            )
            try:
                renewal = self._renew(request)
                auth_request = await _step(renewal, None)
                while auth_request is not None:
                    auth_response = yield auth_request
                    await auth_response.aread()
                    auth_request = await _step(renewal, auth_response)
                outcome = None
            except RingRxError as exc:
                outcome = exc
                raise
            finally:
                self._renewal_attempts += 1
                self._renewal_error = outcome

    # -- token state -------------------------------------------------------------------

    def _needs_renewal(self, rejected_generation: int | None) -> bool:
        if self._access is None or rejected_generation == self._generation:
            return True
        return self._clock() >= self._refresh_at

    def _raise_if_renewal_failed_meanwhile(self, seen_attempts: int) -> None:
        """Share the failure of a renewal that ran while this request waited for the lock.

        Without this, N waiting requests would each try the broken token endpoint in turn
        (N timeouts in a row against a hung server); with it they fail together and their
        retries, with backoff, are bounded by the retry budget.
        """
        error = self._renewal_error
        if self._renewal_attempts != seen_attempts and error is not None:
            raise copy.copy(error)

    def _raise_if_failed(self, request: httpx.Request) -> None:
        if self._failure is not None:
            raise AuthenticationError(
                self._failure.message, method=request.method, path=request.url.path, status=401
            )

    def _store(self, response: httpx.Response, request: httpx.Request) -> None:
        data = json_body(response)
        access = data.get(endpoints.TOKEN_ACCESS_FIELD) if isinstance(data, dict) else None
        if not isinstance(access, str) or not access:
            raise UnexpectedResponseError(
                "the token answer has no access token",
                method=request.method,
                path=request.url.path,
                status=response.status_code,
            )
        assert isinstance(data, dict)
        refresh = data.get(endpoints.TOKEN_REFRESH_FIELD)
        expires_in = data.get(endpoints.TOKEN_EXPIRES_FIELD)
        now = self._clock()
        self._access = redact.register(access)
        if isinstance(refresh, str) and refresh:
            self._refresh = redact.register(refresh)
        elif not request.url.path.endswith(endpoints.REFRESH_PATH):
            self._refresh = None
        # else: a refresh answer without a new refresh token; the old one may still work
        # (if it was spent after all, the next refresh answers 401 and we authenticate).
        lifetime = _seconds(expires_in)
        if lifetime is not None:
            margin = min(_REFRESH_MAX_MARGIN, _REFRESH_SHARE * lifetime)
            self._expires_at = now + lifetime
            self._refresh_at = self._expires_at - margin
        else:  # no lifetime given: rely on the 401 path alone
            self._expires_at = self._refresh_at = float("inf")
        self._generation += 1

    # -- renewal -----------------------------------------------------------------------

    def _auth_request(
        self, path: str, body: dict[str, str], original: httpx.Request
    ) -> httpx.Request:
        """A token request; it inherits the original request's timeouts (httpx only sets
        them on requests the client builds, so without this it could wait forever)."""
        extensions = {k: v for k, v in original.extensions.items() if k == "timeout"}
        return httpx.Request(
            "POST",
            self._base_url + path,
            json=body,
            headers={"Accept": "application/json"},
            extensions=extensions,
        )

    async def _renew(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Refresh with the refresh token, or authenticate from the credentials."""
        if self._refresh is not None:
            self.stats["refresh"] += 1
            refresh_request = self._auth_request(
                endpoints.REFRESH_PATH, {endpoints.AUTH_REFRESH_FIELD: self._refresh}, request
            )
            response = yield refresh_request
            if response.is_success:
                self._store(response, refresh_request)
                return
            if response.status_code not in _REFRESH_REJECTED:
                raise error_for(response, refresh_request, token_endpoint=True)
            self._refresh = None  # spent or expired: authenticate from the start
        self.stats["token"] += 1
        token_request = self._auth_request(
            endpoints.TOKEN_PATH, self._credentials.token_request_body(), request
        )
        response = yield token_request
        if response.is_success:
            self._store(response, token_request)
            return
        if response.status_code in (400, 401, 403):
            self._access = None
            self._failure = AuthenticationError(
                self._rejection_message(response),
                method=token_request.method,
                path=token_request.url.path,
                status=response.status_code,
            )
            raise self._failure
        raise error_for(response, token_request, token_endpoint=True)

    def _rejection_message(self, response: httpx.Response) -> str:
        data = json_body(response)
        otp_required = isinstance(data, dict) and data.get(endpoints.OTP_REQUIRED_FIELD) is True
        creds = self._credentials
        if otp_required and not isinstance(creds, ApiKeyCredentials):
            if creds.otp:
                return (
                    f"RingRx rejected the one-time password in {ENV_OTP} for user "
                    f"{creds.username!r}: it is wrong or expired (codes change every 30 s). "
                    "Set a fresh code, or better, use an API key "
                    "(RINGRX_API_TOKEN + RINGRX_API_SECRET), which needs no one-time password"
                )
            return (
                f"user {creds.username!r} has two-factor authentication: set {ENV_OTP} to a "
                "current one-time code, or better, use an API key "
                "(RINGRX_API_TOKEN + RINGRX_API_SECRET), which needs no one-time password"
            )
        if isinstance(creds, ApiKeyCredentials):
            return (
                f"RingRx rejected {creds.describe()}: it is wrong or was deleted. "
                "Check the variables, or create a new API key in the RingRx portal"
            )
        return f"RingRx rejected {creds.describe()}: wrong username or password"


def _seconds(value: Any) -> float | None:
    """A positive lifetime in seconds from a number or a numeric string, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 < seconds < float("inf") else None


async def _step(
    flow: AsyncGenerator[httpx.Request, httpx.Response], response: httpx.Response | None
) -> httpx.Request | None:
    """The next request of a sub-flow (None to start it), or None once it is done."""
    try:
        if response is None:
            return await flow.__anext__()
        return await flow.asend(response)
    except StopAsyncIteration:
        return None
