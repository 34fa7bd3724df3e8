"""The reconcile loop used by the CLI and the tests: plan, apply, verify convergence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ringrx_iac.api.types import RemoteAccount
from ringrx_iac.reconcile.applier import Action, Applier, ApplyReport, WriteClient
from ringrx_iac.reconcile.desired import DesiredState, Locator, resolve_secrets
from ringrx_iac.reconcile.live import normalise
from ringrx_iac.reconcile.plan import Plan
from ringrx_iac.reconcile.planner import make_plan


class ReadClient(Protocol):
    async def fetch_account(self) -> RemoteAccount: ...


def plan_for(
    desired: DesiredState,
    account: RemoteAccount,
    env: Mapping[str, str],
    base_dir: Path,
    locate: Locator | None = None,
) -> Plan:
    """Resolve secrets and diff against ``account``; secret errors land in ``plan.errors``."""
    resolved, errors = resolve_secrets(desired, env, base_dir, locate)
    plan = make_plan(desired, normalise(account), resolved, locate)
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
