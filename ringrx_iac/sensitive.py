"""What counts as secret in a header: one rule for the linter, planner, importer and simulator.

A header is secret by its name (:func:`is_secret_header_name`); ``import`` and the client's
redactor registration also treat a value that looks like a credential as secret whatever
the name (:func:`looks_like_credential`).
"""

from __future__ import annotations

import math
import re
from collections import Counter

_SECRET_NAME_RE = re.compile(
    r"auth|token|key|secret|password|pass|signature|sig|cookie|session|credential",
    re.IGNORECASE,
)


def is_secret_header_name(name: str) -> bool:
    """True when a header's name suggests its value is a credential (``X-Api-Key``...)."""
    return bool(_SECRET_NAME_RE.search(name))


_SCHEME_RE = re.compile(r"(?i)^(bearer|basic|token|digest)\s+\S")
_TOKEN_CHARS_RE = re.compile(r"[A-Za-z0-9+/=_.~-]{20,}\Z")
_SEGMENT_RE = re.compile(r"[-_.~]+")


def looks_like_credential(value: str) -> bool:
    """True when a header value looks like a credential whatever the header's name.

    ``Bearer ...``/``Basic ...``/``Token ...``/``Digest ...``, or one long token (20+
    characters of letters, digits and ``+/=_.~-``) with a long random-looking part: an
    API key, a JWT, a base64 secret (``hooks-example-2024`` is words, not a credential).
    """
    value = value.strip()
    if _SCHEME_RE.match(value):
        return True
    if not _TOKEN_CHARS_RE.match(value):
        return False
    return any(_random_looking(part) for part in _SEGMENT_RE.split(value))


def _random_looking(part: str) -> bool:
    if len(part) < 12:
        return False
    digits = any(c.isdigit() for c in part)
    letters = any(c.isalpha() for c in part)
    mixed_case = any(c.isupper() for c in part) and any(c.islower() for c in part)
    if digits and letters:
        return True
    return len(part) >= 24 and mixed_case and _entropy(part) >= 3.5


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())
