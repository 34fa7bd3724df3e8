"""Terminal helpers: whether to colour, the few ANSI styles the renderers use, and ``echo``.

Every command writes its output through :func:`echo` (which redacts secrets), so ``NO_COLOR``, ``FORCE_COLOR``,
``TERM=dumb`` and TTY detection mean the same thing for validate, plan, apply and drift.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import click

from ringrx_iac.redact import redact

_STYLES: dict[str, str] = {
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "red": "\x1b[31m",
    "magenta": "\x1b[35m",
    "cyan": "\x1b[36m",
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
}
_RESET = "\x1b[0m"


def color_enabled(stream: Any, env: Mapping[str, str] | None = None) -> bool:
    """Whether to write ANSI colours to ``stream``.

    ``NO_COLOR`` set to a non-empty value turns colour off (no-color.org); otherwise ``FORCE_COLOR`` set to a
    value other than ``""``/``"0"`` turns it on; otherwise colour is on for a TTY whose
    ``TERM`` is not ``dumb``.
    """
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    force = env.get("FORCE_COLOR")
    if force is not None and force not in ("", "0"):
        return True
    if env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # closed or detached stream
        return False


def style(text: str, name: str, color: bool) -> str:
    """``text`` wrapped in the ANSI style ``name`` when ``color`` is on, else unchanged."""
    if not color or name not in _STYLES:
        return text
    return f"{_STYLES[name]}{text}{_RESET}"


def stream_color(err: bool = False) -> bool:
    """:func:`color_enabled` for stdout (or stderr when ``err``)."""
    return color_enabled(sys.stderr if err else sys.stdout)


def echo(
    text: str,
    *,
    err: bool = False,
    nl: bool = True,
    color: bool | None = None,
    redacted: bool = True,
) -> None:
    """Write ``text`` to stdout (stderr when ``err``) with one colour decision for every command.

    ``color`` defaults to :func:`stream_color`. It is passed on to ``click.echo`` so that
    click neither strips colours forced by ``FORCE_COLOR`` on a pipe nor keeps any when
    colour is off. The text passes :func:`ringrx_iac.redact.redact` first; only an explicit
    user request to see secrets (``render --show-secrets``) may pass ``redacted=False``.
    """
    click.echo(
        redact(text) if redacted else text,
        err=err,
        nl=nl,
        color=stream_color(err) if color is None else color,
    )
