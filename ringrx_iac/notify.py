"""``drift --notify URL``: post a drift summary to a Slack-style incoming webhook.

The message is JSON ``{"text": ..., "blocks": [...]}`` (Slack; Mattermost and Teams
workflows read ``text``). It is posted only when the drift changed since the last
notification, and once more when it clears; ``--state FILE`` keeps the fingerprint of
what was last notified (without ``--state``, every run with drift posts and a clear is
never announced). The message names callbacks, hosts and fields, never a value, and
passes the redactor; the webhook URL (it holds a token) is never printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ringrx_iac import redact
from ringrx_iac.api.credentials import is_loopback_host

STATE_VERSION = 1
TIMEOUT = 10.0
_LISTED = 20


class NotifyError(Exception):
    """The notification could not be checked, sent or recorded (message has no URL)."""


def check_url(url: str) -> None:
    """Refuse anything but https, or plain http to a loopback host (like RINGRX_BASE_URL)."""
    redact.register(url)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise NotifyError("--notify needs an http(s) URL (the incoming webhook)") from None
    if parts.scheme not in ("http", "https") or not host:
        raise NotifyError("--notify needs an http(s) URL (the incoming webhook)")
    if parts.username or parts.password:
        raise NotifyError("--notify URL must not hold credentials (user:password@)")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise NotifyError(
            "--notify needs https://; plain http:// is allowed only to a loopback host "
            "(127.0.0.1, ::1, localhost)"
        )


def fingerprint(drift: Mapping[str, Any]) -> str | None:
    """What identifies this drift (findings and errors), or None when in sync."""
    findings = sorted(
        (f.get("severity"), f.get("kind"), f.get("callback") or "", f.get("message"))
        for f in drift.get("findings") or []
    )
    errors = sorted((e.get("code") or "", e.get("message")) for e in drift.get("errors") or [])
    if not findings and not errors:
        return None
    text = json.dumps([findings, errors], sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def drift_message(drift: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The webhook body for a drift (findings and errors listed, worst first)."""
    findings: Sequence[Mapping[str, Any]] = drift.get("findings") or []
    errors: Sequence[Mapping[str, Any]] = drift.get("errors") or []
    counts = {s: 0 for s in ("critical", "high", "low")}
    for f in findings:
        counts[str(f.get("severity"))] = counts.get(str(f.get("severity")), 0) + 1
    head = (
        f"RingRx drift in {source}: {counts['critical']} critical, {counts['high']} high, "
        f"{counts['low']} low"
    )
    if errors:
        head += f"; {len(errors)} error{'s' if len(errors) != 1 else ''} (comparison incomplete)"
    hosts = sorted({h for f in findings for h in f.get("hosts") or []})
    lines = [f"[{str(f.get('severity')).upper()}] {f.get('message')}" for f in findings]
    lines += [
        " ".join(str(x) for x in ("[ERROR]", e.get("code"), e.get("message")) if x) for e in errors
    ]
    if len(lines) > _LISTED:
        lines = lines[:_LISTED] + [f"... and {len(lines) - _LISTED} more"]
    text = head + (f" (hosts: {', '.join(hosts)})" if hosts else "") + "\n" + "\n".join(lines)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack_escape(head)}*"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _slack_escape("\n".join(lines))[:2900]},
        },
    ]
    if hosts:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": _slack_escape("Hosts involved: " + ", ".join(hosts))}
                ],
            }
        )
    return redact.redact_json({"text": text, "blocks": blocks})  # type: ignore[no-any-return]


def cleared_message(source: str) -> dict[str, Any]:
    """The webhook body once the drift has cleared."""
    text = f"RingRx drift in {source} cleared: the account matches the configuration again."
    return redact.redact_json(  # type: ignore[no-any-return]
        {
            "text": text,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(text)}}
            ],
        }
    )


@dataclass
class Decision:
    """What to post (None: nothing) and the fingerprint to record afterwards."""

    message: dict[str, Any] | None
    fingerprint: str | None
    kind: str  # "drift", "cleared" or "unchanged"


def decide(drift: Mapping[str, Any], previous: str | None, source: str, stateful: bool) -> Decision:
    """Post on a new or changed drift, and once when it clears (only with a state file)."""
    current = fingerprint(drift)
    if stateful and current == previous:
        return Decision(None, current, "unchanged")
    if current is not None:
        return Decision(drift_message(drift, source), current, "drift")
    if stateful and previous is not None:
        return Decision(cleared_message(source), None, "cleared")
    return Decision(None, None, "unchanged")


def read_state(path: Path) -> str | None:
    """The fingerprint last notified (None: nothing notified, or no state yet)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotifyError(
            f"cannot read the --state file {path}: {exc}; delete it to start afresh"
        ) from None
    if not isinstance(data, dict) or data.get("state_version") != STATE_VERSION:
        raise NotifyError(f"{path} is not a ringrx-iac drift state file; delete it to start afresh")
    value = data.get("fingerprint")
    return value if isinstance(value, str) else None


def write_state(path: Path, current: str | None) -> None:
    """Record what was notified, atomically (no secret, no URL: a fingerprint and a time)."""
    data = {
        "state_version": STATE_VERSION,
        "fingerprint": current,
        "notified_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = Path(path)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".drift-state-", dir=str(path.parent.resolve()))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise NotifyError(f"cannot write the --state file {path}: {exc.strerror or exc}") from None


def post(url: str, message: Mapping[str, Any]) -> None:
    """POST ``message`` as JSON; any failure is a :class:`NotifyError` without the URL."""
    import httpx

    try:
        response = httpx.post(url, json=message, timeout=TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise NotifyError(
            f"the --notify webhook could not be reached ({type(exc).__name__})"
        ) from None
    if not 200 <= response.status_code < 300:
        raise NotifyError(f"the --notify webhook answered HTTP {response.status_code}")
