"""Where ``test`` and ``probe`` send: the receiver-base rewrite and the allowed-hosts check."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ringrx_iac.config.models import Config
from ringrx_iac.policy import DestinationPolicy, url_host


class DestinationError(Exception):
    """A destination that may not or cannot be used."""


def check_base(base: str) -> str:
    """``--receiver-base``: an absolute http(s) URL (its path, if any, becomes a prefix)."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationError(
            f"--receiver-base {base!r} is not an http(s) URL; e.g. http://127.0.0.1:8080"
        )
    return base


def rebase(url: str, base: str) -> str:
    """``url`` sent to ``base`` instead: its origin replaced, path and query kept."""
    u, b = urlsplit(url), urlsplit(base)
    path = b.path.rstrip("/") + (u.path or "/")
    return urlunsplit((b.scheme, b.netloc, path, u.query, ""))


def refused(urls: dict[str, str], config: Config) -> list[str]:
    """One line per callback whose URL's host is outside ``policy.allowed_hosts`` (if set)."""
    policy = DestinationPolicy.from_model(config.policy)
    out = []
    for name, url in urls.items():
        host = url_host(url)
        if not policy.allows(host):
            out.append(
                f"callback {name!r}: host {host or '(none)'!r} is not in policy.allowed_hosts"
            )
    return out
