"""Live header values and usernames are shown only when the config holds them or lists them."""

from __future__ import annotations

from pathlib import Path

from fakes import desired_from

from ringrx_iac import redact
from ringrx_iac.api.types import RemoteAccount, RemoteCallback
from ringrx_iac.reconcile.disclose import HIDDEN, strip_userinfo, url_userinfo
from ringrx_iac.reconcile.engine import plan_for


def _fields(config: dict, live: RemoteCallback) -> list[dict]:  # type: ignore[type-arg]
    p = plan_for(desired_from(config), RemoteAccount([live], {}), {}, Path("."))
    [change] = p.to_dict()["changes"]
    return change["fields"]  # type: ignore[no-any-return]


def _cb(headers: dict[str, str] | None = None, **kw: object) -> dict:  # type: ignore[type-arg]
    return {"name": "A", "type": "sms", "url": "https://x/a", "headers": headers or {}, **kw}


LIVE = RemoteCallback(
    1, "A", "sms", "https://x/a", True, "olduser-4471", None, "X-Note:s3cr3t-value\r\nX-Src:crm"
)


def test_removed_innocent_header_hides_its_live_value_and_registers_it() -> None:
    fields = _fields(
        {"callbacks": [_cb({"X-Src": "crm"}, basic_auth={"username": "olduser-4471"})]}, LIVE
    )
    assert fields == [{"field": "headers.X-Note", "old": HIDDEN, "new": None}]
    assert redact.redact("echo s3cr3t-value") == f"echo {redact.MASK}"


def test_public_headers_and_config_literals_are_shown() -> None:
    config = {
        "defaults": {"public_headers": ["x-note"]},
        "callbacks": [_cb({"X-Src": "erp"}, basic_auth={"username": "u2"})],
    }
    fields = _fields(config, LIVE)
    assert {"field": "headers.X-Note", "old": "s3cr3t-value", "new": None} in fields
    # "crm" is not in the config -> hidden; the username too
    assert {"field": "headers.X-Src", "old": HIDDEN, "new": "erp"} in fields
    assert {"field": "basic_auth.username", "old": HIDDEN, "new": "u2"} in fields
    config["callbacks"].append(_cb({"X-Other": "crm"}, name="B"))  # type: ignore[attr-defined]
    p = plan_for(desired_from(config), RemoteAccount([LIVE], {}), {}, Path("."))
    update = next(c for c in p.to_dict()["changes"] if c["action"] == "update")
    assert {"field": "headers.X-Src", "old": "crm", "new": "erp"} in update["fields"]


def test_live_url_userinfo_is_never_shown() -> None:
    live = RemoteCallback(1, "A", "sms", "https://bob:pw-9931@x/old", False, None, None, "")
    fields = _fields({"callbacks": [_cb()]}, live)
    assert fields == [{"field": "url", "old": "https://x/old", "new": "https://x/a"}]
    assert strip_userinfo("https://u:p@h/x?y=1") == "https://h/x?y=1"
    assert url_userinfo("https://u:p@h/x") == "u:p" and url_userinfo("https://h/@x") is None
