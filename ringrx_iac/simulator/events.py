"""Event delivery: fire callbacks the way RingRx describes it, and record each delivery.

Which callbacks an event fires is decided here; the request each one sends is built by
:func:`ringrx_iac.webhook.request.build_request`, the same code ``ringrx-iac render``,
``test`` and ``probe`` use, so the simulator and those commands cannot disagree.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Mapping
from typing import Any

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
from ringrx_iac.webhook.request import Callback, Event, build_request, parse_headers, send
from ringrx_iac.webhook.samples import EventFile, sample_file, sample_payload

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


class EventError(Exception):
    """An event that cannot be fired: ``status`` and an errors body for the admin API."""

    def __init__(self, status: int, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.status = status
        self.errors = errors


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
    callback = Callback(
        type=event_type,
        url=cb[F_URL],
        headers=tuple(parse_headers(cb.get(F_HEADERS))),
        basic_auth=(str(cb.get(F_AUTH_USER) or ""), str(cb.get(F_PASS) or ""))
        if cb.get(F_BASIC)
        else None,
        id=cb[F_ID],
        name=cb[F_NAME],
    )
    request = build_request(callback, Event(event_type, payload, file))
    logged_headers = dict(request.headers)
    if request.basic_auth is not None:
        logged_headers["Authorization"] = REDACTED
    record: dict[str, Any] = {
        "event_type": event_type,
        "callback_id": cb[F_ID],
        "callback_name": cb[F_NAME],
        "method": request.method,
        "url": request.url,
        "headers": redact_headers(logged_headers),
        "body": request.body_summary(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    started = time.monotonic()
    try:
        response = await send(http, request)
        record["status"] = response.status_code
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        record["status"] = None
        record["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    record["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    return record
