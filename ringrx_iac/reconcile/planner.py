"""Diff desired against live and produce a :class:`~ringrx_iac.reconcile.plan.Plan`.

Callbacks are matched by name; every live callback is managed unless its name matches an
``ignore`` glob and is not defined in the YAML. Field differences come from deepdiff, run
per matched callback on small dicts and only when a cheap equality check says they differ.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from typing import Any

from deepdiff import DeepDiff

from ringrx_iac.api.endpoints import TARGETS
from ringrx_iac.api.headers import format_headers
from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.diagnostics.codes import RULES
from ringrx_iac.reconcile.changes import (
    ACTIONS,
    SENSITIVE,
    SENSITIVE_CHANGED,
    Bind,
    Change,
    Create,
    Delete,
    FieldChange,
    Rebind,
    Replace,
    Unbind,
    Update,
)
from ringrx_iac.reconcile.desired import (
    DesiredCallback,
    DesiredState,
    Locator,
    ResolvedCallback,
)
from ringrx_iac.reconcile.disclose import Disclosure
from ringrx_iac.reconcile.duplicates import pick_keeper
from ringrx_iac.reconcile.impact import classify
from ringrx_iac.reconcile.live import LiveCallback, LiveState
from ringrx_iac.reconcile.ownership import former_names, left_alone, rename_matches, with_rename
from ringrx_iac.reconcile.plan import Plan
from ringrx_iac.sensitive import is_secret_header_name


def is_ignored(name: str, ignore: tuple[str, ...] | list[str], desired_names: set[str]) -> bool:
    """An ignored live callback: its name matches a glob and is not defined in the YAML."""
    return name not in desired_names and any(fnmatch.fnmatchcase(name, g) for g in ignore)


def _error(code: str, message: str, hint: str, location: Any = None) -> Diagnostic:
    return RULES[code].diag(message, location, hint)


class _Planner:
    def __init__(
        self,
        desired: DesiredState,
        live: LiveState,
        resolved: Mapping[str, ResolvedCallback],
        locate: Locator | None,
    ) -> None:
        self.desired = desired
        self.live = live
        self.resolved = resolved
        self.locate = locate
        self.errors: list[Diagnostic] = []
        self.changes: list[Change] = []
        self.desired_names = {cb.name for cb in desired.callbacks}
        self.managed: dict[str, LiveCallback] = {}
        self.managed_ids: dict[Any, LiveCallback] = {}
        self.removed: set[Any] = set()  # ids deleted or replaced: bindings go with them
        self.replaced: set[str] = set()
        self.duplicates: list[LiveCallback] = []  # same-named extras: deleted
        self.disclosure = Disclosure.of(desired)
        self.left_alone: list[LiveCallback] = []  # manage: no-purge keeps these

    # -- callbacks ---------------------------------------------------------------------
    def match_callbacks(self) -> None:
        groups: dict[str, list[LiveCallback]] = {}
        known = self.desired_names | former_names(self.desired)
        for cb in self.live.callbacks:
            if is_ignored(cb.name, self.desired.ignore, known):
                continue
            groups.setdefault(cb.name, []).append(cb)
            self.managed_ids[cb.id] = cb
        for name, cbs in groups.items():
            if len(cbs) == 1:
                self.managed[name] = cbs[0]
                continue
            spec = next((c for c in self.desired.callbacks if c.name == name), None)
            keeper, extras = pick_keeper(cbs, spec, self.live, self._differences(spec))
            self.managed[name] = keeper
            self.duplicates += extras
        rename_matches(self.desired, self.managed)
        seen: set[str] = set()
        for spec in self.desired.callbacks:
            if spec.name in seen:
                self.errors.append(
                    _error("RRX706", f"callback {spec.name!r} is defined twice", "rename one")
                )
            seen.add(spec.name)

    def _differences(self, spec: DesiredCallback | None) -> Callable[[LiveCallback], int]:
        """How many fields an update of a live callback to ``spec`` would change."""

        def count(live: LiveCallback) -> int:
            if spec is None:
                return 0
            res = self.resolved.get(spec.name) or ResolvedCallback(
                dict(spec.headers), spec.password
            )
            update = _update(spec, res, live)
            return 0 if update is None else len(update.fields)

        return count

    def diff_callbacks(self) -> None:
        for cb in self.desired.callbacks:
            res = self.resolved.get(cb.name) or ResolvedCallback(dict(cb.headers), cb.password)
            live = self.managed.get(cb.name)
            if live is None:
                self.changes.append(Create(cb.name, cb.type, _fields(cb, res), _payload(cb, res)))
            elif live.type != cb.type:
                self.replaced.add(cb.name)
                self.removed.add(live.id)
                self.changes.append(
                    Replace(
                        cb.name, live.id, live.type, cb.type, _fields(cb, res), _payload(cb, res)
                    )
                )
            else:
                update = _update(cb, res, live)
                if live.name != cb.name:  # previously: renamed in place
                    update = with_rename(update, cb.name, live)
                if update is not None:
                    self.changes.append(self.disclosure.change(update))
        for name, live in self.managed.items():
            if name not in self.desired_names:
                if left_alone(name, self.desired.no_purge):
                    self.left_alone.append(live)
                    continue
                self.removed.add(live.id)
                self.changes.append(Delete(name, live.id, live.type))
        for live in self.duplicates:
            if live.name not in self.desired_names and left_alone(live.name, self.desired.no_purge):
                self.left_alone.append(live)
                continue
            self.removed.add(live.id)
            self.changes.append(Delete(live.name, live.id, live.type, duplicate=True))

    # -- bindings ----------------------------------------------------------------------
    def diff_bindings(self) -> None:
        wanted: dict[str, dict[Any, str]] = {kind: {} for kind in TARGETS}  # id -> callback
        for cb in self.desired.callbacks:
            unchanged = self._unchanged_binding(cb)
            for kind, refs in cb.bind.items():
                if kind not in TARGETS:
                    continue
                holders = wanted[kind]
                looked_up = zip(refs, self.live.find_targets(kind, refs), strict=True)
                for j, (ref, found) in enumerate(looked_up):
                    if len(found) != 1:
                        self._unresolved(cb, kind, ref, j, found)
                        continue
                    target = found[0]
                    holder = holders.get(target.id)
                    if holder is not None:
                        if holder != cb.name:
                            self.errors.append(
                                _error(
                                    "RRX705",
                                    f"{kind} {target.display!r} is bound by both {holder!r} and "
                                    f"{cb.name!r}; a target holds one callback",
                                    "bind it from one callback only",
                                    self._where(cb, kind, j),
                                )
                            )
                        continue
                    holders[target.id] = cb.name
                    if unchanged is None or target.callback_id != unchanged:
                        self._bind_one(cb, kind, j, target)
        kept = {cb.id for cb in self.left_alone}
        managed_ids, removed = self.managed_ids, self.removed
        for kind in sorted(self.live.targets):  # the order of live.all_targets()
            holders = wanted.get(kind, {})
            for target in self.live.targets[kind]:
                bound = managed_ids.get(target.callback_id)
                if bound is None or bound.id in removed:
                    continue
                if target.id in (holders if target.kind == kind else wanted.get(target.kind, {})):
                    continue
                if bound.id in kept:
                    continue  # a left-alone callback keeps its bindings
                self.changes.append(Unbind(bound.name, target.kind, target.display, target.id))

    def _unchanged_binding(self, cb: DesiredCallback) -> Any:
        """The id of the live callback ``cb`` keeps when a target already bound to it
        needs no change (what :meth:`_bind_one` concludes, without its look-ups for each
        of 100,000 bound targets); None when every target must go through it."""
        matched = self.managed.get(cb.name)
        if matched is None or matched.id is None or cb.name in self.replaced:
            return None
        if matched.id not in self.live.by_id or matched.id not in self.managed_ids:
            return None
        return matched.id

    def _bind_one(self, cb: DesiredCallback, kind: str, j: int, target: Any) -> None:
        bound_id = target.callback_id
        if bound_id is None or bound_id not in self.live.by_id:
            self.changes.append(Bind(cb.name, kind, target.display, target.id))
            return
        bound = self.managed_ids.get(bound_id)
        if bound is None:
            other = self.live.by_id[bound_id]
            self.errors.append(
                _error(
                    "RRX702",
                    f"callback {cb.name!r} binds {kind} {target.display!r}, which is bound to the "
                    f"ignored callback {other.name!r} (id {other.id}); it is never taken over silently",
                    f"unbind it in the RingRx portal, remove it from {cb.name!r}, or stop "
                    f"ignoring {other.name!r}",
                    self._where(cb, kind, j),
                )
            )
        matched = self.managed.get(cb.name)
        if bound is None:
            return
        if matched is None or bound.id != matched.id:
            self.changes.append(Rebind(cb.name, kind, target.display, target.id, bound.name))
        elif cb.name in self.replaced:
            self.changes.append(Rebind(cb.name, kind, target.display, target.id, cb.name))

    def _where(self, cb: DesiredCallback, kind: str, j: int) -> Any:
        return self.locate(("callbacks", cb.index, "bind", kind, j)) if self.locate else None

    def _unresolved(
        self, cb: DesiredCallback, kind: str, ref: str, j: int, found: list[Any]
    ) -> None:
        """``ref`` names no live target, or several (``found``): the error (RRX703/704)."""
        if found:
            ids = ", ".join(str(t.id) for t in found)
            self.errors.append(
                _error(
                    "RRX704",
                    f"callback {cb.name!r}: {kind} {ref!r} names {len(found)} targets (ids {ids})",
                    "name the target by a key that is unique (e.g. its extension or number)",
                    self._where(cb, kind, j),
                )
            )
            return
        closest = self.live.closest_target(kind, ref)
        hint = f"did you mean {closest!r}?" if closest else f"the account has no {kind} like it."
        self.errors.append(
            _error(
                "RRX703",
                f"callback {cb.name!r} binds {kind} {ref!r}, which does not exist in the account",
                hint + " Fix the name, or create the target in the RingRx portal first.",
                self._where(cb, kind, j),
            )
        )

    def plan(self) -> Plan:
        self.match_callbacks()
        self.diff_callbacks()
        self.diff_bindings()
        order = {a: i for i, a in enumerate(ACTIONS)}
        self.changes.sort(
            key=lambda c: (
                order[c.action],
                c.callback,
                getattr(c, "target_kind", ""),
                getattr(c, "target", ""),
            )
        )
        return Plan(
            changes=self.changes,
            live_fingerprint=self.live.fingerprint(),
            desired_fingerprint=self.desired.fingerprint(),
            safety=self.desired.safety,
            managed_count=len(self.managed_ids),
            errors=self.errors,
            callback_ids={name: cb.id for name, cb in self.managed.items()},
            left_alone=sorted(cb.name for cb in self.left_alone),
        )


def make_plan(
    desired: DesiredState,
    live: LiveState,
    resolved: Mapping[str, ResolvedCallback],
    locate: Locator | None = None,
) -> Plan:
    """Compare ``desired`` (with ``resolved`` secret values) with ``live``."""
    planner = _Planner(desired, live, resolved, locate)
    plan = planner.plan()
    plan.impact = classify(plan.changes, live, planner.managed_ids, desired.policy)
    return plan


# -- field level ---------------------------------------------------------------------------
def _sensitive(cb: DesiredCallback, header: str) -> bool:
    return header in cb.sensitive_headers() or is_secret_header_name(header)


def _fields(cb: DesiredCallback, res: ResolvedCallback) -> dict[str, Any]:
    """The masked field view of a created (or replacing) callback."""
    out: dict[str, Any] = {"url": cb.url}
    if res.headers:
        out["headers"] = {
            k: (SENSITIVE if _sensitive(cb, k) else v) for k, v in res.headers.items()
        }
    if cb.use_basic_auth:
        out["basic_auth"] = {
            "username": cb.username,
            "password": SENSITIVE if res.password else None,
        }
    return out


def _payload(cb: DesiredCallback, res: ResolvedCallback) -> dict[str, Any]:
    """The domain fields of a create request (resolved secrets: memory only)."""
    return {
        "name": cb.name,
        "type": cb.type,
        "url": cb.url,
        "use_basic_auth": cb.use_basic_auth,
        "auth_username": cb.username if cb.use_basic_auth else None,
        "auth_password": res.password if cb.use_basic_auth else None,
        "custom_headers": format_headers(res.headers),
    }


def _views(
    cb: DesiredCallback, res: ResolvedCallback, live: LiveCallback
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Comparable (live, desired) dicts; an undisclosed password is left out of both."""
    want_auth: dict[str, Any] = {"enabled": cb.use_basic_auth}
    have_auth: dict[str, Any] = {"enabled": live.use_basic_auth}
    if cb.use_basic_auth:
        want_auth.update(username=cb.username or None, password=res.password or None)
        have_auth.update(username=live.username or None, password=live.password)
        if live.password is None and live.use_basic_auth:
            del want_auth["password"], have_auth["password"]
    have = {"url": live.url, "headers": live.headers, "basic_auth": have_auth}
    want = {"url": cb.url, "headers": res.headers, "basic_auth": want_auth}
    return have, want


_FIELD_ORDER = {"url": 0, "headers": 1, "basic_auth": 2}
_AUTH_WIRE = {"enabled": "use_basic_auth", "username": "auth_username", "password": "auth_password"}


def _update(cb: DesiredCallback, res: ResolvedCallback, live: LiveCallback) -> Update | None:
    have, want = _views(cb, res, live)
    if have == want:
        return None
    diff = DeepDiff(have, want, view="tree", ignore_order=True)
    changed: dict[tuple[str, ...], FieldChange] = {}
    payload: dict[str, Any] = {}
    for levels in diff.values():
        for level in levels:
            path = [str(p) for p in level.path(output_format="list")]
            old = _value(level.t1)
            new = _value(level.t2)
            if path[0] == "headers" and len(path) == 1:  # a whole mapping swapped
                for name in sorted(set(old or {}) | set(new or {})):
                    o, n = (old or {}).get(name), (new or {}).get(name)
                    if o != n:
                        changed[("headers", name)] = _mask(cb, ["headers", name], o, n)
                payload["custom_headers"] = format_headers(res.headers)
                continue
            changed[tuple(path)] = _mask(cb, path, old, new)
            if path[0] == "url":
                payload["url"] = cb.url
            elif path[0] == "headers":
                payload["custom_headers"] = format_headers(res.headers)
            elif path[0] == "basic_auth" and len(path) == 2:
                payload[_AUTH_WIRE[path[1]]] = {
                    "enabled": cb.use_basic_auth,
                    "username": cb.username,
                    "password": res.password,
                }[path[1]]
    if not changed:
        return None
    if payload.get("use_basic_auth"):  # enabling: send the whole credential
        payload.setdefault("auth_username", cb.username)
        payload.setdefault("auth_password", res.password)
    fields = tuple(
        changed[k] for k in sorted(changed, key=lambda k: (_FIELD_ORDER.get(k[0], 9), k))
    )
    return Update(cb.name, live.id, fields, payload)


def _value(v: Any) -> Any:
    """deepdiff's "not present" marker -> None."""
    return None if type(v).__name__ == "NotPresent" else v


def _mask(cb: DesiredCallback, path: list[str], old: Any, new: Any) -> FieldChange:
    name = ".".join(path)
    secret = (path[0] == "headers" and len(path) == 2 and _sensitive(cb, path[1])) or (
        path == ["basic_auth", "password"]
    )
    if secret:
        if old is not None and new is not None:
            old, new = SENSITIVE, SENSITIVE_CHANGED
        else:
            old = SENSITIVE if old is not None else None
            new = SENSITIVE if new is not None else None
    return FieldChange(name, old, new)
