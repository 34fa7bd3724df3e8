"""The desired state: the config's callbacks with secret REFERENCES, and their resolution.

A :class:`DesiredState` never holds a resolved secret; it is what a plan file stores.
:func:`resolve_secrets` produces the resolved values (kept apart, in memory only).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringrx_iac.config.models import Config
from ringrx_iac.config.secrets import SecretError, is_reference, resolve, unescape
from ringrx_iac.diagnostics import Diagnostic, Location
from ringrx_iac.policy import DestinationPolicy
from ringrx_iac.sensitive import is_secret_header_name

# What a plan file holds instead of a literal secret written in the YAML.
LITERAL_SECRET_MARKER = "(literal secret not saved in the plan file)"
_TOKENS_ONLY_RE = re.compile(r"(\s*\{[A-Za-z_][A-Za-z0-9_]*\}\s*)*\Z")

SourcePath = tuple[str | int, ...]
Locator = Callable[[SourcePath], Location | None]


@dataclass(frozen=True)
class DesiredCallback:
    """One callback as the YAML wants it; secret values are still references."""

    name: str
    type: str
    url: str
    headers: dict[str, str]
    use_basic_auth: bool = False
    username: str | None = None
    password: str | None = None
    bind: dict[str, list[str]] = field(default_factory=dict)
    previously: tuple[str, ...] = ()  # former names: rename the live one in place
    # Where things came from, for messages: the config index and each header's path.
    index: int = 0
    header_paths: dict[str, SourcePath] = field(default_factory=dict)

    def sensitive_headers(self) -> frozenset[str]:
        """Header names whose values are masked: secret-looking names or references."""
        return frozenset(
            name
            for name, value in self.headers.items()
            if is_secret_header_name(name) or is_reference(value) or value == LITERAL_SECRET_MARKER
        )

    def literal_secrets(self) -> list[str]:
        """Fields holding a secret written literally in the YAML (never saved to a file)."""
        found = []
        if self.password and not is_reference(self.password):
            found.append("basic_auth.password")
        for name, value in self.headers.items():
            if (
                is_secret_header_name(name)
                and not is_reference(value)
                and not _TOKENS_ONLY_RE.match(value)
            ):
                found.append(f"headers.{name}")
        return found


@dataclass(frozen=True)
class SafetyLimits:
    """The apply guards of the config."""

    max_delete_percent: float = 30
    protected: tuple[str, ...] = ()
    max_reroute_percent: float = 30
    max_unbind_percent: float = 30
    min_impact: int = 3

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_delete_percent": self.max_delete_percent,
            "protected": list(self.protected),
            "max_reroute_percent": self.max_reroute_percent,
            "max_unbind_percent": self.max_unbind_percent,
            "min_impact": self.min_impact,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SafetyLimits:
        data = data or {}
        return cls(
            max_delete_percent=float(data.get("max_delete_percent", 30)),
            protected=tuple(data.get("protected") or ()),
            max_reroute_percent=float(data.get("max_reroute_percent", 30)),
            max_unbind_percent=float(data.get("max_unbind_percent", 30)),
            min_impact=int(data.get("min_impact", 3)),
        )


@dataclass
class DesiredState:
    """Every desired callback, the ``ignore`` and ``no-purge`` globs, safety and policy."""

    callbacks: list[DesiredCallback]
    ignore: tuple[str, ...] = ()
    safety: SafetyLimits = field(default_factory=SafetyLimits)
    policy: DestinationPolicy = field(default_factory=DestinationPolicy)
    no_purge: tuple[str, ...] = ()  # live callbacks not in the YAML matching these stay
    # Fields that held a literal secret that a plan file could not keep ("callback: field").
    literal_secrets: tuple[str, ...] = ()
    # Header names whose live values plan and drift may show (defaults.public_headers).
    public_headers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Serialisable form with references only; a literal secret becomes a marker."""
        callbacks = []
        literal: list[str] = list(self.literal_secrets)
        for cb in self.callbacks:
            secret_fields = cb.literal_secrets()
            literal.extend(f"{cb.name}: {f}" for f in secret_fields)
            headers = {
                k: (LITERAL_SECRET_MARKER if f"headers.{k}" in secret_fields else v)
                for k, v in cb.headers.items()
            }
            password = cb.password
            if "basic_auth.password" in secret_fields:
                password = LITERAL_SECRET_MARKER
            callbacks.append(
                {
                    "name": cb.name,
                    "type": cb.type,
                    "url": cb.url,
                    "headers": headers,
                    "use_basic_auth": cb.use_basic_auth,
                    "username": cb.username,
                    "password": password,
                    "bind": cb.bind,
                    "previously": list(cb.previously),
                    "index": cb.index,
                    "header_paths": {k: list(v) for k, v in cb.header_paths.items()},
                }
            )
        return {
            "callbacks": callbacks,
            "ignore": list(self.ignore),
            "safety": self.safety.to_dict(),
            "policy": self.policy.to_dict(),
            "no_purge": list(self.no_purge),
            "literal_secrets": sorted(set(literal)),
            "public_headers": list(self.public_headers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DesiredState:
        """Inverse of :meth:`to_dict` (markers stay markers)."""
        callbacks = [
            DesiredCallback(
                name=c["name"],
                type=c["type"],
                url=c["url"],
                headers=dict(c.get("headers") or {}),
                use_basic_auth=bool(c.get("use_basic_auth")),
                username=c.get("username"),
                password=c.get("password"),
                bind={k: list(v) for k, v in (c.get("bind") or {}).items()},
                previously=tuple(c.get("previously") or ()),
                index=int(c.get("index", 0)),
                header_paths={k: tuple(v) for k, v in (c.get("header_paths") or {}).items()},
            )
            for c in data.get("callbacks", [])
        ]
        return cls(
            callbacks=callbacks,
            ignore=tuple(data.get("ignore") or ()),
            safety=SafetyLimits.from_dict(data.get("safety")),
            policy=DestinationPolicy.from_dict(data.get("policy")),
            no_purge=tuple(data.get("no_purge") or ()),
            literal_secrets=tuple(data.get("literal_secrets") or ()),
            public_headers=tuple(data.get("public_headers") or ()),
        )

    def fingerprint(self) -> str:
        """``sha256:...`` of the desired state with references (never resolved values)."""
        from ringrx_iac.reconcile.live import canonical_json

        data = self.to_dict()
        for cb in data["callbacks"]:  # positions do not change what is desired
            cb.pop("index", None)
            cb.pop("header_paths", None)
        data["callbacks"].sort(key=lambda c: c["name"])
        return "sha256:" + hashlib.sha256(canonical_json(data).encode()).hexdigest()


def from_config(config: Config) -> DesiredState:
    """``Config`` -> :class:`DesiredState` (defaults merged, bind keys kept as written)."""
    callbacks = []
    for i, spec in enumerate(config.callbacks):
        headers = config.effective_headers(spec)
        header_paths: dict[str, SourcePath] = {
            name: (
                ("callbacks", i, "headers", name)
                if name in spec.headers
                else ("defaults", "headers", name)
            )
            for name in headers
        }
        auth = spec.basic_auth
        use_auth = bool(auth and (auth.username or auth.password))
        callbacks.append(
            DesiredCallback(
                name=spec.name,
                type=spec.type,
                url=spec.url,
                headers=dict(headers),
                use_basic_auth=use_auth,
                username=auth.username if auth and use_auth else None,
                password=auth.password if auth and use_auth else None,
                bind={k: list(v) for k, v in spec.bind.items()} if spec.bind else {},
                previously=tuple(spec.previously),
                index=i,
                header_paths=header_paths,
            )
        )
    return DesiredState(
        callbacks=callbacks,
        ignore=tuple(config.ignore),
        safety=SafetyLimits(
            max_delete_percent=config.safety.max_delete_percent,
            protected=tuple(config.safety.protected),
            max_reroute_percent=config.safety.max_reroute_percent,
            max_unbind_percent=config.safety.max_unbind_percent,
            min_impact=config.safety.min_impact,
        ),
        policy=DestinationPolicy.from_model(config.policy),
        no_purge=config.no_purge_globs(),
        public_headers=tuple(config.defaults.public_headers),
    )


@dataclass(frozen=True)
class ResolvedCallback:
    """The secret-bearing values of one callback, resolved. Memory only: never serialised."""

    headers: dict[str, str]
    password: str | None
    # Fields whose reference could not be resolved ("password", "headers.<Name>"): unknown.
    unknown: frozenset[str] = frozenset()


def resolve_secrets(
    desired: DesiredState,
    env: Mapping[str, str],
    base_dir: Path,
    locate: Locator | None = None,
) -> tuple[dict[str, ResolvedCallback], list[Diagnostic]]:
    """Resolve every reference; each failure is an error naming the variable and place."""
    resolved: dict[str, ResolvedCallback] = {}
    errors: list[Diagnostic] = []

    def one(value: str, where: str, path: SourcePath) -> str | None:
        if value == LITERAL_SECRET_MARKER:
            errors.append(
                Diagnostic(
                    "RRX710",
                    "error",
                    f"{where} holds a literal secret, which is never written to a plan file",
                    "move the value into an environment variable, reference it in the YAML "
                    '(e.g. "${env:NAME}" or "${file:PATH}") and save the plan again; or run '
                    "'ringrx-iac apply PATH' without --plan",
                    locate(path) if locate else None,
                )
            )
            return None
        if not is_reference(value):
            return unescape(value)
        try:
            return resolve(value, env, base_dir)
        except SecretError as exc:
            errors.append(
                Diagnostic(
                    "RRX711",
                    "error",
                    f"{where}: {exc}",
                    "set the variable (or create the file) before running plan or apply",
                    locate(path) if locate else None,
                )
            )
            return None

    for cb in desired.callbacks:
        unknown: set[str] = set()
        headers: dict[str, str] = {}
        for name, value in cb.headers.items():
            got = one(
                value,
                f"callback {cb.name!r} header {name!r}",
                cb.header_paths.get(name, ("callbacks", cb.index, "headers", name)),
            )
            if got is None:
                unknown.add(f"headers.{name}")
            headers[name] = got or ""
        password = cb.password
        if password is not None:
            password = one(
                password,
                f"callback {cb.name!r} basic_auth.password",
                ("callbacks", cb.index, "basic_auth", "password"),
            )
            if password is None:
                unknown.add("password")
                password = ""
        resolved[cb.name] = ResolvedCallback(headers, password, frozenset(unknown))
        _register_literal_secrets(cb)
    return resolved, errors


def _register_literal_secrets(cb: DesiredCallback) -> None:
    """A secret written literally (a warning) is still a secret: the redactor learns it,
    so a server error echoing the request cannot show it."""
    from ringrx_iac import redact

    if cb.password and not is_reference(cb.password):
        redact.register(cb.password)
    for name, value in cb.headers.items():
        if is_secret_header_name(name) and not is_reference(value):
            redact.register(value)


def with_live_unknowns(
    resolved: Mapping[str, ResolvedCallback], live: Mapping[str, Any]
) -> dict[str, ResolvedCallback]:
    """``resolved`` where each unresolved field takes the live value (``live``: name ->
    live callback), so that a missing secret is not shown as a change: it is unknown."""
    out = dict(resolved)
    for name, res in resolved.items():
        cb = live.get(name)
        if not res.unknown or cb is None:
            continue
        headers = dict(res.headers)
        for header in res.unknown - {"password"}:
            header = header.split(".", 1)[1]
            if header in cb.headers:
                headers[header] = cb.headers[header]
        password = cb.password if "password" in res.unknown else res.password
        out[name] = ResolvedCallback(headers, password, res.unknown)
    return out
