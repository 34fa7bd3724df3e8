"""``SimulatorServer``: the simulator on a loopback port, served by uvicorn in a background thread.

with SimulatorServer() as sim:
    sim.base_url   # "http://127.0.0.1:PORT"
    sim.state      # the in-memory State
    sim.env()      # RINGRX_BASE_URL, RINGRX_API_TOKEN, RINGRX_API_SECRET
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from ringrx_iac.api.credentials import is_loopback_host
from ringrx_iac.simulator.app import Simulator
from ringrx_iac.simulator.faults import Faults
from ringrx_iac.simulator.seed import SeedSource
from ringrx_iac.simulator.state import State

STARTUP_TIMEOUT = 10.0


class SimulatorError(RuntimeError):
    """The simulator could not start (port in use, bad host, bad seed...)."""


class SimulatorServer:
    """A running simulator; use as a context manager or call ``start()`` / ``stop()``."""

    def __init__(
        self,
        seed: SeedSource = None,
        state_file: Path | str | None = None,
        token_lifetime: float = 3600,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        rate_limit: float = 0.0,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        fail_next: list[dict[str, Any]] | None = None,
        refresh_lifetime: float = 86400,
        random_seed: int | None = None,
        allow_remote: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback_host(host):
            raise SimulatorError(f"refusing to serve on {host!r}: the simulator is loopback only")
        faults = Faults(seed=random_seed)
        faults.update(
            {
                "latency": latency,
                "rate_limit": rate_limit,
                "error_rate": error_rate,
                "drop_rate": drop_rate,
                "fail_next": list(fail_next or []),
            }
        )
        self.simulator = Simulator(
            seed=seed,
            state_file=state_file,
            token_lifetime=token_lifetime,
            refresh_lifetime=refresh_lifetime,
            faults=faults,
        )
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ properties

    @property
    def state(self) -> State:
        return self.simulator.state

    @property
    def faults(self) -> Faults:
        return self.simulator.faults

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment for the client: base URL and the seed's first API key, when it has one."""
        env = {"RINGRX_BASE_URL": self.base_url}
        with self.state.lock:
            key = next(iter(self.state.keys.values()), None)
        if key is not None:
            env["RINGRX_API_TOKEN"] = key.token
            env["RINGRX_API_SECRET"] = key.secret
        return env

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SimulatorServer:
        """Bind the port and serve in a background thread; returns once accepting."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets that say so
        # (without it every keep-alive request waits ~40 ms for a delayed ACK).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise SimulatorError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror}"
            ) from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.simulator.asgi,
            log_level="warning",
            access_log=False,
            lifespan="off",
            interface="asgi3",
            loop="asyncio",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, args=(self._server, sock), name="ringrx-simulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise SimulatorError(f"simulator did not start: {self._error or 'timeout'}")
            time.sleep(0.002)
        return self

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by start()
            self._error = exc
        finally:
            sock.close()

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        self.simulator.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
