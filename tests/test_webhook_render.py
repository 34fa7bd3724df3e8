"""``ringrx-iac render``: every type and token against a loopback receiver, the curl
output run for real, and the simulator delivering the very same request."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fakes import run_cli
from receiver import Received, Receiver

from ringrx_iac.catalog import CATALOG
from ringrx_iac.simulator.server import SimulatorServer
from ringrx_iac.webhook.request import token_value
from ringrx_iac.webhook.samples import sample_payload

# Headers the HTTP client adds on its own (curl and httpx differ); everything else must match.
CLIENT_HEADERS = {"host", "user-agent", "accept", "accept-encoding", "connection"}


def every_token_config(base: str) -> str:
    """One callback per type: every documented token in the URL query and in a header."""
    lines = ["version: 1", "callbacks:"]
    for name, ctype in CATALOG.items():
        query = "&".join(f"{t}={{{t}}}" for t in ctype.tokens)
        header = "|".join(f"{{{t}}}" for t in ctype.tokens)
        lines += [
            f"  - name: every {name}",
            f"    type: {name}",
            f'    url: "{base}/{name}/{{{ctype.tokens[0]}}}?{query}"',
            "    allow_insecure_url: true",
            f'    headers: {{X-All: "{header}", X-Api-Key: "${{env:WEBHOOK_KEY}}"}}',
            '    basic_auth: {username: ringrx, password: "${env:WEBHOOK_PASSWORD}"}',
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture()
def config(tmp_path: Path, receiver: Receiver) -> Path:
    path = tmp_path / "callbacks.yaml"
    path.write_text(every_token_config(receiver.url))
    return path


SECRETS = {"WEBHOOK_KEY": "k-123-secret", "WEBHOOK_PASSWORD": "pw-456-secret"}


def render(*args: str, env: dict[str, str] | None = None) -> Any:
    result = run_cli(["render", *args], env or {})
    return result


def test_text_masks_secrets_and_replaces_every_token(config: Path) -> None:
    result = render(str(config), env=SECRETS)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for secret in SECRETS.values():
        assert secret not in out
    assert "X-Api-Key: (sensitive)" in out
    assert "Authorization: Basic (sensitive)" in out
    for name in CATALOG:
        assert f"# every {name} ({name}), sample event" in out
    assert "{" not in "".join(line for line in out.splitlines() if line.startswith("POST"))
    # The call_alert quirk and the percent-encoding are noted.
    assert "caller_nname" in out
    assert "%2B" in out and "percent-encoded" in out


def test_json_every_type_every_token(config: Path, receiver: Receiver) -> None:
    result = render(str(config), "--format", "json", env=SECRETS)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["format_version"] == "1.0"
    requests = {r["type"]: r for r in data["requests"]}
    assert set(requests) == set(CATALOG)
    for name, ctype in CATALOG.items():
        req = requests[name]
        sample = sample_payload(name)
        query = dict(parse_qsl(urlsplit(req["url"]).query, keep_blank_values=True))
        for token in ctype.tokens:
            expected = token_value(sample, token)
            assert expected is not None, (name, token)
            assert query[token] == expected, (name, token)
        assert req["headers"]["X-All"] == "|".join(
            str(token_value(sample, t)) for t in ctype.tokens
        )
        assert req["headers"]["X-Api-Key"] == "(sensitive)"
        assert req["basic_auth"] == {"username": "ringrx", "password": "(sensitive)"}
        assert req["method"] == "POST"
        if CATALOG[name].body == "file":
            assert req["body"] is None
            assert req["file"]["filename"] == sample["filename"]
            assert req["content_type"] in ("audio/wav", "application/pdf")
        else:
            assert req["body"] == sample
            assert req["content_type"] == "application/json"
    assert SECRETS["WEBHOOK_KEY"] not in result.stdout


def test_show_secrets_shows_only_references_that_are_set(config: Path) -> None:
    key = "k1-long-enough-for-the-redactor"
    result = render(str(config), "--format", "json", "--show-secrets", env={"WEBHOOK_KEY": key})
    data = json.loads(result.stdout)
    first = data["requests"][0]
    assert first["headers"]["X-Api-Key"] == key  # asked for explicitly: not redacted
    # Unset: kept as the reference, never an error (render is offline).
    assert first["basic_auth"]["password"] == "${env:WEBHOOK_PASSWORD}"


def _bash_available() -> bool:
    return shutil.which("curl") is not None and shutil.which("sh") is not None


@pytest.mark.skipif(not _bash_available(), reason="needs curl and sh")
def test_curl_output_reproduces_the_request(config: Path, receiver: Receiver) -> None:
    rendered = render(str(config), "--format", "json", env=SECRETS)
    expected = json.loads(rendered.stdout)["requests"]
    script = render(str(config), "--format", "curl", env=SECRETS).stdout
    for secret in SECRETS.values():
        assert secret not in script
    assert '"${WEBHOOK_KEY?}"' in script
    run = subprocess.run(
        ["sh", "-c", script],
        env={"PATH": "/usr/bin:/bin", **SECRETS},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert len(receiver.requests) == len(CATALOG)
    for req, got in zip(expected, receiver.requests, strict=True):
        assert got.method == "POST"
        assert receiver.url + got.path == req["url"]
        assert got.header("X-Api-Key") == SECRETS["WEBHOOK_KEY"]
        assert got.header("X-All") == req["headers"]["X-All"]
        assert got.header("Content-Type") == req["content_type"]
        assert (
            got.header("Authorization")
            == httpx.BasicAuth("ringrx", SECRETS["WEBHOOK_PASSWORD"])._auth_header
        )
        if req["body"] is not None:
            assert json.loads(got.body) == req["body"]
        else:
            assert len(got.body) == req["file"]["bytes"]


@pytest.mark.skipif(not _bash_available(), reason="needs curl and sh")
def test_curl_refuses_to_run_without_its_variables(config: Path, receiver: Receiver) -> None:
    script = render(str(config), "--format", "curl", "--callback", "every sms").stdout
    run = subprocess.run(
        ["sh", "-c", script], env={"PATH": "/usr/bin:/bin"}, capture_output=True, timeout=60
    )
    assert run.returncode != 0
    assert receiver.requests == []


def _comparable(got: Received) -> dict[str, Any]:
    headers = sorted(
        (k.lower(), v)
        for k, v in got.headers
        if k.lower() not in CLIENT_HEADERS | {"content-length"}
    )
    return {"method": got.method, "path": got.path, "headers": headers, "body": got.body}


def test_simulator_and_render_send_the_same_request(tmp_path: Path, receiver: Receiver) -> None:
    """The config is applied to the simulator, which delivers each type's sample event;
    the same config rendered as curl and run sends byte-for-byte the same requests."""
    binds = {
        "sms": "phone_numbers: ['+18185559876']",
        "voicemail": "mailboxes: ['1001']",
        "fax": "fax_services: ['Main Fax']",
        "outreach": "outreach_profiles: ['Appointment reminders']",
        "call_alert": "groups: ['Reception']",
    }
    text = every_token_config(receiver.url)
    lines = []
    for line in text.splitlines():
        lines.append(line)
        if line.startswith("    basic_auth:"):
            name = lines[-6].split("every ", 1)[1]
            if name in binds:
                lines.append(f"    bind: {{{binds[name]}}}")
    config = tmp_path / "callbacks.yaml"
    config.write_text("\n".join(lines) + "\n")
    with SimulatorServer() as sim:
        env = {**SECRETS, **sim.env()}
        applied = run_cli(["apply", str(config), "--auto-approve"], env)
        assert applied.exit_code == 0, applied.output
        ids = {
            cb["name"]: cb["id"]
            for cb in httpx.get(sim.base_url + "/_sim/state").json()["callbacks"]
        }
        for name in CATALOG:
            r = httpx.post(f"{sim.base_url}/_sim/events/{name}", json={}, timeout=30)
            assert [d["status"] for d in r.json()["deliveries"]] == [200], (name, r.text)
    from_sim = [_comparable(g) for g in receiver.requests]
    receiver.requests.clear()
    event = tmp_path / "event.yaml"
    for name in CATALOG:
        # call_alert events carry the live callback's id: tell render which it is.
        event.write_text(
            f"callback_id: {ids['every call_alert']}\n" if name == "call_alert" else "{}\n"
        )
        script = render(
            str(config), "--format", "curl", "--callback", f"every {name}", "--event", str(event)
        ).stdout
        run = subprocess.run(
            ["sh", "-c", script], env={"PATH": "/usr/bin:/bin", **SECRETS}, capture_output=True
        )
        assert run.returncode == 0, run.stderr
    from_render = [_comparable(g) for g in receiver.requests]
    assert len(from_sim) == len(CATALOG)
    assert from_render == from_sim


def test_event_file_overrides_fields(config: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.yaml"
    event.write_text("message: 'a b&c=d/é'\nfrom: '+1 (555) 010-0199'\n")
    result = render(
        str(config), "--callback", "every sms", "--event", str(event), "--format", "json"
    )
    [req] = json.loads(result.stdout)["requests"]
    query = dict(parse_qsl(urlsplit(req["url"]).query))
    assert query["message"] == "a b&c=d/é"
    assert "message=a%20b%26c%3Dd%2F%C3%A9" in req["url"]
    assert query["from"] == "+1 (555) 010-0199"
    assert req["body"]["message"] == "a b&c=d/é"
    assert req["event"] == str(event)


def test_bad_event_file_and_unknown_callback(config: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.yaml"
    event.write_text("- not a mapping\n")
    result = render(str(config), "--event", str(event))
    assert result.exit_code == 1
    assert f"{event}:1:1" in result.stderr
    result = render(str(config), "--callback", "every smss")
    assert result.exit_code == 1
    assert "did you mean 'every sms'" in result.stderr


def test_invalid_config_is_reported_with_its_location(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\ncallbacks:\n  - name: x\n    type: sms\n    url: 'https://h/{nope}'\n"
    )
    result = render(str(path))
    assert result.exit_code == 1
    assert "bad.yaml:5:" in result.stderr
    assert "RRX101" in result.stderr


def test_render_loads_no_http_client_or_simulator(config: Path) -> None:
    """render is offline: it never imports httpx, the RingRx client or the simulator."""
    import sys

    code = (
        "import json, sys\nfrom ringrx_iac.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('MODULES=' + json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "render", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert "# every sms (sms), sample event" in proc.stdout
    modules = json.loads(proc.stderr.rpartition("MODULES=")[2])
    heavy = ("httpx", "httpcore", "ringrx_iac.simulator", "ringrx_iac.api.client")
    assert [m for m in modules if m.split(".")[0] in heavy or m.startswith(heavy)] == []


def test_an_escaped_reference_is_literal_text(tmp_path: Path) -> None:
    """``$${env:X}`` is the literal text ``${env:X}``: rendered as RingRx will get it."""
    path = tmp_path / "c.yaml"
    path.write_text(
        "version: 1\ncallbacks:\n  - name: x\n    type: cdr\n"
        '    url: "https://hooks.example.com/cdr"\n'
        '    headers: {X-Note: "cost $${env:NOT_A_REF} {direction}"}\n'
    )
    result = render(str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    [req] = json.loads(result.stdout)["requests"]
    assert req["headers"]["X-Note"] == "cost ${env:NOT_A_REF} inbound"
