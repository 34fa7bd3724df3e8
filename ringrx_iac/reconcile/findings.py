"""Drift findings: what a difference between the account and the configuration means.

``drift`` reads a plan the other way round: the plan says what apply would do, a finding
says what happened in the account. Each finding has a severity:

- ``critical``: a live callback sending to a host outside ``policy.allowed_hosts`` (any
  live callback: managed, unmanaged or ignored), a callback that lost its basic auth or
  a secret header, an unknown callback receiving CDRs or recordings;
- ``high``: a reroute (the live destination origin differs from the configuration),
  targets silenced (a target the configuration binds has no callback, or another one),
  a missing callback, an unknown callback bound to targets, a changed type;
- ``low``: any other difference (a path, a plain header, an extra binding, ...).

Messages name callbacks, hosts and field names, never a value: a finding can go to a
chat webhook (``drift --notify``) and must not carry a secret or a live header value.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from ringrx_iac.api.types import RemoteAccount
from ringrx_iac.catalog import CATALOG
from ringrx_iac.policy import url_origin
from ringrx_iac.reconcile.changes import (
    Bind,
    Change,
    Create,
    Delete,
    Rebind,
    Replace,
    Unbind,
    Update,
)
from ringrx_iac.reconcile.desired import DesiredState
from ringrx_iac.reconcile.live import LiveCallback, LiveState
from ringrx_iac.reconcile.lock import LOCK_URL, is_lock
from ringrx_iac.reconcile.plan import Plan
from ringrx_iac.reconcile.planner import is_ignored
from ringrx_iac.sensitive import is_secret_header_name

Severity = Literal["critical", "high", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "low")
_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
_SHOWN = 5


@dataclass(frozen=True)
class Finding:
    """One drift finding (see the module docstring for severities)."""

    severity: Severity
    kind: str
    callback: str | None
    message: str
    hosts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "kind": self.kind,
            "callback": self.callback,
            "message": self.message,
            "hosts": list(self.hosts),
        }

    def at_least(self, severity: str) -> bool:
        """True when this finding is ``severity`` or worse."""
        return at_least(self.severity, severity)


def at_least(severity: str, threshold: str) -> bool:
    """True when ``severity`` is ``threshold`` or worse (critical > high > low)."""
    return _RANK.get(severity, len(SEVERITIES)) <= _RANK.get(threshold, len(SEVERITIES))


def drift_findings(plan: Plan, live: LiveState, desired: DesiredState) -> list[Finding]:
    """Every finding of a drift check, worst first (stable within a severity)."""
    found: list[Finding] = []
    critical_hosts: set[Any] = set()  # live ids already reported outside the policy
    by_name = {cb.name: cb for cb in desired.callbacks}
    bound: dict[Any, int] = defaultdict(int)
    for target in live.all_targets():
        if target.callback_id is not None:
            bound[target.callback_id] += 1
    for change in plan.changes:
        if isinstance(change, Update):
            found += _update(change, desired, critical_hosts, by_name)
        elif isinstance(change, Replace):
            found.append(
                _finding(
                    "high",
                    "type-changed",
                    change.callback,
                    f"callback {change.callback!r} is a {change.old_type} callback in the "
                    f"account; the configuration says {change.new_type}",
                )
            )
        elif isinstance(change, Create):
            found.append(
                _finding(
                    "high",
                    "missing-callback",
                    change.callback,
                    f"callback {change.callback!r} ({change.type}) is missing from the account: "
                    "its events are not sent",
                )
            )
        elif isinstance(change, Delete):
            found.append(_unknown(change, live, bound))
    found += _bindings(plan.changes)
    found += _outside_policy(live, desired, critical_hosts)
    return sorted(found, key=lambda f: _RANK[f.severity])


def _finding(
    severity: Severity, kind: str, callback: str | None, message: str, hosts: tuple[str, ...] = ()
) -> Finding:
    return Finding(severity, kind, callback, message, hosts)


def _update(
    change: Update, desired: DesiredState, critical: set[Any], by_name: dict[str, Any]
) -> list[Finding]:
    out: list[Finding] = []
    name = change.callback
    spec = by_name.get(name)
    sensitive = {h.lower() for h in (spec.sensitive_headers() if spec is not None else ())}
    required = desired.policy.required_header(spec.type) if spec is not None else None
    if required:  # the header the policy requires authenticates the receiver: keep it critical
        sensitive.add(required.lower())
    low: list[str] = []
    for f in change.fields:
        if f.field == "url":
            live_origin, want_origin = url_origin(str(f.old or "")), url_origin(str(f.new or ""))
            if live_origin is not None and live_origin != want_origin:
                host = live_origin.host
                outside = not desired.policy.allows(host)
                if outside:
                    critical.add(change.id)
                want = str(want_origin) if want_origin else "(none)"
                out.append(
                    _finding(
                        "critical" if outside else "high",
                        "reroute",
                        name,
                        f"callback {name!r} now sends to {live_origin} "
                        f"(the configuration says {want})"
                        + ("; that host is outside policy.allowed_hosts" if outside else ""),
                        (host, want_origin.host) if want_origin else (host,),
                    )
                )
            else:
                low.append("url")
        elif f.field == "basic_auth.enabled" and f.new and not f.old:
            out.append(
                _finding(
                    "critical",
                    "lost-basic-auth",
                    name,
                    f"callback {name!r} lost its basic auth in the account",
                )
            )
        elif f.field.startswith("headers.") and f.old is None and f.new is not None:
            header = f.field.split(".", 1)[1]
            if header.lower() in sensitive or is_secret_header_name(header):
                out.append(
                    _finding(
                        "critical",
                        "lost-secret-header",
                        name,
                        f"callback {name!r} lost its "
                        + (
                            "secret header"
                            if header.lower() != (required or "").lower()
                            else "header (required by policy.require_header)"
                        )
                        + f" {header!r} in the account",
                    )
                )
            else:
                low.append(f.field)
        else:
            low.append(f.field)
    if low:
        out.append(
            _finding(
                "low",
                "changed",
                name,
                f"callback {name!r} differs in {', '.join(low)}",
            )
        )
    return out


def _unknown(change: Delete, live: LiveState, bound: dict[Any, int]) -> Finding:
    cb = live.by_id.get(change.id)
    origin = url_origin(cb.url) if cb else None
    host = origin.host if origin else None
    hosts = (host,) if host else ()
    what = "a duplicate of a configured name" if change.duplicate else "not in the configuration"
    at = f" sending to {host}" if host else ""
    if CATALOG[change.type].is_global:
        events = "CDRs" if change.type == "cdr" else "recordings"
        return _finding(
            "critical",
            "unknown-global-callback",
            change.callback,
            f"unknown {change.type} callback {change.callback!r} (id {change.id}){at} receives "
            f"every call's {events}; it is {what}",
            hosts,
        )
    n = bound.get(change.id, 0)
    if n:
        return _finding(
            "high",
            "unknown-callback",
            change.callback,
            f"unknown {change.type} callback {change.callback!r} (id {change.id}){at} is bound "
            f"to {n} target{'s' if n != 1 else ''}; it is {what}",
            hosts,
        )
    return _finding(
        "low",
        "unknown-callback",
        change.callback,
        f"unknown {change.type} callback {change.callback!r} (id {change.id}){at}, bound to "
        f"nothing; it is {what}",
        hosts,
    )


def _bindings(changes: list[Change]) -> list[Finding]:
    """One finding per (kind of difference, callback, target kind), targets listed."""
    groups: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    for c in changes:
        if isinstance(c, Bind | Unbind):
            groups[(c.action, c.callback, c.target_kind, "")].append(c.target)
        elif isinstance(c, Rebind):
            groups[("rebind", c.callback, c.target_kind, c.from_callback)].append(c.target)
    out: list[Finding] = []
    for (action, name, kind, other), targets in groups.items():
        n = len(targets)
        listed = ", ".join(targets[:_SHOWN]) + (f" and {n - _SHOWN} more" if n > _SHOWN else "")
        if action == "bind":
            out.append(
                _finding(
                    "high",
                    "silenced",
                    name,
                    f"{kind} of {name!r} with no callback in the account (silenced): {listed}",
                )
            )
        elif action == "rebind":
            out.append(
                _finding(
                    "high",
                    "rebound",
                    name,
                    f"{kind} of {name!r} bound to {other!r} in the account: {listed}",
                )
            )
        else:
            out.append(
                _finding(
                    "low",
                    "extra-binding",
                    name,
                    f"{kind} bound to {name!r} in the account but not in the configuration: "
                    f"{listed}",
                )
            )
    return out


def _outside_policy(live: LiveState, desired: DesiredState, done: set[Any]) -> list[Finding]:
    """Every live callback (managed, unmanaged or ignored) whose host the policy refuses."""
    if desired.policy.allowed_hosts is None:
        return []
    names = {cb.name for cb in desired.callbacks}
    out: list[Finding] = []
    for cb in live.callbacks:
        if cb.id in done:
            continue
        origin = url_origin(cb.url)
        host = origin.host if origin else None
        if desired.policy.allows(host):
            continue
        out.append(
            _finding(
                "critical",
                "host-not-allowed",
                cb.name,
                f"live callback {cb.name!r} (id {cb.id}{_ownership(cb, desired, names)}) sends "
                f"to {host or 'an invalid URL'}, outside policy.allowed_hosts",
                (host,) if host else (),
            )
        )
    return out


def _ownership(cb: LiveCallback, desired: DesiredState, names: set[str]) -> str:
    if cb.name in names:
        return ""
    if is_ignored(cb.name, desired.ignore, names):
        return ", ignored"
    return ", not in the configuration"


def worst(findings: list[Finding]) -> str | None:
    """The worst severity among ``findings`` (None when there are none)."""
    return min((f.severity for f in findings), key=lambda s: _RANK[s], default=None)


def lock_impostors(account: RemoteAccount) -> list[Finding]:
    """A callback named like the apply lock (which plans never show) that sends somewhere
    real or is bound to targets: it would receive events unseen, so it is critical."""
    bound = {t.callback_id for ts in account.targets.values() for t in ts}
    lock_origin = url_origin(LOCK_URL)
    out: list[Finding] = []
    for cb in account.callbacks:
        origin = url_origin(cb.url or "")
        if not is_lock(cb.name) or (origin == lock_origin and cb.id not in bound):
            continue
        host = origin.host if origin else None
        out.append(
            _finding(
                "critical",
                "lock-impostor",
                cb.name,
                f"live callback {cb.name!r} (id {cb.id}) has the apply lock's name but "
                + (f"sends to {host}" if origin != lock_origin else "is bound to targets")
                + "; the lock never receives events",
                (host,) if host else (),
            )
        )
    return out
