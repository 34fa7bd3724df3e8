"""The checked-in JSON Schema is exactly what ``ringrx-iac schema`` prints."""

from __future__ import annotations

import json
from pathlib import Path

from ringrx_iac.cli.commands_config import schema_text

SCHEMA = Path(__file__).parents[1] / "schemas" / "ringrx-iac.schema.json"


def test_checked_in_schema_is_current() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "schemas/ringrx-iac.schema.json is stale: run `make schema`"
    )


def test_schema_rejects_unknown_keys_and_names_types() -> None:
    doc = json.loads(schema_text())
    assert doc["additionalProperties"] is False
    callback = doc["$defs"]["CallbackSpec"]
    assert callback["additionalProperties"] is False
    assert set(callback["properties"]["type"]["enum"]) == {
        "sms",
        "voicemail",
        "fax",
        "cdr",
        "recording",
        "outreach",
        "call_alert",
    }
