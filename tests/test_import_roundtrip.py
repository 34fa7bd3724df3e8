"""import round trip on awkward live values: import, set the listed variables, plan -> empty.

Every callback type, Jinja2 markers in live values (names, usernames, target names; the
linter refuses braces other than tokens in URLs and header values), colons and spaces in header values,
an http:// URL, basic auth with and without a username, a secret-looking header name with
a harmless value, duplicate names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fakes import admin, run_cli

from ringrx_iac.simulator.server import SimulatorServer

SECRETS = {
    "pw-sms": "ZZ-sms-password-91",
    "pw-rec": "ZZ-rec-password-92",
    "key-vm": "ZZ-vm-api-key-93",
}

SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "demo-password"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [{"id": 7, "phonenumber": "8185559876", "sms_callback_id": 1}],
    "mailboxes": [{"id": 3, "name": "Front {{desk}}", "mailbox": "1001", "callback_id": 2}],
    "fax_services": [{"id": 5, "name": "Main Fax", "extension": "7001", "callback_id": 3}],
    "outreach_profiles": [{"id": 2, "name": "Recalls", "callback_id": 6}],
    "groups": [{"id": 9, "name": "Reception", "extension": "8000", "callback_id": 7}],
    "callbacks": [
        {
            "id": 1,
            "name": "SMS {{ not a var }}",
            "callback_type": "sms",
            "url": "http://hooks.example.com/a?to={to}&w=a%7Bb",
            "use_basic_auth": True,
            "auth_username": "u{%x%}{#y#}",
            "auth_password": SECRETS["pw-sms"],
            "custom_headers": "X-Time: 10:30:00\r\nX-Auth-Mode: basic\r\nX-Note: a # b: c",
        },
        {
            "id": 2,
            "name": "VM",
            "callback_type": "voicemail",
            "url": "https://h.example.com/vm/{id}",
            "custom_headers": "X-Api-Key:" + SECRETS["key-vm"] + "\nX-Empty:",
        },
        {"id": 3, "name": "Fax", "callback_type": "fax", "url": "https://h.example.com/f"},
        {
            "id": 4,
            "name": "CDR",
            "callback_type": "cdr",
            "url": "https://h.example.com/cdr/{id}",
            "custom_headers": "A:b:c\nB:  spaced  \nC:'quoted' \"too\" \\ back",
        },
        {
            "id": 5,
            "name": "REC",
            "callback_type": "recording",
            "url": "https://h.example.com/rec",
            "use_basic_auth": True,
            "auth_username": "rec-user",
            "auth_password": SECRETS["pw-rec"],
        },
        {"id": 6, "name": "OUT", "callback_type": "outreach", "url": "https://h.example.com/o"},
        {"id": 7, "name": "ALERT", "callback_type": "call_alert", "url": "https://h/al"},
    ],
}


def _variables(text: str) -> list[str]:
    header = text.split("version: 1")[0]
    return re.findall(r"#\s+(RINGRX_SECRET_\w+)", header)


def test_round_trip_of_awkward_values_plans_no_changes(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "imported.yaml"
    result = run_cli(["import", "--out", str(out)], env)
    assert result.exit_code == 0, result.stderr
    assert "imported configuration has" not in result.stderr  # it validates cleanly
    text = out.read_text()
    for secret in SECRETS.values():
        assert secret not in text and secret not in result.stdout + result.stderr
    names = _variables(text)
    assert len(names) == 4, text  # two passwords, X-Api-Key, X-Auth-Mode
    live = {
        "PASSWORD": None,
        "X_API_KEY": SECRETS["key-vm"],
        "X_AUTH_MODE": "basic",
    }
    values = {}
    for name in names:
        if name.endswith("_PASSWORD"):
            values[name] = SECRETS["pw-rec"] if "_REC_" in name else SECRETS["pw-sms"]
        else:
            values[name] = next(v for k, v in live.items() if v and name.endswith(k))
    plan = run_cli(["plan", str(out), "--detailed-exitcode"], {**env, **values})
    assert plan.exit_code == 0, text + plan.stdout + plan.stderr
    assert "No changes" in plan.stdout


def test_import_of_duplicate_names_says_which_ids_and_what_to_do(
    sim: SimulatorServer, env: dict[str, str]
) -> None:
    admin(sim, "POST", "/callbacks", {"name": "VM", "callback_type": "fax", "url": "https://x"})
    result = run_cli(["import"], env)
    assert result.exit_code == 1
    assert result.stdout == ""
    message = result.stderr
    assert "'VM'" in message and "ids 2, 8" in message
    assert "rename or delete" in message and "Traceback" not in message


def test_import_reports_live_values_the_config_language_refuses(
    sim: SimulatorServer, env: dict[str, str], tmp_path: Path
) -> None:
    # basic auth on, no username: RingRx holds it, the config language calls it an error
    admin(sim, "PATCH", "/callbacks/5", {"auth_username": ""})
    out = tmp_path / "imp.yaml"
    result = run_cli(["import", "--out", str(out)], env)
    assert result.exit_code == 0 and out.exists()
    assert "imported configuration has 1 error(s)" in result.stderr
    assert f"{out}:" in result.stderr and "RRX401" in result.stderr
    clean = run_cli(["import"], env)
    assert clean.stdout.startswith("# Imported from the live RingRx account")
