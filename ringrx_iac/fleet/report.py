"""One report for a fleet run: a line per account plus totals, in text, JSON or Markdown.

The JSON shape is documented in docs/fleet.md: ``{"format_version", "command",
"accounts": [one object per account], "totals": {...}, "exit_code"}``. Exit codes over the
fleet: 1 when any account failed (error or skipped), else 2 when any has changes (plan,
drift), else 0.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ringrx_iac.fleet.account import (
    APPLIED,
    CHANGES,
    ERROR,
    IMPORTED,
    IN_SYNC,
    SKIPPED,
    VALID,
    AccountResult,
)
from ringrx_iac.render.plan import (
    md_code,
    md_escape,
    render_apply_report,
    render_plan_markdown,
    render_plan_text,
)
from ringrx_iac.render.terminal import style

FORMAT_VERSION = "1.0"
STATUSES = (IN_SYNC, CHANGES, APPLIED, IMPORTED, VALID, ERROR, SKIPPED)
_TOTAL_LABEL = {IN_SYNC: "in sync", CHANGES: "with changes"}
_STATUS_STYLE = {ERROR: "red", SKIPPED: "yellow", CHANGES: "yellow", APPLIED: "green"}


def fleet_dict(command: str, results: Sequence[AccountResult]) -> dict[str, Any]:
    """The report's one serialisable form (what ``--format json`` prints)."""
    totals: dict[str, int] = {"accounts": len(results)}
    totals.update({s: sum(1 for r in results if r.status == s) for s in STATUSES})
    totals["total_changes"] = sum(r.changes for r in results)
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "command": command,
        "accounts": [r.to_dict() for r in results],
        "totals": totals,
    }
    data["exit_code"] = exit_code(data)
    return data


def exit_code(data: Mapping[str, Any]) -> int:
    totals = data["totals"]
    if totals[ERROR] or totals[SKIPPED]:
        return 1
    return 2 if totals[CHANGES] else 0


def status_text(item: Mapping[str, Any], short: bool = False) -> str:
    """``in sync``, ``3 changes``, ``error: ...`` for one account object (``short``: no
    error message)."""
    status, n = item["status"], item["changes"]
    if status == IN_SYNC:
        return "in sync"
    if status == CHANGES:
        return f"{n} change{'s' if n != 1 else ''}"
    if status == APPLIED:
        return f"applied {n} change{'s' if n != 1 else ''}"
    if status == IMPORTED:
        return f"imported {item.get('callbacks')} callbacks to {item.get('output')}"
    if status == VALID:
        warnings = sum(1 for d in item["diagnostics"] if d["severity"] != "error")
        return "valid" + (
            f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        )
    return status if short else f"{status}: {item.get('error') or ''}".rstrip(": ")


def totals_text(data: Mapping[str, Any]) -> str:
    t = data["totals"]
    parts = [f"{t[s]} {_TOTAL_LABEL.get(s, s)}" for s in STATUSES if t[s]]
    return f"{t['accounts']} account{'s' if t['accounts'] != 1 else ''}: " + ", ".join(parts)


def _diagnostic_lines(diagnostics: Sequence[Mapping[str, Any]], color: bool) -> list[str]:
    lines = []
    for d in diagnostics:
        where = f"{d['file']}:{d['line']}:{d['column'] or 1}: " if d.get("line") else ""
        if d.get("file") and not d.get("line"):
            where = f"{d['file']}: "
        sev = style(str(d["severity"]), "red" if d["severity"] == "error" else "yellow", color)
        lines.append(f"  {where}{sev} {d['code']}: {d['message']}")
        if d.get("hint"):
            lines.append(f"      hint: {d['hint']}")
    return lines


def render_fleet_text(data: Mapping[str, Any], color: bool) -> str:
    """Per-account details (changes, reports, errors), then the table and the totals."""
    command = str(data["command"])
    lines: list[str] = []
    for item in data["accounts"]:
        details = _text_details(item, command, color)
        if details:
            heading = f"== {item['key']} ({item['name']}): {status_text(item, short=True)}"
            lines += [style(heading, "bold", color), *details, ""]
    width = max((len(str(i["key"])) for i in data["accounts"]), default=7)
    name_width = max((len(str(i["name"])) for i in data["accounts"]), default=4)
    lines.append(style(f"ringrx-iac {command} over the fleet:", "bold", color))
    for item in data["accounts"]:
        text = status_text(item)
        lines.append(
            f"  {item['key']:<{width}}  {item['name']:<{name_width}}  "
            + style(text, _STATUS_STYLE.get(item["status"], ""), color)
        )
    lines.append(style(f"Fleet: {totals_text(data)}.", "bold", color))
    return "\n".join(lines) + "\n"


def _text_details(item: Mapping[str, Any], command: str, color: bool) -> list[str]:
    out: list[str] = []
    if item["status"] == CHANGES and item.get("plan"):
        out.append(render_plan_text(item["plan"], color, command).rstrip("\n"))
    if item.get("report"):
        out.append(render_apply_report(item["report"], color).rstrip("\n"))
    if item.get("remaining"):
        out.append(render_plan_text(item["remaining"], color, "remaining").rstrip("\n"))
    if item["status"] in (ERROR, SKIPPED) and item.get("error"):
        out.append(style(f"  {item['status']}: {item['error']}", "red", color))
    out += _diagnostic_lines(item["diagnostics"], color)
    if item.get("variables"):
        out.append("  Set these variables before plan/apply: " + ", ".join(item["variables"]))
    return out


def render_fleet_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_fleet_markdown(data: Mapping[str, Any]) -> str:
    """A heading, a table of accounts, then collapsible per-account details."""
    command = str(data["command"])
    lines = [
        f"### ringrx-iac {md_escape(command)} over the fleet",
        "",
        f"**{md_escape(totals_text(data))}**",
        "",
        "| account | name | status | changes |",
        "|:--|:--|:--|--:|",
    ]
    for item in data["accounts"]:
        lines.append(
            f"| {md_code(item['key'])} | {md_escape(item['name'])} | "
            f"{md_escape(status_text(item, short=True))} | {item['changes']} |"
        )
    lines.append("")
    for item in data["accounts"]:
        body = _md_body(item, command)
        if not body:
            continue
        summary = f"{md_code(item['key'])}: {md_escape(status_text(item, short=True))}"
        lines += ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_body(item: Mapping[str, Any], command: str) -> list[str]:
    body: list[str] = []
    if item.get("error"):
        body.append(f"**{md_escape(item['status'])}**: {md_escape(item['error'])}")
        body.append("")
    plan = item.get("remaining") or item.get("plan")
    if plan and (plan.get("changes") or plan.get("warnings")):
        body.append(render_plan_markdown(plan, command).rstrip("\n"))
    for d in item["diagnostics"]:
        loc = f"{d['file']}:{d['line']}" if d.get("line") else (d.get("file") or "")
        where = f"{md_code(loc)} " if loc else ""
        body.append(
            f"- {where}**{md_escape(d['severity'])}** {md_code(d['code'])} {md_escape(d['message'])}"
        )
    return body
