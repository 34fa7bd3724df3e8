"""Options shared by several commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ringrx_iac.render.terminal import echo

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(*known: type[BaseException]) -> Callable[[F], F]:
    """A command decorator: the ``known`` failures become one line on stderr and exit 1.

    They are a user's mistake or the server's answer, never a bug: no traceback. The line
    goes through ``echo`` and so through the redactor.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except known as exc:
                echo(f"error: {exc}", err=True)
                raise click.exceptions.Exit(1) from None

        return wrapper  # type: ignore[return-value]

    return decorate


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


MAX_RATE_KEY = "ringrx_iac.max_rate"


def _remember_max_rate(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    ctx.meta[MAX_RATE_KEY] = value


def max_rate() -> float | None:
    """The ``--max-rate`` of the command being run (None when not given)."""
    ctx = click.get_current_context(silent=True)
    return None if ctx is None else ctx.meta.get(MAX_RATE_KEY)


def _start_deadline(ctx: click.Context, param: click.Parameter, value: float) -> None:
    from ringrx_iac.api.limits import start_deadline

    start_deadline(value)


def client_options(func: F) -> F:
    """Options of commands that talk to RingRx (``--max-rate`` is read with `max_rate`;
    ``--timeout`` starts the run's overall deadline, see :mod:`ringrx_iac.api.limits`)."""
    func = click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=600.0,
        show_default=True,
        expose_value=False,
        callback=_start_deadline,
        metavar="SECONDS",
        help="Overall deadline of the run: waiting for RingRx past it is an error (exit 1).",
    )(func)
    func = click.option(
        "--max-rate",
        type=click.FloatRange(min=0, min_open=True),
        expose_value=False,
        callback=_remember_max_rate,
        metavar="N",
        help="At most N requests per second (default: as fast as the server allows; "
        "the pace is learned from its 429 answers and rate-limit headers).",
    )(func)
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
