"""Notes on a rendered request: where RingRx's documentation leaves room for doubt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ringrx_iac.catalog import CATALOG
from ringrx_iac.webhook.request import TOKEN_RE, Callback, token_value
from ringrx_iac.webhook.samples import sample_payload


def notes(callback: Callback, payload: Mapping[str, Any]) -> list[str]:
    """What a reader of ``render`` output should know about this callback's request."""
    ctype = CATALOG[callback.type]
    texts = [callback.url, *(value for _, value in callback.headers)]
    used = {m.group(1) for text in texts for m in TOKEN_RE.finditer(text)}
    out: list[str] = []
    encoded = [
        m.group(1)
        for m in TOKEN_RE.finditer(callback.url)
        if m.group(1) in ctype.tokens
        and (value := token_value(payload, m.group(1))) is not None
        and quote(value, safe="") != value
    ]
    if encoded:
        out.append(
            "token values in the URL are percent-encoded, every reserved character included "
            "(' ' as %20, '+' as %2B); RingRx does not document its encoding"
        )
    for token in sorted(used & set(ctype.payload_only)):
        out.append(
            f"{{{token}}} is in the event body but not documented as a token: "
            "shown as written (RingRx may not replace it)"
        )
    if callback.type == "call_alert":
        if "caller_name" in used:
            out.append(
                "the doc's call_alert sample spells the field caller_nname; "
                "{caller_name} is replaced from it"
            )
        sample_id = sample_payload("call_alert")["callback_id"]
        if callback.id is None and payload.get("callback_id") == sample_id:
            out.append(
                f"callback_id is the live callback's id; the sample event shows {sample_id} "
                "(set it with --event)"
            )
    if callback.type == "fax" and any("{pages " in text for text in texts):
        out.append("the doc lists the token as '{pages }' (a stray space); it is {pages}")
    return out
