"""Impact lines of a plan (reroutes, silenced targets, callbacks left alone) for the text
and Markdown renderers.

Pure functions of the plan dict (``Plan.to_dict()``): the ``reroute`` / ``silence`` flags of
each change and the top-level ``impact`` object (``docs/plan-format.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_TARGETS_SHOWN = 10


def impact_summary(plan: Mapping[str, Any]) -> str | None:
    """``2 reroutes, 3 targets silenced`` when the plan has any, else None."""
    impact = plan.get("impact")
    if not isinstance(impact, Mapping):
        return None
    counts = impact.get("counts") or {}
    if not (counts.get("reroutes") or counts.get("silenced")):
        return None
    return str(impact.get("summary") or "")


def change_impact_lines(change: Mapping[str, Any], quote: Callable[[Any], str]) -> list[str]:
    """Lines under one change: ``reroute: old -> new`` and ``silences N targets: ...``."""
    lines: list[str] = []
    if change.get("reroute"):
        lines.append(
            f"reroute: {quote(change.get('old_origin'))} -> {quote(change.get('new_origin'))}"
        )
    lost = change.get("silenced_targets") or []
    if lost:
        shown = ", ".join(quote(t.get("target")) for t in lost[:_TARGETS_SHOWN])
        more = f" ... and {len(lost) - _TARGETS_SHOWN} more" if len(lost) > _TARGETS_SHOWN else ""
        n = len(lost)
        lines.append(f"silences {n} target{'' if n == 1 else 's'}: {shown}{more}")
    return lines


def left_alone_line(plan: Mapping[str, Any], quote: Callable[[Any], str]) -> str | None:
    """``Left alone: 2 ("Legacy A", "Partner B")`` for ``manage: no-purge``, else None."""
    names = plan.get("left_alone") or []
    if not names:
        return None
    shown = ", ".join(quote(n) for n in names[:_TARGETS_SHOWN])
    more = f", ... and {len(names) - _TARGETS_SHOWN} more" if len(names) > _TARGETS_SHOWN else ""
    return f"Left alone: {len(names)} ({shown}{more})"
