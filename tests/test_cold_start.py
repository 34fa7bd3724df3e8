"""Cold start: each command imports only what it uses (issue 10, goal 5).

``ringrx-iac --version`` must not import the configuration language, and ``validate`` of a
plain file must not import the client, the simulator, the reconciler or Jinja2. Each case
runs the CLI in a fresh interpreter and inspects ``sys.modules`` afterwards (no timings).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ringrx_iac.cli import COMMANDS, cli, load_command

_PROBE = textwrap.dedent(
    """
    import json, sys
    from ringrx_iac.cli import main
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    sys.stderr.write("\\nMODULES=" + json.dumps(sorted(sys.modules)) + "\\n")
    sys.stderr.write("EXIT=" + json.dumps(code) + "\\n")
    """
)

# What a command talking to an account (or serving one) needs; validate needs none of it.
_NETWORK = ("httpx", "httpcore", "anyio", "uvicorn", "starlette", "deepdiff", "rich")
_PROJECT_HEAVY = ("ringrx_iac.simulator", "ringrx_iac.api.client", "ringrx_iac.reconcile")


def _imported(*args: str) -> tuple[set[str], int]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    lines = proc.stderr.splitlines()
    modules = next(line for line in lines if line.startswith("MODULES="))
    code = next(line for line in lines if line.startswith("EXIT="))
    return set(json.loads(modules.partition("=")[2])), json.loads(code.partition("=")[2])


def _loaded(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_version_imports_click_alone() -> None:
    modules, code = _imported("--version")
    assert code == 0
    heavy = ("pydantic", "ruamel", "jinja2", "phonenumbers", *_NETWORK, *_PROJECT_HEAVY)
    assert _loaded(modules, heavy) == []
    assert _loaded(modules, ("ringrx_iac.config", "ringrx_iac.lint")) == []


def test_validate_of_a_plain_file_imports_no_client_simulator_or_template_engine(
    tmp_path: Path,
) -> None:
    config = tmp_path / "one.yaml"
    config.write_text(
        "version: 1\ncallbacks:\n  - name: One\n    type: sms\n"
        '    url: "https://hooks.example.com/sms?to={to}"\n'
        '    bind: {phone_numbers: ["+18185559876"]}\n',
        encoding="utf-8",
    )
    modules, code = _imported("validate", str(config))
    assert code == 0
    assert "ringrx_iac.config.loader" in modules  # it did validate
    assert _loaded(modules, (*_NETWORK, *_PROJECT_HEAVY, "jinja2", "phonenumbers")) == []


def test_validate_still_renders_templates_and_odd_numbers(tmp_path: Path) -> None:
    """The lazy imports load when a file needs them (Jinja2 markers, a formatted number)."""
    config = tmp_path / "tpl.yaml"
    config.write_text(
        "version: 1\ncallbacks:\n  - name: {{ 'One' }}\n    type: sms\n"
        '    url: "https://hooks.example.com/sms?to={to}"\n'
        '    bind: {phone_numbers: ["(818) 555-9876"]}\n',
        encoding="utf-8",
    )
    modules, code = _imported("validate", str(config))
    assert code == 0
    assert {"jinja2", "phonenumbers"} <= modules
    assert _loaded(modules, (*_NETWORK, *_PROJECT_HEAVY)) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_loads(name: str) -> None:
    command = load_command(name)
    assert command is not None and command.name == name


def test_every_command_a_module_defines_is_registered() -> None:
    """A command added to a module's COMMANDS but not to cli.COMMANDS would be unreachable."""
    for module_name in set(COMMANDS.values()):
        module = importlib.import_module(module_name)
        for command in module.COMMANDS:
            assert COMMANDS.get(command.name) == module_name, command.name


def test_help_lists_every_command() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output
