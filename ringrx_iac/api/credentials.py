"""Client settings from the environment: base URL, credentials, and the transport options."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from ringrx_iac import redact
from ringrx_iac.api import endpoints
from ringrx_iac.api.errors import CredentialsError, InsecureURLError, SettingsError
from ringrx_iac.api.retry import RetryPolicy

ENV_BASE_URL = "RINGRX_BASE_URL"
ENV_API_TOKEN = "RINGRX_API_TOKEN"
ENV_API_SECRET = "RINGRX_API_SECRET"
ENV_USERNAME = "RINGRX_USERNAME"
ENV_PASSWORD = "RINGRX_PASSWORD"
ENV_OTP = "RINGRX_OTP"
_USERINFO_RE = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@")


@dataclass(frozen=True)
class ApiKeyCredentials:
    """An API key (preferred for automation: never asked for an OTP)."""

    token: str = field(repr=False)
    secret: str = field(repr=False)

    def token_request_body(self) -> dict[str, str]:
        """The JSON body of ``POST /auth/token``."""
        token_field, secret_field = endpoints.AUTH_API_KEY_FIELDS
        return {token_field: self.token, secret_field: self.secret}

    def describe(self) -> str:
        return f"the API key from {ENV_API_TOKEN}/{ENV_API_SECRET}"


@dataclass(frozen=True)
class UserCredentials:
    """A user login, with a one-time password when the user has two-factor authentication."""

    username: str
    password: str = field(repr=False)
    otp: str | None = field(default=None, repr=False)

    def token_request_body(self) -> dict[str, str]:
        """The JSON body of ``POST /auth/token``."""
        user_field, password_field, otp_field = endpoints.AUTH_USER_FIELDS
        body = {user_field: self.username, password_field: self.password}
        if self.otp:
            body[otp_field] = self.otp
        return body

    def describe(self) -> str:
        return f"user {self.username!r} from {ENV_USERNAME}/{ENV_PASSWORD}"


Credentials = ApiKeyCredentials | UserCredentials


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def credentials_from_env(env: Mapping[str, str]) -> Credentials:
    """Read the credentials; missing or half-set ones raise one `CredentialsError`."""
    redact.register_env(env)
    token, secret = _get(env, ENV_API_TOKEN), _get(env, ENV_API_SECRET)
    user, password, otp = _get(env, ENV_USERNAME), _get(env, ENV_PASSWORD), _get(env, ENV_OTP)
    if token and secret:
        return ApiKeyCredentials(token, secret)
    if token or secret:
        have, missing = (
            (ENV_API_TOKEN, ENV_API_SECRET) if token else (ENV_API_SECRET, ENV_API_TOKEN)
        )
        raise CredentialsError(
            f"{have} is set but {missing} is not: an API key needs both "
            f"(or unset both and use {ENV_USERNAME} and {ENV_PASSWORD})"
        )
    if user and password:
        return UserCredentials(user, password, otp)
    if user or password:
        have, missing = (ENV_USERNAME, ENV_PASSWORD) if user else (ENV_PASSWORD, ENV_USERNAME)
        raise CredentialsError(f"{have} is set but {missing} is not: a user login needs both")
    if otp:
        raise CredentialsError(
            f"{ENV_OTP} is set but {ENV_USERNAME} and {ENV_PASSWORD} are not: "
            "a one-time password goes with a user login"
        )
    raise CredentialsError(
        "no RingRx credentials: set "
        f"{ENV_API_TOKEN} and {ENV_API_SECRET} (an API key, preferred), or "
        f"{ENV_USERNAME} and {ENV_PASSWORD} (plus {ENV_OTP} if the user has two-factor "
        "authentication)"
    )


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, *, insecure: bool) -> str:
    """Validate the base URL and return it without a trailing slash.

    A plain ``http://`` URL is refused unless its host is loopback or ``insecure`` is set;
    one holding credentials (``user:password@``) is refused without repeating them.
    """
    if _USERINFO_RE.match(base_url):
        raise SettingsError(
            f"{ENV_BASE_URL} holds credentials (user:password@ before the host), which "
            f"would be sent and shown in the clear; remove them and set {ENV_API_TOKEN} and "
            f"{ENV_API_SECRET} (or {ENV_USERNAME} and {ENV_PASSWORD}) instead"
        )
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise SettingsError(f"{ENV_BASE_URL} {base_url!r} is not a valid URL") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise SettingsError(
            f"{ENV_BASE_URL} {base_url!r} is not an http(s) URL, e.g. {endpoints.DEFAULT_BASE_URL}"
        )
    if url.query or url.fragment:
        raise SettingsError(f"{ENV_BASE_URL} must not have a query string or a fragment")
    if url.scheme == "http" and not insecure and not is_loopback_host(url.host):
        raise InsecureURLError(
            f"{ENV_BASE_URL} uses plain http:// to {url.host}, which would send credentials "
            "unencrypted; use https://, or pass --insecure if you really mean it"
        )
    return str(url).rstrip("/")


@dataclass(frozen=True)
class ClientSettings:
    """Everything `RingRxClient` needs; build it with `from_env`."""

    base_url: str
    credentials: Credentials
    parallelism: int = 8
    insecure: bool = False
    debug: bool = False
    read_only: bool = False
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_rate: float | None = None  # requests per second at most (``--max-rate``)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", check_base_url(self.base_url, insecure=self.insecure))
        if self.parallelism < 1:
            raise SettingsError("parallelism must be at least 1")
        if self.max_rate is not None and self.max_rate <= 0:
            raise SettingsError("max_rate must be a positive number of requests per second")

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        parallelism: int = 8,
        insecure: bool = False,
        debug: bool = False,
        read_only: bool = False,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_rate: float | None = None,
    ) -> ClientSettings:
        """Read ``RINGRX_*`` variables; raises `CredentialsError` / `InsecureURLError`."""
        base_url = _get(env, ENV_BASE_URL) or endpoints.DEFAULT_BASE_URL
        return cls(
            base_url=base_url,
            credentials=credentials_from_env(env),
            parallelism=parallelism,
            insecure=insecure,
            debug=debug,
            read_only=read_only,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            max_rate=max_rate,
        )
