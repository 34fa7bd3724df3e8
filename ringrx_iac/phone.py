"""Phone number normalisation: one helper shared by the linter and the reconciler."""

from __future__ import annotations

import re

DEFAULT_REGION = "US"

# The two forms nearly every number takes (E.164 and bare 10-digit NANP): ``phonenumbers``
# returns exactly these for them, at about 1/100 of the cost, and is only imported for
# anything else (cold start of ``validate``).
_COMMON_RE = re.compile(r"(?:\+1)?[2-9]\d{9}")


def common_e164(text: str) -> str | None:
    """``to_e164(text)`` when ``text`` is exactly E.164 NANP or bare 10-digit NANP (no
    surrounding spaces), else None: the fast path of :func:`to_e164`, callable on its own
    for the reconciler's 100,000s of live numbers (no ``str()``/``strip()``)."""
    if _COMMON_RE.fullmatch(text) is None:
        return None
    return text if text[0] == "+" else "+1" + text


def to_e164(value: str, region: str = DEFAULT_REGION) -> str:
    """Return ``value`` as an E.164 string (``+18185559876``).

    Accepts common formats (``8185551234``, ``+1 818 555 9876``, ``(818) 555-9876``);
    numbers without a country code are read in ``region``. Raises ``ValueError`` with a
    message that names the value when it is not a possible phone number.
    """
    text = str(value).strip()
    fast = common_e164(text)
    if fast is not None and (text[0] == "+" or region == DEFAULT_REGION):
        return fast  # (a bare 10-digit number is NANP only in the default region)
    import phonenumbers

    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number ({exc._msg})") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(
            f"{value!r} is not a possible phone number (wrong number of digits for its country)"
        )
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
