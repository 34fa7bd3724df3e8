"""Typed errors of the RingRx client. ``str(err)`` is a user-readable message, free of secrets.

Every error that comes from a request names the method and the path (never the query
string, which could carry credentials).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ringrx_iac.api import endpoints


class RingRxError(Exception):
    """Base of every error the RingRx client raises."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status

    def __str__(self) -> str:
        if self.method and self.path:
            return f"{self.method} {self.path}: {self.message}"
        return self.message


class SettingsError(RingRxError):
    """The client settings (environment variables, options) are unusable."""


class CredentialsError(SettingsError):
    """Credentials are missing or half-set in the environment."""


class InsecureURLError(SettingsError):
    """A plain ``http://`` base URL that is not loopback, without ``--insecure``."""


class ReadOnlyError(RingRxError):
    """A write was attempted by a client in read-only mode; nothing was sent."""


class AuthenticationError(RingRxError):
    """RingRx rejected the credentials or the access token (401)."""


class PermissionDeniedError(RingRxError):
    """RingRx answered 403: the user behind the credentials may not do this."""


class NotFoundError(RingRxError):
    """RingRx answered 404: no such object."""


class ValidationError(RingRxError):
    """RingRx answered 422. ``errors`` maps a field (domain name when known) to messages."""

    def __init__(
        self,
        errors: Mapping[str, Sequence[str]],
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        super().__init__(render_field_errors(self.errors), method=method, path=path, status=422)


class RateLimitError(RingRxError):
    """RingRx answered 429 and the retry budget ran out (or the wait would exceed it)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=429)
        self.retry_after = retry_after


class ServerError(RingRxError):
    """RingRx answered 5xx (after the retries, if any were allowed)."""


class TransportError(RingRxError):
    """The connection failed, dropped, or timed out (after the retries, if any)."""


class UnexpectedResponseError(RingRxError):
    """RingRx answered with a status or a body this client does not understand."""


_DOMAIN_NAME_OF_WIRE = {wire: domain for domain, wire in endpoints.CALLBACK_FIELDS.items()}


def render_field_errors(errors: Mapping[str, Sequence[str]]) -> str:
    """``{"url": ["is invalid"], "name": ["can't be blank"]}`` -> ``url: is invalid; name: ...``."""
    if not errors:
        return "the server rejected the request (422) without saying why"
    parts = []
    for field, messages in errors.items():
        text = ", ".join(str(m) for m in messages) or "is invalid"
        parts.append(text if field == "base" else f"{field}: {text}")
    return "; ".join(parts)


def field_errors_from_body(body: object) -> dict[str, list[str]]:
    """Read a 422 body: ``{"errors": {field: [msg]}}``, ``{"errors": [msg]}`` or anything else.

    Wire field names of a callback are translated to their domain names (``callback_type`` ->
    ``type``), so messages speak the config's language.
    """
    if not isinstance(body, dict):
        return {}
    raw = body.get(endpoints.ERRORS_FIELD, body.get(endpoints.ERROR_FIELD))
    if isinstance(raw, dict):
        result: dict[str, list[str]] = {}
        for field, messages in raw.items():
            name = _DOMAIN_NAME_OF_WIRE.get(str(field), str(field))
            if isinstance(messages, list | tuple):
                result[name] = [str(m) for m in messages]
            else:
                result[name] = [str(messages)]
        return result
    if isinstance(raw, list | tuple) and raw:
        return {"base": [str(m) for m in raw]}
    if isinstance(raw, str) and raw:
        return {"base": [raw]}
    return {}
