"""Reading RingRx answers: the JSON body, and the one status -> error table.

`api/client.py` (any endpoint) and `api/auth.py` (the token endpoints) both turn a non-2xx
answer into a typed error here, so a status means the same error class everywhere.
"""

from __future__ import annotations

from typing import Any

import httpx

from ringrx_iac.api.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RingRxError,
    ServerError,
    UnexpectedResponseError,
    ValidationError,
    field_errors_from_body,
)
from ringrx_iac.api.retry import parse_retry_after

# The error class of a status on an ordinary endpoint (5xx: ServerError; else Unexpected).
# A token endpoint answers 400/401/403 with a rejection that auth.py words itself.
_ERROR_OF_STATUS: dict[int, type[RingRxError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: ValidationError,
    429: RateLimitError,
}

# What each error says on an ordinary endpoint, after the retries.
_MESSAGES: dict[type[RingRxError], str] = {
    AuthenticationError: "RingRx rejected the access token even after re-authenticating (401)",
    PermissionDeniedError: (
        "permission denied (403): the user behind these credentials may not do this"
    ),
    NotFoundError: "not found (404)",
    RateLimitError: (
        "rate limited by RingRx (429) and out of retries; try again later or lower --parallelism"
    ),
    ServerError: "RingRx server error ({status}); it persisted through the retries",
    UnexpectedResponseError: "unexpected answer ({status}){detail}",
}

# What each error says on a token endpoint (only 429, 5xx and the unexpected reach here).
_TOKEN_MESSAGES: dict[type[RingRxError], str] = {
    RateLimitError: "rate limited (429) while obtaining an access token",
    ServerError: "server error ({status}) while obtaining an access token",
    UnexpectedResponseError: "unexpected answer ({status}) while obtaining an access token",
}


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def error_class(status: int, *, token_endpoint: bool = False) -> type[RingRxError]:
    """The error class of a non-2xx status (the table above)."""
    if status >= 500:
        return ServerError
    cls = _ERROR_OF_STATUS.get(status, UnexpectedResponseError)
    if token_endpoint and cls is not RateLimitError:
        return UnexpectedResponseError
    return cls


def error_for(
    response: httpx.Response, request: httpx.Request, *, token_endpoint: bool = False
) -> RingRxError:
    """The typed error for a non-2xx answer to ``request``."""
    method, path, status = request.method, request.url.path, response.status_code
    cls = error_class(status, token_endpoint=token_endpoint)
    if cls is ValidationError:
        return ValidationError(
            field_errors_from_body(json_body(response)), method=method, path=path
        )
    detail = ""
    if cls is UnexpectedResponseError and not token_endpoint:
        base = field_errors_from_body(json_body(response)).get("base")
        detail = f": {'; '.join(base)}" if base else ""
    template = (_TOKEN_MESSAGES if token_endpoint else _MESSAGES)[cls]
    message = template.format(status=status, detail=detail)
    if cls is RateLimitError:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimitError(message, retry_after=retry_after, method=method, path=path)
    return cls(message, method=method, path=path, status=status)
