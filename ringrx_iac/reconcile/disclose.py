"""Which live values a plan may show: the rule that keeps live secrets out of PR comments.

A header value or a basic-auth username read from the live account is shown only when
the configuration holds that same value literally (anywhere: then showing it reveals
nothing a reader of the configuration does not know), or when the header is listed under
``defaults.public_headers``. Otherwise a change shows ``(live value hidden)`` in its place,
and the hidden value joins the run's redactor (:mod:`ringrx_iac.redact`), so no error
message or server answer can show it either. URLs stay visible (where events go is what
drift exists to show), minus any ``user:password@`` part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ringrx_iac import redact
from ringrx_iac.config.secrets import is_reference, unescape
from ringrx_iac.reconcile.changes import SENSITIVE, SENSITIVE_CHANGED, Change, FieldChange, Update
from ringrx_iac.reconcile.desired import LITERAL_SECRET_MARKER, DesiredState

HIDDEN = "(live value hidden)"
_USERINFO_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@]*@)")
_MASKS = frozenset({SENSITIVE, SENSITIVE_CHANGED, HIDDEN})


def strip_userinfo(url: str) -> str:
    """``https://user:pw@host/x`` -> ``https://host/x`` (other URLs unchanged)."""
    return _USERINFO_RE.sub(r"\1", url) if isinstance(url, str) else url


def url_userinfo(url: str) -> str | None:
    """The ``user:pw`` part of a URL, or None."""
    m = _USERINFO_RE.match(url) if isinstance(url, str) else None
    return m.group(2)[:-1] if m else None


@dataclass(frozen=True)
class Disclosure:
    """What may be shown of live values, from the desired state."""

    public_headers: frozenset[str]  # lower-cased header names
    literals: frozenset[str]  # every literal header value and username of the config

    @classmethod
    def of(cls, desired: DesiredState) -> Disclosure:
        literals: set[str] = set()
        for cb in desired.callbacks:
            literals.update(
                unescape(v)
                for v in cb.headers.values()
                if v and not is_reference(v) and v != LITERAL_SECRET_MARKER
            )
            if cb.username:
                literals.add(cb.username)
        public = frozenset(h.lower() for h in desired.public_headers)
        return cls(public, frozenset(literals))

    def live_value(self, header: str | None, value: Any) -> Any:
        """``value`` when it may be shown, else :data:`HIDDEN` (and it is registered)."""
        if not isinstance(value, str) or value in _MASKS:
            return value
        if value in self.literals or (header is not None and header.lower() in self.public_headers):
            return value
        redact.register(value)
        return HIDDEN

    def field(self, change: FieldChange) -> FieldChange:
        """One field change with its live (old) value disclosed by the rule."""
        if change.field == "url":
            return replace(change, old=strip_userinfo(change.old), new=strip_userinfo(change.new))
        if change.field.startswith("headers."):
            return replace(change, old=self.live_value(change.field[len("headers.") :], change.old))
        if change.field == "basic_auth.username":
            return replace(change, old=self.live_value(None, change.old))
        return change

    def change(self, change: Change) -> Change:
        """``change`` with every live value it shows disclosed by the rule."""
        if isinstance(change, Update):
            return replace(change, fields=tuple(self.field(f) for f in change.fields))
        return change
