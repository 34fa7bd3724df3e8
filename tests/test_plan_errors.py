"""Plan-time errors through the CLI: ignored takeover, unknown target."""

from __future__ import annotations

from pathlib import Path

from fakes import admin, cli_env, run_cli, sim_writes

from ringrx_iac.simulator.server import SimulatorServer

SEED = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [{"id": 7, "phonenumber": "8185559876", "sms_callback_id": 3}],
    "callbacks": [
        {"id": 1, "name": "A", "callback_type": "cdr", "url": "https://h/a"},
        {"id": 2, "name": "A", "callback_type": "cdr", "url": "https://h/b"},
        {"id": 3, "name": "Legacy X", "callback_type": "sms", "url": "https://h/l"},
    ],
}
CONFIG = """\
version: 1
ignore: ["Legacy *"]
callbacks:
  - name: A
    type: cdr
    url: https://h/a
  - name: S
    type: sms
    url: https://h/s
    bind: {phone_numbers: ["+18185559876", "+18185559875"]}
"""


def test_plan_errors_name_ids_place_and_fix(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    with SimulatorServer(seed=SEED) as sim:
        env = cli_env(sim)
        for command in (["plan"], ["drift"], ["apply", "--auto-approve"]):
            result = run_cli([*command, str(cfg)], env)
            assert result.exit_code == 1, command
            # plan and drift still show what could be compared; apply shows nothing
            if command[0] == "apply":
                assert result.stdout == ""
            else:
                assert 'create callback "S"' in result.stdout
                assert "RRX702" in result.stderr and "RRX703" in result.stderr
        err = result.stderr
        assert "RRX701" not in err  # duplicate names are repaired by the plan, not an error
        assert "RRX702" in err and "ignored callback 'Legacy X' (id 3)" in err
        assert "RRX703" in err and "did you mean '+18185559876'?" in err
        assert "plan failed: 2 errors; nothing was changed" in err
        assert sim_writes(admin(sim, "GET", "/stats")) == 0
