"""The one table of RingRx API facts that ``docs/ringrx-api.md`` marks [model] or [seen].

When the real Swagger differs, this file is what changes. Nothing else in the package may
spell a RingRx path, wire field name or JSON root key.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BASE_URL = "https://portal.ringrx.com"

# Authentication.
TOKEN_PATH = "/auth/token"
REFRESH_PATH = "/auth/refresh"
API_KEY_PATH = "/myphones/api_key/{token}"
OTP_REQUIRED_FIELD = "otp_required"  # in the 401 body of a 2FA user without a valid otp
# Fields of the /auth/token and /auth/refresh requests and of the token data answer [doc].
AUTH_API_KEY_FIELDS = ("token", "secret")  # (key id, key secret)
AUTH_USER_FIELDS = ("username", "password", "otp")
AUTH_REFRESH_FIELD = "refresh_token"
TOKEN_ACCESS_FIELD = "access_token"
TOKEN_REFRESH_FIELD = "refresh_token"
TOKEN_EXPIRES_FIELD = "expires_in"
# Error bodies: {"errors": [...]} or {"errors": {field: [messages]}} or {"error": "..."}.
ERRORS_FIELD = "errors"
ERROR_FIELD = "error"

# Callbacks.
CALLBACKS_PATH = "/pbxcallbacks"
CALLBACK_PATH = "/pbxcallbacks/{id}"
CALLBACK_ROOT_KEY = "pbx_callback"

# Domain field name -> wire field name of a callback.
CALLBACK_FIELDS: dict[str, str] = {
    "id": "id",
    "name": "name",
    "type": "callback_type",
    "url": "url",
    "use_basic_auth": "use_basic_auth",
    "auth_username": "auth_username",
    "auth_password": "auth_password",
    "custom_headers": "custom_headers",
}
# How the server may render a password it does not disclose: treated as "unknown".
MASKED_PASSWORDS: tuple[object, ...] = (None, "", "********")
CUSTOM_HEADER_SEPARATOR = "\r\n"


TARGET_ID_FIELD = "id"  # the id field of every bindable object


@dataclass(frozen=True)
class TargetEndpoint:
    """One list of bindable objects and how a callback is bound to them."""

    kind: str  # the config's bind key
    list_path: str
    natural_keys: tuple[str, ...]  # wire fields that name a target, primary first
    binding_field: str
    root_key: str
    is_phone_number: bool = False

    @property
    def item_path(self) -> str:
        return self.list_path + "/{id}"


TARGETS: dict[str, TargetEndpoint] = {
    t.kind: t
    for t in (
        TargetEndpoint(
            "phone_numbers",
            "/phonenumbers",
            ("phonenumber",),
            "sms_callback_id",
            "pbx_phone_number",
            is_phone_number=True,
        ),
        TargetEndpoint(
            "mailboxes", "/pbxmailboxes", ("mailbox", "name"), "callback_id", "pbx_mailbox"
        ),
        TargetEndpoint(
            "fax_services", "/pbxfaxes", ("name", "extension"), "callback_id", "pbx_fax"
        ),
        TargetEndpoint(
            "outreach_profiles", "/outreach_profiles", ("name",), "callback_id", "outreach_profile"
        ),
        TargetEndpoint("groups", "/pbxgroups", ("name", "extension"), "callback_id", "pbx_group"),
    )
}
