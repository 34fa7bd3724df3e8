"""The linter: token parsing (:mod:`.tokens`), the rule table (:mod:`.rules`) and the checks.

``lint(config, sources) -> list[Diagnostic]`` runs every check on a loaded configuration.
"""

from __future__ import annotations

from ringrx_iac.lint.checks import lint
from ringrx_iac.lint.rules import RULES, Rule

__all__ = ["RULES", "Rule", "lint"]
