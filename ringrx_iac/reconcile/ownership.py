"""Finer ownership: ``manage: no-purge`` and renames in place (``previously``).

- ``manage: no-purge`` (every name) or ``manage: {no-purge: [globs]}``: a live callback the
  YAML does not define, whose name matches, is *left alone*: never deleted, its bindings
  never cleared. The plan lists them (``left alone: N (names...)``).
- ``previously: ["Old name"]`` on a callback: when no live callback has its name but one
  has a former name, that one is renamed in place (an update of ``name``), keeping its id
  and its bindings, instead of a delete and a create. A former name is never ignored.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from ringrx_iac.reconcile.changes import FieldChange, Update
from ringrx_iac.reconcile.desired import DesiredState
from ringrx_iac.reconcile.live import LiveCallback


def former_names(desired: DesiredState) -> set[str]:
    """Every ``previously`` name of the configuration."""
    return {old for cb in desired.callbacks for old in cb.previously}


def rename_matches(desired: DesiredState, managed: dict[str, LiveCallback]) -> dict[str, str]:
    """Match callbacks by a former name where none has the current one; ``managed``
    (name -> live) is re-keyed in place. Returns new name -> old name."""
    names = {cb.name for cb in desired.callbacks}
    renamed: dict[str, str] = {}
    for cb in desired.callbacks:
        if cb.name in managed:
            continue
        for old in cb.previously:
            if old in managed and old not in names:
                managed[cb.name] = managed.pop(old)
                renamed[cb.name] = old
                break
    return renamed


def with_rename(update: Update | None, name: str, live: LiveCallback) -> Update:
    """``update`` (or none) plus the rename of ``live`` to ``name``, first among the fields."""
    fields = (FieldChange("name", live.name, name), *(update.fields if update else ()))
    payload = {**(update.payload if update else {}), "name": name}
    return Update(name, live.id, fields, payload)


def left_alone(name: str, globs: Iterable[str]) -> bool:
    """A live callback the YAML lacks that ``manage: no-purge`` keeps."""
    return any(fnmatch.fnmatchcase(name, g) for g in globs)
