"""Phone number normalisation: one helper shared by the linter and the reconciler."""

from __future__ import annotations

import re

DEFAULT_REGION = "US"

# Fast paths for the two forms nearly every number takes (E.164 and bare 10-digit NANP):
# ``phonenumbers`` returns exactly these for them, at about 1/100 of the cost, and is only
# imported for anything else (cold start of ``validate``).
_E164_NANP_RE = re.compile(r"\+1[2-9]\d{9}")
_BARE_NANP_RE = re.compile(r"[2-9]\d{9}")
_COMMON_RE = re.compile(r"(?:\+1)?[2-9]\d{9}")  # either of the two, in one match


def common_e164(text: str) -> str | None:
    """``to_e164(text)`` when ``text`` is exactly E.164 NANP or bare 10-digit NANP (no
    surrounding spaces), else None. The fast path of :func:`to_e164` without its
    ``str()``/``strip()``, for the reconciler's 100,000s of live numbers (kept apart so
    the linter's path stays one call)."""
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
    if _E164_NANP_RE.fullmatch(text):
        return text
    if region == DEFAULT_REGION and _BARE_NANP_RE.fullmatch(text):
        return "+1" + text
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
