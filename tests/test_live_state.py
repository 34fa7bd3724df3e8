"""LiveState's fast paths (issue 10) give what the plain definitions give."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pytest
from fakes import desired_from, group, mailbox, phone

from ringrx_iac.api.types import RemoteAccount, RemoteCallback, RemoteTarget
from ringrx_iac.phone import common_e164, to_e164
from ringrx_iac.reconcile import live as live_module
from ringrx_iac.reconcile.engine import plan_for
from ringrx_iac.reconcile.live import LiveTarget, canonical_json, normalise


def _account(**targets: list[RemoteTarget]) -> RemoteAccount:
    callbacks = [
        RemoteCallback(7, "A", "sms", "https://a.example.com", custom_headers="X-Env:prod"),
        RemoteCallback("x9", "B", "sms", "https://b.example.com", True, "u", "p\u00e9"),
    ]
    return RemoteAccount(callbacks, targets)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5000])
def test_fingerprint_is_the_hash_of_the_canonical_json(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Fed in chunks, the hash is still that of the whole canonical text (saved plans
    compare it): ids of both types, unbound targets, non-ASCII keys, an empty kind."""
    monkeypatch.setattr(live_module, "_FINGERPRINT_CHUNK", chunk)
    live = normalise(
        _account(
            phone_numbers=[phone(i, f"818555{i:04d}", 7 if i % 2 else None) for i in range(12)],
            mailboxes=[mailbox(3, "1001", "Caf\u00e9", "x9"), mailbox(20, "1002", "Hall")],
            groups=[],
            fax_services=[RemoteTarget("fax_services", "f1", {"name": "Fax"}, None)],
        )
    )
    whole = canonical_json(live.canonical())
    assert live.fingerprint() == "sha256:" + hashlib.sha256(whole.encode("utf-8")).hexdigest()


def test_common_e164_agrees_with_to_e164() -> None:
    texts = ["+18185551234", "8185551234", "+1 818 555 1234", " 8185551234", "1234"]
    texts += ["+12345678901", "+11234567890", "1234567890", "+448185551234", "18185551234"]
    for text in texts:
        fast = common_e164(text)
        assert fast is None or fast == to_e164(text)
    assert [common_e164(t) for t in texts[5:]] == ["+12345678901", None, None, None, None]
    assert common_e164("8185551234") == "+18185551234"
    assert common_e164("+18185551234") == "+18185551234"
    assert common_e164("(818) 555-1234") is None


def test_live_targets_stay_frozen_and_equal_to_plain_ones() -> None:
    live = normalise(_account(phone_numbers=[phone(1, "8185551234", 7)]))
    (target,) = live.targets["phone_numbers"]
    assert target == LiveTarget(
        "phone_numbers", 1, "+18185551234", {"phonenumber": "8185551234"}, 7
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.display = "other"  # type: ignore[misc]


def test_a_key_naming_several_targets_finds_them_all_in_account_order() -> None:
    live = normalise(
        _account(
            phone_numbers=[
                phone(5, "+18185551234"),
                phone(2, "8185551234"),
                phone(9, "8185550000"),
            ],
            mailboxes=[mailbox(3, "1001", "Desk"), mailbox(4, "1002", "Desk")],
        )
    )
    assert [t.id for t in live.find_target("phone_numbers", "818-555-1234")] == [5, 2]
    assert [t.id for t in live.find_target("mailboxes", "Desk")] == [3, 4]
    assert [t.id for t in live.find_target("mailboxes", "1002")] == [4]
    assert live.find_target("mailboxes", "nothing") == []
    refs = ["+18185550000", "8185551234", "nope", " +1 818 555 0000 "]
    batch = live.find_targets("phone_numbers", refs)
    assert batch == [live.find_target("phone_numbers", r) for r in refs]
    assert [[t.id for t in found] for found in batch] == [[9], [5, 2], [], [9]]


def _actions(plan: Any) -> list[tuple[str, ...]]:
    return [
        (c["action"], c["callback"], c.get("target", ""), c.get("from_callback", ""))
        for c in plan.to_dict()["changes"]
    ]


def test_bindings_kept_moved_and_rebound_on_replace() -> None:
    """The planner's shortcut for a target already bound to its callback leaves the
    other cases to the full check: taken from another callback, or a replaced callback."""
    account = RemoteAccount(
        [
            RemoteCallback(1, "Keep", "sms", "https://k.example.com"),
            RemoteCallback(2, "Other", "sms", "https://o.example.com"),
            RemoteCallback(3, "Retype", "sms", "https://r.example.com"),
        ],
        {
            "phone_numbers": [
                phone(10, "8185550010", 1),  # stays with Keep
                phone(11, "8185550011", 2),  # moves from Other to Keep
                phone(12, "8185550012", 3),  # Retype is replaced: rebound to the new one
                phone(13, "8185550013", 2),  # unbound from Other
            ],
            "groups": [group(20, "Desk", "8000", 1)],
        },
    )
    desired = desired_from(
        {
            "callbacks": [
                {
                    "name": "Keep",
                    "type": "sms",
                    "url": "https://k.example.com",
                    "bind": {"phone_numbers": ["8185550010", "+18185550011"], "groups": ["8000"]},
                },
                {"name": "Other", "type": "sms", "url": "https://o.example.com"},
                {
                    "name": "Retype",
                    "type": "voicemail",
                    "url": "https://r.example.com",
                    "bind": {"phone_numbers": ["818 555 0012"]},
                },
            ]
        }
    )
    plan = plan_for(desired, account, {}, Path("."))
    found = _actions(plan)
    assert ("rebind", "Keep", "+18185550011", "Other") in found
    assert ("rebind", "Retype", "+18185550012", "Retype") in found
    assert ("unbind", "Other", "+18185550013", "") in found
    assert not [a for a in found if a[2] in ("+18185550010", "Desk", "8000")]
