"""``validate`` speed: load + lint a generated 5,000-callback configuration (goal < 2 s)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ringrx_iac.config.loader import load

CALLBACKS = 5_000
GOAL_SECONDS = 2.0
_TYPES = ("sms", "voicemail", "fax", "outreach", "call_alert")
_BIND = {
    "sms": "phone_numbers",
    "voicemail": "mailboxes",
    "fax": "fax_services",
    "outreach": "outreach_profiles",
    "call_alert": "groups",
}
_URLS = {
    "sms": "https://hooks.example.com/sms/{n}?to={{to}}&at={{timestamp}}",
    "voicemail": "https://hooks.example.com/vm/{{id}}?mailbox={{mailbox}}&n={n}",
    "fax": "https://hooks.example.com/fax/{{id}}?pages={{pages}}&n={n}",
    "outreach": "https://hooks.example.com/outreach/{{id}}?state={{call_state}}&n={n}",
    "call_alert": "https://hooks.example.com/alerts/{{uuid}}?n={n}",
}


def generate(count: int = CALLBACKS) -> str:
    """A valid configuration with ``count`` bound callbacks, headers, auth and defaults."""
    lines = [
        "version: 1",
        'ignore: ["Legacy *"]',
        "safety: {max_delete_percent: 30, protected: [cb-00000]}",
        "defaults: {headers: {X-Source: ringrx}}",
        "callbacks:",
    ]
    for n in range(count):
        kind = _TYPES[n % len(_TYPES)]
        target = f"+1818{2000000 + n:07d}" if kind == "sms" else f"{kind}-{n}"
        lines += [
            f"  - name: cb-{n:05d}",
            f"    type: {kind}",
            f'    url: "{_URLS[kind].format(n=n)}"',
            "    headers:",
            '      X-Api-Key: "${env:CRM_KEY}"',
            "    basic_auth:",
            "      username: ringrx",
            '      password: "${env:CRM_PASSWORD}"',
            "    bind:",
            f'      {_BIND[kind]}: ["{target}"]',
        ]
    return "\n".join(lines) + "\n"


def run() -> list[str]:
    """Time load + lint of the generated file; best of three runs."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "callbacks.yaml"
        path.write_text(generate(), encoding="utf-8")
        timings: list[float] = []
        for _ in range(3):
            start = time.perf_counter()
            result = load(path, env={})
            timings.append(time.perf_counter() - start)
        if result.diagnostics:
            raise RuntimeError(f"generated config is not clean: {result.diagnostics[0]}")
    best = min(timings)
    return [
        f"validate {CALLBACKS:,} callbacks: {best:.2f} s (best of 3; runs "
        + ", ".join(f"{t:.2f}" for t in timings)
        + ")",
        f"goal < {GOAL_SECONDS:.0f} s: ratio {best / GOAL_SECONDS:.2f} "
        + ("(met)" if best < GOAL_SECONDS else "(MISSED)"),
    ]
