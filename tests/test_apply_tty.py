"""The apply prompt on a real terminal (a pty): "yes" applies, anything else changes nothing.

Also: a long apply on a TTY shows a progress bar on stderr; piped output has none.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import admin, run_cli_process, sim_writes

from ringrx_iac.simulator.server import SimulatorServer

N = 30
SEED = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [{"id": i + 1, "phonenumber": f"81855501{i:02d}"} for i in range(N)],
}
PROMPT = b"Only 'yes' will be accepted"


def _config(tmp_path: Path) -> Path:
    numbers = ", ".join(f'"81855501{i:02d}"' for i in range(N))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "version: 1\ncallbacks:\n  - name: S\n    type: sms\n    url: https://h/s\n"
        f"    bind: {{phone_numbers: [{numbers}]}}\n"
    )
    return cfg


def _read_until(fd: int, needle: bytes, timeout: float = 20) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _run_on_pty(cfg: Path, sim: SimulatorServer, answer: bytes) -> tuple[int, str]:
    """Run apply with stdin, stdout and stderr on one pty; answer the prompt."""
    master, slave = pty.openpty()
    env = {**os.environ, **sim.env(), "TERM": "xterm", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ringrx_iac", "apply", str(cfg)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    try:
        out = _read_until(master, PROMPT)
        assert PROMPT in out, out.decode(errors="replace")
        os.write(master, answer + b"\n")
        out += _read_until(master, b"\x00", timeout=30)  # until EOF
        return proc.wait(timeout=30), out.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.mark.parametrize("answer", [b"no", b"y", b"YES "])
def test_anything_but_yes_cancels_and_changes_nothing(tmp_path: Path, answer: bytes) -> None:
    with SimulatorServer(seed=SEED) as sim:
        admin(sim, "POST", "/stats/reset")
        code, out = _run_on_pty(_config(tmp_path), sim, answer)
        assert code == 1, out
        assert "Apply cancelled: the answer was not 'yes'. Nothing was changed" in out
        assert "accepted: " in out and "::" not in out
        assert sim_writes(admin(sim, "GET", "/stats")) == 0
        assert admin(sim, "GET", "/state")["callbacks"] == []


def test_yes_applies_with_a_progress_bar_and_colour(tmp_path: Path) -> None:
    with SimulatorServer(seed=SEED) as sim:
        code, out = _run_on_pty(_config(tmp_path), sim, b"yes")
        assert code == 0, out
        assert "Apply complete: 31 done." in out and "Account converged." in out
        assert "\x1b[" in out  # coloured on a TTY
        assert "Applying" in out  # rich progress bar (stderr) for a long apply
        assert len(admin(sim, "GET", "/state")["callbacks"]) == 1


def test_piped_apply_has_no_progress_noise(tmp_path: Path) -> None:
    with SimulatorServer(seed=SEED) as sim:
        proc = run_cli_process(["apply", str(_config(tmp_path)), "--auto-approve"], sim.env())
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
        assert "\x1b[" not in proc.stdout and "Applying" not in proc.stdout
