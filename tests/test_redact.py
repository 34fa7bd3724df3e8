"""The one redactor: registered secrets never leave the process, in any form."""

from __future__ import annotations

import json
import logging

from ringrx_iac import redact
from ringrx_iac.api.credentials import credentials_from_env
from ringrx_iac.api.debuglog import RedactingFormatter
from ringrx_iac.config.secrets import resolve

SECRET = "c4n4ry-S3cr3t/+value"


def test_registered_value_is_masked_everywhere_in_text() -> None:
    redact.register(SECRET)
    text = f"a {SECRET} b {SECRET}"
    assert redact.redact(text) == f"a {redact.MASK} b {redact.MASK}"


def test_json_escaped_and_url_encoded_forms_are_masked() -> None:
    value = 'quo"te\\back\tslash'
    redact.register(value)
    dumped = json.dumps({"k": value})
    assert value not in redact.redact(dumped)
    assert "quo" not in redact.redact(dumped)
    redact.register(SECRET)
    assert "S3cr3t" not in redact.redact("https://h/?x=c4n4ry-S3cr3t%2F%2Bvalue")


def test_longest_value_wins_and_short_values_are_ignored() -> None:
    redact.register("abcdefgh")
    redact.register("abcdefghijkl")
    redact.register("ab")  # too short to register: masking every "ab" would ruin output
    assert redact.redact("abcdefghijkl ab") == f"{redact.MASK} ab"
    assert not redact.is_registered("ab")


def test_short_values_are_masked_only_as_whole_words() -> None:
    redact.register("basic")
    assert redact.redact("basic_auth: basic") == f"basic_auth: {redact.MASK}"
    redact.register("0123456789")
    assert redact.redact("x0123456789x") == f"x{redact.MASK}x"


def test_none_and_empty_text() -> None:
    assert redact.register(None) is None
    assert redact.redact("") == ""
    assert redact.redact("nothing registered") == "nothing registered"


def test_redact_json_and_bytes() -> None:
    redact.register(SECRET)
    data = {"a": [SECRET, 1, None], SECRET: {"b": f"x{SECRET}"}}
    assert SECRET not in json.dumps(redact.redact_json(data))
    assert SECRET.encode() not in redact.redact_bytes(b"\xff " + SECRET.encode())


def test_credentials_from_env_are_registered() -> None:
    credentials_from_env({"RINGRX_API_TOKEN": "tok-canary-1", "RINGRX_API_SECRET": SECRET})
    assert redact.redact("tok-canary-1 " + SECRET) == f"{redact.MASK} {redact.MASK}"


def test_resolved_references_are_registered(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "k.txt").write_text("file-canary-2\n")
    out = resolve("Bearer ${env:K} ${file:k.txt}", {"K": "env-canary-1"}, tmp_path)
    assert out == "Bearer env-canary-1 file-canary-2"
    assert redact.redact(out) == f"Bearer {redact.MASK} {redact.MASK}"


def test_debug_log_lines_are_redacted() -> None:
    redact.register(SECRET)
    record = logging.LogRecord("x", logging.DEBUG, "f", 1, f"body={SECRET}", None, None)
    assert SECRET not in RedactingFormatter("%(message)s").format(record)


def test_literal_secrets_of_the_config_are_registered(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fakes import desired_from

    from ringrx_iac.reconcile.desired import resolve_secrets

    state = desired_from(
        {
            "callbacks": [
                {
                    "name": "A",
                    "type": "cdr",
                    "url": "https://h/a",
                    "headers": {"X-Api-Key": "literal-key-5521", "X-Src": "crm-source-1"},
                    "basic_auth": {"username": "u", "password": "literal-pw-5522"},
                }
            ]
        }
    )
    resolve_secrets(state, {}, tmp_path)
    assert redact.redact("literal-key-5521 literal-pw-5522 crm-source-1") == (
        f"{redact.MASK} {redact.MASK} crm-source-1"
    )
