"""Impact of a plan: what it does to where events go, and the thresholds that guard it.

- A *reroute* is a change of a live callback's destination origin (scheme, host or port):
  an update of its URL, or a replacement with a URL of another origin.
- A *silence* is a target losing its callback: an unbind, or the delete (or replacement)
  of the callback it is bound to when nothing binds it again.

``safety.max_reroute_percent`` (share of managed callbacks rerouted) and
``safety.max_unbind_percent`` (share of the targets bound to managed callbacks silenced)
make apply refuse without ``--force``, but only above a floor: when more than
``safety.min_impact`` callbacks (or targets) are affected. With ``policy.allowed_hosts``
set, a reroute to an allowed host does not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.policy import DestinationPolicy, url_origin
from ringrx_iac.reconcile.changes import Bind, Change, Delete, Rebind, Replace, Unbind, Update
from ringrx_iac.reconcile.desired import SafetyLimits
from ringrx_iac.reconcile.live import LiveCallback, LiveState


@dataclass(frozen=True)
class Reroute:
    """A live callback whose events would go to another origin."""

    callback: str
    id: Any
    old_origin: str
    new_origin: str
    old_host: str
    new_host: str
    counted: bool  # False: the new host is in policy.allowed_hosts

    def to_dict(self) -> dict[str, Any]:
        return {
            "callback": self.callback,
            "id": self.id,
            "old_origin": self.old_origin,
            "new_origin": self.new_origin,
            "old_host": self.old_host,
            "new_host": self.new_host,
            "counted": self.counted,
        }


@dataclass(frozen=True)
class Silence:
    """A target that would lose its callback (``via`` unbind, delete or replace)."""

    callback: str
    target_kind: str
    target: str
    target_id: Any
    via: str
    old_origin: str | None = None  # where the target's events went

    def to_dict(self) -> dict[str, Any]:
        return {
            "callback": self.callback,
            "target_kind": self.target_kind,
            "target": self.target,
            "target_id": self.target_id,
            "via": self.via,
            "old_origin": self.old_origin,
        }


@dataclass
class Impact:
    """The reroutes and silences of a plan, and the totals their shares are taken of."""

    reroutes: list[Reroute] = field(default_factory=list)
    silenced: list[Silence] = field(default_factory=list)
    managed_count: int = 0
    bound_count: int = 0  # live targets bound to managed callbacks

    @property
    def counted_reroutes(self) -> list[Reroute]:
        return [r for r in self.reroutes if r.counted]

    def summary_text(self) -> str:
        """``2 reroutes, 3 targets silenced`` (singular forms for 1)."""
        n, m = len(self.reroutes), len(self.silenced)
        return f"{n} reroute{'' if n == 1 else 's'}, {m} target{'' if m == 1 else 's'} silenced"

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary_text(),
            "reroutes": [r.to_dict() for r in self.reroutes],
            "silenced": [s.to_dict() for s in self.silenced],
            "counts": {
                "reroutes": len(self.reroutes),
                "reroutes_counted": len(self.counted_reroutes),
                "silenced": len(self.silenced),
                "managed_callbacks": self.managed_count,
                "bound_targets": self.bound_count,
            },
        }

    def annotate(self, change: Change, data: dict[str, Any]) -> dict[str, Any]:
        """``change.to_dict()`` with its impact flags: ``reroute`` (+ origins and hosts) on
        updates and replacements, ``silence`` (+ ``silenced_targets``) on unbinds, deletes
        and replacements."""
        if isinstance(change, Update | Replace):
            reroute = next((r for r in self.reroutes if r.callback == change.callback), None)
            data["reroute"] = reroute is not None
            if reroute is not None:
                data.update(
                    old_origin=reroute.old_origin,
                    new_origin=reroute.new_origin,
                    old_host=reroute.old_host,
                    new_host=reroute.new_host,
                )
        if isinstance(change, Unbind):
            data["silence"] = True
        elif isinstance(change, Delete | Replace):
            lost = self.silenced_by(change.callback)
            data["silence"] = bool(lost)
            if lost:
                data["silenced_targets"] = [
                    {"target_kind": s.target_kind, "target": s.target, "target_id": s.target_id}
                    for s in lost
                ]
        return data

    def silenced_by(self, callback: str) -> list[Silence]:
        """Targets silenced by the delete (or replacement) of ``callback``."""
        return [s for s in self.silenced if s.callback == callback and s.via != "unbind"]

    def log_fields(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Extra ``--log`` keys for one apply record: reroutes with old/new origin, silences."""
        action = str(record.get("action", ""))
        name = record.get("callback")
        extra: dict[str, Any] = {}
        if action in ("update", "replace.create"):
            for r in self.reroutes:
                if r.callback == name:
                    extra.update(reroute=True, old_origin=r.old_origin, new_origin=r.new_origin)
        elif action == "unbind":
            target_id = record.get("target_id")
            origin = next(
                (
                    s.old_origin
                    for s in self.silenced
                    if (s.callback, s.target_id) == (name, target_id)
                ),
                None,
            )
            extra.update(silence=True, old_origin=origin, new_origin=None)
        elif action in ("delete", "replace.delete"):
            lost = self.silenced_by(str(name))
            if lost:
                extra.update(silence=True, old_origin=lost[0].old_origin, new_origin=None)
                extra["silenced_targets"] = [
                    {"target_kind": s.target_kind, "target": s.target} for s in lost
                ]
        return extra


def classify(
    changes: Iterable[Change],
    live: LiveState,
    managed_ids: Mapping[Any, LiveCallback],
    policy: DestinationPolicy,
) -> Impact:
    """The :class:`Impact` of ``changes`` against ``live`` (``managed_ids``: not ignored)."""
    changes = list(changes)
    impact = Impact(managed_count=len(managed_ids))
    by_name = {cb.name: cb for cb in managed_ids.values()}
    rebound: set[tuple[str, Any]] = set()
    removed: dict[Any, str] = {}
    for change in changes:
        if isinstance(change, Update):
            url = next((f for f in change.fields if f.field == "url"), None)
            if url is not None:
                _reroute(impact, change.callback, change.id, url.old, url.new, policy)
        elif isinstance(change, Replace):
            old = managed_ids.get(change.id)
            if old is not None:
                new_url = change.fields.get("url")
                _reroute(impact, change.callback, change.id, old.url, new_url, policy)
            removed[change.id] = "replace"
        elif isinstance(change, Delete):
            removed[change.id] = "delete"
        elif isinstance(change, Bind | Rebind):
            rebound.add((change.target_kind, change.target_id))
        elif isinstance(change, Unbind):
            owner = by_name.get(change.callback)
            impact.silenced.append(
                Silence(
                    change.callback,
                    change.target_kind,
                    change.target,
                    change.target_id,
                    "unbind",
                    _origin(owner.url) if owner else None,
                )
            )
    bound_count = 0
    for target in live.all_targets():
        owner = managed_ids.get(target.callback_id)
        if owner is None:
            continue
        bound_count += 1
        via = removed.get(owner.id) if removed else None
        if via is not None and (target.kind, target.id) not in rebound:
            impact.silenced.append(
                Silence(owner.name, target.kind, target.display, target.id, via, _origin(owner.url))
            )
    impact.bound_count += bound_count
    return impact


def _origin(url: str) -> str | None:
    origin = url_origin(url)
    return str(origin) if origin else None


def _reroute(
    impact: Impact, name: str, ident: Any, old_url: Any, new_url: Any, policy: DestinationPolicy
) -> None:
    old = url_origin(str(old_url or ""))
    new = url_origin(str(new_url or ""))
    if old is None or new is None or old == new:
        return
    counted = policy.allowed_hosts is None or not policy.allows(new.host)
    impact.reroutes.append(Reroute(name, ident, str(old), str(new), old.host, new.host, counted))


def violations(impact: Impact, safety: SafetyLimits) -> list[Diagnostic]:
    """RRX722 / RRX723: the reroute and unbind thresholds (apply refuses without --force)."""
    found: list[Diagnostic] = []
    counted = impact.counted_reroutes
    if counted and impact.managed_count and len(counted) > safety.min_impact:
        percent = 100.0 * len(counted) / impact.managed_count
        if percent > safety.max_reroute_percent:
            hosts = ", ".join(sorted({r.new_host for r in counted}))
            found.append(
                Diagnostic(
                    "RRX722",
                    "warning",
                    f"this plan reroutes {len(counted)} of {impact.managed_count} managed "
                    f"callbacks ({percent:.0f}%) to another destination ({hosts}), more than "
                    f"safety.max_reroute_percent ({safety.max_reroute_percent:g}%)",
                    "apply refuses this: raise safety.max_reroute_percent in the config, add "
                    "the reviewed hosts to policy.allowed_hosts, or pass --force if it is intended",
                )
            )
    silenced = impact.silenced
    if silenced and impact.bound_count and len(silenced) > safety.min_impact:
        percent = 100.0 * len(silenced) / impact.bound_count
        if percent > safety.max_unbind_percent:
            found.append(
                Diagnostic(
                    "RRX723",
                    "warning",
                    f"this plan silences {len(silenced)} of the {impact.bound_count} targets bound "
                    f"to managed callbacks ({percent:.0f}%), more than "
                    f"safety.max_unbind_percent ({safety.max_unbind_percent:g}%)",
                    "apply refuses this: raise safety.max_unbind_percent in the config, "
                    "or pass --force if it is intended",
                )
            )
    return found
