"""The live account, normalised: headers as mappings, phone numbers as E.164, indexes.

Everything the planner needs is an O(1) dict lookup here, so a plan over an account of
tens of thousands of targets stays linear.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ringrx_iac.api.endpoints import TARGETS
from ringrx_iac.api.headers import parse_headers
from ringrx_iac.api.types import RemoteAccount, RemoteCallback, RemoteTarget
from ringrx_iac.phone import to_e164
from ringrx_iac.reconcile.lock import is_lock


@dataclass(frozen=True)
class LiveCallback:
    """A live callback. ``password`` None means the server did not disclose it (unknown)."""

    id: Any
    name: str
    type: str
    url: str
    headers: dict[str, str]
    use_basic_auth: bool
    username: str | None
    password: str | None
    raw_headers: str = ""


@dataclass(frozen=True, slots=True)
class LiveTarget:
    """A bindable object: ``display`` is its natural key as shown to users."""

    kind: str
    id: Any
    display: str
    keys: dict[str, str]
    callback_id: Any


def normalise_phone(value: str) -> str:
    """E.164 when ``value`` is a phone number, else the value stripped."""
    try:
        return to_e164(value)
    except ValueError:
        return str(value).strip()


def _callback(remote: RemoteCallback) -> LiveCallback:
    return LiveCallback(
        id=remote.id,
        name=remote.name,
        type=remote.type,
        url=remote.url,
        headers=parse_headers(remote.custom_headers),
        use_basic_auth=bool(remote.use_basic_auth),
        username=remote.auth_username or None,
        password=remote.auth_password,
        raw_headers=remote.custom_headers or "",
    )


def _targets(kind: str, remotes: Iterable[RemoteTarget]) -> list[LiveTarget]:
    """The live targets of one kind (the endpoint's facts looked up once per kind)."""
    endpoint = TARGETS[kind]
    natural = endpoint.natural_keys
    first = natural[0]
    is_phone = endpoint.is_phone_number
    out: list[LiveTarget] = []
    append = out.append
    for remote in remotes:
        keys = remote.keys  # shared when already all strings (as the client decodes them)
        for value in keys.values():
            if type(value) is not str:
                keys = {k: str(v) for k, v in remote.keys.items() if v is not None}
                break
        primary = keys.get(first, "")
        if is_phone:
            primary = normalise_phone(primary)
        elif not primary:
            primary = next((keys[k] for k in natural if keys.get(k)), str(remote.id))
        append(LiveTarget(remote.kind, remote.id, primary, keys, remote.callback_id))
    return out


@dataclass
class LiveState:
    """All live callbacks and targets, with lookup indexes."""

    callbacks: list[LiveCallback]
    targets: dict[str, list[LiveTarget]]
    by_id: dict[Any, LiveCallback] = field(init=False)
    _index: dict[str, list[dict[str, list[LiveTarget]]]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {cb.id: cb for cb in self.callbacks}
        self._index = {}

    def _key_index(self, kind: str) -> list[dict[str, list[LiveTarget]]]:
        """Per natural key (primary first): normalised value -> targets. Built on demand."""
        if kind not in self._index:
            endpoint = TARGETS[kind]
            indexes: list[dict[str, list[LiveTarget]]] = []
            for key in endpoint.natural_keys:
                index: dict[str, list[LiveTarget]] = {}
                for target in self.targets.get(kind, []):
                    value = target.keys.get(key)
                    if value is None:
                        continue
                    norm = target.display if endpoint.is_phone_number else value
                    index.setdefault(norm, []).append(target)
                indexes.append(index)
            self._index[kind] = indexes
        return self._index[kind]

    def find_target(self, kind: str, ref: str) -> list[LiveTarget]:
        """Targets of ``kind`` that ``ref`` names (primary key first); usually one."""
        norm = normalise_phone(ref) if TARGETS[kind].is_phone_number else str(ref).strip()
        for index in self._key_index(kind):
            found = index.get(norm)
            if found:
                return found
        return []

    def closest_target(self, kind: str, ref: str) -> str | None:
        """The existing natural key closest to ``ref``, in the same kind of key the user
        wrote: a misspelt mailbox name suggests the name, a wrong number the number."""
        candidates = {value for index in self._key_index(kind) for value in index}
        if TARGETS[kind].is_phone_number:
            ref = normalise_phone(ref)
        match = difflib.get_close_matches(ref, sorted(candidates), n=1, cutoff=0.5)
        return match[0] if match else None

    def all_targets(self) -> Iterable[LiveTarget]:
        for kind in sorted(self.targets):
            yield from self.targets[kind]

    def canonical(self) -> dict[str, Any]:
        """A JSON-able view of the whole state (for the fingerprint); sorted, stable."""
        callbacks = [
            {
                "id": cb.id,
                "name": cb.name,
                "type": cb.type,
                "url": cb.url,
                "custom_headers": cb.raw_headers,
                "use_basic_auth": cb.use_basic_auth,
                "username": cb.username,
                "password_sha256": _sha(cb.password) if cb.password is not None else None,
            }
            for cb in sorted(self.callbacks, key=lambda c: (str(c.id), c.name))
        ]
        targets = {
            kind: [[t.id, t.keys, t.callback_id] for t in sorted(ts, key=lambda t: str(t.id))]
            for kind, ts in sorted(self.targets.items())
        }
        return {"callbacks": callbacks, "targets": targets}

    def fingerprint(self) -> str:
        """``sha256:...`` of the canonical live state: any live change alters it."""
        return "sha256:" + _sha(canonical_json(self.canonical()))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_json(data: Any) -> str:
    """Sorted-keys, compact JSON: the input of every fingerprint."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def normalise(account: RemoteAccount) -> LiveState:
    """``RemoteAccount`` -> :class:`LiveState` (without the account lock: never managed)."""
    return LiveState(
        callbacks=[_callback(cb) for cb in account.callbacks if not is_lock(cb.name)],
        targets={kind: _targets(kind, ts) for kind, ts in account.targets.items()},
    )
