"""ClientSettings.from_env: credentials, base URL checks."""

from __future__ import annotations

import pytest

from ringrx_iac.api.credentials import ApiKeyCredentials, ClientSettings, UserCredentials
from ringrx_iac.api.errors import CredentialsError, InsecureURLError, SettingsError

KEY = {"RINGRX_API_TOKEN": "tok-id", "RINGRX_API_SECRET": "tok-secret"}


def test_api_key_is_preferred_and_default_base_url() -> None:
    env = {**KEY, "RINGRX_USERNAME": "u", "RINGRX_PASSWORD": "p"}
    settings = ClientSettings.from_env(env)
    assert settings.base_url == "https://portal.ringrx.com"
    assert settings.credentials == ApiKeyCredentials("tok-id", "tok-secret")
    assert settings.credentials.token_request_body() == {"token": "tok-id", "secret": "tok-secret"}


def test_user_login_with_otp() -> None:
    env = {"RINGRX_USERNAME": "ann", "RINGRX_PASSWORD": "pw", "RINGRX_OTP": "123456"}
    creds = ClientSettings.from_env(env).credentials
    assert isinstance(creds, UserCredentials)
    assert creds.token_request_body() == {"username": "ann", "password": "pw", "otp": "123456"}


def test_user_login_without_otp_sends_no_otp() -> None:
    creds = ClientSettings.from_env({"RINGRX_USERNAME": "ann", "RINGRX_PASSWORD": "pw"}).credentials
    assert creds.token_request_body() == {"username": "ann", "password": "pw"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RINGRX_API_TOKEN": "t"}, "RINGRX_API_TOKEN is set but RINGRX_API_SECRET is not"),
        ({"RINGRX_API_SECRET": "s"}, "RINGRX_API_SECRET is set but RINGRX_API_TOKEN is not"),
        ({"RINGRX_USERNAME": "u"}, "RINGRX_USERNAME is set but RINGRX_PASSWORD is not"),
        ({"RINGRX_PASSWORD": "p"}, "RINGRX_PASSWORD is set but RINGRX_USERNAME is not"),
        ({"RINGRX_OTP": "1"}, "RINGRX_OTP is set but RINGRX_USERNAME and RINGRX_PASSWORD"),
        ({}, "no RingRx credentials: set RINGRX_API_TOKEN and RINGRX_API_SECRET"),
        ({"RINGRX_API_TOKEN": "  ", "RINGRX_API_SECRET": ""}, "no RingRx credentials"),
    ],
)
def test_missing_or_half_set_credentials(env: dict[str, str], expected: str) -> None:
    with pytest.raises(CredentialsError) as info:
        ClientSettings.from_env(env)
    assert expected in str(info.value)


def test_secrets_not_in_repr() -> None:
    settings = ClientSettings.from_env(
        {"RINGRX_USERNAME": "ann", "RINGRX_PASSWORD": "hunter2", "RINGRX_OTP": "654321"}
    )
    assert "hunter2" not in repr(settings)
    assert "654321" not in repr(settings)
    assert "tok-secret" not in repr(ClientSettings.from_env(KEY))


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://127.8.9.10", "http://localhost:1/", "http://[::1]:5000"],
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    settings = ClientSettings.from_env({**KEY, "RINGRX_BASE_URL": url})
    assert not settings.base_url.endswith("/")


def test_plain_http_elsewhere_is_refused_unless_insecure() -> None:
    env = {**KEY, "RINGRX_BASE_URL": "http://portal.example.com"}
    with pytest.raises(InsecureURLError) as info:
        ClientSettings.from_env(env)
    assert "--insecure" in str(info.value)
    assert ClientSettings.from_env(env, insecure=True).base_url == "http://portal.example.com"


@pytest.mark.parametrize("url", ["ftp://x.example", "portal.ringrx.com", "https://h/?a=b"])
def test_bad_base_url(url: str) -> None:
    with pytest.raises(SettingsError) as info:
        ClientSettings.from_env({**KEY, "RINGRX_BASE_URL": url})
    assert "RINGRX_BASE_URL" in str(info.value)


def test_parallelism_must_be_positive() -> None:
    with pytest.raises(SettingsError):
        ClientSettings.from_env(KEY, parallelism=0)
