"""The ``ringrx-iac`` command line.

Exit codes are a contract: 0 success / no changes, 2 changes or drift present (only where
documented), 1 for every error, bad command-line usage included. Whatever goes wrong, the
user sees one line on stderr (passed through :mod:`ringrx_iac.redact`), never a traceback.

Commands load lazily: `COMMANDS` names the module that defines each command, and a module
is imported only when one of its commands runs (``--help`` imports them all to list them).
So ``--version`` imports click alone and ``validate`` never loads the simulator, httpx or
deepdiff (``tests/test_cold_start.py`` guards this).

To add a command: define it (a ``click.Command``) in a module's ``COMMANDS`` list and add one
line ``"name": "ringrx_iac.cli.module"`` below. Keep heavy imports inside the modules of
the commands that need them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import IO, Any

import click

from ringrx_iac import __version__, redact

COMMANDS: dict[str, str] = {
    "validate": "ringrx_iac.cli.commands_config",
    "schema": "ringrx_iac.cli.commands_config",
    "render-config": "ringrx_iac.cli.commands_config",
    "plan": "ringrx_iac.cli.commands_reconcile",
    "apply": "ringrx_iac.cli.commands_reconcile",
    "drift": "ringrx_iac.cli.commands_drift",
    "import": "ringrx_iac.cli.commands_reconcile",
    "unlock": "ringrx_iac.cli.commands_lock",
    "simulator": "ringrx_iac.cli.commands_simulator",
    "render": "ringrx_iac.cli.commands_webhook",
    "test": "ringrx_iac.cli.commands_webhook",
    "probe": "ringrx_iac.cli.commands_webhook",
    "fleet": "ringrx_iac.cli.commands_fleet",
}

INTERRUPTED = "Interrupted; stopped before finishing (exit 1)."


def load_command(name: str) -> click.Command | None:
    """Import the module that defines command ``name`` and return the command (or None)."""
    module_name = COMMANDS.get(name)
    if module_name is None:
        return None
    module = importlib.import_module(module_name)
    for command in module.COMMANDS:
        if command.name == name:
            return command  # type: ignore[no-any-return]
    raise LookupError(f"{module_name} defines no command {name!r} in its COMMANDS")


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (see the module docstring)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name) or load_command(cmd_name)
        if command is not None:
            self.commands[cmd_name] = command
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ringrx-iac")
def cli() -> None:
    """RingRx callbacks (webhooks) as code: validate, plan, apply, drift, import."""


def usage_error_line(exc: click.UsageError) -> str:
    """Bad usage as one line: ``error: <what is wrong> (see 'ringrx-iac plan --help')``."""
    message = " ".join(exc.format_message().split())
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return f"error: {message}{where}"


class _RedactingStream:
    """A text stream wrapper whose writes pass the redactor (for click's own messages)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redact.redact(text))

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _error_line(text: str) -> None:
    """One redacted line on stderr, whatever state the streams are in."""
    try:
        sys.stderr.write(redact.redact(text) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed or broken stderr: nothing more to do
        pass


def _exit_now(code: int) -> None:
    """Exit at once after a Ctrl-C: Python may otherwise turn the exit into a death by
    SIGINT (exit 130) while it finalises the interrupted event loop."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: usage errors (click's exit 2) become exit 1; no tracebacks."""
    try:
        redact.register_env(os.environ)
        code = cli.main(args=argv, prog_name="ringrx-iac", standalone_mode=False)
    except KeyboardInterrupt:
        _error_line(INTERRUPTED)
        _exit_now(1)
    except click.exceptions.Abort as exc:
        _error_line("Aborted.")
        if isinstance(exc.__context__ or exc.__cause__, KeyboardInterrupt):
            _exit_now(1)
        code = 1
    except click.UsageError as exc:
        _error_line(usage_error_line(exc))
        code = 1
    except click.ClickException as exc:
        exc.show(file=_RedactingStream(sys.stderr))  # type: ignore[arg-type]
        code = 1
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except Exception as exc:  # a bug or an answer nobody foresaw: one line, no traceback
        detail = str(exc).splitlines()[0] if str(exc).strip() else ""
        _error_line(
            f"error: unexpected {type(exc).__name__}{': ' + detail if detail else ''} "
            "(a bug in ringrx-iac; please report it with the command you ran)"
        )
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
