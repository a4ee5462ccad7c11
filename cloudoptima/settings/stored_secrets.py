"""Secrets of embedded mode: generated once into ``<state_dir>/secrets.json`` (mode 600), and the refusal of
known defaults and short secrets, which production mode never replaces."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from cloudoptima.settings.errors import SettingsError

UNSAFE_SECRETS = frozenset({"", "change-me", "changeme", "secret", "your-secret-key", "dev", "development"})
MIN_JWT_SECRET_LENGTH = 32


def is_unsafe(value: str) -> bool:
    """Empty or a known default (compared trimmed and case-insensitively)."""
    return value.strip().lower() in UNSAFE_SECRETS


def load_or_create(path: Path) -> dict[str, str]:
    """The stored ``jwt_secret`` and ``encryption_key``; created (exclusively, mode 600) when absent.

    A file that is not a JSON object of strings is refused, never replaced: the keys in it encrypt data.
    """
    if path.exists():
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                raise ValueError("not an object of strings")
            return dict(data)
        except (OSError, ValueError) as exc:
            raise SettingsError(f"secrets file {path} is corrupt ({exc}); restore it from a backup") from exc
    created = {
        "jwt_secret": secrets.token_urlsafe(48),
        "encryption_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(created, handle)
    return created


def given_or_stored(
    value: str | None,
    key: str,
    variable: str,
    *,
    production: bool,
    stored: Callable[[], Mapping[str, str]],
) -> str:
    """``value`` when it is safe; in embedded mode the stored (or generated) ``key`` instead of a missing or
    default one; production mode refuses a missing, default or (for ``JWT_SECRET``) short value."""
    if value is not None and not is_unsafe(value):
        if key == "jwt_secret" and len(value) < MIN_JWT_SECRET_LENGTH and production:
            raise SettingsError(
                f"{variable} must be at least {MIN_JWT_SECRET_LENGTH} characters in production"
            )
        return value
    if production:
        raise SettingsError(f"{variable} is missing or a known default; production mode refuses to start")
    return stored()[key]
