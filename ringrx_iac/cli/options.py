"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def template_options(func: F) -> F:
    """``--var KEY=VALUE`` (repeatable) and ``--var-file FILE`` (YAML, repeatable)."""
    func = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="YAML file of template variables (repeatable; later files win).",
    )(func)
    func = click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="KEY=VALUE",
        help="Template variable (repeatable; wins over --var-file).",
    )(func)
    return func


def client_options(func: F) -> F:
    """Options of commands that talk to RingRx."""
    func = click.option(
        "--parallelism",
        type=click.IntRange(1, 256),
        default=8,
        show_default=True,
        help="Requests in flight at once.",
    )(func)
    func = click.option(
        "--insecure",
        is_flag=True,
        help="Allow a plain http:// RINGRX_BASE_URL that is not loopback.",
    )(func)
    func = click.option(
        "--debug", is_flag=True, help="Log each request and response to stderr (secrets redacted)."
    )(func)
    return func
