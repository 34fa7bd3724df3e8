"""``plan``, ``apply``, ``drift`` and ``import``: the commands that talk to an account.

Plan/drift output goes to stdout; logs, warnings and errors go to stderr. Exit codes: 0
success / no changes, 2 changes (``plan --detailed-exitcode``) or drift (``drift``), 1 for
every error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from ringrx_iac.api.client import ClientSettings, RingRxClient
from ringrx_iac.api.errors import RingRxError
from ringrx_iac.api.types import RemoteAccount
from ringrx_iac.cli.commands_lock import account_lock, lock_options
from ringrx_iac.cli.fleet_options import fleet_options
from ringrx_iac.cli.options import client_options, max_rate, one_line_errors, template_options
from ringrx_iac.config.template import VariableError, collect_variables
from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.reconcile.applier import Action, Applier, ApplyReport
from ringrx_iac.reconcile.desired import DesiredState, Locator, from_config
from ringrx_iac.reconcile.engine import apply_and_verify, plan_for
from ringrx_iac.reconcile.importer import ImportProblem, import_yaml, schema_reference
from ringrx_iac.reconcile.live import normalise
from ringrx_iac.reconcile.lock import CHANGED_MESSAGE
from ringrx_iac.reconcile.plan import Plan, PlanFileError, load_plan_file, save_plan_file
from ringrx_iac.reconcile.plan_seal import changes_refusal, secrets_refusal
from ringrx_iac.redact import redact
from ringrx_iac.render.diagnostics import finding_lines, render_text
from ringrx_iac.render.plan import (
    render_apply_report,
    render_plan_json,
    render_plan_markdown,
    render_plan_text,
)
from ringrx_iac.render.terminal import echo, stream_color
from ringrx_iac.validate import validate

PROGRESS_MIN_ACTIONS = 20
STALE_MESSAGE = (
    "the plan is stale: the live account changed since it was made (an edit in the portal, "
    "another apply, or this very plan applied already); nothing was changed; run plan again"
)
APPLIED_MESSAGE = (
    "the plan is stale: the live account changed since it was made and now already matches "
    "it, so this plan was most likely applied already (a saved plan applies once); nothing "
    "was changed; run plan again to check"
)
CANCELLED_MESSAGE = (
    "Apply cancelled: the answer was not 'yes'. Nothing was changed (exit 1; "
    "use --auto-approve to skip the question)."
)


class CommandError(Exception):
    """A user-facing failure: one line on stderr, exit 1."""


_handle_errors = one_line_errors(
    CommandError, RingRxError, VariableError, PlanFileError, ImportProblem
)


@dataclass
class Desired:
    """What a command plans towards: the desired state and where its secrets resolve."""

    state: DesiredState
    base_dir: Path
    locate: Locator | None


def _load_desired(path: str, variables: tuple[str, ...], var_files: tuple[str, ...]) -> Desired:
    """Load and lint the config; validation errors are printed and end the command (1)."""
    values = collect_variables(variables, var_files)
    result = validate(Path(path), values)
    if result.errors or result.config is None:
        echo(
            render_text(result.diagnostics, result.files, stream_color(err=True)),
            err=True,
            nl=False,
        )
        raise click.exceptions.Exit(1)
    warnings = [d for d in result.diagnostics if not d.is_error]
    if warnings:
        echo(render_text(warnings, result.files, stream_color(err=True)), err=True, nl=False)
    return Desired(from_config(result.config), result.base_dir, result.sources.locate)


def _client(parallelism: int, insecure: bool, debug: bool, read_only: bool) -> RingRxClient:
    settings = ClientSettings.from_env(
        os.environ,
        parallelism=parallelism,
        insecure=insecure,
        debug=debug,
        read_only=read_only,
        max_rate=max_rate(),
    )
    return RingRxClient(settings)


def _fetch_read_only(parallelism: int, insecure: bool, debug: bool) -> RemoteAccount:
    """The live account, read with a read-only client (plan, drift, import)."""

    async def run() -> RemoteAccount:
        async with _client(parallelism, insecure, debug, read_only=True) as client:
            return await client.fetch_account()

    return asyncio.run(run())


def _plan_or_exit(desired: Desired, account: RemoteAccount) -> Plan:
    plan = plan_for(desired.state, account, os.environ, desired.base_dir, desired.locate)
    if plan.errors:
        _echo_diagnostics(plan.errors)
        raise click.exceptions.Exit(1)
    return plan


def _echo_diagnostics(diagnostics: list[Diagnostic]) -> None:
    color = stream_color(err=True)
    for d in diagnostics:
        for line in finding_lines(d, f"{d.location}: " if d.location else "", color):
            echo(line, err=True)
    n = sum(1 for d in diagnostics if d.is_error)
    if n:
        echo(f"plan failed: {n} error{'s' if n != 1 else ''}; nothing was changed", err=True)


def _render(plan_dict: Mapping[str, Any], fmt: str, title: str) -> str:
    if fmt == "json":
        return render_plan_json(plan_dict)
    if fmt == "markdown":
        return render_plan_markdown(plan_dict, title)
    return render_plan_text(plan_dict, stream_color(), title)


FORMAT = click.Choice(["text", "json", "markdown"])
FORMAT_HELP = (
    "text for people, json for tools (docs/plan-format.md), markdown for a pull-request comment."
)


@click.command("plan")
@click.argument("path", required=False, type=click.Path(exists=True))
@fleet_options("plan")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True, help=FORMAT_HELP)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False), help="Save the plan for apply --plan."
)
@template_options
@client_options
@_handle_errors
def plan_command(
    path: str,
    fmt: str,
    detailed_exitcode: bool,
    out: str | None,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
    parallelism: int,
    insecure: bool,
    debug: bool,
) -> None:
    """Show what apply would change in the RingRx account (read-only)."""
    desired = _load_desired(path, variables, var_files)
    account = _fetch_read_only(parallelism, insecure, debug)
    plan = plan_for(desired.state, account, os.environ, desired.base_dir, desired.locate)
    # Errors never hide what could be compared: the plan is shown, then the errors (exit 1).
    echo(_render(plan.to_dict(), fmt, "plan"), nl=False)
    if plan.errors:
        _echo_diagnostics(plan.errors)
        raise click.exceptions.Exit(1)
    if out:
        _refuse_literal_secrets(desired.state, out)
        with _writing(out, "the plan"):
            save_plan_file(Path(out), plan, desired.state, desired.base_dir, os.environ)
        echo(f"Saved the plan to {out}; apply it with: ringrx-iac apply --plan {out}", err=True)
    if detailed_exitcode and plan.has_changes:
        raise click.exceptions.Exit(2)


def _refuse_literal_secrets(state: DesiredState, out: str) -> None:
    """A plan file never holds a secret: refuse to save one that apply --plan could not use."""
    found = state.to_dict()["literal_secrets"]
    if not found:
        return
    listed = "; ".join(found)
    raise CommandError(
        f"not saving the plan to {out}: {listed}: a literal value where a secret is expected "
        "(a basic_auth password, or a header whose name looks secret), and a plan file never "
        "holds a secret. Move each value into an environment variable and reference it, e.g. "
        'X-Api-Key: "${env:CRM_KEY}" (or ${file:PATH}); or skip the saved plan and run '
        "'ringrx-iac apply PATH'"
    )


@contextlib.contextmanager
def _writing(path: str, what: str) -> Iterator[None]:
    """An OSError while writing ``path`` becomes one clear line (exit 1), no traceback."""
    try:
        yield
    except OSError as exc:
        raise CommandError(f"cannot write {what} to {path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _action_log(path: str | None) -> Iterator[Callable[[dict[str, Any]], None] | None]:
    if not path:
        yield None
        return
    with _writing(path, "the --log file"):
        fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed below)
    with fh:

        def write(record: dict[str, Any]) -> None:
            fh.write(redact(json.dumps(record, sort_keys=False)) + "\n")
            fh.flush()

        yield write


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise CommandError("refusing to apply without --auto-approve when stdin is not a terminal")
    try:
        answer = click.prompt(
            "Do you want to apply these changes? Only 'yes' will be accepted",
            default="",
            show_default=False,
            err=True,
        )
    except click.exceptions.Abort:  # Ctrl-C or end of input at the prompt
        answer = ""
        echo("", err=True)
    if answer.strip() != "yes":
        echo(CANCELLED_MESSAGE, err=True)
        raise click.exceptions.Exit(1)


class _Progress:
    """A rich progress bar on stderr for long applies on a TTY; otherwise nothing."""

    def __init__(self, total: int) -> None:
        self.bar: Any = None
        if total > PROGRESS_MIN_ACTIONS and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task("Applying", total=total)

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def advance(self, action: Action) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)


@click.command("apply")
@click.argument("path", required=False, type=click.Path(exists=True))
@fleet_options("apply")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (for CI).")
@click.option("--force", is_flag=True, help="Apply even when a safety check refuses.")
@click.option(
    "--plan", "plan_file", type=click.Path(dir_okay=False), help="Apply a plan saved by plan --out."
)
@click.option("--log", "log_file", type=click.Path(dir_okay=False), help="JSON-lines audit log.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json prints {plan, report, remaining} (docs/plan-format.md).",
)
@template_options
@client_options
@lock_options
@_handle_errors
def apply_command(
    path: str | None,
    auto_approve: bool,
    force: bool,
    plan_file: str | None,
    log_file: str | None,
    fmt: str,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
    parallelism: int,
    insecure: bool,
    debug: bool,
    lock_timeout: float,
    force_unlock: bool,
) -> None:
    """Make the RingRx account match the config (or a plan saved with plan --out)."""
    if plan_file and path:
        raise CommandError("give either PATH or --plan FILE, not both")
    if not plan_file and not path:
        raise CommandError("missing PATH (the config file or directory), or --plan FILE")
    saved = load_plan_file(Path(plan_file)) if plan_file else None  # refuses an edited file
    if saved is not None:
        desired = Desired(saved.desired, saved.base_dir, None)
        refusal = secrets_refusal(saved.secrets, os.environ, saved.base_dir)
        if refusal:
            raise CommandError(refusal)
    else:
        assert path is not None
        desired = _load_desired(path, variables, var_files)
    color = stream_color()

    async def run() -> int:
        async with _client(parallelism, insecure, debug, read_only=False) as client:
            account = await client.fetch_account()
            if saved is not None and normalise(account).fingerprint() != saved.live_fingerprint:
                raise CommandError(_why_stale(desired, account))
            plan = _plan_or_exit(desired, account)
            if saved is not None:  # exactly the reviewed changes, or nothing
                refusal = changes_refusal(saved.plan.get("changes"), plan.to_dict()["changes"])
                if refusal:
                    raise CommandError(refusal)
            if fmt == "text":
                echo(render_plan_text(plan.to_dict(), color, "apply"), nl=False)
            if not plan.has_changes:
                if fmt == "json":
                    echo(json.dumps({"plan": plan.to_dict(), "report": None}, indent=2))
                return 0
            violations = plan.safety_violations()
            if violations and not force:
                for d in violations:
                    for line in finding_lines(d, "apply refused: ", stream_color(err=True)):
                        echo(line, err=True)
                return 1
            if not auto_approve and saved is None:
                _confirm()
            with _action_log(log_file) as log:  # a log that cannot be opened: before any write
                async with account_lock(client, lock_timeout, force_unlock):
                    if not await _still_current(client, plan, desired):
                        return 0
                    return await _execute(client, plan, desired, parallelism, log, fmt, color)

    raise click.exceptions.Exit(asyncio.run(run()))


async def _still_current(client: RingRxClient, plan: Plan, desired: Desired) -> bool:
    """Just before the first write, with the lock held: re-read the account.

    True when it is what the plan was made from; False (nothing to do) when another apply
    already made the changes meanwhile; otherwise refuse (exit 1, nothing written).
    """
    account = await client.fetch_account()
    if normalise(account).fingerprint() == plan.live_fingerprint:
        return True
    again = plan_for(desired.state, account, os.environ, desired.base_dir, desired.locate)
    if not again.errors and not again.has_changes:
        echo(
            "Nothing left to do: the account already matches (another apply made these "
            "changes while this one waited for the lock); nothing was written.",
            err=True,
        )
        return False
    raise CommandError(CHANGED_MESSAGE)


def _why_stale(desired: Desired, account: RemoteAccount) -> str:
    """The stale-plan message; it says so when the account already matches the plan."""
    plan = plan_for(desired.state, account, os.environ, desired.base_dir, desired.locate)
    return APPLIED_MESSAGE if not plan.errors and not plan.has_changes else STALE_MESSAGE


async def _execute(
    client: RingRxClient,
    plan: Plan,
    desired: Desired,
    parallelism: int,
    log: Callable[[dict[str, Any]], None] | None,
    fmt: str,
    color: bool,
) -> int:
    loop = asyncio.get_running_loop()
    appliers: list[Applier] = []

    def on_sigint() -> None:
        echo("\nInterrupted: finishing the requests in flight, then stopping.", err=True)
        for applier in appliers:
            applier.stop()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        with _Progress(len(plan.changes)) as progress:
            report, after = await apply_and_verify(
                plan,
                client,
                desired.state,
                os.environ,
                desired.base_dir,
                parallelism=parallelism,
                log=_with_impact(log, plan),
                on_progress=progress.advance,
                on_applier=appliers.append,
            )
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
    _print_report(report, after, fmt, color, plan)
    return 0 if report.ok and report.converged else 1


def _with_impact(
    log: Callable[[dict[str, Any]], None] | None, plan: Plan
) -> Callable[[dict[str, Any]], None] | None:
    """The ``--log`` writer, each record with its reroute (old/new origin) or silence."""
    if log is None:
        return None
    write = log
    return lambda record: write({**record, **plan.impact.log_fields(record)})


def _print_report(report: ApplyReport, after: Plan, fmt: str, color: bool, plan: Plan) -> None:
    if fmt == "json":
        data = {"plan": plan.to_dict(), "report": report.to_dict(), "remaining": after.to_dict()}
        echo(json.dumps(data, indent=2))
        return
    echo(render_apply_report(report.to_dict(), color), nl=False)
    if not report.converged and after.has_changes:
        echo(render_plan_text(after.to_dict(), color, "remaining"), nl=False)


@click.command("import")
@fleet_options("import")
@click.option(
    "--out",
    "out",
    default="-",
    show_default=True,
    help="Write the YAML here ('-' = stdout); with --fleet, a directory: DIR/KEY/callbacks.yaml.",
)
@client_options
@_handle_errors
def import_command(out: str, parallelism: int, insecure: bool, debug: bool) -> None:
    """Write YAML for the live account; secrets become ${env:...} references."""
    schema = schema_reference(Path(out).parent) if out != "-" else None
    result = import_yaml(_fetch_read_only(parallelism, insecure, debug), schema)
    if out == "-":
        echo(result.text, nl=False)
    else:
        with _writing(out, "the YAML"):
            _write_text(Path(out), result.text)
        echo(f"Wrote {out}: {result.count} callbacks.", err=True)
    _check_imported(result.text, out)
    if result.variables:
        echo("Set these variables before plan/apply: " + ", ".join(result.variables), err=True)


def _check_imported(text: str, out: str) -> None:
    """Validate what import wrote; live values the config language refuses are reported.

    The file is still written (it is the account as it is); the findings say what to fix
    in the portal or in the file before plan.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(out).name if out != "-" else "imported.yaml")
        _write_text(path, text)
        found = validate(path).diagnostics
    if not found:
        return
    errors = sum(1 for d in found if d.is_error)
    color = stream_color(err=True)
    echo(
        f"warning: the imported configuration has {errors} error(s) and "
        f"{len(found) - errors} warning(s) of 'ringrx-iac validate' (values the account "
        "holds that the configuration language refuses); fix them before plan:",
        err=True,
    )
    for d in found:
        line = f":{d.location.line}" if d.location and d.location.line else ""
        for text in finding_lines(d, f"{out}{line}: ", color, indent="  "):
            echo(text, err=True)


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` (redacted) to a file only its owner can read (mode 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    fh: IO[str]
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        if stat.S_ISREG(os.fstat(fd).st_mode):  # an existing file keeps no wider mode
            os.fchmod(fd, 0o600)
        fh.write(redact(text))


COMMANDS: list[click.Command] = [plan_command, apply_command, import_command]
