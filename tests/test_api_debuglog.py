"""--debug logging: one line per request and response, with every secret redacted."""

from __future__ import annotations

import logging

import httpx
import pytest
from api_fake import FakeRingRx, make_client

from ringrx_iac.api.credentials import UserCredentials
from ringrx_iac.api.debuglog import LOGGER_NAME, redact_json, redact_url
from ringrx_iac.api.retry import RetryPolicy, parse_retry_after

SECRETS = ("hunter2", "123456", "access-1", "refresh-1", "s3cret", "abc123")


async def test_debug_log_lines_have_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeRingRx()
    fake.add_callback(
        name="A",
        callback_type="sms",
        url="https://a",
        auth_password="s3cret",
        custom_headers="AuthToken:abc123",
    )
    fake.faults[("GET", "/pbxmailboxes")] = [
        lambda r: httpx.Response(500, json={"errors": ["boom"], "auth_password": "s3cret"})
    ]
    creds = UserCredentials("ann", "hunter2", "123456")
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    async with make_client(fake, credentials=creds, debug=True) as client:
        await client.fetch_account()
        await client.create_callback(
            {"name": "B", "type": "cdr", "url": "https://b", "auth_password": "s3cret"}
        )
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER_NAME]
    text = "\n".join(lines)
    for secret in SECRETS:
        assert secret not in text
    assert any(line.startswith("-> POST http://127.0.0.1:9/auth/token") for line in lines)
    assert any("Authorization: REDACTED" in line for line in lines)
    assert any(line.startswith("<- 500 GET http://127.0.0.1:9/pbxmailboxes") for line in lines)
    assert any(line.startswith("<- 200 GET") and " ms)" in line for line in lines)
    assert '"password": "REDACTED"' in text and '"username": "ann"' in text


def test_redact_url_query_secrets() -> None:
    url = httpx.URL("https://h/auth/token?token=abc&secret=def&page=2&otp=1&refresh_token=r")
    assert redact_url(url) == (
        "https://h/auth/token?token=REDACTED&secret=REDACTED&page=2&otp=REDACTED"
        "&refresh_token=REDACTED"
    )
    assert redact_url(httpx.URL("https://h/x")) == "https://h/x"


def test_redact_json_nested() -> None:
    data = {"pbx_callback": {"auth_password": "p", "custom_headers": "A:b", "url": "u"}, "l": []}
    assert redact_json(data) == {
        "pbx_callback": {"auth_password": "REDACTED", "custom_headers": "REDACTED", "url": "u"},
        "l": [],
    }


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10.0


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    assert [policy.backoff(n, lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [0.5, 1, 2, 4, 4]
    assert policy.backoff(3, lambda: 0.25) == 0.5
