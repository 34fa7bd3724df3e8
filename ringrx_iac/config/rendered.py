"""``render-config``: the YAML that templates render to, for review and schema checks.

Exactly the rendering of ``validate`` and ``plan``: Jinja2 with ``--var``, ``--var-file``
and ``env`` (which holds only ``RINGRX_VAR_*`` variables, see :mod:`.template`, so a
template cannot print a credential). ``${env:...}`` and ``${file:...}`` references are
never resolved here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringrx_iac.config.loader import _discover
from ringrx_iac.config.template import TemplateError, render
from ringrx_iac.config.yamlio import YamlLoadError, decode
from ringrx_iac.diagnostics import Diagnostic, Location
from ringrx_iac.diagnostics.codes import RULES


@dataclass
class Rendered:
    """The rendered text of each file (in load order) and what went wrong."""

    files: list[tuple[str, str]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def text(self) -> str:
        """One file as it renders; several as a YAML stream, one document per file."""
        if len(self.files) == 1:
            return self.files[0][1]
        parts = []
        for name, text in self.files:
            parts.append(f"--- # {name}\n" + text + ("" if text.endswith("\n") else "\n"))
        return "".join(parts)


def render_config(
    path: Path, variables: Mapping[str, Any] | None, env: Mapping[str, str]
) -> Rendered:
    """Render the file at ``path``, or every ``*.yaml`` of the directory, in load order."""
    result = Rendered()
    for file in _discover(path, result.diagnostics):
        display = str(file)
        try:
            text = decode(file.read_bytes(), display)
            result.files.append((display, render(text, display, variables, env)))
        except OSError as exc:
            result.diagnostics.append(
                RULES["RRX001"].diag(f"cannot read {display}: {exc.strerror}", Location(display))
            )
        except YamlLoadError as exc:
            p = exc.problem
            result.diagnostics.append(
                RULES["RRX003"].diag(p.message, Location(display, p.line, p.column), p.hint)
            )
        except TemplateError as exc:
            code = "RRX005" if exc.kind == "undefined" else "RRX004"
            where = Location(display, exc.line, exc.column or (1 if exc.line else 0))
            result.diagnostics.append(RULES[code].diag(exc.message, where, exc.hint))
    return result
