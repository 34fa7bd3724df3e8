"""The one redactor at the output boundary: no secret known to the run is ever printed.

How to use it (every new output must):

* Where a secret value becomes known, register it::

      from ringrx_iac import redact
      redact.register(value)          # str (or None, ignored); returns the value unchanged

  Already registered by the tool itself: the credentials in ``RINGRX_*`` variables
  (:func:`register_env`, called at start-up), access and refresh tokens, resolved
  ``${env:...}``/``${file:...}`` references, live basic-auth passwords and live values
  of secret-looking headers (``api/client.py``), live header values the plan hides.

* Before text leaves the process, pass it through :func:`redact`::

      text = redact.redact(text)

  ``render.terminal.echo`` (every line a command prints), the ``--debug`` logger, the
  ``--log`` audit file, saved plan files, the YAML ``import`` writes and the top-level
  error handler already do. Use :func:`redact_json` for a JSON value (keys and strings)
  and :func:`redact_bytes` for a file body.

Every occurrence of a registered value, and of its JSON-escaped and URL-encoded forms, is
replaced by :data:`MASK`, longest value first. Values shorter than :data:`MIN_LENGTH`
characters are not registered: replacing every ``"a"`` of the output would make it
unreadable (such values are still masked structurally, e.g. ``(sensitive)`` in a plan).
Values shorter than :data:`ANYWHERE_LENGTH` are replaced only where they stand alone (not
inside a longer word), so a live header value ``basic`` does not turn ``basic_auth`` into
nonsense.
The registry lives for the process (one CLI run); :func:`clear` exists for tests.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, overload
from urllib.parse import quote

MASK = "(redacted)"
MIN_LENGTH = 4
ANYWHERE_LENGTH = 10
#: Environment variables that hold a credential of the tool itself.
CREDENTIAL_VARIABLES = (
    "RINGRX_API_TOKEN",
    "RINGRX_API_SECRET",
    "RINGRX_PASSWORD",
    "RINGRX_OTP",
)

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _forms(value: str) -> set[str]:
    """The value and the forms it takes in JSON, URLs and stripped of surrounding space."""
    forms = {
        value,
        value.strip(),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }
    forms.add(quote(value, safe=""))
    forms.add(quote(value, safe="/:@"))
    return {f for f in forms if len(f) >= MIN_LENGTH}


@overload
def register(value: str) -> str: ...
@overload
def register(value: None) -> None: ...
def register(value: str | None) -> str | None:
    """Remember ``value`` as a secret of this run; returns it unchanged (None is ignored)."""
    global _pattern
    if not isinstance(value, str) or len(value.strip()) < MIN_LENGTH:
        return value
    forms = _forms(value)
    with _lock:
        if not forms - _values:
            return value
        _values.update(forms)
        _pattern = None
    return value


def register_all(values: Iterable[str | None]) -> None:
    """:func:`register` each value."""
    for value in values:
        register(value)


def register_env(env: Mapping[str, str]) -> None:
    """Register the credentials held in ``RINGRX_API_TOKEN``/``_SECRET``/``_PASSWORD``/``_OTP``."""
    for name in CREDENTIAL_VARIABLES:
        register(env.get(name))


def is_registered(value: str) -> bool:
    """True when ``value`` itself is a registered secret."""
    with _lock:
        return value in _values


def clear() -> None:
    """Forget every registered value (tests; a CLI run never needs it)."""
    global _pattern
    with _lock:
        _values.clear()
        _pattern = None


def _alternative(value: str) -> str:
    if len(value) >= ANYWHERE_LENGTH:
        return re.escape(value)
    return rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])"


def _compiled() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None and _values:
            ordered = sorted(_values, key=lambda v: (-len(v), v))
            _pattern = re.compile("|".join(_alternative(v) for v in ordered))
        return _pattern


def redact(text: str) -> str:
    """``text`` with every registered secret (in any of its forms) replaced by :data:`MASK`."""
    if not text:
        return text
    pattern = _compiled()
    if pattern is None:
        return text
    return pattern.sub(MASK, text)


def redact_bytes(data: bytes) -> bytes:
    """:func:`redact` for UTF-8 bytes (undecodable bytes are kept as they are)."""
    if not data or _compiled() is None:
        return data
    return redact(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


def redact_json(value: Any) -> Any:
    """A copy of a JSON value with every string (keys included) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact(str(k)): redact_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(v) for v in value]
    return value
