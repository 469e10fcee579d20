"""Local development secrets: `python -m services.ops.secrets ensure`.

Creates, only when missing, the files config.yaml points at: an Ed25519 key pair
for access tokens and a random service-to-service secret. Production mounts
these from Secrets Manager instead; nothing here is ever committed.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.kit import config, tokens


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def generate_jwt_keypair() -> tuple[bytes, bytes]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def ensure() -> list[Path]:
    auth = tokens.settings()
    private_path = config.resolve_path(auth.jwt_private_key_file)
    public_path = config.resolve_path(auth.jwt_public_key_file)
    service_path = config.resolve_path(config.kit().service_auth_secret_file)
    created = []
    if not private_path.exists() or not public_path.exists():
        private, public = generate_jwt_keypair()
        _write_private(private_path, private)
        _write_private(public_path, public)
        created += [private_path, public_path]
    if not service_path.exists():
        _write_private(service_path, secrets.token_hex(32).encode())
        created.append(service_path)
    return created


def main(argv: list[str]) -> int:
    if argv[1:] != ["ensure"]:
        print("usage: python -m services.ops.secrets ensure", file=sys.stderr)
        return 2
    for path in ensure():
        print(f"[secrets] created {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
