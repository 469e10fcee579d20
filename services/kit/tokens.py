"""Access tokens: the one place that says what a valid token is.

EdDSA (Ed25519) JWTs, algorithm pinned, with iss, aud, sub, exp, iat, jti and
sid (the login session). The user service signs with the private key; the
gateway verifies with the public key alone, and refuses tokens whose session
was revoked (log-out, account deletion) via a Redis key per session.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives.serialization import (
    load_pem_private_key,
    load_pem_public_key,
)

from services.kit import config

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "jti", "sid"]


MAX_ACCESS_TOKEN_TTL_SECONDS = 900


@dataclass(frozen=True)
class AuthSettings:
    """config.yaml's AUTH: tokens (here) and log-in limits (user management)."""

    SECTION = "AUTH"
    jwt_private_key_file: str
    jwt_public_key_file: str
    jwt_issuer: str
    jwt_audience: str
    access_token_ttl_seconds: int
    refresh_token_ttl_seconds: int
    login_max_attempts_per_account: int
    login_max_attempts_per_ip: int
    login_window_seconds: int
    register_max_per_ip: int
    register_window_seconds: int

    @property
    def ttl_seconds(self) -> int:
        """An access token lives at most 15 minutes, whatever the configuration says."""
        return min(self.access_token_ttl_seconds, MAX_ACCESS_TOKEN_TTL_SECONDS)


def settings() -> AuthSettings:
    return config.settings(AuthSettings)


# Revoking a session sets its key (until its last access token would expire)
# and announces the id on this channel, so gateways need not ask per request.
REVOCATIONS_CHANNEL = "auth:revocations"
LEEWAY_SECONDS = 5
VERIFIED_TOKENS_KEPT = 10_000


def revoked_session_key(session_id: str) -> str:
    return f"auth:revoked-session:{session_id}"


def revocation_ttl_seconds() -> int:
    """How long a revoked session must be remembered: its tokens' lifetime, and a margin."""
    return settings().ttl_seconds + 60


def issue_access_token(user_id: str, session_id: str, now: float | None = None) -> tuple[str, int]:
    s = settings()
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "sub": user_id,
        "sid": session_id,
        "iat": issued,
        "exp": issued + s.ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _private_key(), algorithm=ALGORITHM), s.ttl_seconds


@lru_cache(maxsize=1)
def _private_key():
    return load_pem_private_key(config.read_secret(settings().jwt_private_key_file), password=None)


class InvalidToken(Exception):
    pass


class TokenVerifier:
    """Verifies signature and claims; knows nothing about revocation storage.

    A token verified once is remembered (the key is the whole token, signature
    included), so a client's next requests skip the signature check; expiry is
    checked on every use all the same.
    """

    def __init__(self):
        s = settings()
        self._settings = s
        # Parse the PEM once; PyJWT would otherwise parse it on every decode.
        self._key = load_pem_public_key(config.read_secret(s.jwt_public_key_file))
        self._verified = lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._decode)

    def claims(self, token: str) -> dict:
        claims = self._verified(token)
        if claims["exp"] + LEEWAY_SECONDS < time.time():
            raise InvalidToken("ExpiredSignatureError")
        return claims

    def _decode(self, token: str) -> dict:
        try:
            return jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from None
