"""Repairing duplicate live callbacks: several managed callbacks that share one name.

Callbacks are matched by name, so a second live callback with a managed name (left by an
old bug, a portal click, an interrupted replacement) is a duplicate. The plan keeps one
and deletes the others (``- delete duplicate "NAME" (id N)``); bindings the YAML wants are
moved onto the kept one first (rebinds run before deletes). The kept one is the best match:

1. the type the YAML wants (RingRx cannot change a type);
2. the fewest field differences (url, headers, basic auth);
3. the most targets already bound to it that the YAML binds;
4. the lowest id (ids compared as numbers when they are, else as text).

A name the YAML does not define keeps its lowest id (it is deleted like any other
unmanaged name). Names under ``ignore`` never reach this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ringrx_iac.api.endpoints import TARGETS
from ringrx_iac.reconcile.desired import DesiredCallback
from ringrx_iac.reconcile.live import LiveCallback, LiveState, LiveTarget


def _id_order(cb: LiveCallback) -> tuple[int, Any]:
    return (0, cb.id) if isinstance(cb.id, int) else (1, str(cb.id))


def wanted_targets(spec: DesiredCallback, live: LiveState) -> list[LiveTarget]:
    """The live targets ``spec`` binds (those named unambiguously)."""
    found_all: list[LiveTarget] = []
    for kind, refs in spec.bind.items():
        if kind not in TARGETS:
            continue
        for ref in refs:
            found = live.find_target(kind, ref)
            if len(found) == 1:
                found_all.append(found[0])
    return found_all


def pick_keeper(
    same_named: list[LiveCallback],
    spec: DesiredCallback | None,
    live: LiveState,
    differences: Callable[[LiveCallback], int],
) -> tuple[LiveCallback, list[LiveCallback]]:
    """(the callback to keep, the duplicates to delete) among callbacks sharing a name.

    ``differences(cb)`` counts the fields that would change on ``cb`` (same type only).
    """
    if spec is None:
        ordered = sorted(same_named, key=_id_order)
        return ordered[0], ordered[1:]
    bound_wanted = {cb.id: 0 for cb in same_named}
    for target in wanted_targets(spec, live):
        if target.callback_id in bound_wanted:
            bound_wanted[target.callback_id] += 1

    def rank(cb: LiveCallback) -> tuple[Any, ...]:
        right_type = cb.type == spec.type
        return (
            not right_type,
            differences(cb) if right_type else 0,
            -bound_wanted[cb.id],
            _id_order(cb),
        )

    ordered = sorted(same_named, key=rank)
    return ordered[0], ordered[1:]
