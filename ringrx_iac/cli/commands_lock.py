"""The account lock on the command line: ``apply``'s lock options and ``ringrx-iac unlock``.

See :mod:`ringrx_iac.reconcile.lock` for the design and its guarantees.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import click

from ringrx_iac.api.client import ClientSettings, RingRxClient
from ringrx_iac.api.errors import RingRxError
from ringrx_iac.cli.options import client_options, one_line_errors
from ringrx_iac.reconcile.lock import AccountLock, Lease, break_locks
from ringrx_iac.render.terminal import echo

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_LOCK_TIMEOUT = "5m"
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*\Z")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """``"90"``, ``"90s"``, ``"5m"``, ``"1h"``, ``"0"`` -> seconds (ValueError otherwise)."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration; use e.g. 0, 30s, 5m or 1h")
    return float(match.group(1)) * _UNIT[match.group(2)]


class Duration(click.ParamType):
    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def lock_options(func: F) -> F:
    """``--lock-timeout DURATION`` and ``--force-unlock`` of ``apply``."""
    func = click.option(
        "--force-unlock",
        is_flag=True,
        help="Remove the account's lock first, whoever holds it (after a crashed apply).",
    )(func)
    func = click.option(
        "--lock-timeout",
        type=Duration(),
        default=DEFAULT_LOCK_TIMEOUT,
        show_default=True,
        help="How long to wait while another apply holds the account's lock (0: refuse at once).",
    )(func)
    return func


def _say_removed(removed: list[Lease]) -> None:
    for lease in removed:
        echo(f"Removed the account lock held by {lease.describe()}.", err=True)


@contextlib.asynccontextmanager
async def account_lock(
    client: RingRxClient, timeout: float, force_unlock: bool
) -> AsyncIterator[AccountLock]:
    """Hold the account's lock for the block (messages on stderr); `LockHeld` on timeout."""
    if force_unlock:
        _say_removed(await break_locks(client))

    def waiting(lease: Lease) -> None:
        echo(
            f"Waiting for the account lock, held by {lease.describe()} "
            f"(up to {timeout:g} s; --lock-timeout)...",
            err=True,
        )

    def warn(message: str) -> None:
        echo(f"warning: {message}", err=True)

    async with AccountLock(client, timeout=timeout, on_wait=waiting, on_lost=warn) as lock:
        yield lock


@click.command("unlock")
@client_options
@one_line_errors(RingRxError)
def unlock_command(parallelism: int, insecure: bool, debug: bool) -> None:
    """Remove the account's apply lock (after an apply that died), like force-unlock."""

    async def run() -> list[Lease]:
        settings = ClientSettings.from_env(
            os.environ, parallelism=parallelism, insecure=insecure, debug=debug
        )
        async with RingRxClient(settings) as client:
            return await break_locks(client)

    removed = asyncio.run(run())
    if not removed:
        echo("No lock: no apply holds the account.", err=True)
    _say_removed(removed)


COMMANDS: list[click.Command] = [unlock_command]
