"""The reconcile loop used by the CLI and the tests: plan, apply, verify convergence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ringrx_iac.api.types import RemoteAccount
from ringrx_iac.gcpause import gc_paused
from ringrx_iac.reconcile.applier import Action, Applier, ApplyReport, WriteClient
from ringrx_iac.reconcile.desired import (
    DesiredState,
    Locator,
    resolve_secrets,
    with_live_unknowns,
)
from ringrx_iac.reconcile.live import LiveState, normalise
from ringrx_iac.reconcile.plan import Plan
from ringrx_iac.reconcile.planner import make_plan


@gc_paused()  # bulk allocation of long-lived objects: see ringrx_iac.gcpause
def plan_for(
    desired: DesiredState,
    account: RemoteAccount,
    env: Mapping[str, str],
    base_dir: Path,
    locate: Locator | None = None,
) -> Plan:
    """Resolve secrets and diff against ``account``; secret errors land in ``plan.errors``."""
    return plan_live(desired, normalise(account), env, base_dir, locate)


@gc_paused()
def plan_live(
    desired: DesiredState,
    live: LiveState,
    env: Mapping[str, str],
    base_dir: Path,
    locate: Locator | None = None,
) -> Plan:
    """:func:`plan_for` on a normalised account. A secret that cannot be resolved is an
    error and its field is compared as unknown (never shown as a change)."""
    resolved, errors = resolve_secrets(desired, env, base_dir, locate)
    if errors:
        by_name: dict[str, Any] = {}
        for cb in live.callbacks:
            by_name.setdefault(cb.name, cb)
        resolved = with_live_unknowns(resolved, by_name)
    plan = make_plan(desired, live, resolved, locate)
    plan.errors[:0] = errors
    return plan


async def apply_and_verify(
    plan: Plan,
    client: Any,
    desired: DesiredState,
    env: Mapping[str, str],
    base_dir: Path,
    *,
    parallelism: int = 8,
    log: Callable[[dict[str, Any]], None] | None = None,
    on_progress: Callable[[Action], None] | None = None,
    on_applier: Callable[[Applier], None] | None = None,
) -> tuple[ApplyReport, Plan]:
    """Apply ``plan``, re-read the account and re-plan: ``report.converged`` says if empty."""
    applier = Applier(
        plan, _as_writer(client), parallelism=parallelism, log=log, on_progress=on_progress
    )
    if on_applier is not None:
        on_applier(applier)
    report = await applier.run()
    account = await client.fetch_account()
    after = plan_for(desired, account, env, base_dir)
    report.converged = not after.errors and not after.has_changes
    return report, after


def _as_writer(client: Any) -> WriteClient:
    return client  # type: ignore[no-any-return]
