"""``render``, ``test`` and ``probe``: what RingRx sends, and whether the receiver takes it.

``render`` is offline and shows each selected callback's request for a sample event;
``test`` runs the receiver contract tests of ``tests.yaml``; ``probe`` sends one marked
synthetic event to each selected callback's real URL. All build requests with
:func:`ringrx_iac.webhook.request.build_request`, the simulator's own code.
"""

from __future__ import annotations

import difflib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from ringrx_iac import redact
from ringrx_iac.cli.options import one_line_errors, template_options
from ringrx_iac.config.models import Config
from ringrx_iac.config.secrets import SecretError
from ringrx_iac.config.template import VariableError, collect_variables
from ringrx_iac.reconcile.desired import DesiredCallback, from_config
from ringrx_iac.render.diagnostics import render_text as render_diagnostics
from ringrx_iac.render.terminal import echo, stream_color, style
from ringrx_iac.render.webhook import (
    FORMATS,
    Rendered,
    Reveal,
    render_curl,
    render_json,
    render_text,
)
from ringrx_iac.validate import validate
from ringrx_iac.webhook.contract import (
    Contract,
    ContractError,
    ContractTest,
    default_path,
    load_contract,
)
from ringrx_iac.webhook.destinations import (
    DestinationError,
    check_base,
    rebase,
    refused,
)
from ringrx_iac.webhook.eventfile import EventFileError, load_fields
from ringrx_iac.webhook.notes import notes
from ringrx_iac.webhook.request import Callback, Event, WebhookRequest, build_request
from ringrx_iac.webhook.secrets import resolver, table_for, to_callback

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_PROBE_TIMEOUT = 10.0  # seconds; test and probe import httpx only when they run


class WebhookCommandError(Exception):
    """A user-facing failure: one line on stderr, exit 1."""


_handle_errors = one_line_errors(
    WebhookCommandError,
    VariableError,
    EventFileError,
    ContractError,
    DestinationError,
)


@dataclass
class Loaded:
    """A valid configuration, as the webhook commands use it."""

    config: Config
    callbacks: list[DesiredCallback]
    base_dir: Path


def load_config(path: str, variables: tuple[str, ...], var_files: tuple[str, ...]) -> Loaded:
    """Load and lint; errors are printed (file:line:col) and end the command with 1."""
    result = validate(Path(path), collect_variables(variables, var_files))
    if result.errors or result.config is None:
        text = render_diagnostics(result.diagnostics, result.files, stream_color(err=True))
        echo(text, err=True, nl=False)
        raise click.exceptions.Exit(1)
    return Loaded(result.config, from_config(result.config).callbacks, result.base_dir)


def select(callbacks: list[DesiredCallback], names: tuple[str, ...]) -> list[DesiredCallback]:
    """The callbacks named (all when none is); an unknown name is an error with a suggestion."""
    if not names:
        return callbacks
    by_name = {cb.name: cb for cb in callbacks}
    for name in names:
        if name not in by_name:
            close = difflib.get_close_matches(name, list(by_name), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(repr(n) for n in by_name) or "none"
            raise WebhookCommandError(
                f"no callback named {name!r} in the configuration{hint} (callbacks: {known})"
            )
    wanted = set(names)
    return [cb for cb in callbacks if cb.name in wanted]


def callback_option(func: F) -> F:
    return click.option(
        "--callback",
        "callback_names",
        multiple=True,
        metavar="NAME",
        help="Only this callback (repeatable; default: every callback).",
    )(func)


@click.command("render")
@click.argument("path", type=click.Path(path_type=str))
@callback_option
@click.option(
    "--event",
    "event_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML/JSON mapping of event fields laid over the built-in sample.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for people, json for tools, curl for a runnable shell command.",
)
@click.option(
    "--show-secrets",
    is_flag=True,
    help="Show secret values whose references are set (masked by default; curl never shows them).",
)
@template_options
@_handle_errors
def render_command(
    path: str,
    callback_names: tuple[str, ...],
    event_file: Path | None,
    fmt: str,
    show_secrets: bool,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
) -> None:
    """Show the request RingRx would send for each callback in PATH, offline.

    For a sample event of the callback's type (every documented token has a value;
    --event overrides fields): method, URL after token replacement, headers, basic auth,
    body and content type. Secrets are masked unless --show-secrets.
    """
    loaded = load_config(path, variables, var_files)
    overrides = load_fields(event_file) if event_file else {}
    source = "sample" if event_file is None else str(event_file)
    items = [
        render_one(cb, overrides, source, loaded.base_dir)
        for cb in select(loaded.callbacks, callback_names)
    ]
    if fmt == "json":
        echo(
            render_json(items, Reveal(show_secrets, os.environ, loaded.base_dir)),
            nl=False,
            redacted=not show_secrets,
        )
    elif fmt == "curl":
        echo(render_curl(items), nl=False, color=False)
    else:
        color = stream_color()
        text = render_text(
            items,
            Reveal(show_secrets, os.environ, loaded.base_dir),
            lambda text, name: style(text, name, color),
        )
        echo(text, nl=False, color=color, redacted=not show_secrets)


def render_one(
    cb: DesiredCallback, overrides: dict[str, Any], source: str, base_dir: Path
) -> Rendered:
    """``cb``'s request for its sample event with ``overrides``, secrets as markers."""
    table = table_for(cb, base_dir)
    callback = to_callback(cb, table.hide)
    request = build_request(callback, Event.sample(cb.type, overrides))
    return Rendered(
        cb.name, cb.type, source, request, table, tuple(notes(callback, request.payload))
    )


def resolve_callback(cb: DesiredCallback, base_dir: Path) -> Callback:
    """``cb`` with its secrets resolved from the environment (an unset one is an error)."""
    try:
        return to_callback(cb, resolver(os.environ, base_dir))
    except SecretError as exc:
        raise WebhookCommandError(
            f"callback {cb.name!r}: {exc}; set it (as for plan and apply) and run again"
        ) from None


@click.command("test")
@click.argument("path", type=click.Path(path_type=str))
@click.option(
    "--tests",
    "tests_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The receiver tests file (default: tests.yaml next to the config, or in its directory).",
)
@click.option(
    "--receiver-base",
    metavar="URL",
    help="Send to this origin instead of each callback's (path and query kept), e.g. a local build.",
)
@click.option("--live-urls", is_flag=True, help="Send to the callbacks' real URLs.")
@click.option(
    "--junit",
    "junit_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JUnit XML to FILE.",
)
@template_options
@_handle_errors
def test_command(
    path: str,
    tests_file: Path | None,
    receiver_base: str | None,
    live_urls: bool,
    junit_file: Path | None,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
) -> None:
    """Run the receiver contract tests of tests.yaml against a receiver.

    Each test sends a callback's request for an event (the sample, or fields over it) and
    checks the answer: status, body, JSON fields, within a timeout; replay: N sends it N
    times and wants the same answer. Exit 0 when every test passed, 1 otherwise.
    """
    if (receiver_base is None) == (not live_urls):
        raise WebhookCommandError(
            "name the receiver: --receiver-base URL (e.g. a local build) or --live-urls "
            "(the callbacks' real URLs), one of the two"
        )
    if receiver_base is not None:
        check_base(receiver_base)
    from ringrx_iac.render.testreport import banner, failures, junit_xml, result_line, summary
    from ringrx_iac.webhook.runner import run_all

    loaded = load_config(path, variables, var_files)
    contract_path = tests_file or default_path(Path(path))
    contract = load_contract(contract_path)
    jobs = _contract_jobs(contract, loaded, receiver_base)
    if live_urls:
        _refuse_outside_policy(loaded.config, {t.callback: r.url for t, r in jobs}, "test")
    color = stream_color()

    def paint(text: str, name: str) -> str:
        return style(text, name, color)

    target = receiver_base or "the callbacks' real URLs"
    file = contract.file
    echo(paint(banner("ringrx-iac test"), "bold"), color=color)
    echo(
        f"{len(jobs)} test{'s' if len(jobs) != 1 else ''} from {file}, sent to {target}\n",
        color=color,
    )
    started = time.monotonic()
    results = run_all(jobs, lambda r: echo(result_line(r, file, paint), color=color))
    seconds = time.monotonic() - started
    echo("", color=color)
    report = failures(results, paint)
    if report:
        echo(report, nl=False, color=color)
    echo(summary(results, seconds, paint), nl=False, color=color)
    if junit_file is not None:
        xml = redact.redact(junit_xml(results, file, seconds, f"receiver tests ({file})"))
        try:
            junit_file.write_text(xml, encoding="utf-8")
        except OSError as exc:
            raise WebhookCommandError(f"cannot write {junit_file}: {exc.strerror}") from None
    if any(r.outcome != "passed" for r in results):
        raise click.exceptions.Exit(1)


def _contract_jobs(
    contract: Contract, loaded: Loaded, receiver_base: str | None
) -> list[tuple[ContractTest, WebhookRequest]]:
    """Each test's request, secrets resolved (an unknown callback or unset secret is an error)."""
    by_name = {cb.name: cb for cb in loaded.callbacks}
    for t in contract.tests:
        if t.callback not in by_name:
            close = difflib.get_close_matches(t.callback, list(by_name), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise WebhookCommandError(
                f"{t.location}: test {t.name!r} names callback {t.callback!r}, which the "
                f"configuration does not have{hint}"
            )
    resolved = {
        name: resolve_callback(by_name[name], loaded.base_dir)
        for name in dict.fromkeys(t.callback for t in contract.tests)
    }
    jobs = []
    for t in contract.tests:
        callback = resolved[t.callback]
        request = build_request(callback, Event.sample(callback.type, t.fields))
        if receiver_base is not None:
            request = replace(request, url=rebase(request.url, receiver_base))
        jobs.append((t, request))
    return jobs


def _refuse_outside_policy(config: Config, urls: dict[str, str], command: str) -> None:
    """Nothing is sent when a destination's host is outside ``policy.allowed_hosts``."""
    problems = refused(urls, config)
    if problems:
        raise WebhookCommandError(
            f"{command} refuses to send (nothing was sent): "
            + "; ".join(problems)
            + ". Add the host to policy.allowed_hosts after review, or leave it out with --callback"
        )


@click.command("probe")
@click.argument("path", type=click.Path(path_type=str))
@callback_option
@click.option(
    "--timeout",
    type=click.FloatRange(0, 300, min_open=True),
    default=DEFAULT_PROBE_TIMEOUT,
    show_default=True,
    help="Seconds to wait for each receiver's answer.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for tools.",
)
@template_options
@_handle_errors
def probe_command(
    path: str,
    callback_names: tuple[str, ...],
    timeout: float,
    fmt: str,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
) -> None:
    """Send one marked synthetic event to each callback's real URL; report status and latency.

    Run it after an apply: each selected callback (every one by default) gets its type's
    sample event with its real headers and basic auth, marked with the header
    X-RingRx-IaC-Probe: 1 and "ringrx_iac_probe": true in JSON bodies. Refuses (sending
    nothing) when a host is outside policy.allowed_hosts. Exit 0 when every receiver
    answered 2xx, 1 otherwise.
    """
    from ringrx_iac.render.probe import render_probe_json, render_probe_text
    from ringrx_iac.webhook.probe import probe_all, probe_request

    loaded = load_config(path, variables, var_files)
    selected = select(loaded.callbacks, callback_names)
    callbacks = [resolve_callback(cb, loaded.base_dir) for cb in selected]
    jobs = [(cb, probe_request(cb)) for cb in callbacks]
    _refuse_outside_policy(loaded.config, {cb.name: r.url for cb, r in jobs}, "probe")
    results = probe_all(jobs, timeout)
    if fmt == "json":
        echo(render_probe_json(results), nl=False)
    else:
        color = stream_color()
        text = render_probe_text(results, lambda t, name: style(t, name, color))
        echo(text, nl=False, color=color)
    if not all(r.ok for r in results):
        raise click.exceptions.Exit(1)


COMMANDS: list[click.Command] = [render_command, test_command, probe_command]
