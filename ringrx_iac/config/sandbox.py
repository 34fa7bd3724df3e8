"""The Jinja2 environment configuration templates run in: sandboxed and bounded.

A configuration comes from whoever can open a pull request, so a template may try
anything. It runs in :class:`jinja2.sandbox.ImmutableSandboxedEnvironment` (no
``__class__``/``__globals__``/``__subclasses__``, no mutating methods), and its work is
bounded:

* output: at most :data:`MAX_OUTPUT` characters (50 MB) per file;
* time: at most :data:`TIME_LIMIT` seconds (10 s) per rendering;
* arithmetic and width arguments: ``"x" * n`` or ``[0] * n`` beyond :data:`MAX_OUTPUT`,
  powers with exponents over :data:`MAX_EXPONENT`, and widths/counts over
  :data:`MAX_WIDTH` in filters such as ``center`` or ``indent`` are refused before they run
  (``range`` is already capped at 100,000 items by the sandbox).

Each violation raises :class:`TemplateLimitError` (or Jinja2's ``SecurityError``).
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 50 * 1024 * 1024
TIME_LIMIT = 10.0
MAX_EXPONENT = 1000
MAX_WIDTH = 100_000
# Filters and globals whose integer arguments size their result.
_SIZED = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice", "lipsum"})


def _limit() -> str:
    mb = MAX_OUTPUT / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{MAX_OUTPUT} characters"


class TemplateLimitError(Exception):
    """A template exceeded a bound; the message says which and what the bound is."""


def _check_repeat(left: Any, right: Any) -> None:
    for seq, count in ((left, right), (right, left)):
        sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
        if sized and len(seq) * count > MAX_OUTPUT:
            raise TemplateLimitError(
                f"the template repeats a value {count} times, more than the "
                f"{_limit()} a template may produce"
            )


def _check_power(left: Any, right: Any) -> None:
    numbers = isinstance(left, int | float) and isinstance(right, int | float)
    if numbers and abs(right) > MAX_EXPONENT and abs(left) not in (0, 1):
        raise TemplateLimitError(
            f"the template raises a number to the power {right}; "
            f"exponents are limited to {MAX_EXPONENT}"
        )


class _Deadline:
    """The time a rendering must end by; checked on every call the template makes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise TemplateLimitError(_timeout_message(self.seconds))


def _timeout_message(seconds: float) -> str:
    return f"the template ran longer than {seconds:g} s (the limit); simplify its loops"


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with size bounds on ``*``/``**``, sized filters and every call."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.deadline = _Deadline(TIME_LIMIT)
        for name, func in list(self.filters.items()):
            # a filter's first argument (after a passed context/environment) is its value
            skip = 2 if getattr(func, "jinja_pass_arg", None) else 1
            self.filters[name] = _guarded(name, func, name in _SIZED, skip, self)
        for name, value in list(self.globals.items()):
            if callable(value) and name in _SIZED:
                self.globals[name] = _guarded(name, value, True, 0, self)

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        self.deadline.check()
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        return super().call_binop(context, operator, left, right)

    def call(
        __self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any
    ) -> Any:  # noqa: N805
        __self.deadline.check()
        return super().call(__context, __obj, *args, **kwargs)


def _guarded(
    name: str, func: Callable[..., Any], sized: bool, skip: int, env: BoundedSandbox
) -> Callable[..., Any]:
    """``func`` checking the deadline and, when ``sized``, its width/count arguments."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        env.deadline.check()
        if sized:
            for value in (*args[skip:], *kwargs.values()):
                if isinstance(value, int) and not isinstance(value, bool) and value > MAX_WIDTH:
                    raise TemplateLimitError(
                        f"{name}() got {value}; widths and counts in templates are "
                        f"limited to {MAX_WIDTH}"
                    )
        return func(*args, **kwargs)

    return guarded


def render_bounded(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render within :data:`MAX_OUTPUT` characters and :data:`TIME_LIMIT` seconds."""
    env = template.environment
    if isinstance(env, BoundedSandbox):
        env.deadline = _Deadline(TIME_LIMIT)
    parts: list[str] = []
    size = 0
    with _alarm(TIME_LIMIT):
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateLimitError(f"the template's output exceeds {_limit()} (the limit)")
            parts.append(chunk)
    return "".join(parts)


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Interrupt a rendering stuck in a loop that calls nothing (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise TemplateLimitError(_timeout_message(seconds))

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
