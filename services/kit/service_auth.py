"""Service-to-service credentials, carried in nameko context data.

Every RPC request and event carries ``sanctum.service_credential``: the caller's
name and an HMAC of it under the deployment's shared secret. The kit's
entrypoints refuse a call whose credential is missing or wrong, and stamp their
own credential on the worker context, so every call a worker makes onwards is
signed as that service.
"""

from __future__ import annotations

import hashlib
import hmac

from services.kit import config
from services.kit.errors import ServiceAuthFailed

CONTEXT_KEY = "sanctum.service_credential"
HEADER = f"nameko.{CONTEXT_KEY}"

_valid_cache: dict[str, str] = {}


def _secret() -> bytes:
    return config.read_secret(config.kit().service_auth_secret_file)


def credential_for(service_name: str) -> str:
    mac = hmac.new(_secret(), service_name.encode(), hashlib.sha256).hexdigest()
    return f"{service_name}:{mac}"


def verify(credential: object) -> str:
    """Return the calling service's name, or raise ServiceAuthFailed."""
    if not isinstance(credential, str):
        raise ServiceAuthFailed("missing service credential")
    cached = _valid_cache.get(credential)
    if cached is not None:
        return cached
    name, _, _mac = credential.partition(":")
    if not name or not hmac.compare_digest(credential, credential_for(name)):
        raise ServiceAuthFailed("invalid service credential")
    _valid_cache[credential] = name
    return name


def caller_of(context_data: dict) -> str:
    return verify(context_data.get(CONTEXT_KEY))


def stamp(context_data: dict, service_name: str) -> dict:
    """Replace the incoming credential with this service's own."""
    context_data[CONTEXT_KEY] = credential_for(service_name)
    return context_data


def sign(purpose: str, value: str) -> str:
    """``value`` with an HMAC under the deployment secret, for links that need no
    stored token (a contact's "withdraw my consent" in every message)."""
    mac = hmac.new(_secret(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{value}.{mac}"


def unsign(purpose: str, token: str) -> str | None:
    """The value ``sign(purpose, value)`` made ``token`` from, or None if it was not."""
    value, _, _mac = token.rpartition(".")
    # As bytes: compare_digest refuses str with non-ASCII characters (a forged token may have them).
    return value if value and hmac.compare_digest(token.encode(), sign(purpose, value).encode()) else None


def pseudonym(purpose: str, value: str) -> str:
    """A stable name for ``value`` that does not reveal it (an HMAC under the
    deployment secret): for storage paths that must not name a person."""
    return hmac.new(_secret(), f"pseudonym:{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
