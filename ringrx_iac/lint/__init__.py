"""The linter: token parsing (:mod:`.tokens`) and the checks; codes live in ``diagnostics.codes``.

``lint(config, sources) -> list[Diagnostic]`` runs every check on a loaded configuration.
"""

from __future__ import annotations

from ringrx_iac.diagnostics.codes import RULES, Rule
from ringrx_iac.lint.checks import lint

__all__ = ["RULES", "Rule", "lint"]
