"""Test and bench support: a local webhook receiver and the simulator as a subprocess.

``make demo`` (:mod:`ringrx_iac.demo`) and the benchmarks in ``bench/`` use these; they are
not part of the CLI.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from ringrx_iac.sensitive import is_secret_header_name

# The simulator's default seed holds these demo API credentials (used if it does not print them).
DEFAULT_SIM_ENV: dict[str, str] = {
    "RINGRX_API_TOKEN": "demo-api-token",
    "RINGRX_API_SECRET": "demo-api-secret",
}
START_TIMEOUT = 30.0


class HarnessError(Exception):
    """The simulator or the receiver did not behave; the message says how."""


@dataclass
class Received:
    """One request the receiver got (secret header values already masked)."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    content_type: str
    size: int


def mask_headers(
    headers: Sequence[tuple[str, str]], secrets: Sequence[str]
) -> list[tuple[str, str]]:
    """Headers with secret values masked: by header name, or by containing a known secret."""
    out: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out.append((name, f"{scheme} ********".strip()))
        elif is_secret_header_name(name) or any(s and s in value for s in secrets):
            out.append((name, "******** (masked)"))
        else:
            out.append((name, value))
    return out


@dataclass
class Receiver:
    """A local webhook receiver on 127.0.0.1 that records what it gets and answers 200."""

    secrets: Sequence[str]
    received: queue.Queue[Received] = field(default_factory=queue.Queue)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.received.put(
                    Received(
                        method=self.command,
                        path=self.path,
                        headers=mask_headers(list(self.headers.items()), receiver.secrets),
                        content_type=self.headers.get("Content-Type", ""),
                        size=len(body),
                    )
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_PATCH = do_GET = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # printed by the demo instead

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


class SimulatorProcess:
    """``ringrx-iac simulator --port 0`` as a subprocess; its env parsed from its output."""

    def __init__(self, args: Sequence[str] = ()) -> None:
        self.args = list(args)  # extra options, e.g. ["--seed", FILE, "--latency", "0.02"]
        self.proc: subprocess.Popen[str] | None = None
        self.env: dict[str, str] = {}
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ringrx_iac", "simulator", "--port", "0", *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while "RINGRX_BASE_URL" not in self.env:
            left = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(0.05, left))
            except queue.Empty:
                line = ""
            if line is None or left <= 0:
                tail = "\n".join(self.output[-20:])
                raise HarnessError(f"the simulator did not print RINGRX_BASE_URL:\n{tail}")
            self._parse(line)
        for key, value in DEFAULT_SIM_ENV.items():
            self.env.setdefault(key, value)
        self.wait_ready()

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip("\n"))
            self._lines.put(line)
        self._lines.put(None)

    def _parse(self, line: str) -> None:
        text = line.strip()
        if text.startswith("export "):
            text = text[len("export ") :]
        key, sep, value = text.partition("=")
        if sep and key.startswith("RINGRX_") and key.isupper():
            self.env[key] = value.strip().strip("'\"")

    def wait_ready(self) -> None:
        """Wait until the admin API answers."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                admin("GET", self.base_url, "/_sim/stats")
                return
            except (httpx.HTTPError, HarnessError):
                if time.monotonic() > deadline:
                    raise HarnessError(
                        f"the simulator at {self.base_url} does not answer"
                    ) from None
                time.sleep(0.1)

    @property
    def base_url(self) -> str:
        return self.env["RINGRX_BASE_URL"].rstrip("/")

    def stop(self) -> None:
        """SIGTERM (the simulator stops cleanly on it), SIGKILL after 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def admin(method: str, base_url: str, path: str, body: Any = None) -> Any:
    """A call to the simulator's admin API; raises HarnessError on a non-2xx answer."""
    with httpx.Client(base_url=base_url, timeout=30.0, trust_env=False) as http:
        response = http.request(method, path, json=body)
    if response.status_code >= 300:
        raise HarnessError(
            f"{method} {path} answered {response.status_code}: {response.text[:300]}"
        )
    return response.json() if response.content else None
