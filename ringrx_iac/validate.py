"""The validation pipeline: load a configuration, then lint it.

``config`` loads and never lints; ``lint`` reads a loaded config; this module composes the
two for every command (``validate``, ``plan``, ``apply``, ``drift``, ``render``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ringrx_iac.config.loader import LoadResult, load
from ringrx_iac.gcpause import gc_paused
from ringrx_iac.lint import lint


def validate(
    path: Path | str,
    variables: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    bases: Sequence[Path] = (),
) -> LoadResult:
    """Load the configuration at ``path`` (see ``config.loader.load``) and lint it."""
    with gc_paused():
        result = load(path, variables, env, bases=bases)
        target = result.lintable
        if target is not None:
            result.add(lint(target.config, target.sources, other_names=target.other_names))
    return result
