"""The catalog matches every row of the token tables of RingRx's API page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ringrx_iac.catalog import CATALOG

# RingRx's page: the shared copy beside the clone when there is one, else the copy in
# tests/data (kept byte-identical by test_vendored_doc_matches_shared).
SHARED_DOC = Path(__file__).parents[1].parent / "shared" / "ringrx-callbacks-doc.txt"
VENDORED_DOC = Path(__file__).parent / "data" / "ringrx-callbacks-doc.txt"
DOC = SHARED_DOC if SHARED_DOC.exists() else VENDORED_DOC
SECTIONS = {
    "SMS": "sms",
    "Voicemail": "voicemail",
    "Fax": "fax",
    "CDR": "cdr",
    "Recording": "recording",
    "Outreach": "outreach",
    "Call_Alert": "call_alert",
}


def _doc_tables() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(tokens per type, sample JSON body keys per type) parsed from the doc."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index("Token Replacement")
    tokens: dict[str, list[str]] = {}
    bodies: dict[str, list[str]] = {}
    current: str | None = None
    in_table = False
    body: list[str] = []
    for line in lines[start:]:
        text = line.strip()
        if text in SECTIONS:
            current, in_table, body = SECTIONS[text], False, []
            tokens[current] = []
            continue
        if current is None:
            continue
        if text == "Token":
            in_table = True
        elif in_table and re.fullmatch(r"\{[^{}]*\}", text):
            tokens[current].append(text[1:-1].strip())  # quirk: "{pages }" is {pages}
        elif not in_table and (text == "{" or body):
            body.append(text)
            if text == "}":
                bodies[current] = list(json.loads("\n".join(body)))
                body = []
    return tokens, bodies


def test_doc_has_every_type() -> None:
    tokens, _ = _doc_tables()
    assert set(tokens) == set(CATALOG)


@pytest.mark.parametrize("type_name", list(CATALOG))
def test_tokens_match_doc_rows(type_name: str) -> None:
    tokens, _ = _doc_tables()
    assert tokens[type_name], f"no token rows parsed for {type_name}"
    assert list(CATALOG[type_name].tokens) == tokens[type_name]


def test_payload_only_fields_match_sample_bodies() -> None:
    tokens, bodies = _doc_tables()
    assert set(bodies) == {"sms", "call_alert"}
    for type_name, keys in bodies.items():
        # quirk: the call_alert sample spells caller_nname; that field is {caller_name}
        keys = ["caller_name" if k == "caller_nname" else k for k in keys]
        assert set(CATALOG[type_name].payload_only) == set(keys) - set(tokens[type_name])
    assert "caller_nname" not in CATALOG["call_alert"].tokens


def test_cdr_and_recording_share_tokens() -> None:
    assert CATALOG["cdr"].tokens == CATALOG["recording"].tokens


def test_catalog_shape() -> None:
    for t in CATALOG.values():
        assert set(t.phi_tokens) <= set(t.tokens)
        assert not set(t.payload_only) & set(t.tokens)
        assert t.is_global == (t.name in ("cdr", "recording"))


def test_vendored_doc_matches_shared() -> None:
    if not SHARED_DOC.exists():
        pytest.skip("no shared/ beside this clone: the vendored copy is the reference")
    assert VENDORED_DOC.read_bytes() == SHARED_DOC.read_bytes(), "refresh tests/data from shared/"
