"""``ringrx-iac simulator``: run the RingRx simulator in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from ringrx_iac.api.credentials import is_loopback_host
from ringrx_iac.simulator.faults import FaultError
from ringrx_iac.simulator.seed import SeedError
from ringrx_iac.simulator.server import SimulatorError, SimulatorServer


@click.command("simulator")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 = a free port."
)
@click.option(
    "--seed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML/JSON seed of the account (default: the packaged demo account).",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Load state from FILE when it exists; persist every change to it.",
)
@click.option(
    "--latency", type=click.FloatRange(0), default=0.0, help="Seconds added to every API request."
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(0),
    default=0.0,
    help="Requests/second per token (0 = off).",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction of requests answering 5xx.",
)
@click.option(
    "--drop-rate", type=click.FloatRange(0, 1), default=0.0, help="Fraction of connections dropped."
)
@click.option(
    "--token-lifetime",
    type=click.FloatRange(0.1),
    default=3600.0,
    show_default=True,
    help="Access token lifetime in seconds.",
)
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (not recommended).")
def simulator(
    host: str,
    port: int,
    seed: Path | None,
    state_file: Path | None,
    latency: float,
    rate_limit: float,
    error_rate: float,
    drop_rate: float,
    token_lifetime: float,
    allow_remote: bool,
) -> None:
    """Run a local RingRx simulator (API + /_sim admin API) until Ctrl-C or SIGTERM.

    Prints RINGRX_BASE_URL and the demo API key as shell-style lines on start.
    """
    if not allow_remote and not is_loopback_host(host):
        raise click.UsageError(
            f"--host {host}: the simulator serves loopback only (or --allow-remote)"
        )
    if state_file is not None and not state_file.parent.exists():
        raise click.UsageError(
            f"--state {state_file}: directory {state_file.parent} does not exist"
        )
    try:
        server = SimulatorServer(
            seed=seed,
            state_file=state_file,
            token_lifetime=token_lifetime,
            latency=latency,
            host=host,
            port=port,
            rate_limit=rate_limit,
            error_rate=error_rate,
            drop_rate=drop_rate,
            allow_remote=allow_remote,
        )
        server.start()
    except (SeedError, SimulatorError, FaultError) as exc:
        raise click.ClickException(str(exc)) from None

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for name, value in server.env().items():
            click.echo(f"{name}={value}")
        click.echo(
            f"# RingRx simulator on {server.base_url} (admin API: {server.base_url}/_sim/state)"
        )
        click.echo("# demo users: demo/demo-password, doctor (TOTP 2FA), auditor (read-only)")
        click.echo("# stop with Ctrl-C", nl=True)
        sys.stdout.flush()
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("# simulator stopped", err=True)


COMMANDS: list[click.Command] = [simulator]
