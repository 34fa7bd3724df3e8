"""``ringrx-iac probe``: a marked synthetic event to each callback's real URL (loopback)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import run_cli
from receiver import Answer, Received, Receiver

KEY = "probe-key-5d4c3b"
PASSWORD = "probe-pw-7e6f5a"
ENV = {"PROBE_KEY": KEY, "PROBE_PASSWORD": PASSWORD}


def answer(req: Received, n: int) -> Answer:
    if req.path.startswith("/down"):
        return Answer(503, b"maintenance")
    if req.path.startswith("/slow"):
        return Answer(200, delay=1.0)
    return Answer(202, b"queued")


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with Receiver(answer=answer) as r:
        yield r


def config(tmp_path: Path, base: str, extra: str = "") -> Path:
    path = tmp_path / "callbacks.yaml"
    path.write_text(
        f"""\
version: 1
{extra}
defaults: {{headers: {{X-Source: ringrx}}}}
callbacks:
  - name: CRM inbound SMS
    type: sms
    url: "{base}/sms?to={{to}}"
    allow_insecure_url: true
    headers: {{X-Api-Key: "${{env:PROBE_KEY}}", X-From: "{{from}}"}}
    basic_auth: {{username: ringrx, password: "${{env:PROBE_PASSWORD}}"}}
  - name: Voicemail
    type: voicemail
    url: "{base}/vm/{{filename}}"
    allow_insecure_url: true
  - name: Down CDRs
    type: cdr
    url: "{base}/down/{{id}}"
    allow_insecure_url: true
"""
    )
    return path


def probe(path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_cli(["probe", str(path), *args], ENV if env is None else env)


def test_probe_sends_marked_events_with_real_headers_and_auth(
    tmp_path: Path, receiver: Receiver
) -> None:
    path = config(tmp_path, receiver.url)
    result = probe(path, "--callback", "CRM inbound SMS", "--callback", "Voicemail")
    assert result.exit_code == 0, result.output
    sms, vm = receiver.requests
    assert sms.path == "/sms?to=8185559876"
    assert sms.header("X-RingRx-IaC-Probe") == "1"
    assert sms.header("X-Api-Key") == KEY
    assert sms.header("X-Source") == "ringrx"
    assert sms.header("X-From") == "8185551234"
    assert (
        sms.header("Authorization")
        == "Basic " + base64.b64encode(f"ringrx:{PASSWORD}".encode()).decode()
    )
    body = json.loads(sms.body)
    assert body["ringrx_iac_probe"] is True
    assert body["message"] == "Test callback"
    assert vm.path == "/vm/ringrx-iac-probe.wav"
    assert vm.header("X-RingRx-IaC-Probe") == "1"
    assert vm.header("Content-Type") == "audio/wav"
    out = result.stdout
    assert "CRM inbound SMS (sms): 202 Accepted in " in out
    assert "Probe: 2 of 2 receivers answered 2xx" in out
    assert KEY not in result.output and PASSWORD not in result.output


def test_a_failing_receiver_fails_the_probe(tmp_path: Path, receiver: Receiver) -> None:
    path = config(tmp_path, receiver.url)
    result = probe(path, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    by_name = {p["callback"]: p for p in data["probes"]}
    assert by_name["Down CDRs"]["status"] == 503 and by_name["Down CDRs"]["ok"] is False
    assert by_name["CRM inbound SMS"]["status"] == 202
    assert by_name["CRM inbound SMS"]["latency_ms"] >= 0
    assert data["summary"] == {"total": 3, "ok": 2, "failed": 1}
    assert len(receiver.requests) == 3


def test_timeouts_and_unreachable_receivers(tmp_path: Path, receiver: Receiver) -> None:
    path = tmp_path / "callbacks.yaml"
    path.write_text(
        "version: 1\ncallbacks:\n"
        f'  - {{name: slow, type: cdr, url: "{receiver.url}/slow", allow_insecure_url: true}}\n'
        '  - {name: gone, type: cdr, url: "http://127.0.0.1:9/x", allow_insecure_url: true}\n'
    )
    result = probe(path, "--timeout", "0.2")
    assert result.exit_code == 1
    assert "slow (cdr): error: no answer within 0.2s" in result.stdout
    assert "gone (cdr): error: ConnectError" in result.stdout


def test_probe_refuses_hosts_outside_the_policy(tmp_path: Path, receiver: Receiver) -> None:
    extra = "policy: {allowed_hosts: [hooks.example.com], require_https: false}"
    path = config(tmp_path, receiver.url, extra)
    result = probe(path)
    assert result.exit_code == 1
    assert "policy.allowed_hosts" in result.stderr
    assert receiver.requests == []


def test_unset_secret_sends_nothing(tmp_path: Path, receiver: Receiver) -> None:
    path = config(tmp_path, receiver.url)
    result = probe(path, env={"PROBE_KEY": KEY})
    assert result.exit_code == 1
    assert "PROBE_PASSWORD" in result.stderr
    assert receiver.requests == []


def test_plan_and_apply_never_probe(tmp_path: Path, receiver: Receiver) -> None:
    from ringrx_iac.simulator.server import SimulatorServer

    path = config(tmp_path, receiver.url)
    with SimulatorServer() as sim:
        env = {**ENV, **sim.env()}
        assert run_cli(["apply", str(path), "--auto-approve"], env).exit_code == 0
        assert run_cli(["plan", str(path)], env).exit_code == 0
    assert receiver.requests == []
