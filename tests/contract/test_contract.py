"""Wire-level checks of the CLI against the independent contract server (``server.py``).

These assert what the server sees: auth and refresh requests, exact request bodies, the order
of writes, and that read-only commands write nothing. Behaviour already covered against the
project's simulator is not repeated here. Every CLI run is also checked for leaked secrets.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from . import server as srv
from .server import TARGETS, State

CRM_KEY = "crm-HEADER-secret-3f9a"
CRM_PW = "crm-BASIC-password-8c1e"

HEAD = "version: 1\nsafety: {max_delete_percent: 100}\n"
CONFIG = (
    HEAD
    + """\
callbacks:
  - name: CRM inbound SMS
    type: sms
    url: "https://hooks.example.com/sms?to={to}"
    headers: {X-Api-Key: "${env:CRM_KEY}", X-Env: prod}
    basic_auth: {username: ringrx, password: "${env:CRM_PW}"}
    bind: {phone_numbers: ["+1 818 555 9876", "(818) 555-1234"]}
  - name: All CDRs
    type: cdr
    url: "https://hooks.example.com/cdr/{id}"
  - name: VM
    type: voicemail
    url: "https://hooks.example.com/vm/{id}"
    bind: {mailboxes: ["1001"]}
  - name: Faxes
    type: fax
    url: "https://hooks.example.com/fax/{id}?p={pages}"
    bind: {fax_services: ["Main Fax"]}
  - name: Outreach
    type: outreach
    url: "https://hooks.example.com/outreach/{id}"
    bind: {outreach_profiles: ["Appointment reminders"]}
  - name: Alerts
    type: call_alert
    url: "https://hooks.example.com/alerts/{uuid}"
    bind: {groups: ["Triage"]}
"""
)

SMS_ONLY = CONFIG.split("  - name: All CDRs")[0]


class Cli:
    """Runs ``python -m ringrx_iac`` against the server; every run is checked for secrets."""

    def __init__(self, state: State, base_url: str, tmp_path: Path) -> None:
        self.state = state
        self.base_url = base_url
        self.tmp_path = tmp_path
        self.extra_secrets: list[str] = []

    def write(self, text: str, name: str = "c.yaml") -> str:
        path = self.tmp_path / name
        path.write_text(text)
        return str(path)

    def env(self, creds: str = "key") -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RINGRX_")}
        env.update(NO_COLOR="1", CRM_KEY=CRM_KEY, CRM_PW=CRM_PW, RINGRX_BASE_URL=self.base_url)
        if creds == "key":
            env.update(RINGRX_API_TOKEN=srv.API_TOKEN, RINGRX_API_SECRET=srv.API_SECRET)
        else:
            env.update(RINGRX_USERNAME=srv.USERNAME, RINGRX_PASSWORD=srv.PASSWORD)
        return env

    def run(
        self, *args: str, creds: str = "key", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "ringrx_iac", *args],
            env=env or self.env(creds),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        self.assert_no_secret(proc.stdout, proc.stderr)
        return proc

    def assert_no_secret(self, *texts: str) -> None:
        blob = "\n".join(texts)
        known = [srv.API_SECRET, srv.PASSWORD, CRM_KEY, CRM_PW, *self.extra_secrets]
        for secret in known + self.state.issued_tokens:
            assert secret not in blob, f"secret {secret[:6]}... leaked"

    def apply(self, config: str, *extra: str) -> subprocess.CompletedProcess[str]:
        proc = self.run("apply", self.write(config), "--auto-approve", *extra)
        assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
        return proc

    def plan_rc(self, config: str, env: dict[str, str] | None = None) -> int:
        proc = self.run("plan", self.write(config), "--detailed-exitcode", env=env)
        assert proc.returncode in (0, 2), proc.stdout + proc.stderr
        return proc.returncode


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[State, str]]:
    state = State()
    with srv.serve(state) as url:
        yield state, url


@pytest.fixture
def state(served: tuple[State, str]) -> State:
    served[0].reset()
    return served[0]


@pytest.fixture
def cli(served: tuple[State, str], state: State, tmp_path: Path) -> Cli:
    return Cli(state, served[1], tmp_path)


def auth_requests(state: State, path: str) -> list[dict[str, Any]]:
    return [r for r in state.requests if r["path"] == path]


def patches_to(state: State, path: str) -> list[Any]:
    return [r["body"] for r in state.writes() if r["path"] == path]


def mixed_account(state: State) -> dict[str, int]:
    """Live callbacks needing an update, a delete, a replacement, a rebind and an unbind."""
    ids = {
        "cdr": state.add_callback("All CDRs", "cdr", "https://old.example.com/{id}"),
        "old_sms": state.add_callback("Old SMS", "sms", "https://old.example.com/sms"),
        "vm_as_fax": state.add_callback("VM", "fax", "https://hooks.example.com/vm/{id}"),
        "alerts": state.add_callback(
            "Alerts", "call_alert", "https://hooks.example.com/alerts/{uuid}"
        ),
    }
    state.bind("phonenumbers", 1, ids["old_sms"])  # rebound to CRM inbound SMS
    state.bind("phonenumbers", 3, ids["old_sms"])  # left to the delete
    state.bind("pbxfaxes", 5, ids["vm_as_fax"])
    state.bind("pbxgroups", 9, ids["alerts"])  # unbound: the config binds Triage only
    return ids


# ------------------------------------------------------------------ authentication


@pytest.mark.parametrize(
    ("creds", "fields"),
    [
        ("key", {"token": srv.API_TOKEN, "secret": srv.API_SECRET}),
        ("user", {"username": srv.USERNAME, "password": srv.PASSWORD}),
    ],
)
def test_login_sends_credentials_in_json_body(
    cli: Cli, state: State, creds: str, fields: dict[str, str]
) -> None:
    assert cli.run("plan", cli.write(CONFIG), creds=creds).returncode == 0
    (login,) = auth_requests(state, "/auth/token")
    assert login["body"] == fields and login["query"] == {} and login["status"] == 200
    access = state.issued_tokens[0]
    others = [r for r in state.requests if not r["path"].startswith("/auth/")]
    assert others and all(r["authorization"] == f"Bearer {access}" for r in others)
    assert all(r["status"] == 200 for r in others)


def test_one_second_tokens_are_refreshed_with_rotation(cli: Cli, state: State) -> None:
    state.token_lifetime, state.latency = 1, 0.1
    mixed_account(state)
    cli.apply(CONFIG, "--parallelism", "1", "--debug")
    refreshes = auth_requests(state, "/auth/refresh")
    used = [r["body"]["refresh_token"] for r in refreshes]
    assert len(used) >= 2, "the run should outlive two tokens"
    assert len(used) == len(set(used)), "a spent refresh token was sent again"
    assert all(r["status"] == 200 for r in refreshes)
    assert len(auth_requests(state, "/auth/token")) == 1
    state.latency = 0
    assert cli.plan_rc(CONFIG) == 0


def test_rejected_refresh_falls_back_to_login(cli: Cli, state: State) -> None:
    state.token_lifetime, state.latency, state.reject_refresh = 1, 0.07, True
    mixed_account(state)
    cli.apply(CONFIG, "--parallelism", "1")
    assert len(auth_requests(state, "/auth/token")) >= 2


def test_401_mid_run_refreshes_once_and_retries(cli: Cli, state: State) -> None:
    state.revoke_access_after = 7
    cli.apply(CONFIG)
    assert len(auth_requests(state, "/auth/refresh")) == 1
    assert len(auth_requests(state, "/auth/token")) == 1
    rejected = [r for r in state.requests if r["status"] == 401]
    assert rejected
    for r in rejected:  # each 401 was retried and then succeeded
        later = state.requests[state.requests.index(r) + 1 :]
        assert any(o["method"] == r["method"] and o["path"] == r["path"] for o in later)
    assert cli.plan_rc(CONFIG) == 0


# ------------------------------------------------------------------ request bodies


def test_create_bodies_and_read_back(cli: Cli, state: State) -> None:
    cli.apply(CONFIG)
    posts = [r for r in state.writes() if r["method"] == "POST"]
    assert len(posts) == 6
    for r in posts:
        assert list(r["body"]) == ["pbx_callback"] and r["status"] == 200
        assert "id" not in r["body"]["pbx_callback"]
    sms = next(
        r["body"]["pbx_callback"]
        for r in posts
        if r["body"]["pbx_callback"]["name"] == "CRM inbound SMS"
    )
    assert sms["callback_type"] == "sms" and sms["url"] == "https://hooks.example.com/sms?to={to}"
    assert (sms["use_basic_auth"], sms["auth_username"], sms["auth_password"]) == (
        True,
        "ringrx",
        CRM_PW,
    )
    assert sorted(sms["custom_headers"].split("\r\n")) == [f"X-Api-Key:{CRM_KEY}", "X-Env:prod"]
    cdr = next(
        r["body"]["pbx_callback"] for r in posts if r["body"]["pbx_callback"]["name"] == "All CDRs"
    )
    assert not cdr.get("use_basic_auth") and not cdr.get("custom_headers")
    assert cli.plan_rc(CONFIG) == 0  # what was written reads back as in sync


def test_bind_patch_carries_only_the_binding_field(cli: Cli, state: State) -> None:
    cli.apply(CONFIG)
    ids = {c["callback_type"]: c["id"] for c in state.callbacks.values()}
    expected = {
        "/phonenumbers/1": ids["sms"],
        "/phonenumbers/2": ids["sms"],
        "/pbxmailboxes/3": ids["voicemail"],
        "/pbxfaxes/5": ids["fax"],
        "/outreach_profiles/2": ids["outreach"],
        "/pbxgroups/10": ids["call_alert"],
    }
    seen = {r["path"]: r["body"] for r in state.writes() if r["method"] == "PATCH"}
    assert set(seen) == set(expected)
    for path, cid in expected.items():
        root, field, _ = TARGETS[path.split("/")[1]]
        assert seen[path] == {root: {field: cid}}


def test_update_patch_carries_only_changed_fields(cli: Cli, state: State) -> None:
    cid = state.add_callback("All CDRs", "cdr", "https://old.example.com/{id}")
    cli.apply(
        HEAD
        + 'callbacks:\n  - {name: All CDRs, type: cdr, url: "https://hooks.example.com/cdr/{id}"}\n'
    )
    assert patches_to(state, f"/pbxcallbacks/{cid}") == [
        {"pbx_callback": {"url": "https://hooks.example.com/cdr/{id}"}}
    ]


def test_type_change_is_create_rebind_delete_never_patch_of_type(cli: Cli, state: State) -> None:
    old = state.add_callback("VM", "fax", "https://hooks.example.com/vm/{id}")
    state.bind("pbxfaxes", 5, old)
    cli.apply(
        HEAD
        + "callbacks:\n  - name: VM"
        + CONFIG.split("  - name: VM")[1].split("  - name: Faxes")[0]
    )
    writes = state.writes()
    steps = [(r["method"], r["path"]) for r in writes]
    create = steps.index(("POST", "/pbxcallbacks"))
    assert writes[create]["body"]["pbx_callback"]["callback_type"] == "voicemail"
    assert (
        create
        < steps.index(("PATCH", "/pbxmailboxes/3"))
        < steps.index(("DELETE", f"/pbxcallbacks/{old}"))
    )
    assert not [r for r in writes if r["method"] == "PATCH" and "callback_type" in str(r["body"])]
    assert all(r["status"] in (200, 204) for r in writes)


def test_apply_order_and_rebind_unbind_bodies(cli: Cli, state: State) -> None:
    ids = mixed_account(state)
    cli.apply(CONFIG, "--parallelism", "4")
    rank = {"create": 0, "update": 0, "bind": 1, "unbind": 2, "delete": 3}

    def phase(r: dict[str, Any]) -> str:
        if r["path"].startswith("/pbxcallbacks"):
            return {"POST": "create", "PATCH": "update", "DELETE": "delete"}[r["method"]]
        (binding,) = next(iter(r["body"].values())).values()
        return "bind" if binding is not None else "unbind"

    ranks = [rank[phase(r)] for r in state.writes()]
    assert ranks == sorted(ranks), [(r["method"], r["path"]) for r in state.writes()]
    crm = next(c["id"] for c in state.callbacks.values() if c["name"] == "CRM inbound SMS")
    assert patches_to(state, "/phonenumbers/1") == [{"pbx_phone_number": {"sms_callback_id": crm}}]
    assert patches_to(state, "/pbxgroups/9") == [{"pbx_group": {"callback_id": None}}]
    assert ids["old_sms"] not in state.callbacks and ids["vm_as_fax"] not in state.callbacks
    assert all(r["status"] in (200, 204) for r in state.writes())


# ------------------------------------------------------------------ reading the account


def test_both_stored_phone_formats_match(cli: Cli, state: State) -> None:
    """Numbers stored as ``8185559876`` and ``+18185551234`` match config in other forms."""
    cid = state.add_callback(
        "CRM inbound SMS",
        "sms",
        "https://hooks.example.com/sms?to={to}",
        username="ringrx",
        password=CRM_PW,
        headers=f"X-Api-Key:{CRM_KEY}\r\nX-Env:prod",
    )
    state.bind("phonenumbers", 1, cid)
    state.bind("phonenumbers", 2, cid)
    assert cli.plan_rc(SMS_ONLY) == 0
    state.bind("phonenumbers", 1, None)
    cli.apply(SMS_ONLY)
    assert [r["path"] for r in state.writes()] == ["/phonenumbers/1"]


def test_plan_and_drift_make_zero_writes(cli: Cli, state: State) -> None:
    mixed_account(state)
    path = cli.write(CONFIG)
    assert cli.run("plan", path, "--detailed-exitcode").returncode == 2
    assert (
        cli.run("plan", path, "--format", "json", "--out", str(cli.tmp_path / "p.json")).returncode
        == 0
    )
    assert cli.run("drift", path).returncode == 2
    assert cli.run("import").returncode == 0
    assert state.writes() == []
    assert {r["method"] for r in state.requests if not r["path"].startswith("/auth/")} == {"GET"}
    cli.assert_no_secret((cli.tmp_path / "p.json").read_text())


@pytest.mark.parametrize("stored", [None, "********"])
def test_unknown_password_is_not_a_change(cli: Cli, state: State, stored: str | None) -> None:
    cid = state.add_callback(
        "CRM inbound SMS",
        "sms",
        "https://hooks.example.com/sms?to={to}",
        username="ringrx",
        password=stored,
        headers=f"X-Api-Key:{CRM_KEY}\r\nX-Env:prod",
    )
    state.bind("phonenumbers", 1, cid)
    state.bind("phonenumbers", 2, cid)
    assert cli.plan_rc(SMS_ONLY) == 0


def test_changed_password_patches_only_the_password(cli: Cli, state: State) -> None:
    cid = state.add_callback(
        "CRM inbound SMS",
        "sms",
        "https://hooks.example.com/sms?to={to}",
        username="ringrx",
        password="old-LIVE-password-61",
        headers=f"X-Api-Key:{CRM_KEY}\r\nX-Env:prod",
    )
    cli.extra_secrets.append("old-LIVE-password-61")
    state.bind("phonenumbers", 1, cid)
    state.bind("phonenumbers", 2, cid)
    cli.apply(SMS_ONLY)
    assert patches_to(state, f"/pbxcallbacks/{cid}") == [
        {"pbx_callback": {"auth_password": CRM_PW}}
    ]


def test_import_round_trip(cli: Cli, state: State) -> None:
    live = ["live-PW-44", "live-HDR-55", "live-FAX-66"]
    cli.extra_secrets += live
    sms = state.add_callback(
        "CRM inbound SMS",
        "sms",
        "https://hooks.example.com/sms?to={to}",
        username="ringrx",
        password=live[0],
        headers=f"X-Api-Key:{live[1]}\r\nX-Env:prod",
    )
    state.bind("phonenumbers", 1, sms)
    state.bind("phonenumbers", 2, sms)
    fax = state.add_callback(
        "Faxes", "fax", "https://h.example.com/{id}", headers=f"Authorization:{live[2]}"
    )
    state.bind("pbxfaxes", 5, fax)
    out = cli.tmp_path / "imported.yaml"
    assert cli.run("import", "--out", str(out)).returncode == 0
    text = out.read_text()
    cli.assert_no_secret(text)
    env = cli.env()
    doc = YAML(typ="safe").load(text)
    by_name = {cb["name"]: cb for cb in doc["callbacks"]}
    refs = [
        by_name["CRM inbound SMS"]["basic_auth"]["password"],
        by_name["CRM inbound SMS"]["headers"]["X-Api-Key"],
        by_name["Faxes"]["headers"]["Authorization"],
    ]
    for ref, value in zip(refs, live, strict=True):
        match = re.fullmatch(r"\$\{env:(\w+)\}", ref)
        assert match, ref
        env[match.group(1)] = value
    assert cli.plan_rc(text, env=env) == 0
    assert state.writes() == []


def test_debug_log_and_saved_plan_hold_no_secret(cli: Cli, state: State) -> None:
    state.token_lifetime = 1
    mixed_account(state)
    log = cli.tmp_path / "apply.jsonl"
    proc = cli.apply(CONFIG, "--debug", "--log", str(log), "--parallelism", "1")
    assert len(proc.stderr) > 200  # the debug log did print requests
    assert cli.run("plan", cli.write(CONFIG), "--debug", creds="user").returncode == 0
    cli.assert_no_secret(log.read_text())
    assert json.loads(log.read_text().splitlines()[0])
