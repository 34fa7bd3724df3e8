"""A webhook receiver on loopback for tests: records every request, answers as told."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    delay: float = 0.0  # seconds to wait before answering (for timeouts)


@dataclass
class Receiver:
    """``with Receiver() as r:`` serves on ``r.url``; ``r.answer`` decides each response."""

    answer: Callable[[Received, int], Answer] = field(default=lambda req, n: Answer())
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                got = Received(self.command, self.path, list(self.headers.items()), b"")
                got.body = self.rfile.read(length)
                outer.requests.append(got)
                ans = outer.answer(got, len(outer.requests))
                if ans.delay:
                    time.sleep(ans.delay)
                try:
                    self.send_response(ans.status)
                    self.send_header("Content-Type", ans.content_type)
                    self.send_header("Content-Length", str(len(ans.body)))
                    self.end_headers()
                    self.wfile.write(ans.body)
                except OSError:  # the client gave up (a timeout test)
                    pass

            do_POST = do_GET = do_PUT = _any  # noqa: N815 (http.server's naming)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
