"""``ringrx-iac probe``: one marked synthetic event to each callback's real URL.

The event is the type's sample, marked twice so a receiver can tell it from a real one:
the header ``X-RingRx-IaC-Probe: 1`` and, in JSON bodies, ``"ringrx_iac_probe": true``
(voicemail and fax bodies are files: their ``filename`` says ``ringrx-iac-probe``).
Nothing else ever sends probes: plan and apply do not.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from typing import Any

import httpx

from ringrx_iac.catalog import CATALOG
from ringrx_iac.webhook.request import Callback, Event, WebhookRequest, build_request, send

PROBE_HEADER = "X-RingRx-IaC-Probe"
PROBE_FIELD = "ringrx_iac_probe"
_PROBE_FILES = {"voicemail": "ringrx-iac-probe.wav", "fax": "ringrx-iac-probe.pdf"}


def probe_request(callback: Callback) -> WebhookRequest:
    """``callback``'s request for its marked sample event."""
    fields: dict[str, Any] = {PROBE_FIELD: True}
    if CATALOG[callback.type].body == "file":
        fields = {"filename": _PROBE_FILES[callback.type]}
    request = build_request(callback, Event.sample(callback.type, fields))
    return replace(request, headers=((PROBE_HEADER, "1"), *request.headers))


@dataclass(frozen=True)
class ProbeResult:
    """What one receiver answered: ``status`` and ``latency_ms``, or an ``error``."""

    callback: str
    type: str
    url: str
    status: int | None = None
    reason: str = ""
    latency_ms: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return {
            "callback": self.callback,
            "type": self.type,
            "url": self.url,
            "status": self.status,
            "ok": self.ok,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "error": self.error,
        }


async def _probe(
    http: httpx.AsyncClient, callback: Callback, request: WebhookRequest, timeout: float
) -> ProbeResult:
    started = time.monotonic()
    base = ProbeResult(callback.name, callback.type, request.url)
    try:
        response = await send(http, request, timeout=timeout)
    except httpx.TimeoutException:
        return replace(base, error=f"no answer within {timeout:g}s")
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return replace(base, error=text)
    latency = (time.monotonic() - started) * 1000
    return replace(
        base, status=response.status_code, reason=response.reason_phrase, latency_ms=latency
    )


def probe_all(jobs: list[tuple[Callback, WebhookRequest]], timeout: float) -> list[ProbeResult]:
    """Send every probe (one at a time, so latencies are not skewed by each other)."""

    async def main() -> list[ProbeResult]:
        async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as http:
            return [await _probe(http, cb, req, timeout) for cb, req in jobs]

    return asyncio.run(main())
