"""Domain types the client returns: wire names already translated by the endpoint table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RemoteCallback:
    """A callback as RingRx stores it. ``auth_password`` None means "not disclosed"."""

    id: Any
    name: str
    type: str
    url: str
    use_basic_auth: bool = False
    auth_username: str | None = None
    auth_password: str | None = None
    custom_headers: str = ""


@dataclass(frozen=True, slots=True)
class RemoteTarget:
    """A bindable object: its id, natural keys (wire field -> value) and bound callback id."""

    kind: str
    id: Any
    keys: dict[str, str] = field(default_factory=dict)
    callback_id: Any = None


@dataclass(frozen=True)
class RemoteAccount:
    """Everything the reconciler reads: all callbacks and the five target lists."""

    callbacks: list[RemoteCallback]
    targets: dict[str, list[RemoteTarget]]  # kind -> targets
