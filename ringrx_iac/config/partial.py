"""The valid part of a configuration that failed the schema, so that it can be linted.

One typo must not hide every other finding. When :class:`Config` validation fails, the
loader reports every schema error and then lints what :func:`valid_part` keeps:

1. each field named by an error is dropped (``callbacks[3].bnid``, ``safety.protected``);
2. a callback or top-level section that still fails is dropped whole (a callback without
   its ``url`` or ``type`` cannot be linted).

The result is only ever linted, never planned or applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ringrx_iac.config.models import Config

_CALLBACKS = "callbacks"


@dataclass
class ValidPart:
    """The linted part: its config, ``old -> new`` callback indexes, dropped callbacks' names."""

    config: Config
    index_map: dict[int, int]
    dropped_names: list[str]


def valid_part(data: dict[str, Any], error: ValidationError, version: int) -> ValidPart | None:
    """What of ``data`` (which failed with ``error``) passes the schema; None if nothing."""
    data = _without_fields(data, _locations(error))
    data["version"] = version
    try:
        return ValidPart(Config.model_validate(data), _identity(data), [])
    except ValidationError as again:
        second = again
    bad_sections: set[Any] = set()
    bad_callbacks: set[int] = set()
    for loc in _locations(second):
        if len(loc) >= 2 and loc[0] == _CALLBACKS and isinstance(loc[1], int):
            bad_callbacks.add(loc[1])
        elif loc:
            bad_sections.add(loc[0])
    clean = {k: v for k, v in data.items() if k not in bad_sections}
    items = clean.get(_CALLBACKS) or []
    keep = [i for i in range(len(items)) if i not in bad_callbacks]
    clean[_CALLBACKS] = [items[i] for i in keep]
    dropped = [items[i].get("name") for i in sorted(bad_callbacks) if _is_mapping_at(items, i)]
    try:
        config = Config.model_validate(clean)
    except ValidationError:  # pragma: no cover - every failing part was removed
        return None
    return ValidPart(
        config,
        {old: new for new, old in enumerate(keep)},
        [n for n in dropped if isinstance(n, str)],
    )


def _locations(error: ValidationError) -> list[tuple[Any, ...]]:
    return [tuple(err["loc"]) for err in error.errors()]


def _identity(data: dict[str, Any]) -> dict[int, int]:
    return {i: i for i in range(len(data.get(_CALLBACKS) or []))}


def _is_mapping_at(items: list[Any], index: int) -> bool:
    return index < len(items) and isinstance(items[index], dict)


def _without_fields(data: dict[str, Any], locations: Iterable[tuple[Any, ...]]) -> dict[str, Any]:
    """A copy of ``data`` without the fields the errors point at (copied where changed)."""
    out = dict(data)
    items = list(out.get(_CALLBACKS) or []) if isinstance(out.get(_CALLBACKS), list) else None
    if items is not None:
        out[_CALLBACKS] = items
    for loc in locations:
        if len(loc) >= 3 and loc[0] == _CALLBACKS and isinstance(loc[1], int) and items:
            if _is_mapping_at(items, loc[1]):
                items[loc[1]] = {k: v for k, v in items[loc[1]].items() if k != loc[2]}
        elif len(loc) >= 2 and loc[0] != _CALLBACKS and isinstance(out.get(loc[0]), dict):
            out[loc[0]] = {k: v for k, v in out[loc[0]].items() if k != loc[1]}
    return out
