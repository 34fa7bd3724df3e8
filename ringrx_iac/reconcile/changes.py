"""Change objects: small frozen values with ONE serialisable form, :meth:`to_dict`.

``fields`` are already masked (no secret in them); the resolved request ``payload`` of a
create/update/replace is kept out of ``to_dict``, ``repr`` and equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SENSITIVE = "(sensitive)"
SENSITIVE_CHANGED = "(sensitive value changed)"

CALLBACK_ACTIONS: tuple[str, ...] = ("create", "update", "replace", "delete")
BINDING_ACTIONS: tuple[str, ...] = ("bind", "rebind", "unbind")
ACTIONS: tuple[str, ...] = CALLBACK_ACTIONS + BINDING_ACTIONS


@dataclass(frozen=True)
class FieldChange:
    """One field-level difference (``field`` like ``url``, ``headers.X-Env``)."""

    field: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class Change:
    """Base of every change: an ``action`` on the callback named ``callback``."""

    callback: str

    action = "change"

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Create(Change):
    type: str
    fields: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    action = "create"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "callback": self.callback,
            "type": self.type,
            "fields": self.fields,
        }


@dataclass(frozen=True)
class Update(Change):
    id: Any
    fields: tuple[FieldChange, ...]
    payload: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    action = "update"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "callback": self.callback,
            "id": self.id,
            "fields": [f.to_dict() for f in self.fields],
        }


@dataclass(frozen=True)
class Replace(Change):
    id: Any
    old_type: str
    new_type: str
    fields: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    action = "replace"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "callback": self.callback,
            "id": self.id,
            "old_type": self.old_type,
            "new_type": self.new_type,
            "fields": self.fields,
        }


@dataclass(frozen=True)
class Delete(Change):
    id: Any
    type: str
    duplicate: bool = False  # one of several live callbacks sharing the name

    action = "delete"

    def to_dict(self) -> dict[str, Any]:
        out = {"action": self.action, "callback": self.callback, "id": self.id, "type": self.type}
        if self.duplicate:
            out["duplicate"] = True
        return out


@dataclass(frozen=True)
class TargetChange(Change):
    """Base of the binding changes: one PATCH of one target."""

    target_kind: str
    target: str
    target_id: Any

    def _target_dict(self) -> dict[str, Any]:
        return {"target_kind": self.target_kind, "target": self.target, "target_id": self.target_id}


@dataclass(frozen=True)
class Bind(TargetChange):
    action = "bind"

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "callback": self.callback, **self._target_dict()}


@dataclass(frozen=True)
class Rebind(TargetChange):
    """Move a target from ``from_callback`` to ``callback`` in one PATCH."""

    from_callback: str = ""

    action = "rebind"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "callback": self.callback,
            "from_callback": self.from_callback,
            **self._target_dict(),
        }


@dataclass(frozen=True)
class Unbind(TargetChange):
    action = "unbind"

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "callback": self.callback, **self._target_dict()}


# Apply phase of each action (a replace spans phases 0 and 3).
PHASE: dict[str, int] = {
    "create": 0,
    "update": 0,
    "replace": 0,
    "bind": 1,
    "rebind": 1,
    "unbind": 2,
    "delete": 3,
}
