"""One apply at a time per account: a lease kept on the account itself.

The RingRx API offers no lock, so the lease is an inert object in the account: an ``sms``
callback named ``ringrx-iac lock`` that is never bound to a phone number (so it receives
no event) and points at an address that cannot resolve (``.invalid``). Its custom headers
carry the lease: a random token, the holder (``user@host pid N``), when it started and
when it expires. ``normalise`` leaves it out of the live state, so plan, drift, import and
fingerprints never see it.

Acquiring: list the locks; remove expired ones (take-over); if none is alive, create ours,
list again and keep it only if it has the lowest id among the live locks (ids grow, so the
lowest id is the lock created first; a loser removes its own lock). While another live lock
exists, wait (polling) until ``timeout``, then fail naming its holder and start. The
holder renews its lease every third of its lifetime while apply runs and removes it at the
end. ``break_locks`` removes every lock (``ringrx-iac unlock``, ``apply --force-unlock``).

Guarantee: two applies holding leases never overlap while the holder keeps renewing and
the machines' clocks agree within the lease time (120 s): the second either waits or
refuses. Assumptions: callback ids grow (the lowest id was created first), as RingRx's do.
A holder that dies leaves a lease that expires after 120 s (or ``ringrx-iac unlock``).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol

from ringrx_iac.api.errors import NotFoundError, RingRxError
from ringrx_iac.api.headers import parse_headers
from ringrx_iac.api.types import RemoteCallback

LOCK_NAME = "ringrx-iac lock"
LOCK_TYPE = "sms"  # a type that only fires when bound: the lock is never bound
LOCK_URL = "https://lock.ringrx-iac.invalid/never-bound"
LEASE_SECONDS = 120.0
POLL_SECONDS = 2.0
CHANGED_MESSAGE = (
    "refused: the account changed since the plan was made (another apply, or an edit in the "
    "portal); nothing was written. Run apply again to plan from the new state"
)
_TOKEN = "X-Ringrx-Iac-Lock"
_HOLDER = "X-Ringrx-Iac-Holder"
_STARTED = "X-Ringrx-Iac-Started"
_EXPIRES = "X-Ringrx-Iac-Expires"


class LockClient(Protocol):
    """The client methods the lock uses (``RingRxClient``)."""

    async def list_callbacks(self) -> list[RemoteCallback]: ...
    async def create_callback(
        self, fields: dict[str, Any], is_mine: Callable[[RemoteCallback], bool] | None = None
    ) -> RemoteCallback: ...
    async def update_callback(self, callback_id: Any, fields: dict[str, Any]) -> Any: ...
    async def delete_callback(self, callback_id: Any) -> Any: ...


class LockHeld(RingRxError):
    """Another apply holds the account's lock (and waiting for it timed out)."""


def is_lock(name: str) -> bool:
    """Whether a live callback of this name is the lock (never managed, never shown)."""
    return name == LOCK_NAME


@dataclass(frozen=True)
class Lease:
    """One lock callback as read from the account."""

    id: Any
    token: str
    holder: str
    started: float  # epoch seconds
    expires: float

    def expired(self, now: float) -> bool:
        return now >= self.expires

    def describe(self) -> str:
        return (
            f"{self.holder or 'an unknown holder'} since {_iso(self.started)} (lock id {self.id})"
        )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _epoch(text: str | None) -> float:
    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except (TypeError, ValueError):
        return 0.0


def lease_of(cb: RemoteCallback) -> Lease:
    """The lease a lock callback carries (unreadable fields: expired, unknown holder)."""
    h = parse_headers(cb.custom_headers or "")
    return Lease(
        cb.id,
        h.get(_TOKEN, ""),
        h.get(_HOLDER, ""),
        _epoch(h.get(_STARTED)),
        _epoch(h.get(_EXPIRES)),
    )


def default_holder() -> str:
    """``user@host pid N`` (plus the CI run when there is one) naming this apply."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    holder = f"{user}@{socket.gethostname()} pid {os.getpid()}"
    run = os.environ.get("GITHUB_RUN_ID")
    if run:
        holder += f" (GitHub run {run})"
    return holder.replace("\r", " ").replace("\n", " ")


def _order(lease: Lease) -> tuple[int, Any]:
    return (0, lease.id) if isinstance(lease.id, int) else (1, str(lease.id))


async def read_leases(client: LockClient) -> list[Lease]:
    """Every lock callback of the account, lowest id first."""
    return sorted(
        (lease_of(cb) for cb in await client.list_callbacks() if is_lock(cb.name)), key=_order
    )


async def _remove(client: LockClient, lease_id: Any) -> None:
    with contextlib.suppress(NotFoundError):  # already gone: someone else removed it
        await client.delete_callback(lease_id)


async def break_locks(client: LockClient) -> list[Lease]:
    """Remove every lock of the account (whoever holds it); returns what was removed."""
    leases = await read_leases(client)
    for lease in leases:
        await _remove(client, lease.id)
    return leases


class AccountLock:
    """``async with AccountLock(client, timeout=...)``: hold the account's lock meanwhile."""

    def __init__(
        self,
        client: LockClient,
        *,
        timeout: float,
        holder: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        on_wait: Callable[[Lease], None] | None = None,
        on_lost: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.holder = holder or default_holder()
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.on_wait = on_wait
        self.on_lost = on_lost
        self.clock = clock
        self.sleep = sleep
        self.token = secrets.token_hex(16)
        self.lease: Lease | None = None
        self.waited = False
        self._renewer: asyncio.Task[None] | None = None

    def _fields(self, started: float) -> dict[str, Any]:
        expires = self.clock() + self.lease_seconds
        headers = [
            f"{_TOKEN}:{self.token}",
            f"{_HOLDER}:{self.holder}",
            f"{_STARTED}:{_iso(started)}",
            f"{_EXPIRES}:{_iso(expires)}",
        ]
        return {
            "name": LOCK_NAME,
            "type": LOCK_TYPE,
            "url": LOCK_URL,
            "use_basic_auth": False,
            "custom_headers": "\r\n".join(headers),
        }

    def _is_mine(self, cb: RemoteCallback) -> bool:
        return is_lock(cb.name) and lease_of(cb).token == self.token

    async def acquire(self) -> Lease:
        """Take the lock, waiting up to ``timeout`` seconds; `LockHeld` when it stays held."""
        deadline = self.clock() + self.timeout
        while True:
            held_by = await self._try_once()
            if held_by is None:
                assert self.lease is not None
                return self.lease
            if self.clock() >= deadline:
                raise LockHeld(
                    f"the account is locked by another apply: {held_by.describe()}, expiring "
                    f"at {_iso(held_by.expires)}. Wait and run apply again (or pass "
                    "--lock-timeout to wait longer); if that apply died, its lock expires by "
                    "itself, or remove it with 'ringrx-iac unlock'"
                )
            if not self.waited and self.on_wait is not None:
                self.on_wait(held_by)
            self.waited = True
            await self.sleep(max(0.0, min(self.poll_seconds, deadline - self.clock())))

    async def _try_once(self) -> Lease | None:
        """One attempt: None when the lock is ours, else the lease that holds it."""
        now = self.clock()
        leases = await read_leases(self.client)
        alive = [lease for lease in leases if not lease.expired(now)]
        for lease in leases:
            if lease.expired(now):  # take-over of an expired lease
                await _remove(self.client, lease.id)
        if alive:
            return alive[0]
        created = await self.client.create_callback(self._fields(now), is_mine=self._is_mine)
        mine = lease_of(created)
        now = self.clock()
        alive = [lease for lease in await read_leases(self.client) if not lease.expired(now)]
        if alive and alive[0].id != mine.id:  # a lower id was first: it wins, ours goes
            await _remove(self.client, mine.id)
            return alive[0]
        self.lease = mine
        return None

    async def renew(self) -> None:
        """Push the expiry forward (PATCH of the lock's headers)."""
        if self.lease is None:
            return
        fields = self._fields(self.lease.started)
        await self.client.update_callback(
            self.lease.id, {"custom_headers": fields["custom_headers"]}
        )

    async def _renew_forever(self) -> None:
        while True:
            await self.sleep(self.lease_seconds / 3)
            try:
                await self.renew()
            except RingRxError as exc:
                if self.on_lost is not None:
                    self.on_lost(f"could not renew the account lock: {exc}")

    async def release(self) -> None:
        """Remove our lock (if another apply took it over meanwhile, it is gone already)."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        if self.lease is not None:
            lease, self.lease = self.lease, None
            try:
                await _remove(self.client, lease.id)
            except RingRxError as exc:  # never hide what ended the apply
                if self.on_lost is not None:
                    self.on_lost(
                        f"could not remove the account lock (id {lease.id}): {exc}; it expires "
                        "by itself, or remove it with 'ringrx-iac unlock'"
                    )

    async def __aenter__(self) -> AccountLock:
        await self.acquire()
        self._renewer = asyncio.ensure_future(self._renew_forever())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.release()
