"""Rendering diagnostics: human text, JSON and GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.render.terminal import style
from ringrx_iac.render.words import plural

FORMATS = ("text", "json", "github")


def summary(diagnostics: Sequence[Diagnostic]) -> tuple[int, int]:
    """(errors, warnings) among ``diagnostics``."""
    errors = sum(1 for d in diagnostics if d.is_error)
    return errors, len(diagnostics) - errors


def finding_lines(d: Diagnostic, where: str, color: bool = False, indent: str = "") -> list[str]:
    """THE text form of one finding: ``WHERE severity CODE: message``, then its hint.

    ``where`` is the location prefix as the caller wants it (``"f.yaml:3:5: "``, ``""``).
    Every command prints findings through this (validate, plan, apply, drift, import).
    """
    sev = style(d.severity, "red" if d.is_error else "yellow", color)
    code = f" {style(d.code, 'bold', color)}" if d.code else ""
    lines = [f"{indent}{where}{sev}{code}: {d.message}"]
    if d.hint:
        lines.append(f"{indent}    {style('hint:', 'dim', color)} {d.hint}")
    return lines


def render_text(
    diagnostics: Sequence[Diagnostic],
    files: Sequence[str],
    color: bool = False,
    callbacks: int | None = None,
) -> str:
    """One ``file:line:col: severity CODE: message`` line per finding, a hint line, a summary."""
    lines: list[str] = []
    for d in diagnostics:
        lines += finding_lines(d, f"{d.location or '<config>'}: ", color)
    errors, warnings = summary(diagnostics)
    scope = plural(len(files), "file")
    if callbacks is not None:
        scope += f", {plural(callbacks, 'callback')}"
    if errors:
        text = f"invalid: {plural(errors, 'error')}, {plural(warnings, 'warning')} ({scope})"
        lines.append(style(text, "red", color))
    elif warnings:
        lines.append(style(f"valid with {plural(warnings, 'warning')} ({scope})", "yellow", color))
    else:
        lines.append(style(f"valid ({scope})", "green", color))
    return "\n".join(lines) + "\n"


def to_dict(
    diagnostics: Sequence[Diagnostic], files: Sequence[str], valid: bool
) -> dict[str, object]:
    """The JSON document of ``validate --format json``."""
    errors, warnings = summary(diagnostics)
    return {
        "valid": valid,
        "errors": errors,
        "warnings": warnings,
        "diagnostics": [d.to_dict() for d in diagnostics],
        "files": list(files),
    }


def render_json(diagnostics: Sequence[Diagnostic], files: Sequence[str], valid: bool) -> str:
    """``to_dict`` as indented JSON."""
    return json.dumps(to_dict(diagnostics, files, valid), indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diagnostics: Sequence[Diagnostic], files: Sequence[str] = ()) -> str:
    """GitHub workflow commands: ``::error file=F,line=L,col=C,title=CODE::message (hint)``.

    Without errors a last ``::notice`` says the configuration is valid, so a passing run
    shows something too.
    """
    lines: list[str] = []
    for d in diagnostics:
        props: list[str] = []
        loc = d.location
        if loc is not None:
            props.append(f"file={_escape_property(loc.file)}")
            if loc.line:
                props.append(f"line={loc.line}")
                props.append(f"col={loc.column or 1}")
        props.append(f"title={_escape_property(d.code)}")
        message = f"{d.message} ({d.hint})" if d.hint else d.message
        command = "error" if d.is_error else "warning"
        lines.append(f"::{command} {','.join(props)}::{_escape_data(message)}")
    errors, warnings = summary(diagnostics)
    if not errors:
        result = f"valid with {plural(warnings, 'warning')}" if warnings else "valid"
        scope = plural(len(files), "file")
        lines.append(f"::notice title=ringrx-iac validate::{_escape_data(f'{result} ({scope})')}")
    return "".join(line + "\n" for line in lines)
