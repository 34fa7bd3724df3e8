"""Canaries: distinctive secret values placed everywhere a secret can enter, looked for in
every output of every command, format, --debug, plan file, --log and imported YAML.

Placements: a ``${env:...}`` reference, a ``${file:...}`` reference, the API key (token and
secret), the access and refresh tokens the server issues, a live basic-auth password, live
values of secret-named and of innocent-looking headers, a server error body that echoes
the request, URL userinfo in the live account.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from fakes import admin, run_cli_process

from ringrx_iac.simulator.server import SimulatorServer

# A plain live value of an innocent header: import may write it (it is configuration), plan
# and drift must not show it (the configuration does not hold it).
PLAIN_NOTE = "plainnote-shown-by-import-only"
CANARY = {
    "env_ref": "CANARYenvref0001",
    "file_ref": "CANARYfileref0002",
    "api_token": "CANARYapitoken0003",
    "api_secret": "CANARYapisecret0004",
    "live_password": "CANARYlivepw0005",
    "live_secret_header": "CANARYlivekey0006",
    "live_innocent_header": "CANARYnote0007xK9fQ2mZ7pL3",  # a token under X-Note
    "url_userinfo": "CANARYurlpw0008",
    "basic_password": "CANARYbasicpw0009",
}
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": CANARY["api_token"], "secret": CANARY["api_secret"], "user": "demo"}],
    "phone_numbers": [{"id": 7, "phonenumber": "+18185559876", "sms_callback_id": 1}],
    "callbacks": [
        {
            "id": 1,
            "name": "SMS",
            "callback_type": "sms",
            "url": "https://h.example.com/sms",
            "use_basic_auth": True,
            "auth_username": "u",
            "auth_password": CANARY["live_password"],
            "custom_headers": f"X-Api-Key:{CANARY['live_secret_header']}\r\n"
            f"X-Note:{CANARY['live_innocent_header']}\r\nX-Trace:{PLAIN_NOTE}",
        },
        {
            "id": 2,
            "name": "CDR",
            "callback_type": "cdr",
            "url": f"https://ops:{CANARY['url_userinfo']}@h.example.com/cdr",
        },
    ],
}
CONFIG = """\
version: 1
safety: {max_delete_percent: 100}
callbacks:
  - name: SMS
    type: sms
    url: https://h.example.com/sms2
    headers:
      X-Api-Key: "${env:CANARY_KEY}"
      Authorization: "Key ${file:key.txt}"
    basic_auth: {username: u, password: "${env:CANARY_PW}"}
    bind: {phone_numbers: ["+18185559876"]}
  - name: CDR
    type: cdr
    url: https://h.example.com/cdr
"""
FORMATS = {"plan": ("text", "json", "markdown"), "drift": ("text", "json", "markdown")}


def _leaks(text: str, tokens: list[str]) -> list[str]:
    return [
        name for name, value in [*CANARY.items(), *(("token", t) for t in tokens)] if value in text
    ]


@pytest.fixture
def world(tmp_path: Path) -> Any:
    (tmp_path / "key.txt").write_text(CANARY["file_ref"] + "\n")
    (tmp_path / "c.yaml").write_text(CONFIG)
    with SimulatorServer(seed=SEED) as sim:
        issued: list[str] = []
        authority = sim.simulator.authority
        original = authority._issue

        def recording(*args: Any) -> dict[str, Any]:
            answer = original(*args)
            issued.extend([answer["access_token"], answer["refresh_token"]])
            return answer

        authority._issue = recording  # type: ignore[method-assign,assignment]
        env = {
            "RINGRX_BASE_URL": sim.base_url,
            "RINGRX_API_TOKEN": CANARY["api_token"],
            "RINGRX_API_SECRET": CANARY["api_secret"],
            "CANARY_KEY": CANARY["env_ref"],
            "CANARY_PW": CANARY["basic_password"],
        }
        yield sim, env, tmp_path, issued


def test_no_canary_in_any_output(world: Any) -> None:
    sim, env, tmp, issued = world
    cfg = str(tmp / "c.yaml")
    outputs: dict[str, str] = {}
    for command, debug in itertools.product(("plan", "drift"), (False, True)):
        for fmt in FORMATS[command]:
            args = [command, cfg, "--format", fmt] + (["--debug"] if debug else [])
            proc = run_cli_process(args, env)
            assert proc.returncode in (0, 2), proc.stderr
            outputs[" ".join(args)] = proc.stdout + proc.stderr
    imported = tmp / "imported.yaml"
    proc = run_cli_process(["import", "--out", str(imported), "--debug"], env)
    assert proc.returncode == 0, proc.stderr
    outputs["import"] = proc.stdout + proc.stderr
    outputs["imported.yaml"] = imported.read_text()
    proc = run_cli_process(["import"], env)
    outputs["import to stdout"] = proc.stdout + proc.stderr
    plan_file = tmp / "plan.json"
    proc = run_cli_process(["plan", cfg, "--out", str(plan_file), "--format", "json"], env)
    assert proc.returncode == 0, proc.stderr
    outputs["plan --out"] = proc.stdout + proc.stderr
    outputs["plan.json"] = plan_file.read_text()
    log = tmp / "apply.jsonl"
    for fmt, debug in itertools.product(("text", "json"), (False, True)):
        args = ["apply", "--plan", str(plan_file), "--log", str(log), "--format", fmt]
        proc = run_cli_process(args + (["--debug"] if debug else []), env)
        outputs[" ".join(args) + f" debug={debug}"] = proc.stdout + proc.stderr
    outputs["apply.jsonl"] = log.read_text()
    # the portal changes things back: drift and apply from the config, every format
    admin(sim, "PATCH", "/callbacks/1", {"auth_password": CANARY["live_password"]})
    admin(
        sim, "PATCH", "/callbacks/1", {"custom_headers": f"X-Note:{CANARY['live_innocent_header']}"}
    )
    for fmt in ("text", "json", "markdown"):
        proc = run_cli_process(["drift", cfg, "--format", fmt, "--debug"], env)
        assert proc.returncode == 2, proc.stderr
        outputs[f"drift after portal edit {fmt}"] = proc.stdout + proc.stderr
    proc = run_cli_process(["apply", cfg, "--auto-approve", "--log", str(log), "--debug"], env)
    outputs["apply PATH"] = proc.stdout + proc.stderr
    outputs["apply.jsonl (2)"] = log.read_text()
    for fmt in ("text", "json", "github"):
        proc = run_cli_process(["validate", cfg, "--format", fmt], env)
        outputs[f"validate {fmt}"] = proc.stdout + proc.stderr
    for fmt in ("text", "json", "curl"):
        proc = run_cli_process(["render", cfg, "--format", fmt], env)
        assert proc.returncode == 0, proc.stderr
        outputs[f"render {fmt}"] = proc.stdout + proc.stderr
    assert issued, "the run obtained tokens"
    placements = len(CANARY) + len(issued)
    leaks = {name: _leaks(text, issued) for name, text in outputs.items()}
    for name, text in outputs.items():
        if not name.startswith("import") and PLAIN_NOTE in text:
            leaks[name].append("plain live header value")
    assert {k: v for k, v in leaks.items() if v} == {}
    everything = "\n".join(outputs.values())
    assert "(live value hidden)" in everything and "ringrx_iac.http" in everything
    assert placements >= 10 and len(outputs) >= 25
    print(f"canary placements: {placements}, outputs searched: {len(outputs)}")


def test_server_error_body_echoing_secrets_is_redacted(world: Any, tmp_path: Path) -> None:
    """A 422 whose body echoes the request: the apply report shows the error, not the secret."""
    sim, env, tmp, issued = world
    cfg = tmp / "c.yaml"
    cfg.write_text(
        CONFIG.replace("url: https://h.example.com/sms2", "url: https://h.example.com/reject")
    )
    original = sim.simulator.state.update_callback

    def echoing(cb_id: Any, body: Any, **kw: Any) -> Any:
        from ringrx_iac.simulator.state import Invalid

        raise Invalid({"base": [f"rejected {json.dumps(body)}"]})

    sim.simulator.state.update_callback = echoing  # type: ignore[method-assign]
    try:
        log = tmp / "apply.jsonl"
        for fmt in ("text", "json"):
            args = ["apply", str(cfg), "--auto-approve", "--format", fmt, "--log", str(log)]
            proc = run_cli_process(args + ["--debug"], env)
            assert proc.returncode == 1
            out = proc.stdout + proc.stderr + log.read_text()
            assert "rejected" in out and "(redacted)" in out, out
            assert _leaks(out, issued) == []
    finally:
        sim.simulator.state.update_callback = original  # type: ignore[method-assign]
