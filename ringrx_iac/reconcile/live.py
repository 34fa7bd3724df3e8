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
from ringrx_iac.phone import common_e164, to_e164
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


# ``LiveTarget(...)`` sets each field through ``object.__setattr__`` (it is frozen): at
# 200,000 targets that is half of ``normalise``. The slots' own setters do the same in
# half the time, and the class stays frozen.
_SET_FIELDS = tuple(
    getattr(LiveTarget, name).__set__ for name in ("kind", "id", "display", "keys", "callback_id")
)


def normalise_phone(value: str) -> str:
    """E.164 when ``value`` is a phone number, else the value stripped."""
    if type(value) is str:
        fast = common_e164(value)
        if fast is not None:
            return fast
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
    new = object.__new__
    set_kind, set_id, set_display, set_keys, set_bound = _SET_FIELDS
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
        # LiveTarget(kind, id, primary, keys, callback_id), without the frozen __init__:
        # see _SET_FIELDS.
        target = new(LiveTarget)
        set_kind(target, remote.kind)
        set_id(target, remote.id)
        set_display(target, primary)
        set_keys(target, keys)
        set_bound(target, remote.callback_id)
        append(target)
    return out


@dataclass
class LiveState:
    """All live callbacks and targets, with lookup indexes."""

    callbacks: list[LiveCallback]
    targets: dict[str, list[LiveTarget]]
    by_id: dict[Any, LiveCallback] = field(init=False)
    # kind -> per natural key: value -> the one target it names, or a list when several.
    _index: dict[str, list[dict[str, LiveTarget | list[LiveTarget]]]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {cb.id: cb for cb in self.callbacks}
        self._index = {}

    def _key_index(self, kind: str) -> list[dict[str, LiveTarget | list[LiveTarget]]]:
        """Per natural key (primary first): normalised value -> targets. Built on demand."""
        indexes = self._index.get(kind)
        if indexes is None:
            endpoint = TARGETS[kind]
            targets = self.targets.get(kind, [])
            phone = endpoint.is_phone_number
            indexes = [_index_by(targets, key, phone) for key in endpoint.natural_keys]
            self._index[kind] = indexes
        return indexes

    def find_target(self, kind: str, ref: str) -> list[LiveTarget]:
        """Targets of ``kind`` that ``ref`` names (primary key first); usually one."""
        return self.find_targets(kind, (ref,))[0]

    def find_targets(self, kind: str, refs: Iterable[str]) -> list[list[LiveTarget]]:
        """:meth:`find_target` of each of ``refs`` (one look-up of the kind's facts)."""
        indexes = self._key_index(kind)
        phone = TARGETS[kind].is_phone_number
        out: list[list[LiveTarget]] = []
        for ref in refs:
            norm = normalise_phone(ref) if phone else str(ref).strip()
            for index in indexes:
                found = index.get(norm)
                if found is not None:
                    out.append(found if type(found) is list else [found])  # type: ignore[list-item]
                    break
            else:
                out.append([])
        return out

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
        return {
            "callbacks": self._canonical_callbacks(),
            "targets": {
                kind: _canonical_targets(_by_str_id(ts))
                for kind, ts in sorted(self.targets.items())
            },
        }

    def _canonical_callbacks(self) -> list[dict[str, Any]]:
        return [
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

    def fingerprint(self) -> str:
        """``sha256:...`` of the canonical live state: any live change alters it.

        The hash of ``canonical_json(self.canonical())``, fed in pieces: the whole text
        (and a list per target) would be ~40 MB at 200,000 targets, for one hash.
        """
        digest = hashlib.sha256()
        digest.update(b'{"callbacks":')
        digest.update(canonical_json(self._canonical_callbacks()).encode("utf-8"))
        digest.update(b',"targets":{')
        for i, (kind, targets) in enumerate(sorted(self.targets.items())):
            digest.update(b"," if i else b"")
            digest.update(canonical_json(kind).encode("utf-8") + b":[")
            ordered = _by_str_id(targets)
            for start in range(0, len(ordered), _FINGERPRINT_CHUNK):
                chunk = ordered[start : start + _FINGERPRINT_CHUNK]
                text = canonical_json(_canonical_targets(chunk))
                digest.update(b"," if start else b"")
                digest.update(text[1:-1].encode("utf-8"))  # the items, without [ ]
            digest.update(b"]")
        digest.update(b"}}")
        return "sha256:" + digest.hexdigest()


_FINGERPRINT_CHUNK = 5000  # targets encoded at a time by LiveState.fingerprint


def _by_str_id(targets: list[LiveTarget]) -> list[LiveTarget]:
    return sorted(targets, key=lambda t: str(t.id))


def _canonical_targets(targets: list[LiveTarget]) -> list[list[Any]]:
    return [[t.id, t.keys, t.callback_id] for t in targets]


def _index_by(
    targets: list[LiveTarget], key: str, phone: bool
) -> dict[str, LiveTarget | list[LiveTarget]]:
    """Targets that have ``key``, by its value (the display number for phone numbers).

    A value naming one target maps to it (no one-item list per target: 200,000 of them
    at 10,000 callbacks); one naming several maps to a list of them, in account order.
    """
    named = [t for t in targets if key in t.keys]  # keys never hold None (see _targets)
    index: dict[str, LiveTarget | list[LiveTarget]] = (
        {t.display: t for t in named} if phone else {t.keys[key]: t for t in named}
    )
    if len(index) == len(named):
        return index
    index = {}
    for target in named:
        norm = target.display if phone else target.keys[key]
        have = index.get(norm)
        if have is None:
            index[norm] = target
        elif type(have) is list:
            have.append(target)
        else:
            index[norm] = [have, target]  # type: ignore[list-item]
    return index


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
