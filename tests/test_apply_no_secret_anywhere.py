"""Distinctive secrets never appear in any output: every format, plan file, --log, import, --debug."""

from __future__ import annotations

from pathlib import Path

from fakes import admin, cli_env, run_cli, run_cli_process

from ringrx_iac.simulator.server import SimulatorServer

LIVE_PW = "QQlivepwQQ7781"
LIVE_KEY = "QQlivekeyQQ7782"
NEW_PW = "QQnewpwQQ7783"
NEW_KEY = "QQnewkeyQQ7784"
FILE_KEY = "QQfilekeyQQ7785"
API_SECRET = "QQapisecretQQ7786"
SECRETS = (LIVE_PW, LIVE_KEY, NEW_PW, NEW_KEY, FILE_KEY, API_SECRET)

SEED = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": API_SECRET, "user": "demo"}],
    "phone_numbers": [{"id": 7, "phonenumber": "+18185559876", "sms_callback_id": 1}],
    "callbacks": [
        {
            "id": 1,
            "name": "SMS",
            "callback_type": "sms",
            "url": "https://h/sms",
            "use_basic_auth": True,
            "auth_username": "u",
            "auth_password": LIVE_PW,
            "custom_headers": f"X-Api-Key:{LIVE_KEY}\r\nX-Token-Extra: Bearer {LIVE_KEY}",
        },
        {"id": 2, "name": "Gone", "callback_type": "cdr", "url": "https://h/c"},
    ],
}
CONFIG = """\
version: 1
safety: {max_delete_percent: 100}
callbacks:
  - name: SMS
    type: sms
    url: https://h/sms2
    headers:
      X-Api-Key: "${env:NEW_KEY}"
      X-Token-Extra: "Bearer ${env:NEW_KEY}"
      X-Plain: plain
    basic_auth: {username: u, password: "${env:NEW_PW}"}
    bind: {phone_numbers: ["+18185559876"]}
  - name: Fresh
    type: recording
    url: https://h/rec
    headers: {Authorization: "Key ${file:key.txt}"}
    basic_auth: {username: v, password: "${env:NEW_PW}"}
"""


def test_no_secret_in_any_output(tmp_path: Path) -> None:
    (tmp_path / "key.txt").write_text(FILE_KEY + "\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    with SimulatorServer(seed=SEED) as sim:
        env = cli_env(sim, RINGRX_API_SECRET=API_SECRET, NEW_KEY=NEW_KEY, NEW_PW=NEW_PW)
        # real processes: --debug logging goes to their own stderr whatever pytest captures
        seen: list[str] = []
        for fmt in ("text", "json", "markdown"):
            for command in ("plan", "drift"):
                proc = run_cli_process([command, str(cfg), "--format", fmt, "--debug"], env)
                assert proc.returncode in (0, 2), proc.stderr
                seen.append(proc.stdout + proc.stderr)
        plan_file = tmp_path / "plan.json"
        result = run_cli(["plan", str(cfg), "--out", str(plan_file)], env)
        assert result.exit_code == 0, result.output
        seen += [result.output, plan_file.read_text()]
        imported = tmp_path / "imported.yaml"
        proc = run_cli_process(["import", "--out", str(imported), "--debug"], env)
        seen += [proc.stdout + proc.stderr, imported.read_text()]
        log = tmp_path / "apply.jsonl"
        proc = run_cli_process(
            ["apply", "--plan", str(plan_file), "--log", str(log), "--debug", "--format", "json"],
            env,
        )
        assert proc.returncode == 0, proc.stderr
        seen += [proc.stdout + proc.stderr, log.read_text()]
        # the portal changes a password: drift says so without showing either value
        admin(sim, "PATCH", "/callbacks/1", {"auth_password": LIVE_PW})
        result = run_cli(["drift", str(cfg), "--format", "json"], env)
        assert result.exit_code == 2 and "(sensitive value changed)" in result.stdout
        seen.append(result.output)
        result = run_cli(["apply", str(cfg), "--auto-approve", "--log", str(log)], env)
        assert result.exit_code == 0, result.output
        seen += [result.output, log.read_text()]
        state = admin(sim, "GET", "/state")
        assert state["callbacks"][0]["name"] in ("SMS", "Fresh")
    everything = "\n".join(seen)
    assert "ringrx_iac.http" in everything  # the --debug request log was captured
    assert "(sensitive" in everything  # the checks below look at real output
    for secret in SECRETS:
        assert secret not in everything, secret
