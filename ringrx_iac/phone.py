"""Phone number normalisation: one helper shared by the linter and the reconciler."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "US"


def to_e164(value: str, region: str = DEFAULT_REGION) -> str:
    """Return ``value`` as an E.164 string (``+18185559876``).

    Accepts common formats (``8185551234``, ``+1 818 555 9876``, ``(818) 555-9876``);
    numbers without a country code are read in ``region``. Raises ``ValueError`` with a
    message that names the value when it is not a possible phone number.
    """
    text = str(value).strip()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number ({exc._msg})") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(
            f"{value!r} is not a possible phone number (wrong number of digits for its country)"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
