"""Seeds: the YAML/JSON description of an account the simulator starts from.

A seed is a mapping with optional keys ``users``, ``api_keys``, ``callbacks`` and one list
per target kind (``phone_numbers``, ``mailboxes``, ``fax_services``, ``outreach_profiles``,
``groups``; also accepted nested under ``targets``). Objects are in wire form; a target's
binding field (e.g. ``sms_callback_id``) may name a seeded callback id.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ringrx_iac.api import endpoints as ep
from ringrx_iac.simulator.state import (
    CREATED_AT,
    F_ID,
    UPDATED_AT,
    ApiKey,
    Invalid,
    State,
    User,
)

SeedSource = Path | str | Mapping[str, Any] | None
DEFAULT_SEED_NAME = "default_seed.yaml"


class SeedError(ValueError):
    """A seed that cannot be loaded; the message names the file and the problem."""


def default_seed() -> dict[str, Any]:
    """The seed that ships with the package."""
    text = resources.files("ringrx_iac.simulator").joinpath(DEFAULT_SEED_NAME).read_text("utf-8")
    return _parse(text, DEFAULT_SEED_NAME)


def read_seed(source: SeedSource) -> dict[str, Any]:
    """A seed as a plain dict, from a file (YAML or JSON), a mapping, or None (the default)."""
    if source is None:
        return default_seed()
    if isinstance(source, Mapping):
        return json.loads(json.dumps(dict(source)))  # deep, plain copy
    path = Path(source)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise SeedError(f"{path}: cannot read seed: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SeedError(f"{path}: seed is not UTF-8 text") from None
    return _parse(text, str(path))


def _parse(text: str, name: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = YAML(typ="safe", pure=True).load(io.StringIO(text))
        except Exception as exc:  # ruamel raises many error types
            raise SeedError(f"{name}: not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SeedError(f"{name}: a seed must be a mapping (users, api_keys, callbacks, ...)")
    return data


def build_state(source: SeedSource) -> State:
    """A fresh ``State`` holding the seed's account."""
    data = read_seed(source)
    where = f"{source}: " if isinstance(source, Path | str) else ""
    state = State()
    try:
        _fill(state, data)
    except SeedError as exc:
        raise SeedError(where + str(exc)) from None
    except Invalid as exc:
        raise SeedError(f"{where}seed: invalid callback: {exc.errors}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SeedError(f"{where}seed: malformed entry ({type(exc).__name__}: {exc})") from None
    return state


def _fill(state: State, data: Mapping[str, Any]) -> None:
    for i, u in enumerate(data.get("users") or [], start=1):
        user = User(
            id=int(u.get("id", i)),
            username=str(u["username"]),
            password=str(u["password"]),
            role=str(u.get("role", "admin")),
            otp_secret=u.get("otp_secret"),
        )
        state.users[user.username] = user
    for i, k in enumerate(data.get("api_keys") or [], start=1):
        username = str(k.get("user", "demo"))
        if username not in state.users:
            raise SeedError(f"seed: api key {i} belongs to unknown user {username!r}")
        key = ApiKey(
            id=int(k.get("id", i)),
            token=str(k["token"]),
            secret=str(k["secret"]),
            username=username,
            name=str(k.get("name", "")),
        )
        state.keys[key.token] = key
    for cb in data.get("callbacks") or []:
        fields = {k: v for k, v in cb.items() if k not in (F_ID, CREATED_AT, UPDATED_AT)}
        state.create_callback(
            fields,
            cb_id=int(cb[F_ID]) if F_ID in cb else None,
            created_at=cb.get(CREATED_AT),
            updated_at=cb.get(UPDATED_AT),
        )
    nested = data.get("targets") or {}
    for kind, spec in ep.TARGETS.items():
        for obj in list(data.get(kind) or []) + list(nested.get(kind) or []):
            cb_id = obj.get(spec.binding_field)
            if cb_id is not None and cb_id not in state.callbacks:
                raise SeedError(
                    f"seed: {kind} {obj.get('id', '?')}: {spec.binding_field} {cb_id} "
                    "names no seeded callback"
                )
            state.add_target(kind, obj)
    state.version = 0


def to_seed(state: State) -> dict[str, Any]:
    """The state as a seed (secrets included: for ``--state`` files only)."""
    snap = state.snapshot(secrets=True)
    seed: dict[str, Any] = {
        "users": snap["users"],
        "api_keys": snap["api_keys"],
        "callbacks": snap["callbacks"],
    }
    seed.update(snap["targets"])
    return seed


def write_state_file(state: State, path: Path) -> None:
    """Write the state atomically (temp file in the same directory, then ``os.replace``)."""
    data = json.dumps(to_seed(state), separators=(",", ":"))  # compact: 4x faster than indented
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generate_seed(
    phone_numbers: int = 20000,
    callbacks: int = 1000,
    bound: int = 10000,
    *,
    mailboxes: int = 50,
    groups: int = 20,
) -> dict[str, Any]:
    """A big account for benchmarks: the default users and keys, many targets and callbacks.

    Callbacks are mostly ``sms`` (every tenth one cycles through the other types); the
    first ``bound`` phone numbers are bound round-robin to the sms callbacks. Half of the
    numbers are stored without ``+1``.
    """
    base = default_seed()
    seed: dict[str, Any] = {"users": base["users"], "api_keys": base["api_keys"]}
    others = ("voicemail", "fax", "cdr", "recording", "outreach", "call_alert")
    cbs = []
    for i in range(1, callbacks + 1):
        cb_type = others[(i // 10) % len(others)] if i % 10 == 0 else "sms"
        cbs.append(
            {
                "id": i,
                "name": f"Callback {i:05d}",
                "callback_type": cb_type,
                "url": f"https://hooks.example.com/{cb_type}/{i}",
                "use_basic_auth": False,
                "custom_headers": "",
            }
        )
    seed["callbacks"] = cbs
    sms_ids = [c["id"] for c in cbs if c["callback_type"] == "sms"]
    numbers = []
    for i in range(1, phone_numbers + 1):
        digits = f"818{2000000 + i:07d}"
        numbers.append(
            {
                "id": i,
                "phonenumber": digits if i % 2 else "+1" + digits,
                "extension": f"{1000 + i % 9000}",
                "sms_extension": "",
                "tags": "",
                "sms_callback_id": sms_ids[(i - 1) % len(sms_ids)]
                if sms_ids and i <= bound
                else None,
            }
        )
    seed["phone_numbers"] = numbers
    seed["mailboxes"] = [
        {"id": i, "name": f"Mailbox {i}", "mailbox": f"{1000 + i}"} for i in range(1, mailboxes + 1)
    ]
    seed["fax_services"] = [{"id": 1, "name": "Main Fax", "extension": "7001"}]
    seed["outreach_profiles"] = [{"id": 1, "name": "Appointment reminders"}]
    seed["groups"] = [
        {"id": i, "name": f"Group {i}", "extension": f"{8000 + i}"} for i in range(1, groups + 1)
    ]
    return seed
