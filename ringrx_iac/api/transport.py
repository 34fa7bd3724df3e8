"""One connection per worker: a pool of single-connection httpx transports.

httpx's own pool (httpcore) scans every connection for every queued request; at 64
requests in flight that scan was a third to a half of the client's CPU. Here each request
borrows a transport holding at most one connection, uses it alone, and gives it back when
its response is closed, so no scan ever sees more than one connection.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator, Callable

import httpx


class _ReturningStream(httpx.AsyncByteStream):
    """A response body that gives its transport back once it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()


@functools.cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    """One SSL context per process and setting: a fleet run makes one client per account,
    and loading the CAs again for each cost ~50 ms of CPU per account."""
    return httpx.create_ssl_context(verify=verify)


class ConnectionPerWorkerTransport(httpx.AsyncBaseTransport):
    """At most ``size`` single-connection transports, made on demand, reused LIFO."""

    def __init__(self, size: int, *, verify: bool = True) -> None:
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None  # one for all (loading CAs takes ~0.1 s)
        self._made: list[httpx.AsyncHTTPTransport] = []
        self._free: asyncio.LifoQueue[httpx.AsyncHTTPTransport | None] = asyncio.LifoQueue()
        for _ in range(max(1, size)):
            self._free.put_nowait(None)  # a slot for a transport not made yet

    def _make(self) -> httpx.AsyncHTTPTransport:
        if self._ssl is None:
            self._ssl = _ssl_context(self._verify)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        transport = httpx.AsyncHTTPTransport(verify=self._ssl, limits=limits)
        self._made.append(transport)
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = await self._free.get() or self._make()
        returned = False

        def give_back() -> None:
            nonlocal returned
            if not returned:
                returned = True
                self._free.put_nowait(transport)

        try:
            response = await transport.handle_async_request(request)
        except BaseException:
            give_back()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ReturningStream(response.stream, give_back)
        return response

    async def aclose(self) -> None:
        for transport in self._made:
            await transport.aclose()
