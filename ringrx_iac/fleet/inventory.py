"""The fleet inventory (``fleet.yaml``): the RingRx accounts one repository manages.

```yaml
version: 1
defaults:                      # optional: merged into every account (the account wins)
  base_url: https://portal.ringrx.com
  variables: {crm_host: hooks.example.com}
  tags: {region: west}
accounts:
  - key: smile-west            # short, unique: [a-z0-9][a-z0-9_.-]*
    name: Smile Dental West    # display name (default: the key)
    credentials:               # references only, resolved when the account is run
      api_key: "${env:SMILE_WEST_API_KEY}"
      api_secret: "${file:secrets/smile-west.secret}"
    config: practices/smile-west/   # a file or directory, or a list (later layers extend earlier)
    variables: {practice_id: 1201}  # template variables of its configuration
    tags: {tier: canary}
```

Paths (``config``, ``${file:...}``) are relative to the inventory file. Every problem is a
located :class:`Diagnostic`; nothing here resolves a secret.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringrx_iac.api import endpoints
from ringrx_iac.api.credentials import check_base_url
from ringrx_iac.api.errors import SettingsError
from ringrx_iac.config import secrets
from ringrx_iac.config.yamlio import KeyPath, SourceMap, YamlLoadError, decode, parse
from ringrx_iac.diagnostics import Diagnostic, Location
from ringrx_iac.diagnostics.codes import RULES

KEY_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}\Z")
TOP_KEYS = ("version", "defaults", "accounts")
DEFAULT_KEYS = ("base_url", "variables", "tags")
ACCOUNT_KEYS = ("key", "name", "base_url", "credentials", "config", "variables", "tags")
CREDENTIAL_KEYS = ("api_key", "api_secret")
CREDENTIAL_ALIASES = {"api_token": "api_key"}


class SelectionError(ValueError):
    """``--account``/``--tag``/``--all`` do not select anything usable; the message says why."""


@dataclass(frozen=True)
class Account:
    """One account of the fleet; credentials are references, never values."""

    key: str
    name: str
    base_url: str
    api_key: str
    api_secret: str
    configs: tuple[Path, ...]
    variables: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    location: Location | None = None

    def has_tag(self, key: str, value: str) -> bool:
        return self.tags.get(key) == value


@dataclass
class Inventory:
    """A loaded inventory: its accounts (in file order) and every finding."""

    path: Path
    accounts: list[Account]
    diagnostics: list[Diagnostic]

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def select(
        self, keys: Sequence[str] = (), tags: Sequence[str] = (), everything: bool = False
    ) -> list[Account]:
        """The accounts chosen by ``--account`` (repeatable), ``--tag k=v`` (all must match)
        and ``--all``, in inventory order; raise :class:`SelectionError`."""
        if not keys and not tags and not everything:
            raise SelectionError(
                "choose the accounts: --account KEY (repeatable), --tag KEY=VALUE or --all"
            )
        chosen = list(self.accounts)
        if keys:
            known = {a.key for a in self.accounts}
            for key in keys:
                if key not in known:
                    close = difflib.get_close_matches(key, sorted(known), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    raise SelectionError(f"no account {key!r} in {self.path}{hint}")
            chosen = [a for a in chosen if a.key in set(keys)]
        for k, v in (parse_tag(t) for t in tags):
            chosen = [a for a in chosen if a.has_tag(k, v)]
        if not chosen:
            raise SelectionError(f"no account of {self.path} matches {' '.join(tags)}")
        return chosen


def parse_tag(text: str) -> tuple[str, str]:
    """``"tier=canary"`` -> ``("tier", "canary")``; raise :class:`SelectionError`."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SelectionError(f"tag {text!r} is not KEY=VALUE, e.g. tier=canary")
    return key.strip(), value.strip()


def load_inventory(path: Path | str) -> Inventory:
    """Read and check the inventory at ``path`` (offline; secrets are not resolved)."""
    path = Path(path)
    inv = Inventory(path, [], [])
    display = str(path)
    try:
        data, sources, problems = parse(decode(path.read_bytes(), display), display)
    except OSError as exc:
        inv.diagnostics.append(
            RULES["RRX001"].diag(
                f"cannot read the inventory {display}: {exc.strerror}", Location(display)
            )
        )
        return inv
    except YamlLoadError as exc:
        p = exc.problem
        inv.diagnostics.append(
            RULES["RRX006"].diag(p.message, Location(display, p.line, p.column), p.hint)
        )
        return inv
    for p in problems:
        code = "RRX007" if p.kind == "duplicate-key" else "RRX006"
        inv.diagnostics.append(RULES[code].diag(p.message, Location(display, p.line, p.column)))
    _Reader(inv, sources).read(data)
    return inv


class _Reader:
    """Checks the parsed inventory, key by key, reporting at exact positions."""

    def __init__(self, inv: Inventory, sources: SourceMap) -> None:
        self.inv = inv
        self.sources = sources

    def error(self, code: str, message: str, at: KeyPath, hint: str | None = None) -> None:
        self.inv.diagnostics.append(RULES[code].diag(message, self.sources.locate(at), hint))

    def mapping(self, value: Any, at: KeyPath, allowed: Sequence[str], what: str) -> bool:
        if not isinstance(value, dict):
            self.error("RRX021", f"{what} must be a mapping", at)
            return False
        for key in value:
            if key not in allowed and key not in CREDENTIAL_ALIASES:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
                self.inv.diagnostics.append(
                    RULES["RRX020"].diag(
                        f"unknown key {key!r} in {what}",
                        self.sources.locate_key((*at, key)),
                        hint,
                    )
                )
        return True

    def read(self, data: Any) -> None:
        if not self.mapping(data, (), TOP_KEYS, "the inventory"):
            return
        if data.get("version") != 1:
            self.error(
                "RRX011", "the inventory needs 'version: 1'", ("version",), "set 'version: 1'"
            )
        defaults = data.get("defaults") or {}
        if not self.mapping(defaults, ("defaults",), DEFAULT_KEYS, "'defaults'"):
            defaults = {}
        accounts = data.get("accounts")
        items: list[tuple[KeyPath, Any]]
        if isinstance(accounts, list):
            items = [(("accounts", i), a) for i, a in enumerate(accounts)]
        elif isinstance(accounts, dict):  # the key -> account form
            items = [
                (("accounts", k), {"key": k, **a} if isinstance(a, dict) else a)
                for k, a in accounts.items()
            ]
        else:
            self.error(
                "RRX022",
                "the inventory needs 'accounts:', a list of accounts",
                ("accounts",),
                "add accounts: [{key: ..., credentials: ..., config: ...}]",
            )
            return
        seen: dict[str, KeyPath] = {}
        for at, item in items:
            key = item.get("key") if isinstance(item, dict) else None
            if isinstance(key, str) and key in seen:
                self.error(
                    "RRX040",
                    f"account key {key!r} is used twice: here and at "
                    f"{self.sources.locate(seen[key])}",
                    at,
                )
                continue
            if isinstance(key, str):
                seen[key] = at
            account = self.account(item, at, defaults)
            if account is not None:
                self.inv.accounts.append(account)

    def account(self, item: Any, at: KeyPath, defaults: Mapping[str, Any]) -> Account | None:
        if not self.mapping(item, at, ACCOUNT_KEYS, f"account {at[-1]!r}"):
            return None
        ok = True
        key = item.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            self.error(
                "RRX021" if key is not None else "RRX022",
                f"account key {key!r} is not a short key" if key is not None else "missing 'key'",
                (*at, "key"),
                "lower-case letters, digits, '.', '_' and '-', starting with a letter or digit",
            )
            ok = False
        name = item.get("name", key)
        if not isinstance(name, str):
            self.error("RRX021", "'name' must be a string", (*at, "name"))
            ok = False
        base_url = self.base_url(item, defaults, at)
        creds = self.credentials(item.get("credentials"), (*at, "credentials"))
        configs = self.configs(item.get("config"), (*at, "config"))
        variables = {
            **self.variables(defaults.get("variables"), ("defaults", "variables")),
            **self.variables(item.get("variables"), (*at, "variables")),
        }
        tags = {
            **self.tags(defaults.get("tags"), ("defaults", "tags")),
            **self.tags(item.get("tags"), (*at, "tags")),
        }
        if not ok or base_url is None or creds is None or configs is None:
            return None
        return Account(
            key=str(key),
            name=str(name),
            base_url=base_url,
            api_key=creds[0],
            api_secret=creds[1],
            configs=configs,
            variables=variables,
            tags=tags,
            location=self.sources.locate(at),
        )

    def base_url(
        self, item: Mapping[str, Any], defaults: Mapping[str, Any], at: KeyPath
    ) -> str | None:
        where = (*at, "base_url") if "base_url" in item else ("defaults", "base_url")
        value = item.get("base_url", defaults.get("base_url", endpoints.DEFAULT_BASE_URL))
        if not isinstance(value, str):
            self.error("RRX021", "'base_url' must be a string (an https:// URL)", where)
            return None
        try:
            return check_base_url(value, insecure=True)
        except SettingsError as exc:
            self.error("RRX021", f"base_url: {exc}", where)
            return None

    def credentials(self, value: Any, at: KeyPath) -> tuple[str, str] | None:
        hint = 'credentials: {api_key: "${env:NAME}", api_secret: "${file:PATH}"}'
        if value is None:
            self.error("RRX022", "missing 'credentials' (the account's RingRx API key)", at, hint)
            return None
        if not self.mapping(value, at, CREDENTIAL_KEYS, "'credentials'"):
            return None
        value = {CREDENTIAL_ALIASES.get(k, k): v for k, v in value.items()}
        found: list[str] = []
        for name in CREDENTIAL_KEYS:
            ref = value.get(name)
            where = (*at, name)
            if ref is None:
                self.error("RRX022", f"missing {name!r} in 'credentials'", at, hint)
            elif not isinstance(ref, str) or not ref.strip():
                self.error("RRX021", f"{name!r} must be a string", where, hint)
            elif secrets.check_syntax(ref):
                problem = secrets.check_syntax(ref)[0]
                self.error("RRX021", f"{name}: {problem.message}", where, problem.hint)
            elif not secrets.is_reference(ref):
                self.error(
                    "RRX041",
                    f"{name!r} is written literally; the inventory is committed, so it must "
                    "hold a reference, not the secret",
                    where,
                )
            else:
                found.append(ref)
        return (found[0], found[1]) if len(found) == 2 else None

    def configs(self, value: Any, at: KeyPath) -> tuple[Path, ...] | None:
        if value is None:
            self.error(
                "RRX022",
                "missing 'config' (the account's configuration file or directory)",
                at,
                "e.g. config: practices/smile-west/",
            )
            return None
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v.strip() for v in values):
            self.error("RRX021", "'config' must be a path or a list of paths", at)
            return None
        return tuple(self.inv.base_dir / v for v in values)

    def variables(self, value: Any, at: KeyPath) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            self.error("RRX021", "'variables' must be a mapping of names to values", at)
            return {}
        return dict(value)

    def tags(self, value: Any, at: KeyPath) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(v, str | int | float | bool) for v in value.values()
        ):
            self.error(
                "RRX021",
                "'tags' must be a mapping of names to values",
                at,
                "e.g. tags: {tier: canary}",
            )
            return {}
        return {str(k): _tag_text(v) for k, v in value.items()}


def _tag_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
