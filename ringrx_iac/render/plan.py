"""Plan and apply-report renderers: text (Terraform-like), Markdown (pull requests), JSON.

Every function here is pure and works on the plan's one serialisable form
(``Plan.to_dict()``, see ``docs/architecture.md``) or on the apply report dict, so a saved
plan renders exactly like a fresh one. The dicts never hold a secret (sensitive values are
already ``"(sensitive)"``); these functions only print what they are given.

User-provided text (names, URLs, header names and values, targets, server messages) is
never trusted: in text output it is quoted with control and format characters escaped (no
terminal escape injection); in Markdown it goes into safely delimited code spans or is
escaped, so it cannot break the layout or inject HTML.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ringrx_iac.reconcile.changes import (
    ACTIONS,
    BINDING_ACTIONS,
    CALLBACK_ACTIONS,
    SENSITIVE,
    SENSITIVE_CHANGED,
)
from ringrx_iac.render.impact import change_impact_lines, impact_summary, left_alone_line
from ringrx_iac.render.terminal import style
from ringrx_iac.render.words import count_targets, plural

_MARKERS = frozenset({SENSITIVE, SENSITIVE_CHANGED})

MARKS: dict[str, str] = {
    "create": "+",
    "bind": "+",
    "update": "~",
    "rebind": "~",
    "replace": "-/+",
    "delete": "-",
    "unbind": "-",
}
_MARK_STYLE: dict[str, str] = {"+": "green", "~": "yellow", "-/+": "magenta", "-": "red"}

# Bindings of one group: all shown up to this many, else the first _BIND_HEAD of them.
BIND_LIST_LIMIT = 20
_BIND_HEAD = 10
_BIND_PER_LINE = 5
# Apply report: at most this many failed / skipped lines.
_REPORT_LIMIT = 50
# GitHub comments hold 65,536 characters; keep the change lists well under that.
MARKDOWN_BUDGET = 60_000

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.\-]+")
_PLAIN_TARGET = re.compile(r"[A-Za-z0-9+_.@\-]+(?: [A-Za-z0-9+_.@\-]+)*")


# --------------------------------------------------------------------------- helpers


def _sanitize(text: str) -> str:
    """``text`` with control, format and line-separator characters shown as escapes."""
    out: list[str] = []
    for ch in text:
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def _quote(text: Any) -> str:
    """A string as a double-quoted literal, safe to print on a terminal."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _sanitize(escaped) + '"'


def _key(text: Any) -> str:
    """A field or header name: bare when it is simple, quoted otherwise."""
    text = str(text)
    return text if _PLAIN_KEY.fullmatch(text) else _quote(text)


def _target(text: Any) -> str:
    """A target's natural key (phone number, mailbox, name): bare when simple."""
    text = str(text)
    return text if _PLAIN_TARGET.fullmatch(text) else _quote(text)


def format_value(value: Any) -> str:
    """A field value for text output; the sensitive markers pass through unquoted."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value if value in _MARKERS else _quote(value)
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)}: {format_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return _quote(value)


def count_actions(plan: Mapping[str, Any]) -> dict[str, int]:
    """Counts per action: the plan's ``summary`` when present, else counted from changes."""
    summary = plan.get("summary")
    changes = plan.get("changes") or []
    counts = {a: 0 for a in ACTIONS}
    if isinstance(summary, Mapping):
        for action in ACTIONS:
            counts[action] = int(summary.get(action, 0) or 0)
    else:
        for change in changes:
            action = change.get("action")
            if action in counts:
                counts[action] += 1
    return counts


def summary_counts_text(counts: Mapping[str, int]) -> str:
    """``2 to create, 1 to update, ...; 3 to bind, ...`` (no prefix, no final dot)."""
    callbacks = ", ".join(f"{counts.get(a, 0)} to {a}" for a in CALLBACK_ACTIONS)
    bindings = ", ".join(f"{counts.get(a, 0)} to {a}" for a in BINDING_ACTIONS)
    return f"{callbacks}; {bindings}"


def _summary_line(plan: Mapping[str, Any], title: str) -> str:
    counts = count_actions(plan)
    if not (plan.get("changes") or any(counts.values())):
        if title == "drift" and plan.get("in_sync") is False:
            return "No differences from the configuration in what could be compared."
        if title == "drift":
            return "In sync: RingRx callbacks match the configuration."
        return "No changes. RingRx callbacks match the configuration."
    prefix = "Drift detected" if title == "drift" else title.capitalize()
    return f"{prefix}: {summary_counts_text(counts)}."


def describe_change(change: Mapping[str, Any]) -> str:
    """A one-line description of a change (no mark), e.g. ``update callback "X" (id 42)``."""
    action = str(change.get("action", "?"))
    name = _quote(change.get("callback", ""))
    if action in BINDING_ACTIONS:
        kind = _key(change.get("target_kind", "target"))
        target = _target(change.get("target", change.get("target_id", "?")))
        if action == "bind":
            return f"bind {kind} {target} to {name}"
        if action == "rebind":
            old = _quote(change.get("from_callback", ""))
            return f"rebind {kind} {target} from {old} to {name}"
        return f"unbind {kind} {target} from {name}"
    if action == "delete" and change.get("duplicate"):
        return f"delete duplicate {name} (id {_key(change.get('id'))})"
    details = _callback_details(change)
    return f"{action} callback {name}" + (f" ({details})" if details else "")


def _callback_details(change: Mapping[str, Any], fmt: Any = _key, arrow: str = "->") -> str:
    """``type sms -> fax, id 42`` (replace) or ``sms, id 42``, values formatted by ``fmt``."""
    parts: list[str] = []
    action = change.get("action")
    if action == "replace":
        parts.append(f"type {fmt(change.get('old_type'))} {arrow} {fmt(change.get('new_type'))}")
    elif change.get("type") is not None:
        parts.append(fmt(change["type"]))
    if change.get("id") is not None:
        parts.append(f"id {fmt(change['id'])}")
    return ", ".join(parts)


def _warning_location(warning: Mapping[str, Any]) -> str:
    """``file:line:column`` of a plan warning (``file`` alone without a line), else ``""``."""
    if not warning.get("file"):
        return ""
    where = str(warning["file"])
    if warning.get("line"):
        where += f":{warning['line']}:{warning.get('column') or 1}"
    return where


def _group_key(change: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(change.get("action")),
        str(change.get("callback", "")),
        str(change.get("target_kind", "")),
        str(change.get("from_callback", "")) if change.get("action") == "rebind" else "",
    )


def _blocks(changes: Iterable[Mapping[str, Any]]) -> list[Any]:
    """Changes in plan order, bindings grouped (at their first appearance) by callback."""
    blocks: list[Any] = []
    groups: dict[tuple[str, str, str, str], list[Mapping[str, Any]]] = {}
    for change in changes:
        if change.get("action") in BINDING_ACTIONS:
            key = _group_key(change)
            if key not in groups:
                groups[key] = []
                blocks.append(groups[key])
            groups[key].append(change)
        else:
            blocks.append(change)
    return blocks


def _shown_targets(group: Sequence[Mapping[str, Any]]) -> tuple[list[Any], int]:
    """The targets of a group to show and how many more are left out."""
    targets = [c.get("target", c.get("target_id", "?")) for c in group]
    if len(targets) > BIND_LIST_LIMIT:
        return targets[:_BIND_HEAD], len(targets) - _BIND_HEAD
    return targets, 0


def _group_heading(group: Sequence[Mapping[str, Any]], fmt: Any) -> str:
    """``bind "CB" to 3 phone numbers`` with names formatted by ``fmt``."""
    first = group[0]
    action = str(first.get("action"))
    kind = str(first.get("target_kind", "targets"))
    name = fmt(first.get("callback", ""))
    n = len(group)
    if action == "bind":
        return f"bind {name} to {count_targets(n, kind)}"
    if action == "rebind":
        return (
            f"rebind {count_targets(n, kind)} from {fmt(first.get('from_callback', ''))} to {name}"
        )
    return f"unbind {count_targets(n, kind)} from {name}"


# --------------------------------------------------------------------------- text


def _mark(action: str, color: bool, pad: bool = True) -> str:
    mark = MARKS.get(action, "?")
    return style(f"{mark:>3}" if pad else mark, _MARK_STYLE.get(mark, "bold"), color)


def _text_fields(fields: Any, indent: str) -> list[str]:
    """Field lines: a mapping for create/replace, a list of field changes for update."""
    lines: list[str] = []
    if isinstance(fields, Mapping):
        width = max((len(_key(k)) for k in fields), default=0)
        for name, value in fields.items():
            label = f"{_key(name)}:".ljust(width + 1)
            if isinstance(value, Mapping) and value:
                lines.append(f"{indent}{_key(name)}:")
                for sub, subvalue in value.items():
                    lines.append(f"{indent}  {_key(sub)}: {format_value(subvalue)}")
            else:
                lines.append(f"{indent}{label} {format_value(value)}")
    elif isinstance(fields, list):
        for item in fields:
            if isinstance(item, Mapping):
                old, new = format_value(item.get("old")), format_value(item.get("new"))
                lines.append(f"{indent}{_key(item.get('field', '?'))}: {old} -> {new}")
    return lines


def _text_group(group: Sequence[Mapping[str, Any]], color: bool) -> list[str]:
    action = str(group[0].get("action"))
    silenced = " (targets silenced)" if action == "unbind" and group[0].get("silence") else ""
    lines = [f"{_mark(action, color)} {_group_heading(group, _quote)}{silenced}:"]
    shown, more = _shown_targets(group)
    for i in range(0, len(shown), _BIND_PER_LINE):
        lines.append("      " + ", ".join(_target(t) for t in shown[i : i + _BIND_PER_LINE]))
    if more:
        lines.append(f"      ... and {more} more")
    return lines


def _text_warnings(warnings: Sequence[Mapping[str, Any]], color: bool) -> list[str]:
    lines: list[str] = []
    for w in warnings:
        where = _warning_location(w)
        where += ": " if where else ""
        severity = str(w.get("severity", "warning"))
        head = style(severity, "yellow" if severity == "warning" else "red", color)
        code = f"[{_sanitize(str(w['code']))}] " if w.get("code") else ""
        lines.append(f"{_sanitize(where)}{head}: {code}{_sanitize(str(w.get('message', '')))}")
        if w.get("hint"):
            lines.append(f"  hint: {_sanitize(str(w['hint']))}")
    return lines


def render_plan_text(plan: Mapping[str, Any], color: bool, title: str = "plan") -> str:
    """Terraform-like text: header, each change with its mark and details, summary line."""
    changes = plan.get("changes") or []
    lines: list[str] = []
    if changes:
        if title == "drift":
            header = "The live account differs from the configuration; apply would:"
        else:
            header = f"ringrx-iac {title}: the following changes will be made:"
        lines += [style(header, "bold", color), ""]
        legend = "  ".join(f"{_mark(a, color, pad=False)} {a}" for a in CALLBACK_ACTIONS)
        lines += [f"  {legend}  (bindings: + bind, ~ rebind, - unbind)", ""]
        for block in _blocks(changes):
            if isinstance(block, list):
                lines += _text_group(block, color)
                continue
            action = str(block.get("action"))
            lines.append(f"{_mark(action, color)} {describe_change(block)}")
            for line in change_impact_lines(block, _quote):
                lines.append("      " + style(line, "bold", color))
            if action in ("create", "update", "replace"):
                lines += _text_fields(block.get("fields"), "      ")
        lines.append("")
    warnings = plan.get("warnings") or []
    if warnings:
        lines += _text_warnings(warnings, color) + [""]
    lines.append(style(_summary_line(plan, title), "bold", color))
    impact = impact_summary(plan)
    if impact:
        lines.append(style(f"Impact: {impact}.", "bold", color))
    kept = left_alone_line(plan, _quote)
    if kept:
        lines.append(f"{kept}.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- markdown


def md_code(text: Any) -> str:
    """``text`` as an inline code span that nothing inside it can break out of."""
    text = _sanitize(str(text))
    if not text:
        return "_(empty)_"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = text.startswith("`") or text.endswith("`") or (text[0] == " " and text[-1] == " ")
    return f"{fence} {text} {fence}" if pad else f"{fence}{text}{fence}"


_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "|": "&#124;"}
_MD_PUNCT = set("\\`*_{}[]()#+-.!~:")


def md_escape(text: Any) -> str:
    """Plain Markdown text with HTML and Markdown syntax neutralised (for prose)."""
    out: list[str] = []
    for ch in _sanitize(str(text)):
        if ch in _MD_ENTITIES:
            out.append(_MD_ENTITIES[ch])
        elif ch in _MD_PUNCT:
            out.append("\\" + ch)
        elif ch == "@":
            out.append("@\u200b")  # no @-mentions from a PR comment
        else:
            out.append(ch)
    return "".join(out)


def _md_value(value: Any) -> str:
    if isinstance(value, str) and value in _MARKERS:
        return f"_{value}_"
    if value is None:
        return "_(none)_"
    if isinstance(value, str):
        return md_code(value)
    return md_code(format_value(value))


def _md_fields(fields: Any) -> list[str]:
    lines: list[str] = []
    if isinstance(fields, Mapping):
        for name, value in fields.items():
            if isinstance(value, Mapping) and value:
                inner = ", ".join(f"{md_code(k)}: {_md_value(v)}" for k, v in value.items())
                lines.append(f"  - {md_code(name)}: {inner}")
            else:
                lines.append(f"  - {md_code(name)}: {_md_value(value)}")
    elif isinstance(fields, list):
        for item in fields:
            if isinstance(item, Mapping):
                old, new = _md_value(item.get("old")), _md_value(item.get("new"))
                lines.append(f"  - {md_code(item.get('field', '?'))}: {old} → {new}")
    return lines


def _md_change(change: Mapping[str, Any]) -> list[str]:
    action = str(change.get("action"))
    head = f"- **{md_code(MARKS.get(action, '?'))} {action}** {md_code(change.get('callback', ''))}"
    details = _callback_details(change, md_code, "→")
    lines = [head + (f" ({details})" if details else "")]
    lines += [f"  - **{line}**" for line in change_impact_lines(change, md_code)]
    if action in ("create", "update", "replace"):
        lines += _md_fields(change.get("fields"))
    return lines


def _md_group(group: Sequence[Mapping[str, Any]]) -> list[str]:
    action = str(group[0].get("action"))
    mark = md_code(MARKS.get(action, "?"))
    heading = _group_heading(group, md_code).split(" ", 1)[1]
    shown, more = _shown_targets(group)
    targets = ", ".join(md_code(t) for t in shown)
    if more:
        targets += f" … and {more} more"
    silenced = " (targets silenced)" if action == "unbind" and group[0].get("silence") else ""
    return [f"- **{mark} {action}** {heading}{silenced}: {targets}"]


def _md_section(summary: str, items: list[list[str]], budget: int) -> tuple[list[str], int]:
    """A collapsible section; items past the character budget are counted, not shown."""
    body: list[str] = []
    used = 0
    left_out = 0
    for item in items:
        size = sum(len(line) + 1 for line in item)
        if used + size > budget:
            left_out += 1
            continue
        body += item
        used += size
    if left_out:
        body.append(
            f"- … {left_out} more not shown (comment size limit); "
            "see `ringrx-iac plan --format json`"
        )
    return _md_details(summary, body), used


def _md_details(summary: str, body: list[str]) -> list[str]:
    """A collapsible ``<details>`` block with ``summary`` as its title."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def render_plan_markdown(plan: Mapping[str, Any], title: str = "plan") -> str:
    """Markdown for a pull-request comment: heading, counts table, collapsible changes."""
    changes = plan.get("changes") or []
    counts = count_actions(plan)
    lines = [
        f"### ringrx-iac {md_escape(title)}",
        "",
        f"**{_summary_line(plan, title)}**",
        "",
    ]
    impact = impact_summary(plan)
    if impact:
        lines[-1:-1] = ["", f"**Impact: {md_escape(impact)}.**"]
    kept = left_alone_line(plan, md_code)
    if kept:
        lines[-1:-1] = ["", f"{kept}."]
    if changes or any(counts.values()):
        lines += ["| action | count |", "|:--|--:|"]
        lines += [f"| `{MARKS[a]}` {a} | {counts[a]} |" for a in ACTIONS]
        lines.append("")
        callback_items: list[list[str]] = []
        binding_items: list[list[str]] = []
        for block in _blocks(changes):
            if isinstance(block, list):
                binding_items.append(_md_group(block))
            else:
                callback_items.append(_md_change(block))
        budget = MARKDOWN_BUDGET
        n_cb = sum(counts[a] for a in CALLBACK_ACTIONS)
        n_bind = sum(counts[a] for a in BINDING_ACTIONS)
        if callback_items:
            section, used = _md_section(
                f"Callbacks ({plural(n_cb, 'change')})", callback_items, budget
            )
            lines += section
            budget -= used
        if binding_items:
            section, _ = _md_section(
                f"Bindings ({plural(n_bind, 'change')})", binding_items, budget
            )
            lines += section
    warnings = plan.get("warnings") or []
    if warnings:
        items = []
        for w in warnings:
            loc = _warning_location(w)
            where = f"{md_code(loc)} " if loc else ""
            text = f"- {where}**{md_escape(w.get('severity', 'warning'))}** "
            if w.get("code"):
                text += f"{md_code(w['code'])} "
            text += md_escape(w.get("message", ""))
            if w.get("hint"):
                text += f" (hint: {md_escape(w['hint'])})"
            items.append(text)
        lines += _md_details(f"Warnings ({len(warnings)})", items)
    fingerprint = plan.get("fingerprint")
    if isinstance(fingerprint, Mapping) and fingerprint.get("live"):
        lines.append(f"<sub>live state {md_code(fingerprint['live'])}</sub>")
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- json


def render_plan_json(plan: Mapping[str, Any]) -> str:
    """The plan dict as JSON (indent 2, key order kept, non-ASCII kept)."""
    return json.dumps(plan, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- apply report


def _report_list(
    title: str, items: Sequence[Mapping[str, Any]], key: str, color: bool, style_name: str
) -> list[str]:
    if not items:
        return []
    lines = [style(f"{title} ({len(items)}):", style_name, color)]
    for item in items[:_REPORT_LIMIT]:
        why = _sanitize(str(item.get(key, "") or "")) if key else ""
        action = str(item.get("action", ""))
        lines.append(
            f"{_mark(action, color)} {describe_change(item)}" + (f": {why}" if why else "")
        )
    if len(items) > _REPORT_LIMIT:
        lines.append(f"    ... and {len(items) - _REPORT_LIMIT} more")
    return lines + [""]


def render_apply_report(report: Mapping[str, Any], color: bool) -> str:
    """The end-of-apply report: done (when something failed), failed (with the server's
    message), skipped (with the reason), the counts and whether the account converged."""
    done = report.get("done") or []
    failed = report.get("failed") or []
    skipped = report.get("skipped") or []
    summary = report.get("summary") or {}
    n_done = int(summary.get("done", len(done)))
    n_failed = int(summary.get("failed", len(failed)))
    n_skipped = int(summary.get("skipped", len(skipped)))
    partial = bool(failed or skipped or report.get("interrupted"))
    # When it went wrong, what did get done matters too (the full list: --log, --format json).
    lines = _report_list("Done", done, "", color, "green") if partial else []
    lines += _report_list("Failed", failed, "error", color, "red")
    lines += _report_list("Skipped", skipped, "reason", color, "yellow")
    counts = f"{n_done} done, {n_failed} failed, {n_skipped} skipped."
    if report.get("interrupted"):
        lines.append(style(f"Apply interrupted: {counts}", "red", color))
    elif n_failed or n_skipped:
        lines.append(style(f"Apply failed: {counts}", "red", color))
    else:
        lines.append(style(f"Apply complete: {n_done} done.", "green", color))
    converged = report.get("converged")
    if converged is True:
        lines.append("Account converged.")
    elif converged is False:
        lines.append(
            style("Account has not converged; run plan to see what is left.", "yellow", color)
        )
    return "\n".join(lines) + "\n"
