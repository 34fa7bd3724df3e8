"""Offline commands: ``validate`` (load + lint a configuration) and ``schema``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ringrx_iac import validate as pipeline
from ringrx_iac.cli.fleet_options import fleet_options
from ringrx_iac.cli.options import template_options
from ringrx_iac.config.models import Config
from ringrx_iac.config.rendered import render_config
from ringrx_iac.config.template import VariableError, collect_variables
from ringrx_iac.render.diagnostics import FORMATS, render_github, render_json, render_text
from ringrx_iac.render.terminal import color_enabled, echo


def schema_text() -> str:
    """The JSON Schema of the configuration language, as ``ringrx-iac schema`` prints it."""
    return json.dumps(Config.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


@click.command()
@click.argument("paths", nargs=-1, required=False, type=click.Path(path_type=str))
@fleet_options("validate")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for people, json for tools, github for workflow annotations.",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@template_options
def validate(
    paths: tuple[str, ...],
    output_format: str,
    strict: bool,
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
) -> None:
    """Check the configuration at each PATH (a file or a directory of *.yaml) offline.

    Several PATHs (as pre-commit passes them) are each checked as a configuration of
    their own, with one report. Needs no credentials and no secrets: ${env:...}
    references are checked for syntax only. Exit 0 when there is no error, 1 when there
    is one (or a warning with --strict).
    """
    try:
        values = collect_variables(variables, var_files)
    except VariableError as exc:
        raise click.UsageError(str(exc)) from None
    results = [pipeline.validate(path, values) for path in paths]
    diagnostics = [d for r in results for d in r.diagnostics]
    files = [f for r in results for f in r.files]
    failed = any(r.has_errors for r in results) or (strict and bool(diagnostics))
    if output_format == "json":
        echo(render_json(diagnostics, files, not failed), nl=False, color=False)
    elif output_format == "github":
        echo(render_github(diagnostics, files), nl=False, color=False)
    else:
        color = color_enabled(sys.stdout)
        configs = [r.config for r in results]
        callbacks = sum(len(c.callbacks) for c in configs if c) if all(configs) else None
        text = render_text(diagnostics, files, color, callbacks)
        echo(text, nl=False, color=color)
    if failed:
        raise click.exceptions.Exit(1)


@click.command()
def schema() -> None:
    """Print the JSON Schema of the configuration language (for editors and CI)."""
    click.echo(schema_text(), nl=False)


@click.command("render-config")
@click.argument("path", type=click.Path(path_type=str))
@template_options
def render_config_command(
    path: str, variables: tuple[str, ...], var_files: tuple[str, ...]
) -> None:
    """Print the YAML that the configuration at PATH renders to (templates rendered).

    For reviewing a .j2 template, or checking it against the JSON Schema:
    ringrx-iac render-config prod.yaml.j2 --var-file prod.vars.yaml > rendered.yaml.
    A directory prints one YAML document per file. Exit 0, or 1 on a template error
    (file:line:col on stderr).
    """
    try:
        values = collect_variables(variables, var_files)
    except VariableError as exc:
        raise click.UsageError(str(exc)) from None
    result = render_config(Path(path), values, os.environ)
    if result.diagnostics:
        color = color_enabled(sys.stderr)
        text = render_text(result.diagnostics, [f for f, _ in result.files] or [path], color)
        echo(text, nl=False, err=True, color=color)
        raise click.exceptions.Exit(1)
    echo(result.text(), nl=False)


COMMANDS: list[click.Command] = [validate, schema, render_config_command]
