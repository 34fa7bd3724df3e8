"""The lint checks: meaning of a configuration that already has the right shape.

Every finding is a :class:`~ringrx_iac.diagnostics.Diagnostic` of a rule of
:mod:`ringrx_iac.diagnostics.codes`, located through the loader's :class:`SourceMap`.
Duplicate checks use dictionaries, so linting is linear in the number of callbacks.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ringrx_iac.catalog import CATALOG, CallbackType, types_with_token
from ringrx_iac.config import secrets
from ringrx_iac.config.models import BasicAuth, CallbackSpec, Config
from ringrx_iac.config.yamlio import KeyPath, SourceMap
from ringrx_iac.diagnostics import Diagnostic, Location
from ringrx_iac.diagnostics.codes import RULES
from ringrx_iac.lint.policy_checks import lint_policy
from ringrx_iac.lint.tokens import scan
from ringrx_iac.phone import to_e164
from ringrx_iac.sensitive import is_secret_header_name

_USERINFO_RE = re.compile(r"(//)[^/?#@]*@")
_PLACEHOLDER_RE = re.compile(r"\{[^{}]*\}")
_SPACE_RE = re.compile(r"\s")  # the characters str.isspace() accepts
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")

# The same fact under each type's own token name: used for "sms uses {from}" hints.
_SYNONYMS: tuple[dict[str, str], ...] = (
    {  # the calling number
        "sms": "from",
        "voicemail": "caller",
        "fax": "caller",
        "cdr": "caller_id_number",
        "recording": "caller_id_number",
        "call_alert": "caller_number",
        "outreach": "phonenumber",
    },
    {  # the called number
        "sms": "to",
        "voicemail": "called",
        "fax": "called",
        "cdr": "dialed_digits",
        "recording": "dialed_digits",
        "call_alert": "dialed_number",
    },
    {  # when
        "sms": "timestamp",
        "voicemail": "created_at",
        "fax": "created_at",
        "cdr": "start_time",
        "recording": "start_time",
        "call_alert": "created_at",
        "outreach": "reminder_date",
    },
    {  # the caller's name
        "cdr": "caller_id_name",
        "recording": "caller_id_name",
        "call_alert": "caller_name",
        "outreach": "name",
    },
    {  # the event's id
        "voicemail": "id",
        "fax": "id",
        "cdr": "id",
        "recording": "id",
        "outreach": "id",
        "call_alert": "uuid",
    },
)


def _redact(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    return _USERINFO_RE.sub(r"\1***@", url)


def lint(
    config: Config, sources: SourceMap, *, other_names: Iterable[str] = ()
) -> list[Diagnostic]:
    """Every lint finding for ``config``.

    ``other_names`` are names of callbacks left out of ``config`` because they failed the
    schema: they still count as callbacks of the configuration for the name checks.
    """
    return _Linter(config, sources, other_names).run()


def suggest_token(token: str, ctype: CallbackType) -> tuple[str, str]:
    """(extra message, hint) for an unknown ``{token}`` on ``ctype``."""
    others = [t for t in types_with_token(token) if t != ctype.name]
    if ctype.name in ("cdr", "recording"):
        others = [t for t in others if t not in ("cdr", "recording")]
    extra = f" ({{{token}}} is a token of {', '.join(others)})" if others else ""
    for group in _SYNONYMS:
        if ctype.name in group and token in group.values() and group[ctype.name] != token:
            return extra, f"{ctype.name} uses {{{group[ctype.name]}}}"
    close = difflib.get_close_matches(token, ctype.tokens, n=1, cutoff=0.6)
    if close:
        return extra, f"did you mean {{{close[0]}}}?"
    listed = ", ".join(f"{{{t}}}" for t in ctype.tokens)
    return extra, f"{ctype.name} tokens: {listed}"


# The name of apply's account lock (``reconcile.lock.LOCK_NAME``; a test keeps them equal;
# not imported, so that validate loads nothing of the reconciler).
RESERVED_LOCK_NAME = "ringrx-iac lock"


class _Linter:
    def __init__(self, config: Config, sources: SourceMap, other_names: Iterable[str]) -> None:
        self.config = config
        self.sources = sources
        self.other_names = list(other_names)
        self.out: list[Diagnostic] = []
        self.default_header_keys = {k.lower(): k for k in config.defaults.headers}
        # Values already checked without a finding. A header's checks depend only on its
        # name, value and the callback type, basic auth's only on its two fields: a large
        # configuration repeats them (the same ${env:...} on every callback), so each
        # distinct one is checked once. Anything with a finding is checked every time,
        # so every occurrence is reported at its own position.
        self.clean: set[tuple[str, ...]] = set()

    def add(self, code: str, message: str, location: Location, hint: str | None = None) -> None:
        self.out.append(RULES[code].diag(message, location, hint))

    def run(self) -> list[Diagnostic]:
        self.check_defaults()
        for index, cb in enumerate(self.config.callbacks):
            path: KeyPath = ("callbacks", index)
            ctype = CATALOG[cb.type]
            self.check_url(cb, ctype, path + ("url",))
            self.check_headers(cb, ctype, path)
            self.check_basic_auth(cb, path)
        self.check_default_header_tokens()
        self.check_names()
        self.check_bindings()
        self.check_globals()
        self.check_ignore_and_protected()
        self.out += lint_policy(self.config, self.sources)
        return self.out

    # -- tokens -------------------------------------------------------------------------

    def check_tokens(
        self, text: str, ctype: CallbackType, path: KeyPath, where: str, suffix: str = ""
    ) -> list[Any]:
        """Token findings in ``text`` for ``ctype``; returns the well-formed placeholders."""
        found, problems = scan(text)
        for problem in problems:
            loc = self.sources.locate_offset(path, problem.offset)
            if problem.kind == "malformed":
                fix = f"write {{{problem.suggestion}}}" if problem.suggestion else None
                self.add(
                    "RRX103",
                    f"malformed placeholder {problem.text!r} in {where}{suffix}",
                    loc,
                    fix or "a placeholder is {name} with a documented token name",
                )
            else:
                fix = f"close it: {{{problem.suggestion}}}" if problem.suggestion else None
                self.add(
                    "RRX104",
                    f"unbalanced {problem.text!r} in {where}{suffix}",
                    loc,
                    fix or "braces only surround tokens, e.g. {from}; remove the stray brace",
                )
        for ph in found:
            if ph.name in ctype.tokens:
                continue
            loc = self.sources.locate_offset(path, ph.start)
            if ph.name in ctype.payload_only:
                self.add(
                    "RRX102",
                    f"{{{ph.name}}} is in the {ctype.name} payload but not a documented "
                    f"{ctype.name} token: RingRx may send it literally ({where}{suffix})",
                    loc,
                )
                continue
            extra, hint = suggest_token(ph.name, ctype)
            self.add(
                "RRX101",
                f"unknown token {{{ph.name}}} for {ctype.name} callbacks in {where}{extra}{suffix}",
                loc,
                hint,
            )
        return found

    # -- URL ----------------------------------------------------------------------------

    def check_url(self, cb: CallbackSpec, ctype: CallbackType, path: KeyPath) -> None:
        url = cb.url
        found = self.check_tokens(url, ctype, path, "the URL")
        if _SPACE_RE.search(url) and _SPACE_RE.search(_PLACEHOLDER_RE.sub("", url)):
            self.add(
                "RRX202",
                "the URL contains whitespace",
                self.sources.locate(path),
                "percent-encode spaces (%20)",
            )
            return
        scheme_end = url.find("://")
        if scheme_end == -1:
            self.add(
                "RRX202",
                f"the URL {_redact(url)!r} is not absolute (no scheme://host)",
                self.sources.locate(path),
            )
            return
        authority_end = len(url)
        for sep in "/?#":
            pos = url.find(sep, scheme_end + 3)
            if pos != -1:
                authority_end = min(authority_end, pos)
        in_host = [ph for ph in found if ph.start < authority_end]
        if in_host or "{" in url[:authority_end]:
            offset = in_host[0].start if in_host else url.find("{")
            self.add(
                "RRX105",
                "a token in the URL's scheme or host; RingRx needs a fixed destination",
                self.sources.locate_offset(path, offset),
            )
            return
        scheme = url[:scheme_end].lower()
        _, at_sign, host = url[scheme_end + 3 : authority_end].rpartition("@")
        if at_sign:
            self.add(
                "RRX206",
                "the URL holds credentials (user:password@ before the host); RingRx would "
                "store them and every plan would show them",
                self.sources.locate_offset(path, scheme_end + 3),
            )
            return
        if scheme not in ("http", "https"):
            self.add(
                "RRX202", f"URL scheme {scheme!r} is not http or https", self.sources.locate(path)
            )
            return
        hostname, port = host, ""
        if ":" in host and not host.endswith("]"):
            hostname, _, port = host.rpartition(":")
        if not host or (port and not hostname) or (port and not port.isdigit()):
            self.add(
                "RRX202",
                f"the URL has no valid host: {_redact(url[:authority_end])!r}",
                self.sources.locate(path),
            )
            return
        if port and not 0 < int(port) < 65536:
            self.add("RRX202", f"the URL's port {port} is out of range", self.sources.locate(path))
            return
        if scheme == "http" and not cb.allow_insecure_url and self.config.policy.require_https:
            self.add(
                "RRX201",
                f"callback {cb.name!r} uses plain http://; events carry patient data",
                self.sources.locate_offset(path, 0),
            )
        query_start = url.find("?", authority_end)
        if query_start != -1:
            fragment = url.find("#", query_start)
            query_end = fragment if fragment != -1 else len(url)
            for ph in found:
                if query_start < ph.start < query_end and ph.name in ctype.phi_tokens:
                    self.add(
                        "RRX203",
                        f"{{{ph.name}}} carries patient data and sits in the URL query, "
                        "which proxies and web servers log",
                        self.sources.locate_offset(path, ph.start),
                    )

    # -- headers ------------------------------------------------------------------------

    def check_header(self, name: str, value: str, path: KeyPath) -> None:
        """Name, newline, secret-syntax and literal-secret checks of one header."""
        if not _HEADER_NAME_RE.match(name):
            self.add(
                "RRX301",
                f"header name {name!r} is not a valid HTTP header name",
                self.sources.locate_key(path),
            )
        for ch in ("\r", "\n"):
            if ch in value:
                self.add(
                    "RRX302",
                    f"header {name!r} has a line break in its value",
                    self.sources.locate(path),
                )
                break
        problems = secrets.check_syntax(value)
        for problem in problems:
            self.add(
                "RRX403",
                f"header {name!r}: {problem.message}",
                self.sources.locate_offset(path, problem.offset),
                problem.hint,
            )
        if (
            not problems
            and value.strip()
            and not secrets.is_reference(value)
            and is_secret_header_name(name)
            and not scan(value)[0]
        ):
            self.add(
                "RRX304",
                f"header {name!r} looks secret but holds a literal value",
                self.sources.locate(path),
            )

    def check_defaults(self) -> None:
        base: KeyPath = ("defaults", "headers")
        self._case_duplicates(list(self.config.defaults.headers), base)
        for name, value in self.config.defaults.headers.items():
            self.check_header(name, value, base + (name,))

    def check_default_header_tokens(self) -> None:
        """Default header values are token-replaced for every type that uses them."""
        used_types = sorted({cb.type for cb in self.config.callbacks})
        for name, value in self.config.defaults.headers.items():
            path: KeyPath = ("defaults", "headers", name)
            for type_name in used_types:
                self.check_tokens(
                    value,
                    CATALOG[type_name],
                    path,
                    f"default header {name!r}",
                    f" (applies to {type_name} callbacks)",
                )

    def check_headers(self, cb: CallbackSpec, ctype: CallbackType, path: KeyPath) -> None:
        base = path + ("headers",)
        for name, value in cb.headers.items():
            key = ("header", name, value, ctype.name)
            if key in self.clean:
                continue
            before = len(self.out)
            self.check_header(name, value, base + (name,))
            self.check_tokens(value, ctype, base + (name,), f"header {name!r}")
            if len(self.out) == before:
                self.clean.add(key)
        self._case_duplicates(list(cb.headers), base)
        for name in cb.headers:
            other = self.default_header_keys.get(name.lower())
            if other is not None and other != name:
                first = self.sources.locate_key(("defaults", "headers", other))
                self.add(
                    "RRX303",
                    f"header {name!r} duplicates default header {other!r} (at {first}); "
                    "header names are case-insensitive",
                    self.sources.locate_key(base + (name,)),
                    f"spell it {other!r} to override the default, or rename it",
                )

    def _case_duplicates(self, names: list[str], base: KeyPath) -> None:
        seen: dict[str, str] = {}
        for name in names:
            first = seen.setdefault(name.lower(), name)
            if first != name:
                self.add(
                    "RRX303",
                    f"header {name!r} duplicates {first!r} "
                    f"(at {self.sources.locate_key(base + (first,))}); "
                    "header names are case-insensitive",
                    self.sources.locate_key(base + (name,)),
                )

    # -- basic auth -----------------------------------------------------------------------

    def check_basic_auth(self, cb: CallbackSpec, path: KeyPath) -> None:
        auth = cb.basic_auth
        if auth is None:
            return
        key = ("basic_auth", auth.username or "", auth.password or "")
        if key in self.clean:
            return
        before = len(self.out)
        self._check_basic_auth(cb, auth, path + ("basic_auth",))
        if len(self.out) == before:
            self.clean.add(key)

    def _check_basic_auth(self, cb: CallbackSpec, auth: BasicAuth, base: KeyPath) -> None:
        for field in ("username", "password"):
            value = getattr(auth, field)
            if not value:
                continue
            found, _ = scan(value)
            if found:
                self.add(
                    "RRX106",
                    f"token {{{found[0].name}}} in basic_auth.{field}: RingRx does not replace "
                    "tokens there and would send it literally",
                    self.sources.locate_offset(base + (field,), found[0].start),
                )
        if bool(auth.username) != bool(auth.password):
            missing = "password" if auth.username else "username"
            self.add(
                "RRX401",
                f"basic_auth of {cb.name!r} has no {missing}",
                self.sources.locate_key(base),
            )
        elif not auth.username:
            self.add("RRX401", f"basic_auth of {cb.name!r} is empty", self.sources.locate_key(base))
        if auth.password:
            problems = secrets.check_syntax(auth.password)
            for problem in problems:
                self.add(
                    "RRX403",
                    f"basic_auth.password: {problem.message}",
                    self.sources.locate_offset(base + ("password",), problem.offset),
                    problem.hint,
                )
            if not problems and not secrets.is_reference(auth.password):
                self.add(
                    "RRX402",
                    f"basic_auth.password of {cb.name!r} is a literal secret in the configuration",
                    self.sources.locate(base + ("password",)),
                )

    # -- names, bindings, globals ---------------------------------------------------------

    def check_names(self) -> None:
        first: dict[str, int] = {}
        for index, cb in enumerate(self.config.callbacks):
            if cb.name == RESERVED_LOCK_NAME:
                self.add(
                    "RRX605",
                    f"callback name {cb.name!r} is reserved: apply keeps its account lock under "
                    "this name, and plan never shows or manages it",
                    self.sources.locate(("callbacks", index, "name")),
                )
            prev = first.setdefault(cb.name, index)
            if prev != index:
                self.add(
                    "RRX601",
                    f"callback name {cb.name!r} is defined twice: here and at "
                    f"{self.sources.locate(('callbacks', prev, 'name'))}",
                    self.sources.locate(("callbacks", index, "name")),
                )

    def check_bindings(self) -> None:
        owners: dict[tuple[str, str], tuple[int, int]] = {}
        for index, cb in enumerate(self.config.callbacks):
            if cb.bind is None:
                continue
            ctype = CATALOG[cb.type]
            base: KeyPath = ("callbacks", index, "bind")
            for key, targets in cb.bind.items():
                key_path = base + (key,)
                if ctype.is_global:
                    self.add(
                        "RRX501",
                        f"{cb.type} callbacks are global (they fire for every call) and "
                        f"cannot be bound; remove 'bind' from {cb.name!r}",
                        self.sources.locate_key(key_path),
                        "remove 'bind'",
                    )
                    continue
                if key != ctype.bind_key:
                    self.add(
                        "RRX502",
                        f"{cb.type} callbacks bind {ctype.bind_key!r} ({ctype.target} targets), "
                        f"not {key!r}",
                        self.sources.locate_key(key_path),
                        f"use 'bind: {{{ctype.bind_key}: [...]}}'",
                    )
                    continue
                for pos, target in enumerate(targets):
                    self._bind_target(owners, index, cb, key, pos, target)

    def _bind_target(
        self,
        owners: dict[tuple[str, str], tuple[int, int]],
        index: int,
        cb: CallbackSpec,
        key: str,
        pos: int,
        target: str,
    ) -> None:
        path: KeyPath = ("callbacks", index, "bind", key, pos)
        normal = target.strip()
        if key == "phone_numbers":
            try:
                normal = to_e164(target)
            except ValueError as exc:
                self.add("RRX504", str(exc), self.sources.locate(path))
                return
        prev = owners.setdefault((key, normal), (index, pos))
        if prev == (index, pos):
            return
        prev_loc = self.sources.locate(("callbacks", prev[0], "bind", key, prev[1]))
        if prev[0] == index:
            message = f"{target!r} is listed twice in {cb.name!r} (first at {prev_loc})"
            hint = "remove one entry"
        else:
            other = self.config.callbacks[prev[0]].name
            message = (
                f"{target!r} is bound by {cb.name!r} and by {other!r} (at {prev_loc}); "
                "a target holds one callback"
            )
            hint = f"remove it from one of {cb.name!r} and {other!r}"
        self.add("RRX503", message, self.sources.locate(path), hint)

    def check_globals(self) -> None:
        by_type: dict[str, list[int]] = defaultdict(list)
        for index, cb in enumerate(self.config.callbacks):
            if CATALOG[cb.type].is_global:
                by_type[cb.type].append(index)
        for type_name, indexes in by_type.items():
            first = self.config.callbacks[indexes[0]].name
            for index in indexes[1:]:
                self.add(
                    "RRX505",
                    f"more than one global {type_name} callback ({first!r} and "
                    f"{self.config.callbacks[index].name!r}): each one fires on every call",
                    self.sources.locate(("callbacks", index, "type")),
                )

    def check_ignore_and_protected(self) -> None:
        names = [cb.name for cb in self.config.callbacks] + self.other_names
        for pos, glob in enumerate(self.config.ignore):
            pattern = re.compile(fnmatch.translate(glob))
            hits = [n for n in names if pattern.match(n)]
            if hits:
                shown = ", ".join(repr(n) for n in hits[:3]) + (" ..." if len(hits) > 3 else "")
                self.add(
                    "RRX602",
                    f"ignore glob {glob!r} matches managed callback(s) {shown}; "
                    "ignored callbacks are never changed",
                    self.sources.locate(("ignore", pos)),
                )
        known = set(names)
        for pos, name in enumerate(self.config.safety.protected):
            if name not in known:
                close = difflib.get_close_matches(name, names, n=1)
                self.add(
                    "RRX603",
                    f"protected name {name!r} is not a callback of this configuration",
                    self.sources.locate(("safety", "protected", pos)),
                    f"did you mean {close[0]!r}?" if close else None,
                )
