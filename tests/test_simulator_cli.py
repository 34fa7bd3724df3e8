"""``ringrx-iac simulator`` as a real process: prints its URL and credentials, stops on signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ringrx_iac.cli import main


def start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start the simulator and read its ``NAME=value`` lines up to the first comment."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ringrx_iac", "simulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    env: dict[str, str] = {}
    for line in proc.stdout:
        if line.startswith("#"):
            break
        name, _, value = line.strip().partition("=")
        env[name] = value
    return proc, env


def stop(proc: subprocess.Popen[str], sig: int) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_stops_cleanly(sig: int) -> None:
    proc, env = start()
    try:
        assert env["RINGRX_API_TOKEN"] == "demo-api-token"
        assert env["RINGRX_API_SECRET"] == "demo-api-secret"
        assert env["RINGRX_BASE_URL"].startswith("http://127.0.0.1:")
        creds = {"token": env["RINGRX_API_TOKEN"], "secret": env["RINGRX_API_SECRET"]}
        r = httpx.post(env["RINGRX_BASE_URL"] + "/auth/token", params=creds)
        assert r.status_code == 200
    finally:
        code = stop(proc, sig)
    assert code == 0
    assert proc.stderr is not None
    assert "Traceback" not in proc.stderr.read()


def test_cli_flags_and_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc, env = start("--state", str(state), "--error-rate", "1", "--token-lifetime", "60")
    try:
        base = env["RINGRX_BASE_URL"]
        r = httpx.post(
            base + "/auth/token", json={"token": "demo-api-token", "secret": "demo-api-secret"}
        )
        assert r.status_code in (500, 502, 503)  # every API request fails
        faults = httpx.get(base + "/_sim/faults").json()
        assert faults["error_rate"] == 1.0
        assert faults["token_lifetime"] == 60
        httpx.post(
            base + "/_sim/callbacks",
            json={"name": "kept", "callback_type": "cdr", "url": "https://x"},
        )
    finally:
        assert stop(proc, signal.SIGTERM) == 0
    saved = json.loads(state.read_text())
    assert [c["name"] for c in saved["callbacks"]] == ["kept"]
    if os.name == "posix":
        assert state.stat().st_mode & 0o077 == 0  # it holds the seed's credentials


@pytest.mark.parametrize(
    "args",
    [
        ["--host", "0.0.0.0"],
        ["--error-rate", "2"],
        ["--seed", "/nonexistent/seed.yaml"],
    ],
)
def test_cli_usage_errors_exit_1(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulator", *args])
    assert exc.value.code == 1
    assert "Traceback" not in capsys.readouterr().err


def test_cli_bad_seed_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("- just\n- a list\n")
    with pytest.raises(SystemExit) as exc:
        main(["simulator", "--seed", str(seed)])
    assert exc.value.code == 1
    assert "seed must be a mapping" in capsys.readouterr().err


def test_cli_corrupt_state_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"callbacks": [{"id": 1}]}')
    with pytest.raises(SystemExit) as exc:
        main(["simulator", "--state", str(state)])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert str(state) in err
    assert "can't be blank" in err
    assert "Traceback" not in err
