"""Event delivery: fire callbacks the way RingRx describes it, and record each delivery.

A delivery is a POST to the callback's URL with ``{token}`` placeholders replaced by the
event's values (URL-encoded), custom headers parsed one per line and token-replaced
(values only), basic auth when set (never token-replaced), and a JSON body for
sms/cdr/recording/outreach/call_alert or the file with its content type for
voicemail/fax.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ringrx_iac.api import endpoints as ep
from ringrx_iac.catalog import CATALOG
from ringrx_iac.sensitive import is_secret_header_name
from ringrx_iac.simulator.state import (
    F_BASIC,
    F_HEADERS,
    F_ID,
    F_NAME,
    F_PASS,
    F_TYPE,
    F_URL,
    State,
)
from ringrx_iac.simulator.state import F_USER as F_AUTH_USER

TOKEN_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\s*\}")
REDACTED = "(redacted)"
DELIVERY_TIMEOUT = 10.0
MAX_DELIVERIES = 1000
# Payload field naming the target, per bindable type (the doc's samples use these).
TARGET_FIELD: dict[str, str] = {
    "sms": "to",
    "voicemail": "mailbox",
    "fax": "mailbox",
    "call_alert": "dialed_number",
}
# Token -> payload fields holding its value (the doc's call_alert sample says caller_nname).
TOKEN_ALIASES: dict[str, tuple[str, ...]] = {"caller_name": ("caller_name", "caller_nname")}


class EventError(Exception):
    """An event that cannot be fired: ``status`` and an errors body for the admin API."""

    def __init__(self, status: int, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.status = status
        self.errors = errors


@dataclass(frozen=True)
class EventFile:
    """The file a voicemail or fax event carries."""

    content: bytes
    content_type: str


def sample_payload(event_type: str) -> dict[str, Any]:
    """The doc's sample (sms, call_alert) or a plausible value for every documented token."""
    cdr = {
        "id": 880001,
        "domain_name": "customer.ringrx.com",
        "aleg_uuid": "0f5e2b8e-2d2c-4a37-9a55-6c2f3f1d8a10",
        "responsible_party": "8000",
        "start_time": "2026-01-02T03:04:05+00:00",
        "hangup_cause": "NORMAL_CLEARING",
        "dialed_digits": "+18185559876",
        "calling_party": "+18185551234",
        "caller_id_number": "+18185551234",
        "caller_id_name": "Dr Smith",
        "duration": 95,
        "bill_duration": 80,
        "direction": "inbound",
        "mailbox": "",
        "aleg_holdtime": 0,
        "bleg_holdtime": 12,
        "tags": "inbound,reception_queue",
    }
    samples: dict[str, dict[str, Any]] = {
        "sms": {
            "from": "8185551234",
            "to": "8185559876",
            "message": "Test callback",
            "timestamp": "2019-02-15T23:48:54+00:00",
            "uuid": "6ed8654e-a9d1-4a7c-9502-581210d0985f",
        },
        "voicemail": {
            "id": 5012,
            "caller": "+18185551234",
            "called": "+18185559876",
            "duration": 17,
            "filename": "voicemail-5012.wav",
            "mailbox": "1001",
            "created_at": "2026-01-02T03:04:05+00:00",
        },
        "fax": {
            "id": 7003,
            "caller": "+18185551234",
            "called": "+18185559876",
            "pages": 2,
            "filename": "fax-7003.pdf",
            "mailbox": "7001",
            "created_at": "2026-01-02T03:04:05+00:00",
        },
        "cdr": cdr,
        "recording": dict(cdr, id=880002),
        "outreach": {
            "id": 3301,
            "name": "Jane Doe",
            "phonenumber": "+18185551234",
            "email_address": "jane.doe@example.com",
            "call_state": "completed",
            "sms_state": "delivered",
            "email_state": "sent",
            "confirmed": True,
            "cancelled": False,
            "reminder_date": "2026-01-05T15:30:00+00:00",
            "attempt": 1,
            "voice": True,
            "sms": True,
            "email": True,
            "event_log": [
                {"at": "2026-01-04T15:30:00+00:00", "channel": "sms", "result": "delivered"},
                {"at": "2026-01-04T15:31:10+00:00", "channel": "sms", "result": "confirmed"},
            ],
        },
        "call_alert": {
            "uuid": "5bab4386-14a6-46ea-b200-6e47a91837cb",
            "created_at": "1709075290020813",
            "callback_id": 99,
            "domain_name": "customer.ringrx.com",
            "originally_dialed_number": "+18885439876",
            "dialed_number": "8000",
            "caller_number": "+18185551234",
            "caller_nname": "Dr Smith",
            "tags": "inbound,reception_queue",
            "dialed_user_emails": "ssmith@gmail.us,jjones@hotmail.us",
            "dialed_users": "ssmith,jjones",
        },
    }
    return samples[event_type]


def sample_file(event_type: str) -> EventFile:
    """A small but well-formed file: a WAV of silence (voicemail) or a one-page PDF (fax)."""
    if event_type == "voicemail":
        rate, samples = 8000, 800
        data = b"\x00\x00" * samples
        header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
        header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        return EventFile(header + b"data" + struct.pack("<I", len(data)) + data, "audio/wav")
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return EventFile(pdf, "application/pdf")


def token_value(payload: Mapping[str, Any], token: str) -> str | None:
    """The text a token is replaced by, or None when the event has no value for it."""
    for name in TOKEN_ALIASES.get(token, (token,)):
        if name in payload:
            value = payload[name]
            if value is None:
                return ""
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, list | dict):
                return json.dumps(value, separators=(",", ":"))
            return str(value)
    return None


def replace_tokens(text: str, event_type: str, payload: Mapping[str, Any], *, url: bool) -> str:
    """Replace the type's documented tokens; unknown tokens are left as they are."""
    tokens = CATALOG[event_type].tokens

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        value = token_value(payload, name) if name in tokens else None
        if value is None:
            return match.group(0)
        return quote(value, safe="") if url else value.replace("\r", " ").replace("\n", " ")

    return TOKEN_RE.sub(sub, text)


def parse_headers(custom_headers: str | None) -> list[tuple[str, str]]:
    """One ``Header:Value`` per line (``\\r\\n``), split at the first colon."""
    headers = []
    for line in re.split(r"\r?\n", custom_headers or ""):
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.append((name.strip(), value.strip()))
    return headers


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers for the delivery log: Authorization and secret-looking values hidden."""
    return {
        name: REDACTED if is_secret_header_name(name) else value for name, value in headers.items()
    }


def resolve_targets(
    state: State, event_type: str, target: str | None, payload: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The targets an event is for: explicit, else named by the payload, else the one bound."""
    kind = CATALOG[event_type].bind_key
    assert kind is not None
    spec = ep.TARGETS[kind]
    label = CATALOG[event_type].target
    key = target
    if key is None and event_type in TARGET_FIELD and payload.get(TARGET_FIELD[event_type]):
        key = str(payload[TARGET_FIELD[event_type]])
    if key is not None:
        found = state.find_targets(kind, key)
        if not found:
            raise EventError(422, {"target": [f"no {label} matches {key!r}"]})
        return found
    with state.lock:
        bound = [
            dict(t)
            for t in state.targets[kind].values()
            if t.get(spec.binding_field) in state.callbacks
            and state.callbacks[t[spec.binding_field]][F_TYPE] == event_type
        ]
    if len(bound) > 1:
        raise EventError(
            422,
            {
                "target": [
                    f"{len(bound)} {label}s have a {event_type} callback: name one in 'target'"
                ]
            },
        )
    return bound


def _with_target(event_type: str, payload: dict[str, Any], target: Mapping[str, Any]) -> None:
    """Point a sample payload at the chosen target (e.g. sms ``to`` = its number)."""
    field = TARGET_FIELD.get(event_type)
    if field is None:
        return
    source = {"sms": "phonenumber", "voicemail": "mailbox"}.get(event_type, "extension")
    if target.get(source):
        payload[field] = target[source]


async def fire(
    state: State,
    event_type: str,
    request: Mapping[str, Any],
    client: httpx.AsyncClient | None = None,
) -> list[dict[str, Any]]:
    """Fire an event; returns one delivery record per callback executed."""
    if event_type not in CATALOG:
        raise EventError(404, {"type": [f"unknown callback type {event_type!r}"]})
    spec = CATALOG[event_type]
    given = request.get("payload")
    if given is not None and not isinstance(given, dict):
        raise EventError(422, {"payload": ["must be an object"]})
    payload: dict[str, Any] = dict(given) if given is not None else sample_payload(event_type)
    target = request.get("target")
    file = _event_file(event_type, request.get("file"))
    with state.lock:
        if spec.is_global:
            callbacks = [dict(c) for c in state.callbacks.values() if c[F_TYPE] == event_type]
            jobs = [(cb, payload) for cb in callbacks]
        else:
            kind = spec.bind_key
            assert kind is not None
            field = ep.TARGETS[kind].binding_field
            jobs = []
            for t in resolve_targets(
                state, event_type, None if target is None else str(target), payload
            ):
                cb = state.callbacks.get(t.get(field))  # type: ignore[arg-type]
                if cb is None or cb[F_TYPE] != event_type:
                    continue
                per_target = dict(payload)
                if given is None and target is not None:
                    _with_target(event_type, per_target, t)
                jobs.append((dict(cb), per_target))
    if not jobs:
        return []
    owned = client is None
    http = client or httpx.AsyncClient(timeout=DELIVERY_TIMEOUT, trust_env=False)
    try:
        return list(
            await asyncio.gather(*(_deliver(http, event_type, cb, p, file) for cb, p in jobs))
        )
    finally:
        if owned:
            await http.aclose()


def _event_file(event_type: str, data: Any) -> EventFile | None:
    if CATALOG[event_type].body != "file":
        return None
    if not data:
        return sample_file(event_type)
    if not isinstance(data, dict) or "content_base64" not in data:
        raise EventError(422, {"file": ["must be {content_base64, content_type}"]})
    try:
        content = base64.b64decode(data["content_base64"], validate=True)
    except ValueError:
        raise EventError(422, {"file": ["content_base64 is not base64"]}) from None
    return EventFile(content, str(data.get("content_type") or "application/octet-stream"))


async def _deliver(
    http: httpx.AsyncClient,
    event_type: str,
    cb: Mapping[str, Any],
    payload: dict[str, Any],
    file: EventFile | None,
) -> dict[str, Any]:
    if event_type == "call_alert":
        payload = dict(payload, callback_id=cb[F_ID])
    url = replace_tokens(cb[F_URL], event_type, payload, url=True)
    headers = {
        name: replace_tokens(value, event_type, payload, url=False)
        for name, value in parse_headers(cb.get(F_HEADERS))
    }
    if file is not None:
        content = file.content
        headers["Content-Type"] = file.content_type
        summary: Any = {"content_type": file.content_type, "bytes": len(content)}
    else:
        content = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
        summary = payload
    auth = None
    if cb.get(F_BASIC):
        auth = httpx.BasicAuth(str(cb.get(F_AUTH_USER) or ""), str(cb.get(F_PASS) or ""))
    logged_headers = dict(headers)
    if auth is not None:
        logged_headers["Authorization"] = REDACTED
    record: dict[str, Any] = {
        "event_type": event_type,
        "callback_id": cb[F_ID],
        "callback_name": cb[F_NAME],
        "method": "POST",
        "url": url,
        "headers": redact_headers(logged_headers),
        "body": summary,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    started = time.monotonic()
    try:
        if auth is not None:
            response = await http.post(url, content=content, headers=headers, auth=auth)
        else:
            response = await http.post(url, content=content, headers=headers)
        record["status"] = response.status_code
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        record["status"] = None
        record["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    record["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    return record
