"""Symmetric encryption of cloud credentials at rest (Fernet, from ``cryptography``)."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class CredentialDecryptionError(RuntimeError):
    """Stored credentials cannot be decrypted with the configured key."""


class CredentialCipher:
    """Encrypts JSON-serialisable credential dicts; the key comes from settings."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, credentials: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            data = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise CredentialDecryptionError(
                "credentials cannot be decrypted with the configured key"
            ) from exc
        if not isinstance(data, dict):
            raise CredentialDecryptionError("decrypted credentials are not an object")
        return data
