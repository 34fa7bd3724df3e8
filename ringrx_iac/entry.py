"""The console-script entry point, kept import-light so Ctrl-C during start-up is clean.

Importing the CLI loads click, httpx, pydantic, jinja2... which takes a noticeable moment;
a Ctrl-C then must still end with one line and exit 1, not a traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import and run :func:`ringrx_iac.cli.main`; an interrupt while importing exits 1."""
    try:
        from ringrx_iac.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted; stopped before finishing (exit 1).\n")
        sys.exit(1)
    cli_main()
