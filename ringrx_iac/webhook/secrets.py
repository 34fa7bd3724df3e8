"""A configured callback's secrets while a request is built for show (render) or sent.

To send (``test``, ``probe``), :func:`to_callback` is given a resolver that puts the real
secrets in. To show (``render``), a :class:`SecretTable` puts an opaque marker where each
secret goes; the request is built from that exactly as it would be sent, and afterwards
each marker is shown masked, resolved (``--show-secrets``) or as a shell variable (curl).
A secret is a ``${env:...}``/``${file:...}`` reference, a basic-auth password or the
whole value of a secret-looking header (``X-Api-Key: ...``) written literally.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ringrx_iac import redact
from ringrx_iac.config.secrets import SecretError, find_refs, resolve, unescape
from ringrx_iac.reconcile.changes import SENSITIVE
from ringrx_iac.reconcile.desired import DesiredCallback
from ringrx_iac.reconcile.importer import secret_variable, slug
from ringrx_iac.sensitive import is_secret_header_name
from ringrx_iac.webhook.request import Callback

MASK = SENSITIVE
_MARKER_RE = re.compile("\ue000(\\d+)\ue001")
_TOKENS_ONLY_RE = re.compile(r"(\s*\{[A-Za-z_][A-Za-z0-9_]*\s*\}\s*)*\Z")

# (kind of value, header name or None for the password, the value as written)
Transform = Callable[[str, str | None, str], str]


def to_callback(cb: DesiredCallback, transform: Transform) -> Callback:
    """The :class:`Callback` RingRx would store for ``cb``; ``transform`` finalises secrets."""
    headers = tuple((name, transform("header", name, value)) for name, value in cb.headers.items())
    auth = None
    if cb.use_basic_auth:
        password = transform("password", None, cb.password) if cb.password else ""
        auth = (cb.username or "", password)
    return Callback(cb.type, cb.url, headers, auth, None, cb.name)


def resolver(env: Mapping[str, str], base_dir: Path) -> Transform:
    """A transform resolving every reference (raises :class:`SecretError` when unset).

    Resolved references are registered with the run's redactor by ``resolve``; a password
    or secret-looking header value written literally is registered here, so no output
    (not even a receiver's echo of it) can print it.
    """

    def transform(kind: str, name: str | None, value: str) -> str:
        resolved = resolve(value, env, base_dir)
        secret_name = name is not None and is_secret_header_name(name)
        if kind == "password" or (secret_name and not _TOKENS_ONLY_RE.match(value)):
            redact.register(resolved)
        return resolved

    return transform


@dataclass(frozen=True)
class Secret:
    """One secret stood in for by a marker."""

    kind: Literal["env", "file", "literal"]
    text: str  # the reference as written, or the literal value
    variable: str  # the shell variable a curl command uses for it
    target: str = ""  # the variable name or file path of a reference


@dataclass
class SecretTable:
    """Markers standing in for secrets, and the ways to show them."""

    callback_slug: str
    base_dir: Path = Path(".")  # where ${file:...} paths are relative to
    secrets: list[Secret] = field(default_factory=list)

    def hide(self, kind: str, name: str | None, value: str) -> str:
        """``value`` with each secret replaced by a marker (a :data:`Transform`)."""
        refs = find_refs(value)
        if not refs:
            literal = kind == "password" or (
                name is not None
                and is_secret_header_name(name)
                and not _TOKENS_ONLY_RE.match(value)
            )
            if not literal:
                return unescape(value)
            field_name = "password" if name is None else name
            variable = secret_variable(self.callback_slug, field_name)
            return self._marker(Secret("literal", unescape(value), variable))
        out, last = [], 0
        for ref in refs:
            out.append(unescape(value[last : ref.start]))
            if ref.kind == "env":
                secret = Secret("env", str(ref), ref.target, ref.target)
            else:
                path = Path(ref.target).expanduser()
                secret = Secret("file", str(ref), "", str(self.base_dir / path))
            out.append(self._marker(secret))
            last = ref.end
        out.append(unescape(value[last:]))
        return "".join(out)

    def _marker(self, secret: Secret) -> str:
        self.secrets.append(secret)
        return f"\ue000{len(self.secrets) - 1}\ue001"

    def has_secret(self, text: str) -> bool:
        return bool(_MARKER_RE.search(text))

    def masked(self, text: str) -> str:
        """``text`` with any secret in it masked as a whole."""
        return MASK if self.has_secret(text) else text

    def shown(self, text: str, env: Mapping[str, str], base_dir: Path) -> str:
        """``text`` with references resolved where set (else kept as written) and literals shown."""

        def one(m: re.Match[str]) -> str:
            secret = self.secrets[int(m.group(1))]
            if secret.kind == "literal":
                return secret.text
            try:
                return resolve(secret.text, env, base_dir)
            except SecretError:
                return secret.text

        return _MARKER_RE.sub(one, text)

    def parts(self, text: str) -> list[tuple[str, Secret | None]]:
        """``text`` split into literal text and secrets, in order (for shell quoting)."""
        out: list[tuple[str, Secret | None]] = []
        last = 0
        for m in _MARKER_RE.finditer(text):
            if m.start() > last:
                out.append((text[last : m.start()], None))
            out.append(("", self.secrets[int(m.group(1))]))
            last = m.end()
        if last < len(text):
            out.append((text[last:], None))
        return out


def table_for(cb: DesiredCallback, base_dir: Path) -> SecretTable:
    """An empty table for ``cb`` (literal secrets get variables named after it)."""
    return SecretTable(slug(cb.name), base_dir)
