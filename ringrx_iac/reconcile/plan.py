"""The plan: changes, summary, warnings, errors, fingerprints and the safety checks.

Like octoDNS's ``Plan``, the plan owns its safety checks: :meth:`Plan.safety_violations`
says why apply must refuse without ``--force``. :meth:`Plan.to_dict` is the one
serialisable form (``--format json``, the renderers, the plan file).
"""

from __future__ import annotations

import fnmatch
import json
import os
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringrx_iac import __version__
from ringrx_iac.config.safefile import MAX_CONFIG_BYTES, FileLimitError, read_limited
from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.reconcile.changes import ACTIONS, Change
from ringrx_iac.reconcile.desired import DesiredState, SafetyLimits
from ringrx_iac.reconcile.impact import Impact, violations
from ringrx_iac.reconcile.plan_seal import INTEGRITY_KEY, integrity, seal_secrets
from ringrx_iac.redact import redact

FORMAT_VERSION = "1.1"
PLAN_FILE_VERSION = 2


@dataclass
class Plan:
    """What apply would do, and why it may refuse."""

    changes: list[Change]
    live_fingerprint: str
    desired_fingerprint: str
    safety: SafetyLimits = field(default_factory=SafetyLimits)
    managed_count: int = 0
    warnings: list[Diagnostic] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    # Managed live callback name -> id (what binds to an existing callback use).
    callback_ids: dict[str, Any] = field(default_factory=dict)
    impact: Impact = field(default_factory=Impact)
    # manage: no-purge: live callbacks the YAML lacks that stay (never deleted).
    left_alone: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def summary(self) -> dict[str, int]:
        counts = Counter(c.action for c in self.changes)
        out = {action: counts.get(action, 0) for action in ACTIONS}
        out["total"] = len(self.changes)
        return out

    def safety_violations(self) -> list[Diagnostic]:
        """Why apply must refuse without ``--force`` (empty when it may go on)."""
        found: list[Diagnostic] = []
        removing = [c for c in self.changes if c.action in ("delete", "replace")]
        if removing and self.managed_count:
            percent = 100.0 * len(removing) / self.managed_count
            if percent > self.safety.max_delete_percent:
                found.append(
                    Diagnostic(
                        "RRX720",
                        "warning",
                        f"this plan deletes or replaces {len(removing)} of {self.managed_count} "
                        f"managed callbacks ({percent:.0f}%), more than "
                        f"safety.max_delete_percent ({self.safety.max_delete_percent:g}%)",
                        "apply refuses this: raise safety.max_delete_percent in the config, "
                        "or pass --force if it is intended",
                    )
                )
        for change in removing:
            if any(fnmatch.fnmatchcase(change.callback, p) for p in self.safety.protected):
                found.append(
                    Diagnostic(
                        "RRX721",
                        "warning",
                        f"this plan would {change.action} the protected callback {change.callback!r}",
                        "apply refuses this: remove the name from safety.protected in the config, "
                        "or pass --force if it is intended",
                    )
                )
        return found + violations(self.impact, self.safety)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "tool_version": __version__,
            "fingerprint": {"live": self.live_fingerprint, "desired": self.desired_fingerprint},
            "changes": [self.impact.annotate(c, c.to_dict()) for c in self.changes],
            "summary": self.summary(),
            "impact": self.impact.to_dict(),
            "left_alone": list(self.left_alone),
            "warnings": [d.to_dict() for d in [*self.warnings, *self.safety_violations()]],
            "errors": [d.to_dict() for d in self.errors],
        }


@dataclass
class PlanFile:
    """A saved plan: the plan dict and what is needed to re-derive it, without secrets."""

    plan: dict[str, Any]
    desired: DesiredState
    base_dir: Path
    secrets: dict[str, Any] = field(default_factory=lambda: {"key": "", "hmac": {}})

    @property
    def live_fingerprint(self) -> str:
        return str(self.plan["fingerprint"]["live"])


class PlanFileError(Exception):
    """A plan file that cannot be read; the message says why."""


def save_plan_file(
    path: Path,
    plan: Plan,
    desired: DesiredState,
    base_dir: Path,
    env: Mapping[str, str] | None = None,
) -> None:
    """Write the plan file atomically (mode 0600). It holds references, never secrets:
    each secret only as an HMAC with a per-plan key, and an integrity check of it all."""
    data: dict[str, Any] = {
        "plan_file_version": PLAN_FILE_VERSION,
        "plan": plan.to_dict(),
        "desired": desired.to_dict(),
        "base_dir": str(base_dir.resolve()),
        "secrets": seal_secrets(desired, os.environ if env is None else env, base_dir),
    }
    data = json.loads(redact(json.dumps(data)))  # what is written is what is checked
    data[INTEGRITY_KEY] = integrity(data)
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".plan-", dir=str(path.parent.resolve()))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_plan_file(path: Path) -> PlanFile:
    """Read a plan file written by :func:`save_plan_file`."""
    try:
        data = json.loads(read_limited(Path(path), MAX_CONFIG_BYTES).decode("utf-8"))
    except FileLimitError as exc:
        raise PlanFileError(f"cannot read plan file {exc}") from None
    except FileNotFoundError:
        raise PlanFileError(f"plan file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("plan_file_version") != PLAN_FILE_VERSION:
        raise PlanFileError(
            f"{path} is not a ringrx-iac plan file of this version (plan_file_version "
            f"{PLAN_FILE_VERSION}); make one with 'ringrx-iac plan PATH --out FILE'"
        )
    if data.get(INTEGRITY_KEY) != integrity(data):
        raise PlanFileError(
            f"refused: plan file {path} was edited after it was saved (its integrity check "
            "fails); nothing was changed. Make a new one with 'ringrx-iac plan PATH --out FILE'"
        )
    try:
        return PlanFile(
            plan=data["plan"],
            desired=DesiredState.from_dict(data["desired"]),
            base_dir=Path(data["base_dir"]),
            secrets={"key": str(data["secrets"]["key"]), "hmac": dict(data["secrets"]["hmac"])},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"plan file {path} is damaged ({type(exc).__name__}: {exc})") from None
