"""``drift``: compare the account with the configuration, read-only, for a cron job.

Drift always reports: an error (invalid configuration, unknown target, unset secret, an
unreachable account) is collected, and every difference that can still be computed is
printed, in every format; the JSON always parses and holds ``in_sync``, ``changes``,
``errors`` and ``findings``. Exit codes: 1 when an error prevented a complete comparison
(whatever was found is still shown), else 2 when a finding is at least ``--fail-on``
(default ``low``: any drift), else 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import click

from ringrx_iac import notify
from ringrx_iac.api.errors import RingRxError
from ringrx_iac.cli.commands_reconcile import FORMAT, FORMAT_HELP, _fetch_read_only
from ringrx_iac.cli.fleet_options import fleet_options
from ringrx_iac.cli.options import client_options, template_options
from ringrx_iac.config.template import VariableError, collect_variables
from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.reconcile.desired import from_config
from ringrx_iac.reconcile.engine import plan_live
from ringrx_iac.reconcile.findings import (
    SEVERITIES,
    Finding,
    at_least,
    drift_findings,
    lock_impostors,
)
from ringrx_iac.reconcile.live import normalise
from ringrx_iac.reconcile.plan import Plan
from ringrx_iac.render.diagnostics import finding_lines
from ringrx_iac.render.drift import render_drift
from ringrx_iac.render.terminal import echo, stream_color
from ringrx_iac.validate import validate


@dataclass
class DriftResult:
    """A drift check: the plan (possibly partial), its findings and what prevented more."""

    plan: Plan
    findings: list[Finding] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.errors

    @property
    def in_sync(self) -> bool:
        return self.complete and not self.plan.has_changes and not self.findings

    def to_dict(self) -> dict[str, Any]:
        data = self.plan.to_dict()
        data["warnings"] = [d.to_dict() for d in self.warnings] + data["warnings"]
        data["errors"] = [d.to_dict() for d in self.errors]
        data["findings"] = [f.to_dict() for f in self.findings]
        data["in_sync"] = self.in_sync
        data["complete"] = self.complete
        return data

    def exit_code(self, fail_on: str) -> int:
        if self.errors:
            return 1
        return 2 if any(f.at_least(fail_on) for f in self.findings) else 0


def _error(message: str) -> Diagnostic:
    return Diagnostic("", "error", message)


def _empty_plan() -> Plan:
    return Plan(changes=[], live_fingerprint="", desired_fingerprint="")


def check_drift(
    path: str,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
    parallelism: int,
    insecure: bool,
    debug: bool,
) -> DriftResult:
    """Load, fetch, plan and classify, collecting every error instead of stopping at it."""
    try:
        result = validate(Path(path), collect_variables(variables, var_files))
    except VariableError as exc:
        return DriftResult(_empty_plan(), errors=[_error(str(exc))])
    errors = list(result.errors)
    warnings = list(result.warnings)
    if result.config is None:
        return DriftResult(_empty_plan(), errors=errors, warnings=warnings)
    desired = from_config(result.config)
    try:
        account = _fetch_read_only(parallelism, insecure, debug)
    except RingRxError as exc:
        return DriftResult(
            _empty_plan(), errors=[*errors, _error(f"cannot read the account: {exc}")]
        )
    live = normalise(account)
    plan = plan_live(desired, live, os.environ, result.base_dir, result.sources.locate)
    findings = lock_impostors(account) + drift_findings(plan, live, desired)
    return DriftResult(plan, findings, [*errors, *plan.errors], warnings)


def _echo_errors(errors: list[Diagnostic]) -> None:
    """Errors on stderr, one located line each with its hint, then one summary line."""
    color = stream_color(err=True)
    for d in errors:
        for line in finding_lines(d, f"{d.location}: " if d.location else "", color):
            echo(line, err=True)
    n = len(errors)
    echo(
        f"drift check incomplete: {n} error{'s' if n != 1 else ''}; "
        "the differences that could be computed are shown",
        err=True,
    )


@click.command("drift")
@click.argument("path", required=False, type=click.Path(exists=True))
@fleet_options("drift")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True, help=FORMAT_HELP)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="low",
    show_default=True,
    help="Exit 2 only for findings of this severity or worse (critical > high > low).",
)
@click.option(
    "--notify",
    "notify_url",
    metavar="URL",
    help="Post a summary to this Slack-style incoming webhook (https, or http to loopback) "
    "when the drift changed since the last notification, and once when it clears.",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False),
    help="With --notify: keep the fingerprint of what was last notified here.",
)
@template_options
@client_options
def drift_command(
    path: str | None,
    fmt: str,
    fail_on: str,
    notify_url: str | None,
    state_file: str | None,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
    parallelism: int,
    insecure: bool,
    debug: bool,
) -> None:
    """Compare the account with the config, read-only: exit 0 in sync, 2 drift, 1 error."""
    assert path is not None  # fleet_options runs --fleet, or insists on PATH
    if state_file and not notify_url:
        _fail("--state needs --notify URL (it records what was last notified)")
    if notify_url:
        try:
            notify.check_url(notify_url)
        except notify.NotifyError as exc:
            _fail(str(exc))
    result = check_drift(path, variables, var_files, parallelism, insecure, debug)
    data = result.to_dict()
    echo(render_drift(data, fmt, stream_color()), nl=False)
    if result.errors:
        _echo_errors(result.errors)
    code = result.exit_code(fail_on)
    if notify_url:
        try:
            _notify(notify_url, state_file, data, path, fail_on)
        except notify.NotifyError as exc:
            echo(f"error: {exc}", err=True)
            code = 1
    raise click.exceptions.Exit(code)


def _fail(message: str) -> NoReturn:
    echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(1)


def _notify(
    url: str, state_file: str | None, data: dict[str, Any], source: str, fail_on: str
) -> None:
    """Post what changed since the last notification (findings of at least ``fail_on``)."""
    shown = {**data, "findings": [f for f in data["findings"] if at_least(f["severity"], fail_on)]}
    previous = notify.read_state(Path(state_file)) if state_file else None
    decision = notify.decide(shown, previous, source, stateful=bool(state_file))
    if decision.message is not None:
        notify.post(url, decision.message)
        echo(f"Notified the webhook: {decision.kind}.", err=True)
    if state_file and decision.kind != "unchanged":
        notify.write_state(Path(state_file), decision.fingerprint)


COMMANDS: list[click.Command] = [drift_command]
