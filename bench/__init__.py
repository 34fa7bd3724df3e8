"""Benchmarks: ``python -m bench`` runs every ``bench_*`` module's ``run()`` and prints its lines.

Each module exposes ``def run() -> list[str]``; adding a module is enough to register it.
Runs are short by default; ``python -m bench --full [NAME ...]`` (or ``BENCH_FULL=1``) uses
the sizes the goals are stated at.
"""

from __future__ import annotations

import os

FULL_ENV = "BENCH_FULL"


def full_size() -> bool:
    """True when the full-size runs were asked for (``--full`` or ``BENCH_FULL=1``)."""
    return os.environ.get(FULL_ENV, "") not in ("", "0")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
