"""Bounds on talking to RingRx: an overall deadline for the run and a response size cap.

``--timeout SECONDS`` (default :data:`DEFAULT_TIMEOUT`) starts the run's deadline when the
command line is read (:func:`start_deadline`). Every request, its answer read whole, is
awaited only until then, so a server that trickles one byte per second (which per-read
timeouts never catch) cannot hold a run forever. An answer larger than
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


class _LimitedStream(httpx.AsyncByteStream):
    """An answer's body that refuses to grow past :data:`MAX_RESPONSE_BYTES`."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self._inner:
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


class _Watchdog:
    """The run's deadline for the requests of one transport, with one timer for them all.

    A request in progress registers its task; when the deadline passes, the timer cancels
    every registered task (like ``asyncio.timeout``, whose timer per request cost more CPU
    than the rest of this module: heap pushes and cancelled handles piling up).
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self._cancelled: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None  # the deadline the timer is set for

    def enter(self, deadline: float) -> tuple[asyncio.Task[object], int]:
        """Watch the current task until `leave`; returns it and its cancellation count."""
        if deadline != self._armed_for:
            if self._timer is not None:
                self._timer.cancel()
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(deadline - time.monotonic(), self._expire)
            self._armed_for = deadline
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        return task, task.cancelling()

    def _expire(self) -> None:
        for task in self._tasks - self._cancelled:
            self._cancelled.add(task)
            task.cancel()

    def leave(self, task: asyncio.Task[object], cancelling: int) -> bool:
        """Stop watching ``task``; True when the deadline cancelled it and nothing else
        did (a second call for the same request is harmless)."""
        self._tasks.discard(task)
        if task not in self._cancelled:
            return False
        self._cancelled.discard(task)
        return task.uncancel() <= cancelling

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._armed_for = None


class LimitedTransport(httpx.AsyncBaseTransport):
    """A transport enforcing the run's deadline and the response size cap.

    It reads each answer whole before returning it (the client never streams), so that
    the deadline bounds the whole exchange without a timer per body chunk.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._watchdog = _Watchdog()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadline = _deadline
        if deadline is None:
            return await self._exchange(request)
        if deadline <= time.monotonic():
            raise _expired(request)
        task, cancelling = self._watchdog.enter(deadline)
        try:
            return await self._exchange(request)
        except asyncio.CancelledError:
            if self._watchdog.leave(task, cancelling):  # the deadline's, not a Ctrl-C
                raise _expired(request) from None
            raise
        finally:
            self._watchdog.leave(task, cancelling)  # (again: no harm)

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        try:
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
                raise ResponseTooLargeError(
                    f"the answer announces {int(length)} bytes, more than "
                    f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MB; refused",
                    method=request.method,
                    path=request.url.path,
                )
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _LimitedStream(response.stream, request)
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    async def aclose(self) -> None:
        self._watchdog.close()
        await self._inner.aclose()
