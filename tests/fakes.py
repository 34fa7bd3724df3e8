"""In-memory fakes for reconciler tests: a client over a dict, config helpers."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from ringrx_iac.api.errors import ReadOnlyError, ValidationError
from ringrx_iac.api.types import RemoteAccount, RemoteCallback, RemoteTarget
from ringrx_iac.catalog import BIND_KEYS
from ringrx_iac.config.models import Config
from ringrx_iac.reconcile.desired import DesiredState, from_config

FIELDS = ("url", "use_basic_auth", "auth_username", "auth_password", "custom_headers")


class FakeClient:
    """Implements the async methods of ``RingRxClient`` over in-memory state.

    ``fail`` may be set to a function ``(kind, *args) -> Exception | None``: a returned
    exception is raised instead of doing the request. ``calls`` records every write.
    """

    def __init__(
        self,
        callbacks: list[RemoteCallback] | None = None,
        targets: dict[str, list[RemoteTarget]] | None = None,
        *,
        read_only: bool = False,
        delay: float = 0.0,
    ) -> None:
        self.callbacks: dict[Any, RemoteCallback] = {cb.id: cb for cb in callbacks or []}
        self.targets: dict[str, dict[Any, RemoteTarget]] = {
            kind: {t.id: t for t in ts} for kind, ts in (targets or {}).items()
        }
        for kind in BIND_KEYS:
            self.targets.setdefault(kind, {})
        ids = [i for i in self.callbacks if isinstance(i, int)]
        self._ids = itertools.count(max(ids, default=0) + 1)
        self.read_only = read_only
        self.delay = delay
        self.stats: Counter[str] = Counter()
        self.calls: list[tuple[Any, ...]] = []
        self.fail: Callable[..., Exception | None] | None = None

    async def __aenter__(self) -> FakeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def _write(self, kind: str, *args: Any) -> None:
        if self.read_only:
            raise ReadOnlyError(f"read-only client: refusing {kind}")
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail is not None:
            err = self.fail(kind, *args)
            if err is not None:
                raise err
        self.stats[kind] += 1
        self.calls.append((kind, *args))

    async def fetch_account(self) -> RemoteAccount:
        self.stats["list"] += 6
        return RemoteAccount(
            callbacks=list(self.callbacks.values()),
            targets={k: list(v.values()) for k, v in self.targets.items()},
        )

    async def create_callback(self, fields: dict[str, Any]) -> RemoteCallback:
        await self._write("create", fields.get("name"))
        cb = RemoteCallback(
            id=next(self._ids),
            name=fields["name"],
            type=fields["type"],
            url=fields["url"],
            use_basic_auth=bool(fields.get("use_basic_auth")),
            auth_username=fields.get("auth_username"),
            auth_password=fields.get("auth_password"),
            custom_headers=fields.get("custom_headers") or "",
        )
        self.callbacks[cb.id] = cb
        return cb

    async def update_callback(self, callback_id: Any, fields: dict[str, Any]) -> RemoteCallback:
        await self._write("update", callback_id)
        if "type" in fields:
            raise ValidationError({"callback_type": ["cannot be changed"]})
        old = self.callbacks[callback_id]
        data = {**old.__dict__, **{k: v for k, v in fields.items() if k in FIELDS}}
        self.callbacks[callback_id] = RemoteCallback(**data)
        return self.callbacks[callback_id]

    async def delete_callback(self, callback_id: Any) -> None:
        await self._write("delete", callback_id)
        del self.callbacks[callback_id]
        for kind, ts in self.targets.items():
            for tid, t in list(ts.items()):
                if t.callback_id == callback_id:
                    ts[tid] = RemoteTarget(kind, tid, t.keys, None)

    async def bind(self, kind: str, target_id: Any, callback_id: Any) -> RemoteTarget:
        await self._write("bind", kind, target_id, callback_id)
        if callback_id is not None:
            cb = self.callbacks.get(callback_id)
            if cb is None or BIND_KEYS.get(kind) != cb.type:
                raise ValidationError({"callback_id": ["is invalid"]})
        t = self.targets[kind][target_id]
        self.targets[kind][target_id] = RemoteTarget(kind, target_id, t.keys, callback_id)
        return self.targets[kind][target_id]


def desired_from(data: dict[str, Any]) -> DesiredState:
    """A DesiredState from a config mapping (``version: 1`` added), without the loader."""
    return from_config(Config.model_validate({"version": 1, **data}))


def phone(tid: int, number: str, callback_id: Any = None) -> RemoteTarget:
    return RemoteTarget("phone_numbers", tid, {"phonenumber": number}, callback_id)


def mailbox(tid: int, box: str, name: str, callback_id: Any = None) -> RemoteTarget:
    return RemoteTarget("mailboxes", tid, {"mailbox": box, "name": name}, callback_id)


def group(tid: int, name: str, ext: str, callback_id: Any = None) -> RemoteTarget:
    return RemoteTarget("groups", tid, {"name": name, "extension": ext}, callback_id)


# -- CLI helpers for integration tests against the simulator --------------------------------
def run_cli(args: list[str], env: dict[str, str]) -> Any:
    """Invoke ``ringrx-iac`` in-process; returns click's Result (stdout/stderr apart)."""
    from click.testing import CliRunner

    from ringrx_iac.cli import cli

    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def run_demo(module: str, **env: str) -> tuple[int, str]:
    """Run ``python -m module`` (a demo) without any RINGRX_* variable of this process;
    returns its exit code and its stdout + stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RINGRX_")}
    proc = subprocess.run(
        [sys.executable, "-m", module],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=600,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def run_cli_process(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``ringrx-iac`` as a real process (``env`` over ``os.environ``, no stdin, 60 s
    timeout); returns the ``CompletedProcess`` with text stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "ringrx_iac", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def cli_env(sim: Any, **extra: str) -> dict[str, str]:
    """``run_cli``'s environment: the simulator's URL, the API key ``t``/``s`` the seeds of the
    CLI tests hold, and ``extra`` (which may override either)."""
    return {
        "RINGRX_BASE_URL": sim.base_url,
        "RINGRX_API_TOKEN": "t",
        "RINGRX_API_SECRET": "s",
        **extra,
    }


def sim_writes(stats: dict[str, int]) -> int:
    """Write requests in a simulator ``/_sim/stats`` snapshot (auth excluded)."""
    return sum(
        n
        for key, n in stats.items()
        if key.split(" ", 1)[0] in ("POST", "PATCH", "DELETE")
        and "/auth/" not in key
        and "/_sim" not in key
    )


def admin(sim: Any, method: str, path: str, body: Any = None) -> Any:
    """Call the simulator's admin API (``/_sim/...``)."""
    import httpx

    response = httpx.request(method, sim.base_url + "/_sim" + path, json=body, timeout=10)
    response.raise_for_status()
    return response.json() if response.content else None


def spy_max_rates(monkeypatch: Any) -> list[float | None]:
    """The ``max_rate`` of every client's rate limiter made from now on (``--max-rate``)."""
    from ringrx_iac.api import client

    seen: list[float | None] = []
    real = client.RateLimiter

    def spy(*args: Any, **kwargs: Any) -> Any:
        limiter = real(*args, **kwargs)
        seen.append(limiter.max_rate)
        return limiter

    monkeypatch.setattr(client, "RateLimiter", spy)
    return seen
