"""Fleet runs of validate/plan/apply/drift/import (``--fleet FILE``), and ``fleet matrix``.

`run_fleet_command` runs a command over the selected accounts (see
:mod:`ringrx_iac.fleet`) and prints one fleet report; `cli.fleet_options` calls it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from ringrx_iac.cli import commands_reconcile as single
from ringrx_iac.cli.fleet_options import FleetError, selection_options
from ringrx_iac.cli.options import max_rate
from ringrx_iac.config.template import VariableError, collect_variables
from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.fleet.account import ERROR, AccountResult, RunOptions, run_account, validate_account
from ringrx_iac.fleet.inventory import Account, Inventory, SelectionError, load_inventory
from ringrx_iac.fleet.matrix import MATRIX_FORMATS, render_matrix
from ringrx_iac.fleet.report import (
    fleet_dict,
    render_fleet_json,
    render_fleet_markdown,
    render_fleet_text,
)
from ringrx_iac.fleet.runner import run_fleet
from ringrx_iac.render.diagnostics import render_github, render_text
from ringrx_iac.render.terminal import echo, stream_color


def _inventory(path: Path) -> Inventory:
    inv = load_inventory(path)
    if inv.errors:
        echo(render_text(inv.diagnostics, [str(path)], stream_color(err=True)), err=True, nl=False)
        raise click.exceptions.Exit(1)
    return inv


def _select(
    inv: Inventory,
    accounts: tuple[str, ...],
    tags: tuple[str, ...],
    everything: bool,
    default_all: bool,
) -> list[Account]:
    try:
        return inv.select(accounts, tags, everything or (default_all and not accounts and not tags))
    except SelectionError as exc:
        raise FleetError(str(exc)) from None


def run_fleet_command(command: str, fleet: Path, **kw: Any) -> None:
    """Run ``command`` over the selected accounts, print the fleet report, exit 0/2/1."""
    for option in ("out", "plan_file"):
        if kw.get(option) and command in ("plan", "apply"):
            flag = "--out" if option == "out" else "--plan"
            raise FleetError(f"{flag} is not supported with --fleet")
    inv = _inventory(fleet)
    selected = _select(inv, kw["accounts"], kw["tags"], kw["all_accounts"], command != "apply")
    try:
        variables = collect_variables(kw.get("variables", ()), kw.get("var_files", ()))
    except VariableError as exc:
        raise FleetError(str(exc)) from None
    opts = RunOptions(
        base_dir=inv.base_dir,
        variables=variables,
        parallelism=kw.get("parallelism", 8),
        max_rate=max_rate(),
        insecure=kw.get("insecure", False),
        debug=kw.get("debug", False),
        force=kw.get("force", False),
        fail_on=kw.get("fail_on") or "low",
        force_unlock=kw.get("force_unlock", False),
        **({"lock_timeout": kw["lock_timeout"]} if kw.get("lock_timeout") is not None else {}),
        write_text=single._write_text,
        out_dir=Path(kw["out"])
        if command == "import" and kw.get("out") not in (None, "-")
        else Path("."),
    )
    if command == "validate":
        _validate(selected, opts, kw["output_format"], kw["strict"])
        return
    if command == "apply" and not kw.get("auto_approve"):
        _confirm_fleet(selected, opts, kw)
    with _action_log(kw.get("log_file")) as log:
        results = asyncio.run(
            _interruptible(
                selected,
                lambda account: run_account(command, account, opts, log),
                opts,
                parallelism=kw["accounts_parallelism"],
                waves=kw.get("waves", ()),
                max_failures=kw.get("max_failures"),
            )
        )
    _finish(command, results, kw.get("fmt", "text"))


async def _interruptible(
    selected: list[Account], job: Any, opts: RunOptions, **options: Any
) -> list[AccountResult]:
    """`run_fleet` where Ctrl-C starts no new account and lets each running apply finish
    its requests in flight, then stop (as a single apply does); all are reported."""
    loop = asyncio.get_running_loop()
    cancel = asyncio.Event()

    def on_sigint() -> None:
        if not cancel.is_set():
            echo("\nInterrupted: finishing the requests in flight; no new account.", err=True)
        cancel.set()
        for applier in opts.appliers:
            applier.stop()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        return await run_fleet(selected, job, cancel=cancel, **options)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)


def _finish(command: str, results: list[AccountResult], fmt: str) -> None:
    data = fleet_dict(command, results)
    if fmt == "json":
        echo(render_fleet_json(data), nl=False)
    elif fmt == "markdown":
        echo(render_fleet_markdown(data), nl=False)
    else:
        echo(render_fleet_text(data, stream_color()), nl=False)
    raise click.exceptions.Exit(data["exit_code"])


def _validate(selected: list[Account], opts: RunOptions, fmt: str, strict: bool) -> None:
    results = [validate_account(a, opts) for a in selected]
    if strict:
        for r in results:
            if r.status != ERROR and r.diagnostics:
                r.status = ERROR
                r.error = f"{len(r.diagnostics)} warning(s) and --strict"
    if fmt == "github":
        seen: dict[Diagnostic, None] = {}
        for r in results:
            seen.update(dict.fromkeys(r.diagnostics))
        echo(render_github(list(seen)), nl=False)
        raise click.exceptions.Exit(1 if any(r.failed for r in results) else 0)
    _finish("validate", results, fmt)


def _confirm_fleet(selected: list[Account], opts: RunOptions, kw: dict[str, Any]) -> None:
    """Without --auto-approve: plan every account, show the report, ask once for ``yes``."""
    if not sys.stdin.isatty():
        raise FleetError("refusing to apply without --auto-approve when stdin is not a terminal")
    results = asyncio.run(
        run_fleet(
            selected,
            lambda account: run_account("plan", account, opts),
            parallelism=kw["accounts_parallelism"],
        )
    )
    echo(render_fleet_text(fleet_dict("plan", results), stream_color()), nl=False)
    with _single_errors():
        single._confirm()


@contextlib.contextmanager
def _single_errors() -> Iterator[None]:
    """The single-account helpers' CommandError as a fleet error (one line, exit 1)."""
    try:
        yield
    except single.CommandError as exc:
        raise FleetError(str(exc)) from None


@contextlib.contextmanager
def _action_log(path: str | None) -> Iterator[Callable[[str, dict[str, Any]], None] | None]:
    """``--log FILE`` over a fleet: apply's JSON lines, each with the account's key."""
    with _single_errors(), single._action_log(path) as write:
        if write is None:
            yield None
            return
        log = write

        def write_for(account: str, record: dict[str, Any]) -> None:
            log({"account": account, **record})

        yield write_for


@click.group("fleet")
def fleet_group() -> None:
    """Fleet helpers (many RingRx accounts in one repository)."""


@fleet_group.command("matrix")
@click.option(
    "--fleet",
    type=click.Path(dir_okay=False),
    default="fleet.yaml",
    show_default=True,
    help="The fleet inventory.",
)
@selection_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(MATRIX_FORMATS),
    default="github",
    show_default=True,
    help="github: a JSON matrix for fromJSON(); gitlab: a parallel:matrix block; "
    "json/text: the keys.",
)
def matrix_command(
    fleet: str, accounts: tuple[str, ...], tags: tuple[str, ...], all_accounts: bool, fmt: str
) -> None:
    """Print the selected account keys as a CI matrix (one job per account)."""
    inv = _inventory(Path(fleet))
    selected = _select(inv, accounts, tags, all_accounts, default_all=True)
    echo(render_matrix(selected, fmt), nl=False)


COMMANDS: list[click.Command] = [fleet_group]
