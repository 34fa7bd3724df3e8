"""A light HTTP/1.1 load generator: raw keep-alive requests over asyncio streams.

Used by ``bench_simulator`` so that the figure is the simulator's, not the client's: a
request costs this generator a few tens of microseconds (httpx costs about a millisecond),
and several generator processes run side by side. ``python -m bench.loadgen URL PATH TOKEN
SECONDS CONNECTIONS`` prints ``requests failures`` after running for ``SECONDS``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from urllib.parse import urlsplit


async def _connection(
    host: str, port: int, request: bytes, deadline: float, counts: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < deadline:
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            counts[0] += 1
            if not status_line.startswith(b"HTTP/1.1 200"):
                counts[1] += 1
    finally:
        writer.close()


async def hammer(url: str, path: str, token: str, seconds: float, connections: int) -> list[int]:
    """[requests, failures] of ``connections`` keep-alive loops of ``GET path`` for ``seconds``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()
    counts = [0, 0]
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(_connection(host, port, request, deadline, counts) for _ in range(connections))
    )
    return counts


if __name__ == "__main__":
    base, target, bearer, duration, conns = sys.argv[1:6]
    done, failed = asyncio.run(hammer(base, target, bearer, float(duration), int(conns)))
    print(done, failed)
