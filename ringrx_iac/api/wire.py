"""Wire <-> domain: RingRx JSON objects to the types of `ringrx_iac.api.types` and back.

Wire names come from `ringrx_iac.api.endpoints` only. This is the one place where a masked
or undisclosed password becomes None ("unknown"); everything above sees only the domain types.
Odd answers (an object where a value belongs, ...) raise `UnexpectedResponseError`; live
secrets join the redactor as they are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ringrx_iac import redact
from ringrx_iac.api import endpoints
from ringrx_iac.api.errors import UnexpectedResponseError
from ringrx_iac.api.headers import parse_headers
from ringrx_iac.api.types import RemoteCallback, RemoteTarget
from ringrx_iac.sensitive import is_secret_header_name, looks_like_credential

_DOMAIN_CALLBACK_FIELDS = frozenset(endpoints.CALLBACK_FIELDS) - {"id"}


def target_endpoint(kind: str) -> endpoints.TargetEndpoint:
    """The endpoint of a target kind (`ValueError` for an unknown kind)."""
    try:
        return endpoints.TARGETS[kind]
    except KeyError:
        raise ValueError(
            f"unknown target kind {kind!r}; expected one of {', '.join(endpoints.TARGETS)}"
        ) from None


def as_list(data: Any, path: str) -> list[dict[str, Any]]:
    """A list answer of ``path``, checked to be a JSON array of objects."""
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise UnexpectedResponseError(
            "expected a JSON array of objects", method="GET", path=path, status=200
        )
    return data


def callback_to_wire(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Domain field names -> wire names; unknown names are a programming error."""
    unknown = set(fields) - _DOMAIN_CALLBACK_FIELDS
    if unknown:
        raise ValueError(f"unknown callback field(s): {', '.join(sorted(unknown))}")
    return {endpoints.CALLBACK_FIELDS[name]: value for name, value in fields.items()}


def callback_from_wire(item: Any) -> RemoteCallback:
    """A wire callback object -> `RemoteCallback` (undisclosed password -> None)."""
    if not isinstance(item, dict):
        raise UnexpectedResponseError("expected a callback object", status=200)
    wire = endpoints.CALLBACK_FIELDS
    _check_id(item.get(wire["id"]), "callback", wire["id"])
    for name in ("name", "type", "url", "auth_username", "auth_password", "custom_headers"):
        _check_scalar(item.get(wire[name]), "callback", wire[name])
    _check_scalar(item.get(wire["use_basic_auth"]), "callback", wire["use_basic_auth"])

    def get(name: str) -> Any:
        return item.get(wire[name])

    password = get("auth_password")
    if any(password == masked for masked in endpoints.MASKED_PASSWORDS):
        password = None
    headers = get("custom_headers")
    username = get("auth_username")
    _register_live_secrets(password, headers, get("url"))
    return RemoteCallback(
        id=get("id"),
        name=str(get("name") or ""),
        type=str(get("type") or ""),
        url=str(get("url") or ""),
        use_basic_auth=bool(get("use_basic_auth")),
        auth_username=None if username is None else str(username),
        auth_password=None if password is None else str(password),
        custom_headers="" if headers is None else str(headers),
    )


def _odd(what: str, field: str, value: Any, expected: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"RingRx answered a {what} whose {field!r} is {_json_kind(value)}, where {expected} "
        "belongs; nothing was changed (is RINGRX_BASE_URL the RingRx API?)",
        status=200,
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    return "null" if value is None else f"a {type(value).__name__}"


def _check_id(value: Any, what: str, field: str) -> None:
    """An id is a number or a string."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _odd(what, field, value, "a number or a string")


def _check_scalar(value: Any, what: str, field: str) -> None:
    """A plain field is a string, a number, a boolean or null (never an object or a list)."""
    if isinstance(value, dict | list):
        raise _odd(what, field, value, "a single value")


def _register_live_secrets(password: Any, headers: Any, url: Any) -> None:
    """Live basic-auth passwords, values of secret-looking headers and URL userinfo
    passwords join the redactor."""
    if isinstance(password, str):
        redact.register(password)
    if isinstance(url, str) and "@" in url:
        m = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#@]*)@", url)
        if m:
            redact.register(m.group(1).partition(":")[2] or m.group(1))
    if isinstance(headers, str):
        for name, value in parse_headers(headers).items():
            if is_secret_header_name(name) or looks_like_credential(value):
                redact.register(value)


def target_from_wire(kind: str, item: dict[str, Any]) -> RemoteTarget:
    """A wire target object -> `RemoteTarget` (natural keys kept raw, as stored)."""
    target = target_endpoint(kind)
    _check_id(item.get(endpoints.TARGET_ID_FIELD), kind, endpoints.TARGET_ID_FIELD)
    for key in target.natural_keys:
        _check_scalar(item.get(key), kind, key)
    binding = item.get(target.binding_field)
    if binding is not None:
        _check_id(binding, kind, target.binding_field)
    keys = {key: str(item[key]) for key in target.natural_keys if item.get(key) is not None}
    return RemoteTarget(
        kind=kind,
        id=item.get(endpoints.TARGET_ID_FIELD),
        keys=keys,
        callback_id=item.get(target.binding_field),
    )
