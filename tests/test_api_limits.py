"""The run's deadline and the size cap, at the transport (api/limits.py).

The deadline is set short so that it passes while a request hangs; nothing is timed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from ringrx_iac.api import limits
from ringrx_iac.api.limits import DeadlineExceededError, LimitedTransport, ResponseTooLargeError


class _Body(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes], hang: asyncio.Event | None = None) -> None:
        self.chunks = chunks
        self.hang = hang
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.hang is not None:
            await self.hang.wait()  # a server that stops sending mid-answer

    async def aclose(self) -> None:
        self.closed = True


class _Inner(httpx.AsyncBaseTransport):
    def __init__(self, body: _Body, headers: dict[str, str] | None = None) -> None:
        self.body = body
        self.headers = headers or {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=self.headers, stream=self.body)


def _request() -> httpx.Request:
    return httpx.Request("GET", "https://api.example/pbxcallbacks")


async def test_the_answer_is_read_whole_and_its_stream_closed() -> None:
    body = _Body([b"[1, ", b"2]"])
    limits.start_deadline(600)
    response = await LimitedTransport(_Inner(body)).handle_async_request(_request())
    assert response.content == b"[1, 2]"
    assert body.closed  # the connection went back before the answer was handed on


async def test_a_body_that_stops_coming_ends_at_the_deadline() -> None:
    limits.start_deadline(0.05)
    transport = LimitedTransport(_Inner(_Body([b"[1, "], hang=asyncio.Event())))
    with pytest.raises(DeadlineExceededError, match="exceeded --timeout 0.05 s"):
        await transport.handle_async_request(_request())
    with pytest.raises(DeadlineExceededError):  # once passed, nothing more is sent
        await transport.handle_async_request(_request())


async def test_many_requests_share_the_deadline_and_each_ends_at_it() -> None:
    limits.start_deadline(0.05)
    transport = LimitedTransport(_Inner(_Body([b"["], hang=asyncio.Event())))
    results = await asyncio.gather(
        *(transport.handle_async_request(_request()) for _ in range(20)), return_exceptions=True
    )
    assert all(isinstance(r, DeadlineExceededError) for r in results)


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    limits.start_deadline(600)
    hang = asyncio.Event()
    transport = LimitedTransport(_Inner(_Body([b"["], hang=hang)))
    task = asyncio.ensure_future(transport.handle_async_request(_request()))
    await asyncio.sleep(0)
    task.cancel()  # Ctrl-C, not the deadline
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_answer_larger_than_the_cap_is_refused() -> None:
    limits.start_deadline(None)
    big = LimitedTransport(_Inner(_Body([b"x"]), {"content-length": str(10**12)}))
    with pytest.raises(ResponseTooLargeError, match="announces"):
        await big.handle_async_request(_request())
    chunk = b"x" * (1024 * 1024)
    growing = _Body([chunk] * 51)
    with pytest.raises(ResponseTooLargeError, match="larger than 50 MB"):
        await LimitedTransport(_Inner(growing)).handle_async_request(_request())
    assert growing.closed
