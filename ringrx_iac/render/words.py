"""Counted nouns for people: ``1 change``, ``2 changes``, ``1 fax service``, ``3 mailboxes``."""

from __future__ import annotations

# Binding kinds (the `bind` keys) as a person reads them: (singular, plural).
_KIND_WORDS: dict[str, tuple[str, str]] = {
    "phone_numbers": ("phone number", "phone numbers"),
    "mailboxes": ("mailbox", "mailboxes"),
    "fax_services": ("fax service", "fax services"),
    "outreach_profiles": ("outreach profile", "outreach profiles"),
    "groups": ("group", "groups"),
}


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 change`` / ``2 changes``; ``many`` for an irregular plural."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def count_targets(n: int, kind: str) -> str:
    """``1 fax service`` / ``2 fax services`` for a binding kind such as ``fax_services``."""
    one, many = _KIND_WORDS.get(kind, (kind.removesuffix("s"), kind))
    return plural(n, one, many)
