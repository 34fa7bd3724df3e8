"""One account of a fleet, end to end: its configuration, its client, one command.

Every step is the single-account pipeline (``config.loader.load``, ``reconcile.engine``,
``reconcile.importer``); this module only feeds it per-account inputs: the account's
template variables and config paths, and client settings built from the inventory's
credential references (``os.environ`` is read, never changed). Each function returns an
:class:`AccountResult` instead of printing or exiting, so that one account's failure never
stops the others.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringrx_iac.api.client import ClientSettings, RingRxClient
from ringrx_iac.api.credentials import ApiKeyCredentials
from ringrx_iac.api.errors import RingRxError
from ringrx_iac.api.types import RemoteAccount
from ringrx_iac.config import secrets
from ringrx_iac.config.loader import LoadResult
from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.fleet.inventory import Account
from ringrx_iac.reconcile.applier import Applier
from ringrx_iac.reconcile.desired import DesiredState, from_config
from ringrx_iac.reconcile.engine import apply_and_verify, plan_for
from ringrx_iac.reconcile.findings import drift_findings
from ringrx_iac.reconcile.importer import ImportProblem, import_yaml
from ringrx_iac.reconcile.live import normalise
from ringrx_iac.reconcile.lock import CHANGED_MESSAGE, LEASE_SECONDS, AccountLock, break_locks
from ringrx_iac.reconcile.plan import Plan
from ringrx_iac.redact import redact
from ringrx_iac.validate import validate

# Statuses of an account in a fleet report.
IN_SYNC, CHANGES, APPLIED, IMPORTED, VALID = "in_sync", "changes", "applied", "imported", "valid"
ERROR, SKIPPED = "error", "skipped"
FAILED_STATUSES = (ERROR, SKIPPED)
FleetLog = Callable[[str, dict[str, Any]], None]


@dataclass
class AccountResult:
    """What one command did to one account; ``to_dict`` is its object in the JSON report."""

    account: Account
    status: str
    error: str | None = None
    plan: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    remaining: dict[str, Any] | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    output: str | None = None  # import: the directory written
    callbacks: int | None = None  # import: callbacks written
    variables: list[str] = field(default_factory=list)  # import: secrets to set

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def changes(self) -> int:
        summary = (self.plan or {}).get("summary") or {}
        return int(summary.get("total", 0))

    def to_dict(self) -> dict[str, Any]:
        a = self.account
        out: dict[str, Any] = {
            "key": a.key,
            "name": a.name,
            "tags": dict(a.tags),
            "status": self.status,
            "changes": self.changes,
            "error": self.error,
            "summary": (self.plan or {}).get("summary"),
            "plan": self.plan,
            "report": self.report,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }
        if self.remaining is not None:
            out["remaining"] = self.remaining
        if self.output is not None:
            out.update(output=self.output, callbacks=self.callbacks, variables=self.variables)
        return out


@dataclass(frozen=True)
class RunOptions:
    """Options shared by every account of one fleet run."""

    base_dir: Path  # the inventory's directory: ${file:...} credentials resolve from here
    variables: Mapping[str, Any] = field(default_factory=dict)  # --var / --var-file (win)
    parallelism: int = 8
    max_rate: float | None = None  # --max-rate: requests per second, per account
    insecure: bool = False
    debug: bool = False
    force: bool = False
    fail_on: str = "low"  # drift: the least severe finding that counts as drift
    lock_timeout: float = LEASE_SECONDS * 2.5  # apply: wait this long for the account's lock
    force_unlock: bool = False  # apply: remove the account's lock first
    out_dir: Path | None = None  # import: DIR/KEY/callbacks.yaml
    # import: writes a file (the CLI's: redacted, mode 0600); default a plain redacted write
    write_text: Callable[[Path, str], None] | None = None
    # apply: every running Applier joins this list (Ctrl-C stops them all)
    appliers: list[Applier] = field(default_factory=list)


def load_account(account: Account, variables: Mapping[str, Any] | None = None) -> LoadResult:
    """The account's configuration: its last config path extending the earlier ones."""
    values = {**account.variables, **(variables or {})}
    *bases, path = account.configs
    return validate(path, values, bases=bases)


def client_settings(account: Account, opts: RunOptions, *, read_only: bool) -> ClientSettings:
    """Client settings from the inventory: the account's URL and resolved API key.

    Raises :class:`secrets.SecretError` (names the variable or file, never a value) or a
    :class:`RingRxError` for a refused base URL.
    """
    token = secrets.resolve(account.api_key, os.environ, opts.base_dir).strip()
    secret = secrets.resolve(account.api_secret, os.environ, opts.base_dir).strip()
    if not token or not secret:
        empty = account.api_key if not token else account.api_secret
        raise secrets.SecretError(f"the credential {empty} is empty")
    return ClientSettings(
        base_url=account.base_url,
        credentials=ApiKeyCredentials(token, secret),
        parallelism=opts.parallelism,
        max_rate=opts.max_rate,
        insecure=opts.insecure,
        debug=opts.debug,
        read_only=read_only,
    )


def _invalid(account: Account, result: LoadResult) -> AccountResult:
    n = len(result.errors)
    return AccountResult(
        account,
        ERROR,
        f"the configuration has {n} error{'s' if n != 1 else ''}; nothing was sent to RingRx",
        diagnostics=result.diagnostics,
    )


def validate_account(account: Account, opts: RunOptions) -> AccountResult:
    """Offline: load and lint the account's configuration (no credentials, no secrets)."""
    result = load_account(account, opts.variables)
    if result.has_errors:
        return _invalid(account, result)
    return AccountResult(account, VALID, diagnostics=result.diagnostics)


async def run_account(
    command: str, account: Account, opts: RunOptions, log: FleetLog | None = None
) -> AccountResult:
    """``plan``, ``drift``, ``apply`` or ``import`` for one account; never raises for a
    failure of the account (its configuration, credentials, network or the API).
    ``log(account_key, record)`` receives apply's audit records."""
    try:
        if command == "import":
            return await _import(account, opts)
        return await _reconcile(command, account, opts, log)
    except (RingRxError, secrets.SecretError, ImportProblem, OSError) as exc:
        return AccountResult(account, ERROR, str(exc))
    except Exception as exc:  # a bug must not stop the other accounts either
        return AccountResult(account, ERROR, f"unexpected error: {type(exc).__name__}: {exc}")


async def _reconcile(
    command: str, account: Account, opts: RunOptions, log: FleetLog | None
) -> AccountResult:
    loaded = load_account(account, opts.variables)
    if loaded.has_errors or loaded.config is None:
        return _invalid(account, loaded)
    warnings = loaded.warnings
    desired = from_config(loaded.config)
    settings = client_settings(account, opts, read_only=command != "apply")
    async with RingRxClient(settings) as client:
        live = await client.fetch_account()
        plan = plan_for(desired, live, os.environ, loaded.base_dir, loaded.sources.locate)
        if plan.errors:
            n = len(plan.errors)
            return AccountResult(
                account,
                ERROR,
                f"plan failed: {n} error{'s' if n != 1 else ''}; nothing was changed",
                plan=None,
                diagnostics=[*warnings, *plan.errors],
            )
        data = plan.to_dict()
        if command == "drift":
            return _drift(account, plan, data, live, desired, warnings, opts.fail_on)
        if not plan.has_changes:
            return AccountResult(account, IN_SYNC, plan=data, diagnostics=warnings)
        if command != "apply":
            return AccountResult(account, CHANGES, plan=data, diagnostics=warnings)
        violations = plan.safety_violations()
        if violations and not opts.force:
            return AccountResult(
                account,
                ERROR,
                "apply refused: " + "; ".join(d.message for d in violations),
                plan=data,
                diagnostics=[*warnings, *violations],
            )
        if opts.force_unlock:
            await break_locks(client)
        async with AccountLock(client, timeout=opts.lock_timeout):  # one apply at a time
            fresh = normalise(await client.fetch_account())  # re-read before the first write
            if fresh.fingerprint() != plan.live_fingerprint:
                return AccountResult(account, ERROR, CHANGED_MESSAGE, plan=data)
            report, after = await apply_and_verify(
                plan,
                client,
                desired,
                os.environ,
                loaded.base_dir,
                parallelism=opts.parallelism,
                log=None if log is None else functools.partial(log, account.key),
                on_applier=opts.appliers.append,
            )
    result = AccountResult(account, APPLIED, plan=data, report=report.to_dict())
    result.diagnostics = warnings
    if not (report.ok and report.converged):
        result.status = ERROR
        result.remaining = after.to_dict()
        summary = report.to_dict()["summary"]
        result.error = (
            f"apply failed: {summary['done']} done, {summary['failed']} failed, "
            f"{summary['skipped']} skipped"
            if not report.ok
            else "apply finished but the account has not converged; run plan to see what is left"
        )
    return result


def _drift(
    account: Account,
    plan: Plan,
    data: dict[str, Any],
    live: RemoteAccount,
    desired: DesiredState,
    warnings: list[Diagnostic],
    fail_on: str,
) -> AccountResult:
    """A drift check as the single-account ``drift`` classifies it: the account drifted
    when a finding is at least ``fail_on`` (issue 9's severities)."""
    findings = drift_findings(plan, normalise(live), desired)
    data["findings"] = [f.to_dict() for f in findings]
    drifted = any(f.at_least(fail_on) for f in findings)
    data["in_sync"] = not plan.has_changes and not findings
    return AccountResult(account, CHANGES if drifted else IN_SYNC, plan=data, diagnostics=warnings)


async def _import(account: Account, opts: RunOptions) -> AccountResult:
    settings = client_settings(account, opts, read_only=True)
    async with RingRxClient(settings) as client:
        live = await client.fetch_account()
    imported = import_yaml(live)
    out_dir = (opts.out_dir or Path("imported")) / account.key
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "callbacks.yaml"
    if opts.write_text is not None:
        opts.write_text(path, imported.text)
    else:
        path.write_text(redact(imported.text), encoding="utf-8")
    return AccountResult(
        account,
        IMPORTED,
        output=str(out_dir),
        callbacks=imported.count,
        variables=list(imported.variables),
    )
