"""Bounds on talking to RingRx: an overall deadline for the run and a response size cap.

``--timeout SECONDS`` (default :data:`DEFAULT_TIMEOUT`) starts the run's deadline when the
command line is read (:func:`start_deadline`). Every request, and every chunk of every
answer, is awaited only until then, so a server that trickles one byte per second (which
per-read timeouts never catch) cannot hold a run forever. An answer larger than
:data:`MAX_RESPONSE_BYTES` is refused while it streams in, before it fills the memory.
Both raise a :class:`~ringrx_iac.api.errors.RingRxError` subclass, never retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx

from ringrx_iac.api.errors import RingRxError

DEFAULT_TIMEOUT = 600.0
MAX_RESPONSE_BYTES = 50 * 1024 * 1024

_deadline: float | None = None
_seconds: float | None = None


class DeadlineExceededError(RingRxError):
    """The run's ``--timeout`` passed while waiting for RingRx."""


class ResponseTooLargeError(RingRxError):
    """An answer larger than :data:`MAX_RESPONSE_BYTES`."""


def start_deadline(seconds: float | None) -> None:
    """Start (or with None clear) the run's overall deadline, ``seconds`` from now."""
    global _deadline, _seconds
    _seconds = seconds
    _deadline = None if seconds is None else time.monotonic() + seconds


def remaining() -> float | None:
    """Seconds left before the deadline (None when there is none)."""
    return None if _deadline is None else _deadline - time.monotonic()


def _expired(request: httpx.Request) -> DeadlineExceededError:
    return DeadlineExceededError(
        f"the run exceeded --timeout {_seconds:g} s (its overall deadline) while waiting for "
        "RingRx; nothing more is sent. Run plan to see what is left, or raise --timeout",
        method=request.method,
        path=request.url.path,
    )


async def _bounded(awaitable: object, request: httpx.Request) -> object:
    left = remaining()
    if left is None:
        return await awaitable  # type: ignore[misc]
    if left <= 0:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        raise _expired(request)
    try:
        return await asyncio.wait_for(awaitable, left)  # type: ignore[arg-type]
    except TimeoutError:
        raise _expired(request) from None


class _LimitedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        iterator = self._inner.__aiter__()
        while True:
            try:
                chunk = await _bounded(iterator.__anext__(), self._request)
            except StopAsyncIteration:
                return
            assert isinstance(chunk, bytes)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise ResponseTooLargeError(
                    f"the answer is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB; "
                    "refused (is RINGRX_BASE_URL the RingRx API?)",
                    method=self._request.method,
                    path=self._request.url.path,
                )
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class LimitedTransport(httpx.AsyncBaseTransport):
    """A transport enforcing the run's deadline and the response size cap."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await _bounded(self._inner.handle_async_request(request), request)
        assert isinstance(response, httpx.Response)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
            await response.aclose()
            raise ResponseTooLargeError(
                f"the answer announces {int(length)} bytes, more than "
                f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MB; refused",
                method=request.method,
                path=request.url.path,
            )
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _LimitedStream(response.stream, request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
