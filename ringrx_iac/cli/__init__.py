"""The ``ringrx-iac`` command line.

Exit codes are a contract: 0 success / no changes, 2 changes or drift present (only where
documented), 1 for every error, bad command-line usage included.
"""

from __future__ import annotations

import sys

import click

from ringrx_iac import __version__
from ringrx_iac.cli import (
    commands_config,
    commands_reconcile,
    commands_simulator,
    commands_webhook,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ringrx-iac")
def cli() -> None:
    """RingRx callbacks (webhooks) as code: validate, plan, apply, drift, import."""


for module in (commands_config, commands_reconcile, commands_simulator, commands_webhook):
    for command in module.COMMANDS:
        cli.add_command(command)


def usage_error_line(exc: click.UsageError) -> str:
    """Bad usage as one line: ``error: <what is wrong> (see 'ringrx-iac plan --help')``."""
    message = " ".join(exc.format_message().split())
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return f"error: {message}{where}"


def main(argv: list[str] | None = None) -> None:
    """Console entry point: maps click's usage errors (exit 2) to exit 1."""
    try:
        code = cli.main(args=argv, prog_name="ringrx-iac", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = 1
    except click.UsageError as exc:
        click.echo(usage_error_line(exc), err=True)
        code = 1
    except click.ClickException as exc:
        exc.show()
        code = 1
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    sys.exit(code if isinstance(code, int) else 0)
