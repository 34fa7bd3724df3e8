"""``--fleet FILE`` and its selection options on validate/plan/apply/drift/import.

`fleet_options` adds them to a single-account command: without ``--fleet`` the command
runs as before; with it, `commands_fleet.run_fleet_command` (imported only then) runs the
command over the selected accounts. Kept light: single-account commands import this.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ringrx_iac.render.terminal import echo

F = TypeVar("F", bound=Callable[..., Any])
FLEET_ONLY = ("accounts", "tags", "all_accounts", "waves", "max_failures")


class FleetError(click.ClickException):
    """A fleet-level failure (inventory, selection, options): one line, exit 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        echo(f"error: {self.message}", err=True)


def selection_options(func: F) -> F:
    """``--account KEY`` (repeatable), ``--tag KEY=VALUE`` (repeatable), ``--all``."""
    func = click.option("--all", "all_accounts", is_flag=True, help="Every account of the fleet.")(
        func
    )
    func = click.option(
        "--tag",
        "tags",
        multiple=True,
        metavar="KEY=VALUE",
        help="Accounts with this tag (repeatable: all must match).",
    )(func)
    func = click.option(
        "--account",
        "accounts",
        multiple=True,
        metavar="KEY",
        help="This account of the fleet (repeatable).",
    )(func)
    return func


def fleet_options(command: str) -> Callable[[F], F]:
    """Add ``--fleet FILE`` and its selection options to ``command``'s function."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            fleet = kwargs.pop("fleet")
            fleet_kwargs = {
                k: kwargs.pop(k) for k in (*FLEET_ONLY, "accounts_parallelism") if k in kwargs
            }
            if fleet is None:
                used = [k for k in FLEET_ONLY if fleet_kwargs.get(k)]
                if used:
                    flag = "--" + used[0].replace("_", "-").replace("all-accounts", "all")
                    raise FleetError(f"{flag} needs --fleet FILE (the fleet inventory)")
                if not _paths(kwargs) and command not in ("apply", "import"):
                    ctx = click.get_current_context()
                    param = next(p for p in ctx.command.params if p.name in ("path", "paths"))
                    hint = f"'{(param.name or '').upper()}{'...' if param.nargs == -1 else ''}'"
                    raise click.MissingParameter(ctx=ctx, param=param, param_hint=hint)
                return func(**kwargs)
            if _paths(kwargs):
                raise FleetError("give either PATH or --fleet FILE, not both")
            from ringrx_iac.cli.commands_fleet import run_fleet_command

            return run_fleet_command(command, Path(fleet), **fleet_kwargs, **kwargs)

        params: Any = wrapper
        if command == "apply":
            params = click.option(
                "--max-failures",
                type=click.IntRange(1),
                help="Stop starting new accounts after N failures (--fleet).",
            )(params)
            params = click.option(
                "--wave",
                "waves",
                multiple=True,
                metavar="KEY=VALUE",
                help="Apply accounts with this tag first, then the rest; a failure stops "
                "the rollout (repeatable, in order; --fleet).",
            )(params)
        if command != "validate":
            params = click.option(
                "--accounts-parallelism",
                type=click.IntRange(1, 64),
                default=4,
                show_default=True,
                help="Accounts run at once (--fleet).",
            )(params)
        params = selection_options(params)
        params = click.option(
            "--fleet",
            type=click.Path(dir_okay=False),
            help="Run over the accounts of this fleet inventory (fleet.yaml).",
        )(params)
        return params  # type: ignore[no-any-return]

    return decorate


def _paths(kwargs: dict[str, Any]) -> bool:
    """True when the command was given PATH (``validate``: one or more)."""
    return kwargs.get("path") is not None or bool(kwargs.get("paths"))
