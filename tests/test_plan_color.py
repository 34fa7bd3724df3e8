"""Colour: one rule for every command (NO_COLOR, FORCE_COLOR, TTY), output never stripped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import cli_env, run_cli

from ringrx_iac.simulator.server import SimulatorServer

SEED = {
    "users": [{"username": "demo", "password": "demo-password"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [{"id": 7, "phonenumber": "+18185559876"}],
    "callbacks": [{"id": 1, "name": "Old", "callback_type": "cdr", "url": "https://h/old"}],
}
CONFIG = """\
version: 1
safety: {max_delete_percent: 100}
callbacks:
  - name: New
    type: sms
    url: https://h/sms
    bind: {phone_numbers: ["+18185559876"]}
"""
ESC = "\x1b["


@pytest.fixture
def env() -> Iterator[dict[str, str]]:
    with SimulatorServer(seed=SEED) as sim:
        yield cli_env(sim)


@pytest.fixture
def cfg(tmp_path: Path) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG)
    return str(path)


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_force_color_colours_a_pipe(env: dict[str, str], cfg: str, command: str) -> None:
    result = run_cli([command, cfg], {**env, "FORCE_COLOR": "1"})
    assert ESC in result.stdout
    assert ESC in run_cli(["validate", cfg], {**env, "FORCE_COLOR": "1"}).stdout


@pytest.mark.parametrize("command", ["plan", "drift", "validate"])
def test_no_color_wins_and_a_pipe_is_plain(env: dict[str, str], cfg: str, command: str) -> None:
    both = {**env, "FORCE_COLOR": "1", "NO_COLOR": "1"}
    assert ESC not in run_cli([command, cfg], both).output
    assert ESC not in run_cli([command, cfg], env).output


def test_apply_report_coloured_when_forced(env: dict[str, str], cfg: str) -> None:
    result = run_cli(["apply", cfg, "--auto-approve"], {**env, "FORCE_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert ESC in result.stdout and "Apply complete" in result.stdout


def test_drift_in_sync_and_apply_no_changes_share_the_renderer_wording(
    env: dict[str, str], cfg: str
) -> None:
    assert run_cli(["apply", cfg, "--auto-approve"], env).exit_code == 0
    drift = run_cli(["drift", cfg], env)
    apply = run_cli(["apply", cfg], env)
    plan = run_cli(["plan", cfg], env)
    assert drift.exit_code == apply.exit_code == plan.exit_code == 0
    assert drift.stdout == "In sync: RingRx callbacks match the configuration.\n"
    assert apply.stdout == plan.stdout == "No changes. RingRx callbacks match the configuration.\n"
