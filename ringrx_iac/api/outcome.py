"""The one place that decides whether a failed write may have reached the server.

A write that failed is in one of three states:

- *not sent*: it surely never reached RingRx (the connection could not be opened, the
  pool had no slot, or obtaining a token failed before it was sent); sending it again is
  always safe;
- *refused*: RingRx answered it with a definite 4xx (or 429, "not processed"); nothing
  was changed;
- *unknown*: it was sent and no definite answer came back (the connection dropped, a
  read timed out, or a 5xx, which a proxy or the server may return after the change was
  made). Only this case needs care before a retry.

Retrying an *unknown* PATCH or DELETE is safe because those writes are idempotent: a
PATCH sets fields to absolute values (an update sets the callback's fields, a bind or
unbind sets one target's callback id), so sending it twice leaves the same state as once;
a DELETE sent twice finds the callback already gone (404), which after an unknown first
try means "done". A POST creates a new object each time, so an *unknown* create is
settled by looking before sending again (see ``RingRxClient.create_callback``).
"""

from __future__ import annotations

import httpx

from ringrx_iac.api.auth import is_auth_path

# Transport errors after which the request surely never reached the server.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def transport_error_may_have_reached(exc: httpx.TransportError, path: str) -> bool:
    """After a transport error: may the server have processed the request?

    False when the connection never carried it (connect errors, pool timeouts) or when
    the failed request was a token request of the auth flow (then the write itself was
    never sent); True otherwise (dropped connection, read/write timeout, protocol error).
    """
    if isinstance(exc, NOT_SENT_ERRORS):
        return False
    try:
        failed_path = exc.request.url.path
    except RuntimeError:  # the error carries no request: judge by the write's own path
        failed_path = path
    return not is_auth_path(failed_path)


def status_may_have_reached(status: int) -> bool:
    """After a non-2xx answer: may the change have been made anyway? (only for 5xx)"""
    return status >= 500
