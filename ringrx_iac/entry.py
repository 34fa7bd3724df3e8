"""The console-script entry point, kept import-light so Ctrl-C during start-up is clean.

Importing the CLI loads click, httpx, pydantic, jinja2... which takes a noticeable moment.
A Ctrl-C meanwhile is held until the import is done (a KeyboardInterrupt in the middle of
an import can surface anywhere), then ends the run with one line and exit 1.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

INTERRUPTED = "Interrupted; stopped before finishing (exit 1)."


def main() -> None:
    """Import and run :func:`ringrx_iac.cli.main`; an interrupt while importing exits 1."""
    interrupted: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        interrupted.append(signum)

    try:
        previous = signal.signal(signal.SIGINT, hold)
    except ValueError:  # not the main thread: nothing to hold
        previous = None
    try:
        from ringrx_iac.cli import main as cli_main
    except KeyboardInterrupt:
        interrupted.append(signal.SIGINT)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if interrupted:
        sys.stderr.write(INTERRUPTED + "\n")
        sys.exit(1)
    cli_main()
