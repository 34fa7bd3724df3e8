"""RingRx's ``custom_headers`` string <-> an ordered mapping.

RingRx stores custom headers as one string, one ``Name:Value`` per line. Lines are split at
``\\r\\n`` or ``\\n``, each line at its FIRST colon, names and values stripped; blank lines
are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping

from ringrx_iac.api.endpoints import CUSTOM_HEADER_SEPARATOR


def parse_headers(text: str | None) -> dict[str, str]:
    """``"A:1\\r\\nB: x:y"`` -> ``{"A": "1", "B": "x:y"}`` (a later duplicate name wins)."""
    headers: dict[str, str] = {}
    if not text:
        return headers
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return headers


def format_headers(headers: Mapping[str, str]) -> str:
    """The inverse of :func:`parse_headers`: ``Name:Value`` lines joined by CRLF."""
    return CUSTOM_HEADER_SEPARATOR.join(f"{name}:{value}" for name, value in headers.items())
