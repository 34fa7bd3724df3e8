"""What counts as secret in a header: one rule for the linter, planner, importer and simulator."""

from __future__ import annotations

import re

_SECRET_NAME_RE = re.compile(
    r"auth|token|key|secret|password|pass|signature|sig|cookie|session|credential",
    re.IGNORECASE,
)


def is_secret_header_name(name: str) -> bool:
    """True when a header's name suggests its value is a credential (``X-Api-Key``...)."""
    return bool(_SECRET_NAME_RE.search(name))
