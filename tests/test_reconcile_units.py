"""Unit tests of the reconciler pieces: headers, live normalisation, planner, changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import desired_from, group, mailbox, phone

from ringrx_iac.api.headers import format_headers, parse_headers
from ringrx_iac.api.types import RemoteAccount, RemoteCallback
from ringrx_iac.reconcile.changes import SENSITIVE, SENSITIVE_CHANGED
from ringrx_iac.reconcile.engine import plan_for
from ringrx_iac.reconcile.live import normalise
from ringrx_iac.sensitive import is_secret_header_name


def account(callbacks=(), **targets):  # type: ignore[no-untyped-def]
    return RemoteAccount(list(callbacks), {k: list(v) for k, v in targets.items()})


def plan(data, acct, env=None):  # type: ignore[no-untyped-def]
    return plan_for(desired_from(data), acct, env or {}, Path("."))


def actions(p):  # type: ignore[no-untyped-def]
    return [(c["action"], c["callback"]) for c in p.to_dict()["changes"]]


def test_parse_headers_first_colon_both_newlines_blank_lines() -> None:
    text = "AuthToken: abc:def\r\n\nX-Env:prod\n  \nX-Empty:"
    assert parse_headers(text) == {"AuthToken": "abc:def", "X-Env": "prod", "X-Empty": ""}
    assert format_headers({"A": "1", "B": "x:y"}) == "A:1\r\nB:x:y"
    assert parse_headers(format_headers({"A": "1", "B": "x:y"})) == {"A": "1", "B": "x:y"}
    assert parse_headers("") == {}


@pytest.mark.parametrize("name", ["X-Api-Key", "Authorization", "X-Signature", "Cookie", "X-TOKEN"])
def test_secret_header_names(name: str) -> None:
    assert is_secret_header_name(name)


def test_plain_header_names_are_not_secret() -> None:
    assert not is_secret_header_name("X-Env")
    assert not is_secret_header_name("Content-Type")


def test_phone_numbers_compared_as_e164_and_display_key() -> None:
    live = normalise(account(phone_numbers=[phone(1, "8185551234"), phone(2, "+18185559876")]))
    assert [t.id for t in live.find_target("phone_numbers", "+1 (818) 555-1234")] == [1]
    assert live.find_target("phone_numbers", "818 555 9876")[0].display == "+18185559876"


def test_mailbox_by_number_or_name_group_by_name_or_extension() -> None:
    live = normalise(
        account(
            mailboxes=[mailbox(3, "1001", "Front desk")], groups=[group(9, "Reception", "8000")]
        )
    )
    assert live.find_target("mailboxes", "1001")[0].id == 3
    assert live.find_target("mailboxes", "Front desk")[0].display == "1001"
    assert live.find_target("groups", "8000")[0].display == "Reception"


def test_create_masks_secrets_and_keeps_payload_out_of_dict() -> None:
    p = plan(
        {
            "callbacks": [
                {
                    "name": "A",
                    "type": "sms",
                    "url": "https://x/a",
                    "headers": {"X-Api-Key": "${env:K}", "X-Env": "prod"},
                    "basic_auth": {"username": "u", "password": "${env:P}"},
                }
            ]
        },
        account(),
        {"K": "topsecret", "P": "pw-secret"},
    )
    d = p.to_dict()
    assert d["changes"][0]["fields"] == {
        "url": "https://x/a",
        "headers": {"X-Api-Key": SENSITIVE, "X-Env": "prod"},
        "basic_auth": {"username": "u", "password": SENSITIVE},
    }
    assert "topsecret" not in repr(p.changes) and "pw-secret" not in str(d)
    assert p.changes[0].payload["auth_password"] == "pw-secret"  # type: ignore[attr-defined]


def test_update_fields_sensitive_changed_and_unknown_password() -> None:
    live = RemoteCallback(
        1, "A", "sms", "https://x/old", True, "u", None, "Authorization:old\r\nX-Env:dev"
    )
    p = plan(
        {
            "safety": {"max_delete_percent": 100},
            "callbacks": [
                {
                    "name": "A",
                    "type": "sms",
                    "url": "https://x/new",
                    "headers": {"X-Env": "prod", "Authorization": "${env:T}"},
                    "basic_auth": {"username": "u", "password": "${env:P}"},
                }
            ],
        },
        account([live]),
        {"T": "new", "P": "whatever"},
    )
    [change] = p.to_dict()["changes"]
    assert change["action"] == "update"
    assert change["fields"] == [
        {"field": "url", "old": "https://x/old", "new": "https://x/new"},
        {"field": "headers.Authorization", "old": SENSITIVE, "new": SENSITIVE_CHANGED},
        {"field": "headers.X-Env", "old": "(live value hidden)", "new": "prod"},
    ]  # the undisclosed password is unknown, not a change; "dev" is not in the config


def test_header_order_is_not_a_change() -> None:
    live = RemoteCallback(1, "A", "cdr", "https://x", custom_headers="B:2\nA:1")
    p = plan(
        {
            "callbacks": [
                {"name": "A", "type": "cdr", "url": "https://x", "headers": {"A": "1", "B": "2"}}
            ]
        },
        account([live]),
    )
    assert not p.has_changes


def test_type_change_is_replace_with_rebinds_from_same_name() -> None:
    live = RemoteCallback(1, "A", "sms", "https://x")
    # the numbers are wanted by the new callback, but only voicemail binds mailboxes:
    p = plan(
        {
            "safety": {"max_delete_percent": 100},
            "callbacks": [
                {
                    "name": "A",
                    "type": "voicemail",
                    "url": "https://x",
                    "bind": {"mailboxes": ["1001"]},
                }
            ],
        },
        account([live], mailboxes=[mailbox(3, "1001", "Front", 1)]),
    )
    d = p.to_dict()["changes"]
    assert [c["action"] for c in d] == ["replace", "rebind"]
    assert d[1]["from_callback"] == "A"


def test_bindings_bind_rebind_unbind_and_delete_clears() -> None:
    cbs = [
        RemoteCallback(1, "A", "sms", "https://a"),
        RemoteCallback(2, "B", "sms", "https://b"),
        RemoteCallback(3, "Gone", "sms", "https://g"),
    ]
    targets = [
        phone(10, "8185550010"),  # free -> bind to A
        phone(11, "8185550011", 2),  # B -> A: rebind
        phone(12, "8185550012", 2),  # B keeps it? no: B wants nothing -> unbind
        phone(13, "8185550013", 3),  # bound to a deleted callback: nothing
        phone(14, "8185550014", 99),  # dangling id: bind
    ]
    p = plan(
        {
            "safety": {"max_delete_percent": 100},
            "callbacks": [
                {
                    "name": "A",
                    "type": "sms",
                    "url": "https://a",
                    "bind": {"phone_numbers": ["8185550010", "8185550011", "8185550014"]},
                },
                {"name": "B", "type": "sms", "url": "https://b"},
            ],
        },
        account(cbs, phone_numbers=targets),
    )
    got = {(c["action"], c.get("target")) for c in p.to_dict()["changes"]}
    assert got == {
        ("delete", None),
        ("bind", "+18185550010"),
        ("bind", "+18185550014"),
        ("rebind", "+18185550011"),
        ("unbind", "+18185550012"),
    }


def test_ignored_callbacks_are_left_alone_but_yaml_names_are_managed() -> None:
    cbs = [
        RemoteCallback(1, "Legacy one", "cdr", "https://l"),
        RemoteCallback(2, "Legacy two", "cdr", "https://l"),
    ]
    p = plan(
        {
            "ignore": ["Legacy *"],
            "callbacks": [{"name": "Legacy two", "type": "cdr", "url": "https://new"}],
        },
        account(cbs),
    )
    assert actions(p) == [("update", "Legacy two")]
    assert p.managed_count == 1


def test_target_bound_to_ignored_callback_is_an_error() -> None:
    cbs = [RemoteCallback(1, "Legacy", "sms", "https://l")]
    p = plan(
        {
            "ignore": ["Legacy"],
            "callbacks": [
                {
                    "name": "A",
                    "type": "sms",
                    "url": "https://a",
                    "bind": {"phone_numbers": ["8185550010"]},
                }
            ],
        },
        account(cbs, phone_numbers=[phone(10, "8185550010", 1)]),
    )
    assert [e.code for e in p.errors] == ["RRX702"]
    assert "Legacy" in p.errors[0].message


def test_unknown_target_suggests_closest() -> None:
    p = plan(
        {
            "callbacks": [
                {
                    "name": "V",
                    "type": "voicemail",
                    "url": "https://v",
                    "bind": {"mailboxes": ["Front dsk"]},
                }
            ]
        },
        account(mailboxes=[mailbox(3, "1001", "Front desk")]),
    )
    [err] = p.errors
    assert err.code == "RRX703" and "Front dsk" in err.message and "'Front desk'" in err.hint


def test_missing_secret_names_the_variable() -> None:
    p = plan(
        {
            "callbacks": [
                {
                    "name": "A",
                    "type": "cdr",
                    "url": "https://a",
                    "headers": {"X-Key": "${env:NOPE}"},
                }
            ]
        },
        account(),
    )
    assert p.errors and "NOPE" in p.errors[0].message


def test_safety_percent_and_protected() -> None:
    cbs = [RemoteCallback(i, f"C{i}", "cdr", "https://c") for i in range(1, 5)]
    keep = [{"name": f"C{i}", "type": "cdr", "url": "https://c"} for i in (1, 2, 3)]
    p = plan({"callbacks": keep}, account(cbs))  # 1 of 4 = 25% <= 30
    assert not p.safety_violations()
    p = plan({"callbacks": keep[:2]}, account(cbs))  # 50%
    assert [v.code for v in p.safety_violations()] == ["RRX720"]
    assert "safety.max_delete_percent" in p.safety_violations()[0].hint
    p = plan({"safety": {"protected": ["C4"]}, "callbacks": keep}, account(cbs))
    assert [v.code for v in p.safety_violations()] == ["RRX721"]
    one = plan({"callbacks": []}, account(cbs[:1]))  # 1 of 1 = 100%
    assert one.safety_violations()
    assert one.to_dict()["warnings"][0]["code"] == "RRX720"


def test_fingerprints_live_changes_and_desired_uses_references() -> None:
    data = {
        "callbacks": [
            {"name": "A", "type": "cdr", "url": "https://a", "headers": {"X-Key": "${env:K}"}}
        ]
    }
    p1 = plan(data, account(), {"K": "one"})
    p2 = plan(data, account(), {"K": "two"})
    assert p1.desired_fingerprint == p2.desired_fingerprint
    p3 = plan(data, account([RemoteCallback(1, "Other", "cdr", "https://o")]), {"K": "one"})
    assert p3.live_fingerprint != p1.live_fingerprint
    assert p1.to_dict()["summary"]["total"] == 1


@pytest.mark.parametrize(
    ("ref", "suggested"),
    [("Biling", "'Billing'"), ("Front dsk", "'Front desk'"), ("10011", "'1001'")],
)
def test_unknown_target_suggestion_uses_the_kind_of_key_written(ref: str, suggested: str) -> None:
    """A misspelt mailbox name suggests a name, a wrong mailbox number a number."""
    p = plan(
        {
            "callbacks": [
                {"name": "V", "type": "voicemail", "url": "https://v", "bind": {"mailboxes": [ref]}}
            ]
        },
        account(mailboxes=[mailbox(3, "1001", "Front desk"), mailbox(4, "1002", "Billing")]),
    )
    [err] = p.errors
    assert err.code == "RRX703" and suggested in err.hint
