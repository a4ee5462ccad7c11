"""Symmetric encryption of stored secrets at rest (Fernet / MultiFernet, from ``cryptography``).

Contract:
- A :class:`CredentialCipher` holds a *key ring*: one or more Fernet keys, newest first. It always encrypts
  with the newest key and decrypts a value written with any key of the ring, so during a key rotation every
  process reads both old and new values (no downtime).
- ``is_current`` says whether a stored value is already under the newest key; ``rotate`` re-encrypts a
  value under the newest key (``MultiFernet.rotate``). Both raise :class:`CredentialDecryptionError` for a
  value no key of the ring can read.
- A malformed key raises :class:`ValueError` naming its position in the ring (never the key itself).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class CredentialDecryptionError(RuntimeError):
    """Stored credentials cannot be decrypted with the configured key."""


def parse_fernet_key(key: str, position: int = 0) -> Fernet:
    """A :class:`Fernet` for ``key``; ``ValueError`` naming the key's position when it is not a Fernet key."""
    try:
        return Fernet(key.strip().encode())
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"encryption key #{position + 1} is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from exc


class CredentialCipher:
    """Encrypts JSON-serialisable dicts with the newest key; decrypts with any key of the ring."""

    def __init__(self, keys: str | Sequence[str]) -> None:
        ring = [keys] if isinstance(keys, str) else list(keys)
        if not ring:
            raise ValueError("at least one encryption key is required")
        self._fernets = [parse_fernet_key(key, i) for i, key in enumerate(ring)]
        self._primary = self._fernets[0]
        self._multi = MultiFernet(self._fernets)

    @property
    def key_count(self) -> int:
        """How many keys the ring holds (the newest encrypts, all decrypt)."""
        return len(self._fernets)

    def encrypt(self, credentials: dict[str, Any]) -> str:
        return self._multi.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            data = json.loads(self._multi.decrypt(token.encode()))
        except InvalidToken as exc:
            raise CredentialDecryptionError(
                "credentials cannot be decrypted with the configured key"
            ) from exc
        if not isinstance(data, dict):
            raise CredentialDecryptionError("decrypted credentials are not an object")
        return data

    def readable(self, token: str) -> bool:
        """True when some key of the ring decrypts ``token``."""
        try:
            self._multi.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def is_current(self, token: str) -> bool:
        """True when ``token`` is already encrypted under the newest key."""
        try:
            self._primary.decrypt(token.encode())
        except InvalidToken:
            if not self.readable(token):
                raise CredentialDecryptionError(
                    "credentials cannot be decrypted with any configured key"
                ) from None
            return False
        return True

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted under the newest key (its original timestamp is kept)."""
        try:
            return self._multi.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise CredentialDecryptionError(
                "credentials cannot be decrypted with any configured key"
            ) from exc
