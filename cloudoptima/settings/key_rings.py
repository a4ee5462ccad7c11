"""The encryption key ring and the JWT signing key ring, built from settings values and checked: every
unsafe value is refused with an error naming its variable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, Field

from cloudoptima.security.encryption import parse_fernet_key
from cloudoptima.security.jwt_keys import SigningKey, SigningKeyRing, default_kid
from cloudoptima.settings.errors import SettingsError
from cloudoptima.settings.stored_secrets import MIN_JWT_SECRET_LENGTH, is_unsafe


class JwtPreviousKey(BaseModel):
    """A retired JWT signing key (``JWT_PREVIOUS_KEYS`` item): its tokens verify until ``retired_at`` + grace."""

    kid: str
    secret: str = Field(repr=False)
    retired_at: AwareDatetime


def check_fernet(keys: tuple[str, ...], variable: str) -> None:
    """Every key is a Fernet key (urlsafe base64 of 32 bytes); the error names ``variable`` and the position."""
    for position, key in enumerate(keys):
        try:
            parse_fernet_key(key, position)
        except ValueError as exc:
            raise SettingsError(f"{variable}: {exc}") from None


def encryption_key_ring(ring_value: Sequence[str], single: str | None) -> tuple[str, ...]:
    """``CLOUDOPTIMA_ENCRYPTION_KEYS`` (newest first) checked: no default, no repeat, every key Fernet, and a
    ``CLOUDOPTIMA_ENCRYPTION_KEY`` set beside it (``single``) must be its newest key."""
    ring = tuple(k.strip() for k in ring_value)
    if any(is_unsafe(k) for k in ring):
        raise SettingsError("CLOUDOPTIMA_ENCRYPTION_KEYS holds an empty or known default key")
    if len(set(ring)) != len(ring):
        raise SettingsError("CLOUDOPTIMA_ENCRYPTION_KEYS lists the same key twice")
    check_fernet(ring, "CLOUDOPTIMA_ENCRYPTION_KEYS")
    if single and single.strip() != ring[0]:
        raise SettingsError(
            "CLOUDOPTIMA_ENCRYPTION_KEY differs from the first (newest) key of CLOUDOPTIMA_ENCRYPTION_KEYS; "
            "unset it or put it first"
        )
    return ring


def jwt_key_ring(
    secret: str,
    key_id: str | None,
    previous_keys: Sequence[JwtPreviousKey],
    grace_minutes: int,
    *,
    production: bool,
) -> SigningKeyRing:
    """``secret`` (kid ``key_id``, else derived) signs; ``previous_keys`` still verify for ``grace_minutes``.

    Refused, naming the variable: a previous key that is a known default, or short in production; reused kids
    or secrets and a grace outside 1 minute..1 day (as :class:`SigningKeyRing` checks them).
    """
    current = SigningKey(kid=key_id or default_kid(secret), secret=secret)
    previous = []
    for item in previous_keys:
        if is_unsafe(item.secret):
            raise SettingsError(f"JWT_PREVIOUS_KEYS: key {item.kid!r} is empty or a known default")
        if len(item.secret) < MIN_JWT_SECRET_LENGTH and production:
            raise SettingsError(
                f"JWT_PREVIOUS_KEYS: key {item.kid!r} must be at least {MIN_JWT_SECRET_LENGTH} characters "
                "in production"
            )
        previous.append(SigningKey(kid=item.kid, secret=item.secret, retired_at=item.retired_at))
    try:
        return SigningKeyRing(current, previous, grace=timedelta(minutes=grace_minutes))
    except ValueError as exc:
        variable = "JWT_KEY_GRACE_MINUTES" if "grace" in str(exc) else "JWT_PREVIOUS_KEYS / JWT_KEY_ID"
        raise SettingsError(f"{variable}: {exc}") from None


def retired_at(ring: SigningKeyRing, when: datetime) -> list[dict[str, str]]:
    """``JWT_PREVIOUS_KEYS`` after retiring the ring's current key at ``when``: the current key, and every
    previous key still inside its grace at ``when``."""
    items = [{"kid": ring.current.kid, "secret": ring.current.secret, "retired_at": when.isoformat()}]
    items += [
        {"kid": k.kid, "secret": k.secret, "retired_at": k.retired_at.isoformat()}
        for k in ring.previous
        if k.retired_at is not None and when < k.retired_at + ring.grace
    ]
    return items
