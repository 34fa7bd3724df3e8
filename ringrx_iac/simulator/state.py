"""The simulator's in-memory account: callbacks, the five target lists, users and API keys.

Everything is kept in wire form (the field names of ``api/endpoints.py``) in dicts indexed
by id, so every handler is O(1). One re-entrant lock guards the state: the server runs in
a background thread while tests may read or edit ``State`` directly.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ringrx_iac.api import endpoints as ep
from ringrx_iac.catalog import BIND_KEYS, CALLBACK_TYPES
from ringrx_iac.sensitive import is_secret_header_name, looks_like_credential

Obj = dict[str, Any]
Errors = dict[str, list[str]]

F_ID = ep.CALLBACK_FIELDS["id"]
T_ID = ep.TARGET_ID_FIELD
F_NAME = ep.CALLBACK_FIELDS["name"]
F_TYPE = ep.CALLBACK_FIELDS["type"]
F_URL = ep.CALLBACK_FIELDS["url"]
F_BASIC = ep.CALLBACK_FIELDS["use_basic_auth"]
F_USER = ep.CALLBACK_FIELDS["auth_username"]
F_PASS = ep.CALLBACK_FIELDS["auth_password"]
F_HEADERS = ep.CALLBACK_FIELDS["custom_headers"]
CREATED_AT = "created_at"
UPDATED_AT = "updated_at"
WRITABLE_CALLBACK_FIELDS: tuple[str, ...] = (
    F_NAME,
    F_TYPE,
    F_URL,
    F_BASIC,
    F_USER,
    F_PASS,
    F_HEADERS,
)
MAX_NAME = 255
MAX_URL = 2048
READ_ONLY_ROLE = "read_only"
# Which callback type each target kind takes.
TYPE_OF_KIND: dict[str, str] = dict(BIND_KEYS)
TARGET_LABEL: dict[str, str] = {
    "phone_numbers": "phone number",
    "mailboxes": "mailbox",
    "fax_services": "fax service",
    "outreach_profiles": "outreach profile",
    "groups": "group",
}


class NotFound(Exception):
    """No object with that id."""


class Invalid(Exception):
    """A validation failure: field -> messages (rendered as a 422)."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(errors)
        self.errors = errors


def now_iso() -> str:
    """The current UTC time as RingRx renders it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def e164(number: str) -> str:
    """A North American number normalised for comparison: ``8185551234`` -> ``+18185551234``."""
    digits = "".join(c for c in str(number) if c.isdigit())
    if len(digits) == 10:
        digits = "1" + digits
    return "+" + digits


@dataclass
class User:
    """A portal user. ``otp_secret`` set means TOTP 2FA is on."""

    id: int
    username: str
    password: str
    role: str = "admin"
    otp_secret: str | None = None

    @property
    def read_only(self) -> bool:
        return self.role == READ_ONLY_ROLE


@dataclass
class ApiKey:
    """An API key (token + secret) generated under a user's account."""

    id: int
    token: str
    secret: str
    username: str
    name: str = ""


@dataclass
class State:
    """The account. Mutate it only through its methods (they validate and keep indexes)."""

    callbacks: dict[int, Obj] = field(default_factory=dict)
    targets: dict[str, dict[int, Obj]] = field(default_factory=lambda: {k: {} for k in ep.TARGETS})
    users: dict[str, User] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)  # token -> key
    next_callback_id: int = 1
    # callback id -> {(kind, target id)}: clears bindings in O(bindings) on delete.
    bound: dict[int, set[tuple[str, int]]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    # Called after every successful write (persistence); set by the server.
    on_write: Callable[[State], None] | None = field(default=None, repr=False)
    # Bumped on every write: lets readers cache rendered lists.
    version: int = 0

    # ----------------------------------------------------------------- reading

    def list_callbacks(self) -> list[Obj]:
        with self.lock:
            return [dict(c) for c in self.callbacks.values()]

    def get_callback(self, cb_id: int) -> Obj:
        with self.lock:
            try:
                return dict(self.callbacks[cb_id])
            except KeyError:
                raise NotFound(cb_id) from None

    def list_targets(self, kind: str) -> list[Obj]:
        with self.lock:
            return [dict(t) for t in self.targets[kind].values()]

    def get_target(self, kind: str, target_id: int) -> Obj:
        with self.lock:
            try:
                return dict(self.targets[kind][target_id])
            except KeyError:
                raise NotFound(target_id) from None

    def find_targets(self, kind: str, key: str) -> list[Obj]:
        """Targets of ``kind`` named by ``key`` (any natural key; phone numbers normalised)."""
        spec = ep.TARGETS[kind]
        with self.lock:
            found = []
            for t in self.targets[kind].values():
                for f in spec.natural_keys:
                    value = t.get(f)
                    if value is None:
                        continue
                    if spec.is_phone_number:
                        if e164(str(value)) == e164(key):
                            found.append(dict(t))
                            break
                    elif str(value) == str(key):
                        found.append(dict(t))
                        break
            return found

    # ----------------------------------------------------------------- callbacks

    def create_callback(
        self,
        fields: Mapping[str, Any],
        *,
        cb_id: int | None = None,
        created_at: str | None = None,
        updated_at: str | None = None,
    ) -> Obj:
        """Validate and store a new callback; returns it (with id and timestamps)."""
        errors = _check_fields(fields)
        for required in (F_NAME, F_TYPE, F_URL):
            if required not in fields or fields[required] in (None, ""):
                errors.setdefault(required, []).insert(0, "can't be blank")
        if errors:
            raise Invalid(errors)
        stamp = now_iso()
        with self.lock:
            if cb_id is None:
                cb_id = self.next_callback_id
            self.next_callback_id = max(self.next_callback_id, cb_id + 1)
            cb: Obj = {
                F_ID: cb_id,
                F_NAME: fields[F_NAME],
                F_TYPE: fields[F_TYPE],
                F_URL: fields[F_URL],
                F_BASIC: bool(fields.get(F_BASIC, False)),
                F_USER: fields.get(F_USER),
                F_PASS: fields.get(F_PASS),
                F_HEADERS: fields.get(F_HEADERS) or "",
                CREATED_AT: created_at or stamp,
                UPDATED_AT: updated_at or created_at or stamp,
            }
            self.callbacks[cb_id] = cb
            self._written()
            return dict(cb)

    def update_callback(
        self, cb_id: int, fields: Mapping[str, Any], *, allow_type_change: bool = False
    ) -> Obj:
        """Change only the given fields; the type cannot change (except by the admin API)."""
        with self.lock:
            cb = self.callbacks.get(cb_id)
            if cb is None:
                raise NotFound(cb_id)
            errors = _check_fields(fields)
            for required in (F_NAME, F_URL):
                if required in fields and fields[required] in (None, ""):
                    errors.setdefault(required, []).insert(0, "can't be blank")
            changed_type = F_TYPE in fields and fields[F_TYPE] != cb[F_TYPE]
            if changed_type and not allow_type_change and F_TYPE not in errors:
                errors[F_TYPE] = ["cannot be changed"]
            if errors:
                raise Invalid(errors)
            for key, value in fields.items():
                if key == F_HEADERS and value is None:
                    value = ""
                cb[key] = bool(value) if key == F_BASIC else value
            cb[UPDATED_AT] = now_iso()
            self._written()
            return dict(cb)

    def delete_callback(self, cb_id: int) -> None:
        """Delete a callback and clear every binding to it."""
        with self.lock:
            cb = self.callbacks.pop(cb_id, None)
            if cb is None:
                raise NotFound(cb_id)
            for kind, target_id in self.bound.pop(cb_id, set()):
                target = self.targets[kind].get(target_id)
                if target is not None:
                    target[ep.TARGETS[kind].binding_field] = None
            self._written()

    # ----------------------------------------------------------------- targets

    def add_target(self, kind: str, obj: Mapping[str, Any]) -> Obj:
        """Store a target (seeding); its binding, when set, must name an existing callback."""
        spec = ep.TARGETS[kind]
        with self.lock:
            table = self.targets[kind]
            target_id = int(obj[T_ID]) if T_ID in obj else max(table, default=0) + 1
            target: Obj = {T_ID: target_id, **{k: v for k, v in obj.items() if k != T_ID}}
            target.setdefault(spec.binding_field, None)
            table[target_id] = target
            cb_id = target[spec.binding_field]
            if cb_id is not None:
                self.bound.setdefault(cb_id, set()).add((kind, target_id))
            return dict(target)

    def bind(self, kind: str, target_id: int, cb_id: int | None, *, check: bool = True) -> Obj:
        """Set a target's binding field (None unbinds); 422 on a missing or mistyped callback."""
        spec = ep.TARGETS[kind]
        with self.lock:
            target = self.targets[kind].get(target_id)
            if target is None:
                raise NotFound(target_id)
            if cb_id is not None and check:
                cb = self.callbacks.get(cb_id)
                if cb is None:
                    raise Invalid({spec.binding_field: [f"no callback with id {cb_id}"]})
                wanted = TYPE_OF_KIND[kind]
                if cb[F_TYPE] != wanted:
                    raise Invalid(
                        {
                            spec.binding_field: [
                                f"names a {cb[F_TYPE]} callback; a {TARGET_LABEL[kind]} "
                                f"takes {wanted} callbacks"
                            ]
                        }
                    )
            old = target.get(spec.binding_field)
            if old is not None and old in self.bound:
                self.bound[old].discard((kind, target_id))
                if not self.bound[old]:
                    del self.bound[old]
            target[spec.binding_field] = cb_id
            if cb_id is not None:
                self.bound.setdefault(cb_id, set()).add((kind, target_id))
            self._written()
            return dict(target)

    def patch_target(self, kind: str, target_id: int, fields: Mapping[str, Any]) -> Obj:
        """Admin edit of any field of a target ("changed in the portal"); keeps indexes."""
        spec = ep.TARGETS[kind]
        with self.lock:
            if target_id not in self.targets[kind]:
                raise NotFound(target_id)
            if spec.binding_field in fields:
                self.bind(kind, target_id, fields[spec.binding_field], check=False)
            target = self.targets[kind][target_id]
            for key, value in fields.items():
                if key not in (T_ID, spec.binding_field):
                    target[key] = value
            self._written()
            return dict(target)

    # ----------------------------------------------------------------- keys

    def delete_key(self, token: str) -> ApiKey:
        with self.lock:
            key = self.keys.pop(token, None)
            if key is None:
                raise NotFound(token)
            self._written()
            return key

    def principal_exists(self, kid: str) -> bool:
        """Whether the key or user an access token was minted from still exists."""
        kind, _, ident = kid.partition(":")
        if kind == "k":
            return any(str(k.id) == ident for k in self.keys.values())
        if kind == "u":
            return ident in self.users
        return False

    # ----------------------------------------------------------------- whole state

    def replace(self, other: State) -> None:
        """Take over another state's content (reset / reseed), keeping lock and hooks."""
        with self.lock:
            self.callbacks = other.callbacks
            self.targets = other.targets
            self.users = other.users
            self.keys = other.keys
            self.next_callback_id = other.next_callback_id
            self.bound = other.bound
            self._written()

    def snapshot(self, *, secrets: bool = False) -> Obj:
        """A JSON-able dump. Without ``secrets``: no key secrets, user passwords or OTP seeds,
        and callbacks' basic-auth passwords and secret header values masked."""
        with self.lock:
            callbacks = copy.deepcopy(list(self.callbacks.values()))
            data: Obj = {
                "callbacks": callbacks if secrets else [_masked(cb) for cb in callbacks],
                "targets": {k: copy.deepcopy(list(v.values())) for k, v in self.targets.items()},
            }
            if secrets:
                data["users"] = [
                    {
                        "id": u.id,
                        "username": u.username,
                        "password": u.password,
                        "role": u.role,
                        "otp_secret": u.otp_secret,
                    }
                    for u in self.users.values()
                ]
                data["api_keys"] = [
                    {
                        "id": k.id,
                        "token": k.token,
                        "secret": k.secret,
                        "user": k.username,
                        "name": k.name,
                    }
                    for k in self.keys.values()
                ]
            else:
                data["users"] = [
                    {"id": u.id, "username": u.username, "role": u.role, "otp": bool(u.otp_secret)}
                    for u in self.users.values()
                ]
                data["api_keys"] = [
                    {"id": k.id, "token": k.token, "user": k.username, "name": k.name}
                    for k in self.keys.values()
                ]
            return data

    def _written(self) -> None:
        self.version += 1
        if self.on_write is not None:
            self.on_write(self)


def _check_fields(fields: Mapping[str, Any]) -> Errors:
    """Type and format checks of the callback fields present in ``fields``."""
    errors: Errors = {}
    for key in fields:
        if key not in WRITABLE_CALLBACK_FIELDS:
            errors[key] = ["is not permitted"]
    name = fields.get(F_NAME)
    if name is not None:
        if not isinstance(name, str):
            errors[F_NAME] = ["must be a string"]
        elif len(name) > MAX_NAME:
            errors[F_NAME] = [f"is too long (maximum is {MAX_NAME} characters)"]
    cb_type = fields.get(F_TYPE)
    if cb_type is not None and cb_type not in CALLBACK_TYPES:
        errors[F_TYPE] = [f"is not included in the list ({', '.join(CALLBACK_TYPES)})"]
    url = fields.get(F_URL)
    if url is not None and url != "":
        if not isinstance(url, str):
            errors[F_URL] = ["must be a string"]
        elif len(url) > MAX_URL:
            errors[F_URL] = [f"is too long (maximum is {MAX_URL} characters)"]
        else:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                errors[F_URL] = ["is invalid (must be an http or https URL)"]
    if F_BASIC in fields and not isinstance(fields[F_BASIC], bool):
        errors[F_BASIC] = ["must be true or false"]
    for key in (F_USER, F_PASS, F_HEADERS):
        if key in fields and fields[key] is not None and not isinstance(fields[key], str):
            errors[key] = ["must be a string"]
    return errors


SNAPSHOT_MASK = "********"


def _masked(callback: Obj) -> Obj:
    """A callback with its password and secret header values masked (admin state view)."""
    if callback.get(F_PASS):
        callback[F_PASS] = SNAPSHOT_MASK
    headers = callback.get(F_HEADERS)
    if isinstance(headers, str) and headers:
        lines = []
        for line in headers.replace("\r\n", "\n").split("\n"):
            name, sep, value = line.partition(":")
            secret = is_secret_header_name(name) or looks_like_credential(value)
            lines.append(f"{name}:{SNAPSHOT_MASK}" if sep and secret and value.strip() else line)
        callback[F_HEADERS] = "\r\n".join(lines)
    return callback
