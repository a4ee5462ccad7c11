"""API keys: ``co_<prefix>_<secret>``; the prefix finds the row, an argon2 hash checks the secret."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher(time_cost=2, memory_cost=19456)
KEY_PREFIX = "co"


@dataclass(frozen=True)
class NewApiKey:
    """A freshly minted key: ``plaintext`` is shown once and never stored."""

    plaintext: str
    prefix: str
    key_hash: str


def mint_api_key() -> NewApiKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewApiKey(
        plaintext=f"{KEY_PREFIX}_{prefix}_{secret}", prefix=prefix, key_hash=_HASHER.hash(secret)
    )


def split_api_key(plaintext: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, or None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def verify_api_key(key_hash: str, secret: str) -> bool:
    try:
        return _HASHER.verify(key_hash, secret)
    except (VerificationError, InvalidHashError):
        return False
