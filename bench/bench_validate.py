"""``validate`` speed on a generated 5,000-callback configuration (goal < 2 s).

Measured three ways: load + lint in process, the CLI end to end (process start and
imports included, empty environment), and the same size made by a Jinja2 loop. With
``--full`` also the CLI on 20,000 callbacks (issue 10, goal 4: <= 3 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import full_size, verdict
from ringrx_iac.validate import validate as load

CALLBACKS = 5_000
GOAL_SECONDS = 2.0
BIG = 20_000  # with --full
BIG_GOAL_SECONDS = 3.0
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


TEMPLATE = """version: 1
callbacks:
{% for n in range(count) %}
  - name: "cb-{{ '%05d' % n }}"
    type: sms
    url: "https://{{ host }}/sms/{{ n }}?to={to}"
    headers: {X-Api-Key: "${env:CRM_KEY}"}
    bind: {phone_numbers: ["+1818{{ 2000000 + n }}"]}
{% endfor %}
"""


def _best_of_3(action: Callable[[], object]) -> list[float]:
    timings: list[float] = []
    for _ in range(3):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return timings


def _line(label: str, timings: list[float]) -> str:
    best = min(timings)
    runs = ", ".join(f"{t:.2f}" for t in timings)
    verdict = "met" if best < GOAL_SECONDS else "MISSED"
    return f"{label}: {best:.2f} s (best of 3; runs {runs}; goal < {GOAL_SECONDS:.0f} s {verdict})"


def _cli(path: Path, *args: str) -> None:
    """``python -m ringrx_iac validate`` in a fresh process with an empty environment."""
    done = subprocess.run(
        [sys.executable, "-m", "ringrx_iac", "validate", str(path), *args],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"validate exited {done.returncode}: {done.stdout[-300:]!r}")


def _big_cli(tmp: Path) -> list[str]:
    """Issue 10, goal 4: the CLI on ``BIG`` callbacks within ``BIG_GOAL_SECONDS``."""
    path = tmp / "big.yaml"
    path.write_text(generate(BIG), encoding="utf-8")
    timings = _best_of_3(lambda: _cli(path))
    best, mid = min(timings), sorted(timings)[1]
    return [
        f"validate {BIG:,} callbacks, CLI process end to end: min {best:.2f} s, median "
        f"{mid:.2f} s of 3; goal <= {BIG_GOAL_SECONDS:.0f} s: ratio {mid / BIG_GOAL_SECONDS:.2f} "
        f"({verdict(mid <= BIG_GOAL_SECONDS)})"
    ]


def run() -> list[str]:
    """Time load + lint in process, the CLI end to end, and a Jinja2 loop; best of three."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "callbacks.yaml"
        path.write_text(generate(), encoding="utf-8")
        result = load(path, env={})
        if result.diagnostics:
            raise RuntimeError(f"generated config is not clean: {result.diagnostics[0]}")
        in_process = _best_of_3(lambda: load(path, env={}))
        cli = _best_of_3(lambda: _cli(path))
        template = Path(tmp) / "callbacks.yaml.j2"
        template.write_text(TEMPLATE, encoding="utf-8")
        variables = {"count": CALLBACKS, "host": "hooks.example.com"}
        if load(template, variables, env={}).diagnostics:
            raise RuntimeError("generated template is not clean")
        templated = _best_of_3(lambda: load(template, variables, env={}))
        big = _big_cli(Path(tmp)) if full_size() else []
    return [
        *big,
        _line(f"validate {CALLBACKS:,} callbacks, load + lint in process", in_process),
        _line(f"validate {CALLBACKS:,} callbacks, CLI process end to end", cli),
        _line(f"validate a Jinja2 loop of {CALLBACKS:,} callbacks, in process", templated),
    ]
