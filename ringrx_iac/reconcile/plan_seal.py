"""What makes a saved plan exact: an integrity check and a seal on each secret it uses.

A plan file holds secret *references*, never values. So that ``apply --plan`` carries out
exactly what was reviewed, the file also holds, for every reference the desired state
uses, ``HMAC-SHA256(key, value)`` with a random key made for this plan alone (kept in the
file): apply resolves each reference again and refuses, naming the variable, when the
value differs. The HMAC proves equality without storing the value; the per-plan key means
equal secrets in two plans do not look alike and no precomputed table applies.

``integrity`` is the SHA-256 of the file's canonical content: a file edited after it was
saved (a URL pointed elsewhere, a change removed) is refused. It detects edits, like a
checksum; it is not a signature (whoever can rewrite the file could recompute it, as they
could edit the configuration it came from).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ringrx_iac.config.secrets import SecretError, find_refs, resolve
from ringrx_iac.reconcile.desired import DesiredState
from ringrx_iac.redact import redact

INTEGRITY_KEY = "integrity"


def secret_references(desired: DesiredState) -> list[str]:
    """Every ``${env:...}`` / ``${file:...}`` reference of headers and passwords, sorted."""
    refs: set[str] = set()
    for cb in desired.callbacks:
        for value in [*cb.headers.values(), cb.password or ""]:
            refs.update(str(ref) for ref in find_refs(value))
    return sorted(refs)


def _mac(key: bytes, value: str) -> str:
    return "hmac-sha256:" + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _sealed_value(key: bytes, ref: str, env: Mapping[str, str], base_dir: Path) -> str | None:
    """The MAC of the reference's value; None when it cannot be resolved (unknown)."""
    try:
        return _mac(key, resolve(ref, env, base_dir))
    except SecretError:
        return None


def seal_secrets(desired: DesiredState, env: Mapping[str, str], base_dir: Path) -> dict[str, Any]:
    """``{"key", "hmac": {reference: mac or None}}`` of the value of every reference now."""
    key = secrets.token_bytes(32)
    macs = {ref: _sealed_value(key, ref, env, base_dir) for ref in secret_references(desired)}
    return {"key": key.hex(), "hmac": macs}


def changed_secrets(sealed: Mapping[str, Any], env: Mapping[str, str], base_dir: Path) -> list[str]:
    """The references whose value now differs from the sealed one (or cannot be read)."""
    key = bytes.fromhex(str(sealed["key"]))
    changed: list[str] = []
    for ref, mac in sorted(dict(sealed["hmac"]).items()):
        now = _sealed_value(key, ref, env, base_dir)
        if now is None or mac is None:
            if now is not mac:
                changed.append(ref)
        elif not hmac.compare_digest(now, str(mac)):
            changed.append(ref)
    return changed


def describe_reference(ref: str) -> str:
    """``${env:CRM_KEY}`` -> ``environment variable CRM_KEY``; files by their path."""
    found = find_refs(ref)
    if not found:
        return ref
    parsed = found[0]
    if parsed.kind == "env":
        return f"environment variable {parsed.target}"
    return f"secret file {parsed.target}"


def integrity(data: Mapping[str, Any]) -> str:
    """``sha256:`` of the canonical JSON of ``data`` without its ``integrity`` key."""
    body = {k: v for k, v in data.items() if k != INTEGRITY_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def secrets_refusal(
    sealed: Mapping[str, Any], env: Mapping[str, str], base_dir: Path
) -> str | None:
    """Why ``apply --plan`` must refuse because a secret changed since plan (None: none did)."""
    changed = changed_secrets(sealed, env, base_dir)
    if not changed:
        return None
    names = ", ".join(describe_reference(ref) for ref in changed)
    verb = "resolves" if len(changed) == 1 else "resolve"
    return (
        f"refused: {names} {verb} to a different value than when the plan was made (the plan "
        "file keeps an HMAC of each secret, never the value); nothing was changed. Restore "
        "the value, or make a new plan with 'ringrx-iac plan PATH --out FILE'"
    )


def changes_refusal(saved_changes: Any, planned_changes: Any) -> str | None:
    """Why ``apply --plan`` must refuse because it would not make exactly the saved changes."""
    now = json.loads(redact(json.dumps(planned_changes)))
    if now == saved_changes:
        return None
    return (
        f"refused: the plan file lists {len(saved_changes or [])} change(s) but applying it "
        f"now would make {len(now)} different one(s); nothing was changed. Make a new plan "
        "with 'ringrx-iac plan PATH --out FILE'"
    )
