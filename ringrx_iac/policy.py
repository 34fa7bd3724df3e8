"""The destination policy and URL origins: one place for "where may events go".

Used by the linter (``validate``), by the impact classification of a plan (a *reroute*
is a change of origin) and by ``drift`` (live callbacks checked against the policy).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ringrx_iac.catalog import CALLBACK_TYPES

if TYPE_CHECKING:
    from ringrx_iac.config.models import Policy

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_LABEL_RE = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_\-]*[A-Za-z0-9_])?\Z")


@dataclass(frozen=True)
class Origin:
    """Scheme, host (lower case, no brackets) and port (the scheme's default when absent)."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == _DEFAULT_PORTS.get(self.scheme):
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"


def url_origin(url: str) -> Origin | None:
    """The origin of an absolute http(s) URL, or None when it has none (invalid URL)."""
    scheme_end = url.find("://")
    if scheme_end <= 0:
        return None
    scheme = url[:scheme_end].lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    rest = url[scheme_end + 3 :]
    end = len(rest)
    for sep in "/?#":
        pos = rest.find(sep)
        if pos != -1:
            end = min(end, pos)
    authority = rest[:end].rpartition("@")[2]
    host, port_text = authority, ""
    if authority.startswith("["):
        close = authority.find("]")
        if close == -1:
            return None
        host, port_text = authority[1:close], authority[close + 1 :].removeprefix(":")
    elif ":" in authority:
        host, _, port_text = authority.rpartition(":")
    if not host:
        return None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
    else:
        port = _DEFAULT_PORTS[scheme]
    return Origin(scheme, host.lower().rstrip("."), port)


def url_host(url: str) -> str | None:
    """The host of ``url`` (lower case), or None."""
    origin = url_origin(url)
    return origin.host if origin else None


def check_host_pattern(pattern: str) -> str | None:
    """Why ``pattern`` is not an allowed-hosts entry (exact host or leading ``*.``), or None."""
    if "://" in pattern or "/" in pattern:
        return "write the host only, without scheme or path (e.g. hooks.example.com)"
    if ":" in pattern:
        return "write the host only, without a port"
    body = pattern[2:] if pattern.startswith("*.") else pattern
    if "*" in body:
        return "a wildcard is allowed only as a leading '*.' (e.g. *.crm.example.org)"
    labels = body.rstrip(".").split(".")
    if not body or not all(_HOST_LABEL_RE.match(label) for label in labels):
        return "not a host name"
    return None


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """``host`` matches an exact entry or a ``*.suffix`` entry (one or more labels deep)."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.lower().rstrip(".")
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


@dataclass(frozen=True)
class DestinationPolicy:
    """The ``policy`` section, normalised: requirements per callback type."""

    allowed_hosts: tuple[str, ...] | None = None  # None: any host
    require_https: bool = True
    basic_auth_types: frozenset[str] = frozenset()
    required_headers: tuple[tuple[str, str], ...] = ()  # (type, header name)

    def allows(self, host: str | None) -> bool:
        """True when ``host`` may receive events (always, without ``allowed_hosts``)."""
        if self.allowed_hosts is None:
            return True
        return host is not None and host_allowed(host, self.allowed_hosts)

    def requires_basic_auth(self, type_name: str) -> bool:
        return type_name in self.basic_auth_types

    def required_header(self, type_name: str) -> str | None:
        return dict(self.required_headers).get(type_name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed_hosts": None if self.allowed_hosts is None else list(self.allowed_hosts),
            "require_https": self.require_https,
            "require_basic_auth": sorted(self.basic_auth_types),
            "require_header": dict(self.required_headers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DestinationPolicy:
        data = data or {}
        hosts = data.get("allowed_hosts")
        return cls(
            allowed_hosts=None if hosts is None else tuple(hosts),
            require_https=bool(data.get("require_https", True)),
            basic_auth_types=frozenset(data.get("require_basic_auth") or ()),
            required_headers=tuple(sorted((data.get("require_header") or {}).items())),
        )

    @classmethod
    def from_model(cls, policy: Policy) -> DestinationPolicy:
        """From the config model (``true`` / a header name apply to every type)."""
        if policy.require_basic_auth is True:
            auth_types = frozenset(CALLBACK_TYPES)
        elif policy.require_basic_auth is False:
            auth_types = frozenset()
        else:
            auth_types = frozenset(policy.require_basic_auth)
        header = policy.require_header
        if isinstance(header, str):
            headers: dict[str, str] = {t: header for t in CALLBACK_TYPES}
        else:
            headers = {str(t): name for t, name in (header or {}).items()}
        hosts = policy.allowed_hosts
        return cls(
            allowed_hosts=None if hosts is None else tuple(hosts),
            require_https=policy.require_https,
            basic_auth_types=auth_types,
            required_headers=tuple(sorted(headers.items())),
        )
