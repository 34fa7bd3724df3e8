"""``ringrx-iac probe`` output: one line per receiver, or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

from ringrx_iac.webhook.probe import PROBE_FIELD, PROBE_HEADER, ProbeResult

Style = Callable[[str, str], str]


def render_probe_text(results: list[ProbeResult], style: Style) -> str:
    """``CRM inbound SMS (sms): 200 OK in 42 ms  POST https://...``, then a summary line."""
    lines = []
    for r in results:
        if r.error is not None:
            outcome = style(f"error: {r.error}", "red")
        else:
            text = f"{r.status} {r.reason}".strip() + f" in {r.latency_ms:.0f} ms"
            outcome = style(text, "green" if r.ok else "red")
        lines.append(f"{style(r.callback, 'bold')} ({r.type}): {outcome}")
        lines.append(f"    POST {r.url}")
    ok = sum(1 for r in results if r.ok)
    lines.append("")
    lines.append(
        f"Probe: {ok} of {len(results)} receiver{'s' if len(results) != 1 else ''} answered 2xx "
        f'(marked with {PROBE_HEADER}: 1 and "{PROBE_FIELD}": true).'
    )
    return "\n".join(lines) + "\n"


def render_probe_json(results: list[ProbeResult]) -> str:
    ok = sum(1 for r in results if r.ok)
    data = {
        "probes": [r.to_dict() for r in results],
        "summary": {"total": len(results), "ok": ok, "failed": len(results) - ok},
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
