"""The callback-type catalog: one table of what RingRx documents per callback type.

Source of truth: RingRx's API page (``tests/data/ringrx-callbacks-doc.txt``, see ``docs/ringrx-api.md``). Quirks of
that page are handled here on purpose:

- fax lists ``{pages }`` with a stray space: the token is ``{pages}``.
- the call_alert sample body spells ``caller_nname``; the token is ``{caller_name}``.
- payload fields that are not listed as tokens (sms ``uuid``, call_alert
  ``dialed_user_emails``) may not be replaced by RingRx: they are kept apart.
- cdr and recording share one token set.
"""

from __future__ import annotations

from dataclasses import dataclass

# cdr and recording document the very same table.
_CDR_TOKENS: tuple[str, ...] = (
    "id",
    "domain_name",
    "aleg_uuid",
    "responsible_party",
    "start_time",
    "hangup_cause",
    "dialed_digits",
    "calling_party",
    "caller_id_number",
    "caller_id_name",
    "duration",
    "bill_duration",
    "direction",
    "mailbox",
    "aleg_holdtime",
    "bleg_holdtime",
    "tags",
)


@dataclass(frozen=True)
class CallbackType:
    """What RingRx documents for one callback type."""

    name: str
    tokens: tuple[str, ...]
    # Fields of the documented payload that are not documented as tokens.
    payload_only: tuple[str, ...]
    # The key under ``bind:`` and the kind of target it names; None for global types.
    bind_key: str | None
    target: str | None
    # Tokens whose values carry patient data (PHI): keep them out of URL queries.
    phi_tokens: tuple[str, ...]
    # How RingRx posts the event: "json" body, or the "file" with its content type.
    body: str

    @property
    def is_global(self) -> bool:
        return self.bind_key is None


CATALOG: dict[str, CallbackType] = {
    t.name: t
    for t in (
        CallbackType(
            name="sms",
            tokens=("from", "to", "message", "timestamp"),
            payload_only=("uuid",),
            bind_key="phone_numbers",
            target="phone number",
            phi_tokens=("from", "message"),
            body="json",
        ),
        CallbackType(
            name="voicemail",
            tokens=("id", "caller", "called", "duration", "filename", "mailbox", "created_at"),
            payload_only=(),
            bind_key="mailboxes",
            target="mailbox",
            phi_tokens=("caller",),
            body="file",
        ),
        CallbackType(
            name="fax",
            tokens=("id", "caller", "called", "pages", "filename", "mailbox", "created_at"),
            payload_only=(),
            bind_key="fax_services",
            target="fax service",
            phi_tokens=("caller",),
            body="file",
        ),
        CallbackType(
            name="cdr",
            tokens=_CDR_TOKENS,
            payload_only=(),
            bind_key=None,
            target=None,
            phi_tokens=("caller_id_name", "caller_id_number", "calling_party", "dialed_digits"),
            body="json",
        ),
        CallbackType(
            name="recording",
            tokens=_CDR_TOKENS,
            payload_only=(),
            bind_key=None,
            target=None,
            phi_tokens=("caller_id_name", "caller_id_number", "calling_party", "dialed_digits"),
            body="json",
        ),
        CallbackType(
            name="outreach",
            tokens=(
                "id",
                "name",
                "phonenumber",
                "email_address",
                "call_state",
                "sms_state",
                "email_state",
                "confirmed",
                "cancelled",
                "reminder_date",
                "attempt",
                "voice",
                "sms",
                "email",
                "event_log",
            ),
            payload_only=(),
            bind_key="outreach_profiles",
            target="outreach profile",
            phi_tokens=("name", "phonenumber", "email_address", "event_log"),
            body="json",
        ),
        CallbackType(
            name="call_alert",
            tokens=(
                "uuid",
                "created_at",
                "callback_id",
                "domain_name",
                "originally_dialed_number",
                "dialed_number",
                "caller_number",
                "caller_name",
                "tags",
                "dialed_users",
            ),
            payload_only=("dialed_user_emails",),
            bind_key="groups",
            target="group",
            phi_tokens=("caller_number", "caller_name"),
            body="json",
        ),
    )
}

CALLBACK_TYPES: tuple[str, ...] = tuple(CATALOG)
BIND_KEYS: dict[str, str] = {t.bind_key: t.name for t in CATALOG.values() if t.bind_key}


def types_with_token(token: str) -> list[str]:
    """The callback types that document ``token``, in catalog order."""
    return [t.name for t in CATALOG.values() if token in t.tokens]
