"""Token issuing and checking: API keys, users with TOTP 2FA, JWT access tokens, rotation.

Access tokens are HS256 JWTs carrying ``sub``, ``jti``, ``exp`` and ``kid`` (the key or
user they were minted from: ``k:<key id>`` or ``u:<username>``). A token is valid while
unexpired and while its key or user still exists, so deleting a key kills its tokens at
once. Refresh tokens are opaque, kept server-side, single-use (rotation).
"""

from __future__ import annotations

import math
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
import pyotp

from ringrx_iac.api import endpoints as ep
from ringrx_iac.simulator.state import READ_ONLY_ROLE, State

ALGORITHM = "HS256"
KEY_TOKEN, KEY_SECRET = ep.AUTH_API_KEY_FIELDS
USERNAME, PASSWORD, OTP = ep.AUTH_USER_FIELDS
CLAIMS_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Principal:
    """Who an access token speaks for."""

    kid: str
    subject: str
    role: str

    @property
    def read_only(self) -> bool:
        return self.role == READ_ONLY_ROLE


@dataclass
class _Refresh:
    kid: str
    subject: str
    expires_at: float


class AuthFailed(Exception):
    """Bad credentials; ``otp_required`` when a 2FA user gave no valid one-time code."""

    def __init__(self, otp_required: bool = False) -> None:
        super().__init__("Not Authenticated")
        self.otp_required = otp_required


class Authority:
    """Mints and checks tokens against a ``State``."""

    def __init__(
        self, state: State, token_lifetime: float = 3600, refresh_lifetime: float = 86400
    ) -> None:
        self.state = state
        self.token_lifetime = token_lifetime
        self.refresh_lifetime = refresh_lifetime
        self._key = secrets.token_bytes(32)
        self._refresh: dict[str, _Refresh] = {}
        # Verified access tokens -> (exp, kid, sub): saves re-verifying the signature on
        # every request. Expiry and the key's existence are still checked every time.
        self._claims: dict[str, tuple[float, str, str]] = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- issuing

    def login(self, creds: dict[str, Any]) -> dict[str, Any]:
        """Exchange an API key (token+secret) or a user login (+otp) for a token data object."""
        with self.state.lock:
            if creds.get(KEY_TOKEN) is not None or creds.get(KEY_SECRET) is not None:
                key = self.state.keys.get(str(creds.get(KEY_TOKEN)))
                if key is None or not secrets.compare_digest(
                    key.secret.encode(), str(creds.get(KEY_SECRET, "")).encode()
                ):
                    raise AuthFailed()
                return self._issue(f"k:{key.id}", key.username)
            user = self.state.users.get(str(creds.get(USERNAME)))
            if user is None or not secrets.compare_digest(
                user.password.encode(), str(creds.get(PASSWORD, "")).encode()
            ):
                raise AuthFailed()
            if user.otp_secret:
                otp = str(creds.get(OTP) or "").strip()
                if not otp or not pyotp.TOTP(user.otp_secret).verify(otp, valid_window=1):
                    raise AuthFailed(otp_required=True)
            return self._issue(f"u:{user.username}", user.username)

    def refresh(self, refresh_token: str | None) -> dict[str, Any]:
        """Rotate: spend ``refresh_token`` and return a new token data object."""
        with self._lock:
            entry = self._refresh.pop(str(refresh_token), None) if refresh_token else None
        if entry is None or entry.expires_at < time.time():
            raise AuthFailed()
        with self.state.lock:
            if not self.state.principal_exists(entry.kid):
                raise AuthFailed()
            return self._issue(entry.kid, entry.subject)

    def _issue(self, kid: str, subject: str) -> dict[str, Any]:
        now = time.time()
        lifetime = self.token_lifetime
        claims = {
            "sub": subject,
            "jti": uuid.uuid4().hex,
            "kid": kid,
            "iat": int(now),
            "exp": math.ceil(now + lifetime),
        }
        access = jwt.encode(claims, self._key, algorithm=ALGORITHM)
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[refresh] = _Refresh(kid, subject, now + self.refresh_lifetime)
        return {
            "token_type": "Bearer",
            ep.TOKEN_ACCESS_FIELD: access,
            ep.TOKEN_EXPIRES_FIELD: int(lifetime) if float(lifetime).is_integer() else lifetime,
            ep.TOKEN_REFRESH_FIELD: refresh,
        }

    # ---------------------------------------------------------------- checking

    def check(self, authorization: str | None) -> Principal | None:
        """The principal of a valid ``Authorization: Bearer`` header, else None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        token = token.strip()
        cached = self._claims.get(token)
        if cached is None:
            try:
                claims = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            except jwt.PyJWTError:
                return None
            cached = (float(claims["exp"]), str(claims.get("kid", "")), str(claims.get("sub", "")))
            if len(self._claims) >= CLAIMS_CACHE_SIZE:
                self._claims.clear()
            self._claims[token] = cached
        exp, kid, subject = cached
        if time.time() >= exp:  # the same rule as PyJWT's (no leeway)
            return None
        with self.state.lock:
            if not self.state.principal_exists(kid):
                return None
            user = self.state.users.get(subject)
        return Principal(kid, subject, user.role if user else READ_ONLY_ROLE)

    def revoke_key(self, key_id: int) -> None:
        """Drop every refresh token minted from an API key (its access tokens die by lookup)."""
        kid = f"k:{key_id}"
        with self._lock:
            for token in [t for t, e in self._refresh.items() if e.kid == kid]:
                del self._refresh[token]
