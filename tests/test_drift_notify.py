"""drift --notify URL [--state FILE]: Slack-style posts to a local receiver, deduplicated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import admin, cli_env, run_cli
from receiver import Answer, Receiver

from ringrx_iac import notify
from ringrx_iac.simulator.server import SimulatorServer

HOOKS = "https://hooks.example.com"
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "callbacks": [
        {
            "id": 1,
            "name": "CDR",
            "callback_type": "cdr",
            "url": f"{HOOKS}/cdr",
            "custom_headers": "X-Api-Key:cdr-key-abcdef123\r\nX-Env:prod",
        },
        {"id": 2, "name": "REC", "callback_type": "recording", "url": f"{HOOKS}/rec"},
    ],
}
CONFIG = f"""version: 1
policy: {{allowed_hosts: ["hooks.example.com"]}}
callbacks:
  - name: CDR
    type: cdr
    url: "{HOOKS}/cdr"
    headers: {{X-Api-Key: "${{env:CDR_KEY}}", X-Env: prod}}
  - {{name: REC, type: recording, url: "{HOOKS}/rec"}}
"""
SECRET = "cdr-key-abcdef123"


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=SEED) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def drift(sim: SimulatorServer, tmp_path: Path, *extra: str) -> Any:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return run_cli(["drift", str(path), *extra], cli_env(sim, CDR_KEY=SECRET))


def bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests]


def test_notify_once_per_drift_then_cleared(
    sim: SimulatorServer, receiver: Receiver, tmp_path: Path
) -> None:
    state = tmp_path / "drift-state.json"
    args = ("--notify", receiver.url + "/hook/T0/B0/xyz", "--state", str(state))
    assert drift(sim, tmp_path, *args).exit_code == 0
    assert receiver.requests == [] and not state.exists()  # in sync: nothing to say
    # hijack: the CDR goes elsewhere and loses its secret header; its value must not leak
    admin(
        sim,
        "PATCH",
        "/callbacks/1",
        {"url": "https://evil.example.net/cdr", "custom_headers": "X-Env:portal-value-42"},
    )
    first = drift(sim, tmp_path, *args)
    assert first.exit_code == 2, first.stderr
    assert "Notified the webhook: drift." in first.stderr
    (message,) = bodies(receiver)
    assert set(message) == {"text", "blocks"} and message["blocks"][0]["type"] == "section"
    assert (
        message["text"].startswith("RingRx drift in ") and "2 critical, 0 high" in message["text"]
    )
    assert "CDR" in message["text"] and "evil.example.net" in message["text"]
    assert "hooks.example.com, evil.example.net" not in message["text"]  # sorted
    assert "(hosts: evil.example.net, hooks.example.com)" in message["text"]
    assert "lost its secret header 'X-Api-Key'" in message["text"]
    assert receiver.requests[0].header("Content-Type") == "application/json"
    raw = receiver.requests[0].body.decode()
    assert SECRET not in raw and "portal-value-42" not in raw
    assert "/hook/T0" not in first.output  # the webhook URL (a token) is never printed
    # the same drift again: no second post
    assert drift(sim, tmp_path, *args).exit_code == 2
    assert len(receiver.requests) == 1
    # the drift changes: one more post
    admin(sim, "PATCH", "/callbacks/2", {"url": f"{HOOKS}/rec-v2"})
    assert drift(sim, tmp_path, *args).exit_code == 2
    assert len(receiver.requests) == 2 and "REC" in bodies(receiver)[1]["text"]
    # fixed: one "cleared" message, then silence
    admin(
        sim,
        "PATCH",
        "/callbacks/1",
        {"url": f"{HOOKS}/cdr", "custom_headers": f"X-Api-Key:{SECRET}\r\nX-Env:prod"},
    )
    admin(sim, "PATCH", "/callbacks/2", {"url": f"{HOOKS}/rec"})
    assert drift(sim, tmp_path, *args).exit_code == 0
    assert len(receiver.requests) == 3 and "cleared" in bodies(receiver)[2]["text"]
    assert drift(sim, tmp_path, *args).exit_code == 0
    assert len(receiver.requests) == 3
    assert SECRET not in state.read_text() and "hook" not in state.read_text()


def test_fail_on_filters_what_is_notified(
    sim: SimulatorServer, receiver: Receiver, tmp_path: Path
) -> None:
    state = tmp_path / "s.json"
    admin(sim, "PATCH", "/callbacks/2", {"url": f"{HOOKS}/rec-v2"})  # low only
    args = ("--notify", receiver.url, "--state", str(state), "--fail-on", "high")
    assert drift(sim, tmp_path, *args).exit_code == 0
    assert receiver.requests == []


def test_without_state_every_drift_run_posts(
    sim: SimulatorServer, receiver: Receiver, tmp_path: Path
) -> None:
    admin(sim, "PATCH", "/callbacks/2", {"url": "https://other.example.net/rec"})
    for _ in range(2):
        assert drift(sim, tmp_path, "--notify", receiver.url).exit_code == 2
    assert len(receiver.requests) == 2


def test_failed_post_is_exit_1_and_state_is_kept(sim: SimulatorServer, tmp_path: Path) -> None:
    admin(sim, "PATCH", "/callbacks/2", {"url": "https://other.example.net/rec"})
    state = tmp_path / "s.json"
    with Receiver(answer=lambda req, n: Answer(status=500)) as failing:
        result = drift(sim, tmp_path, "--notify", failing.url, "--state", str(state))
    assert result.exit_code == 1 and "answered HTTP 500" in result.stderr
    assert not state.exists()  # nothing recorded: the next run tries again


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example.com/x", "ftp://127.0.0.1/x", "https://u:p@hooks.example.com/x", "x"],
)
def test_notify_url_must_be_https_or_loopback_http(
    sim: SimulatorServer, tmp_path: Path, url: str
) -> None:
    result = drift(sim, tmp_path, "--notify", url)
    assert result.exit_code == 1 and result.stdout == ""
    assert "--notify" in result.stderr


def test_state_needs_notify(sim: SimulatorServer, tmp_path: Path) -> None:
    result = drift(sim, tmp_path, "--state", str(tmp_path / "s.json"))
    assert result.exit_code == 1 and "--state needs --notify" in result.stderr


def test_check_url_accepts_https_and_loopback() -> None:
    for url in ("https://hooks.slack.com/services/T/B/x", "http://127.0.0.1:9/x", "http://[::1]/"):
        notify.check_url(url)
    assert notify.fingerprint({"findings": [], "errors": []}) is None


def test_corrupt_state_file_is_a_clear_error(
    sim: SimulatorServer, receiver: Receiver, tmp_path: Path
) -> None:
    admin(sim, "PATCH", "/callbacks/2", {"url": "https://other.example.net/rec"})
    state = tmp_path / "s.json"
    state.write_text("{not json")
    result = drift(sim, tmp_path, "--notify", receiver.url, "--state", str(state))
    assert result.exit_code == 1 and "delete it to start afresh" in result.stderr
