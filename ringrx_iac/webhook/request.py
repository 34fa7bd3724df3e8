"""The request RingRx sends when a callback fires for an event.

A POST to the callback's URL with ``{token}`` placeholders replaced by the event's values
(percent-encoded, every reserved character), the custom headers (one ``Name:Value`` per
line) with their values token-replaced (line breaks become spaces), basic auth when set
(never token-replaced), and a body: the event as JSON for sms/cdr/recording/outreach/
call_alert, the file with its own content type for voicemail/fax [doc]. Tokens a type
does not document, and placeholders the event has no value for, are left as written.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ringrx_iac.catalog import CATALOG
from ringrx_iac.webhook.samples import EventFile, sample_file, sample_payload

if TYPE_CHECKING:  # httpx is imported when a request is sent, not to render one
    import httpx

METHOD = "POST"
# "{name}" and, for the doc's "{pages }", a name with trailing spaces.
TOKEN_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\s*\}")
# Token -> payload fields holding its value (the doc's call_alert sample says caller_nname).
TOKEN_ALIASES: dict[str, tuple[str, ...]] = {"caller_name": ("caller_name", "caller_nname")}
JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Callback:
    """What a callback sends from: its stored fields (secrets already in their final form)."""

    type: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    basic_auth: tuple[str, str] | None = None
    id: Any = None  # call_alert events carry it as ``callback_id``
    name: str = ""


@dataclass(frozen=True)
class Event:
    """One event: its fields, and the file voicemail and fax events carry."""

    type: str
    payload: Mapping[str, Any]
    file: EventFile | None = None

    @classmethod
    def sample(cls, event_type: str, overrides: Mapping[str, Any] | None = None) -> Event:
        """The built-in sample of ``event_type``, with ``overrides`` over its fields."""
        payload = sample_payload(event_type)
        payload.update(overrides or {})
        return cls(event_type, payload, default_file(event_type))


@dataclass(frozen=True)
class WebhookRequest:
    """The request, exactly as sent; ``payload`` holds the event fields behind it."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]  # custom headers, then Content-Type
    basic_auth: tuple[str, str] | None
    content_type: str
    body: bytes
    payload: dict[str, Any] = field(default_factory=dict)
    is_file: bool = False  # the body is the event's file (voicemail, fax)

    def wire_headers(self) -> list[tuple[str, str]]:
        """Headers on the wire: the custom ones, Content-Type, and Authorization for basic auth."""
        headers = list(self.headers)
        if self.basic_auth is not None:
            headers.append(("Authorization", basic_authorization(*self.basic_auth)))
        return headers

    def body_summary(self) -> Any:
        """The JSON body, or ``{content_type, bytes}`` for a file."""
        if self.is_file:
            return {"content_type": self.content_type, "bytes": len(self.body)}
        return self.payload


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` value for HTTP basic auth (as httpx and curl compute it)."""
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def default_file(event_type: str) -> EventFile | None:
    """The sample file for voicemail/fax; None for types with a JSON body."""
    return sample_file(event_type) if CATALOG[event_type].body == "file" else None


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


def build_request(callback: Callback, event: Event) -> WebhookRequest:
    """The request ``callback`` sends for ``event`` (no I/O)."""
    payload = dict(event.payload)
    if callback.type == "call_alert" and callback.id is not None:
        payload["callback_id"] = callback.id
    url = replace_tokens(callback.url, callback.type, payload, url=True)
    headers = [
        (name, replace_tokens(value, callback.type, payload, url=False))
        for name, value in callback.headers
        if name.lower() != "content-type"
    ]
    file = event.file
    if file is None and CATALOG[callback.type].body == "file":
        file = sample_file(callback.type)
    if file is not None:
        content_type, body = file.content_type, file.content
    else:
        content_type, body = JSON_CONTENT_TYPE, json.dumps(payload).encode()
    headers.append(("Content-Type", content_type))
    return WebhookRequest(
        METHOD,
        url,
        tuple(headers),
        callback.basic_auth,
        content_type,
        body,
        payload,
        is_file=file is not None,
    )


async def send(
    http: httpx.AsyncClient, request: WebhookRequest, timeout: float | None = None
) -> httpx.Response:
    """Send ``request`` with ``http``; ``timeout`` (seconds) overrides the client's."""
    import httpx

    kwargs: dict[str, Any] = {}
    if timeout is not None:
        kwargs["timeout"] = timeout
    if request.basic_auth is not None:
        kwargs["auth"] = httpx.BasicAuth(*request.basic_auth)
    return await http.request(
        request.method,
        request.url,
        content=request.body,
        headers=list(request.headers),
        **kwargs,
    )
