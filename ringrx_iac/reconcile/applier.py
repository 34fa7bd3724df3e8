"""Execute a plan: phases, a dependency graph, bounded parallelism, partial failure, Ctrl-C.

Phases run in order: creates/updates (and the create half of replaces), binds/rebinds,
unbinds, deletes (and the delete half of replaces). Inside a phase actions run in
parallel, at most ``parallelism`` at once. An action whose dependency failed or was
skipped is skipped; independent actions go on. :meth:`Applier.stop` (wired to SIGINT by
the CLI) stops scheduling; requests in flight finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ringrx_iac.reconcile.changes import (
    PHASE,
    Bind,
    Change,
    Create,
    Delete,
    Rebind,
    Replace,
    TargetChange,
    Unbind,
    Update,
)
from ringrx_iac.reconcile.plan import Plan


class WriteClient(Protocol):
    """The client methods apply uses (``RingRxClient`` and the test fakes)."""

    async def create_callback(self, fields: dict[str, Any]) -> Any: ...
    async def update_callback(self, callback_id: Any, fields: dict[str, Any]) -> Any: ...
    async def delete_callback(self, callback_id: Any) -> Any: ...
    async def bind(self, kind: str, target_id: Any, callback_id: Any) -> Any: ...


@dataclass
class Action:
    """One request of the apply: ``step`` is the request kind, ``change`` what it serves."""

    change: Change
    step: str  # create | update | delete | bind | rebind | unbind
    deps: list[Action] = field(default_factory=list)
    status: str = "pending"  # pending | done | failed | skipped
    error: str = ""
    result_id: Any = None

    @property
    def phase(self) -> int:
        """When it runs: the apply phase of its request kind (``changes.PHASE``)."""
        return PHASE[self.step]

    def log_record(self) -> dict[str, Any]:
        c = self.change
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "action": f"replace.{self.step}" if isinstance(c, Replace) else self.step,
            "callback": c.callback,
        }
        if isinstance(c, TargetChange):
            record["target"] = c.target
            record["target_kind"] = c.target_kind
            record["target_id"] = c.target_id
        record["status"] = self.status
        ident = self.result_id if self.result_id is not None else getattr(c, "id", None)
        if ident is not None:
            record["id"] = ident
        if self.error:
            record["error"] = self.error
        return record


@dataclass
class ApplyReport:
    """What happened: done, failed (with the server's message) and skipped changes."""

    done: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    converged: bool | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.interrupted

    def to_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "interrupted": self.interrupted,
            "converged": self.converged,
            "summary": {
                "done": len(self.done),
                "failed": len(self.failed),
                "skipped": len(self.skipped),
            },
        }


def build_actions(plan: Plan) -> list[Action]:
    """The dependency graph of a plan, as a list of actions with ``deps``."""
    actions: list[Action] = []
    creating: dict[str, Action] = {}
    # deletes that wait for the rebinds moving targets off them: the old callback of a
    # replacement, the duplicates of a name
    removals: dict[str, list[Action]] = {}
    for change in plan.changes:
        if isinstance(change, Create):
            creating[change.callback] = Action(change, "create")
            actions.append(creating[change.callback])
        elif isinstance(change, Replace):
            create = Action(change, "create")
            creating[change.callback] = create
            delete = Action(change, "delete", [create])
            removals.setdefault(change.callback, []).append(delete)
            actions += [create, delete]
        elif isinstance(change, Update):
            actions.append(Action(change, "update"))
        elif isinstance(change, Delete):
            actions.append(Action(change, "delete"))
            if change.duplicate:
                removals.setdefault(change.callback, []).append(actions[-1])
        elif isinstance(change, Unbind):
            actions.append(Action(change, "unbind"))
    for change in plan.changes:
        if isinstance(change, Bind | Rebind):
            action = Action(change, change.action)
            if change.callback in creating:
                action.deps.append(creating[change.callback])
            if isinstance(change, Rebind):
                # a removed callback goes only once its targets moved
                for removal in removals.get(change.from_callback, []):
                    removal.deps.append(action)
            actions.append(action)
    return actions


class Applier:
    """Runs the actions of a plan against a client."""

    def __init__(
        self,
        plan: Plan,
        client: WriteClient,
        *,
        callback_ids: dict[str, Any] | None = None,
        parallelism: int = 8,
        log: Callable[[dict[str, Any]], None] | None = None,
        on_progress: Callable[[Action], None] | None = None,
    ) -> None:
        self.plan = plan
        self.client = client
        self.ids: dict[str, Any] = dict(callback_ids or plan.callback_ids)
        self.parallelism = max(1, parallelism)
        self.log = log
        self.on_progress = on_progress
        self.actions = build_actions(plan)
        self._stopped = False

    def stop(self) -> None:
        """Stop scheduling new actions; the ones in flight finish."""
        self._stopped = True

    async def run(self) -> ApplyReport:
        for phase in sorted(set(PHASE.values())):
            await self._run_phase([a for a in self.actions if a.phase == phase])
        return self._report()

    async def _run_phase(self, actions: list[Action]) -> None:
        pending = iter(actions)

        async def worker() -> None:
            for action in pending:
                if self._stopped:
                    self._finish(action, "skipped", "interrupted (Ctrl-C) before it started")
                    continue
                blocked = next((d for d in action.deps if d.status != "done"), None)
                if blocked is not None:
                    self._finish(
                        action,
                        "skipped",
                        f"depends on {_describe(blocked)}, which {blocked.status if blocked.status != 'pending' else 'did not run'}",
                    )
                    continue
                try:
                    await self._execute(action)
                except Exception as exc:  # any failure of one action: report it, go on
                    self._finish(action, "failed", str(exc) or type(exc).__name__)
                else:
                    self._finish(action, "done")

        workers = min(self.parallelism, len(actions))
        await asyncio.gather(*(worker() for _ in range(workers)))

    async def _execute(self, action: Action) -> None:
        change = action.change
        if action.step == "create":
            payload = change.payload  # type: ignore[attr-defined]
            created = await self.client.create_callback(dict(payload))
            action.result_id = getattr(created, "id", None)
            self.ids[change.callback] = action.result_id
        elif action.step == "update":
            assert isinstance(change, Update)
            await self.client.update_callback(change.id, dict(change.payload))
        elif action.step == "delete":
            await self.client.delete_callback(change.id)  # type: ignore[attr-defined]
        elif isinstance(change, Unbind):
            await self.client.bind(change.target_kind, change.target_id, None)
        elif isinstance(change, Bind | Rebind):
            callback_id = self.ids.get(change.callback)
            if callback_id is None:
                raise RuntimeError(f"the id of callback {change.callback!r} is not known")
            action.result_id = callback_id
            await self.client.bind(change.target_kind, change.target_id, callback_id)

    def _finish(self, action: Action, status: str, error: str = "") -> None:
        action.status = status
        action.error = error
        if self.log is not None:
            self.log(action.log_record())
        if self.on_progress is not None:
            self.on_progress(action)

    def _report(self) -> ApplyReport:
        report = ApplyReport(interrupted=self._stopped)
        by_change: dict[int, list[Action]] = {}
        for action in self.actions:
            by_change.setdefault(id(action.change), []).append(action)
        for change in self.plan.changes:
            acts = by_change.get(id(change), [])
            data = change.to_dict()
            failed = next((a for a in acts if a.status == "failed"), None)
            skipped = next((a for a in acts if a.status in ("skipped", "pending")), None)
            if failed is not None:
                step = f"{failed.step} step: " if len(acts) > 1 else ""
                report.failed.append({**data, "error": step + failed.error})
            elif skipped is not None:
                step = f"{skipped.step} step: " if len(acts) > 1 else ""
                reason = skipped.error or "not run"
                report.skipped.append({**data, "reason": step + reason})
            else:
                report.done.append(data)
        return report


def _describe(action: Action) -> str:
    c = action.change
    if isinstance(c, TargetChange):
        return f"{action.step} of {c.target_kind} {c.target!r} to {c.callback!r}"
    if isinstance(c, Replace):
        return f"the {action.step} step of replacing {c.callback!r}"
    return f"{action.step} of {c.callback!r}"
