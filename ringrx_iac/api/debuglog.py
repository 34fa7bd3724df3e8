"""``--debug``: one log line per request and per response, secrets redacted.

Logged on the ``ringrx_iac.http`` logger: method, URL (query secrets redacted), whether an
Authorization header was sent (never its value), the JSON body with secret keys redacted,
and for the response the status and the elapsed milliseconds (plus the redacted body of an
error answer). Every line also passes the run's redactor (:mod:`ringrx_iac.redact`).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import httpx

from ringrx_iac.redact import redact

LOGGER_NAME = "ringrx_iac.http"
logger = logging.getLogger(LOGGER_NAME)

REDACTED = "REDACTED"
# Query parameters and JSON keys whose values are never logged.
SECRET_PARAMS = frozenset({"token", "secret", "password", "otp", "refresh_token", "access_token"})
SECRET_KEYS = frozenset(
    {
        "password",
        "secret",
        "token",
        "otp",
        "access_token",
        "refresh_token",
        "auth_password",
        "custom_headers",
    }
)
_MAX_BODY = 2000
_START = "ringrx_iac.start"


def redact_url(url: httpx.URL) -> str:
    """The URL with the values of secret query parameters replaced by ``REDACTED``."""
    if not url.query:
        return str(url)
    params = [
        (k, REDACTED if k.lower() in SECRET_PARAMS else v) for k, v in url.params.multi_items()
    ]
    return str(url.copy_with(params=params))


def redact_json(value: Any) -> Any:
    """A copy of a JSON value with the values of secret keys replaced, at any depth."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if str(k).lower() in SECRET_KEYS and v is not None else redact_json(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


def _body_text(content: bytes) -> str | None:
    """Redacted JSON text of a body, or a size note for anything that is not JSON."""
    if not content:
        return None
    try:
        data = json.loads(content)
    except ValueError:
        return f"<{len(content)} bytes, not JSON, not logged>"
    text = json.dumps(redact_json(data), ensure_ascii=False)
    if len(text) > _MAX_BODY:
        text = text[:_MAX_BODY] + f"... ({len(text)} chars)"
    return text


async def log_request(request: httpx.Request) -> None:
    """httpx request event hook."""
    request.extensions[_START] = time.perf_counter()
    if not logger.isEnabledFor(logging.DEBUG):
        return
    parts = [f"-> {request.method} {redact_url(request.url)}"]
    if "authorization" in request.headers:
        parts.append(f"Authorization: {REDACTED}")
    try:
        body = _body_text(request.content)
    except httpx.RequestNotRead:
        body = "<streamed body>"
    if body:
        parts.append(f"body={body}")
    logger.debug(" ".join(parts))


async def log_response(response: httpx.Response) -> None:
    """httpx response event hook (bodies are logged, redacted, for error answers only)."""
    if not logger.isEnabledFor(logging.DEBUG):
        return
    request = response.request
    start = request.extensions.get(_START)
    elapsed = f" ({(time.perf_counter() - start) * 1000:.1f} ms)" if start is not None else ""
    line = f"<- {response.status_code} {request.method} {redact_url(request.url)}{elapsed}"
    if response.status_code >= 400:
        await response.aread()
        body = _body_text(response.content)
        if body:
            line += f" body={body}"
    logger.debug(line)


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line passes :func:`ringrx_iac.redact.redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def enable_debug_logging() -> None:
    """Send ``ringrx_iac.http`` DEBUG records to stderr (once, however often it is called)."""
    logger.setLevel(logging.DEBUG)
    if not any(getattr(h, "_ringrx_debug", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(RedactingFormatter("%(asctime)s %(name)s %(message)s"))
        handler._ringrx_debug = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
