"""Drift reports: the plan renderers plus the findings and errors of a drift check.

Works on the drift dict: ``Plan.to_dict()`` plus ``in_sync``, ``findings``, ``errors`` and
``complete`` (see ``docs/plan-format.md``). Pure functions; text is escaped like the plan's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ringrx_iac.render.plan import (
    _sanitize,
    _warning_location,
    md_code,
    md_escape,
    render_plan_json,
    render_plan_markdown,
    render_plan_text,
)
from ringrx_iac.render.terminal import style

_SEVERITY_STYLE = {"critical": "red", "high": "yellow", "low": "dim"}


def findings_counts(findings: Sequence[Mapping[str, Any]]) -> str:
    """``1 critical, 2 high, 0 low``."""
    counts = {s: 0 for s in _SEVERITY_STYLE}
    for f in findings:
        sev = str(f.get("severity"))
        if sev in counts:
            counts[sev] += 1
    return ", ".join(f"{n} {s}" for s, n in counts.items())


def _status_line(drift: Mapping[str, Any]) -> str | None:
    errors = drift.get("errors") or []
    if errors:
        n = len(errors)
        return (
            f"Drift check incomplete: {n} error{'s' if n != 1 else ''} prevented a complete "
            "comparison; what could be compared is shown."
        )
    if drift.get("findings") and not drift.get("changes"):
        return "Drift detected: the account breaks the policy."
    return None


def render_drift_text(drift: Mapping[str, Any], color: bool) -> str:
    """The plan's text, then the findings (worst first) and the completeness line."""
    out = render_plan_text(drift, color, "drift")
    findings = drift.get("findings") or []
    lines: list[str] = []
    if findings:
        lines += ["", style(f"Findings ({findings_counts(findings)}):", "bold", color)]
        for f in findings:
            sev = str(f.get("severity", ""))
            tag = style(sev.upper().ljust(8), _SEVERITY_STYLE.get(sev, "bold"), color)
            lines.append(f"  {tag} {_sanitize(str(f.get('message', '')))}")
    status = _status_line(drift)
    if status:
        lines += ["", style(status, "bold", color)]
    return out + ("\n".join(lines) + "\n" if lines else "")


def render_drift_markdown(drift: Mapping[str, Any]) -> str:
    """The plan's Markdown, then a findings table and an errors list (all escaped)."""
    out = render_plan_markdown(drift, "drift").rstrip("\n")
    lines: list[str] = []
    status = _status_line(drift)
    if status:
        lines += ["", f"**{md_escape(status)}**"]
    findings = drift.get("findings") or []
    if findings:
        lines += ["", f"#### Findings ({md_escape(findings_counts(findings))})", ""]
        lines += ["| severity | finding |", "|:--|:--|"]
        for f in findings:
            lines.append(
                f"| {md_escape(f.get('severity', ''))} | {md_escape(f.get('message', ''))} |"
            )
    errors = drift.get("errors") or []
    if errors:
        lines += ["", f"#### Errors ({len(errors)})", ""]
        for e in errors:
            loc = _warning_location(e)
            where = f"{md_code(loc)} " if loc else ""
            code = f"{md_code(e['code'])} " if e.get("code") else ""
            hint = f" (hint: {md_escape(e['hint'])})" if e.get("hint") else ""
            lines.append(f"- {where}{code}{md_escape(e.get('message', ''))}{hint}")
    return out + "\n" + ("\n".join(lines) + "\n" if lines else "")


def render_drift(drift: Mapping[str, Any], fmt: str, color: bool) -> str:
    """The drift report in ``fmt`` (``text``, ``json`` or ``markdown``)."""
    if fmt == "json":
        return render_plan_json(drift)
    if fmt == "markdown":
        return render_drift_markdown(drift)
    return render_drift_text(drift, color)
