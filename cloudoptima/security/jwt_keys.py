"""The key ring that signs and verifies access tokens: one current key and retired keys in their grace period.

Contract:
- Every key has a ``kid`` (1-64 characters of ``A-Z a-z 0-9 . _ -``) and a secret; kids and secrets are
  unique within a ring. The current key is never retired; every previous key carries its UTC ``retired_at``.
- New tokens are signed with the current key and carry its ``kid`` in their header.
- :meth:`SigningKeyRing.verification_key` answers the key for a token's ``kid``: the current key, or a
  previous key while ``now < retired_at + grace``; otherwise :class:`SigningKeyError` (unknown kid, or a key
  whose grace period is over). A token without a ``kid`` (issued before key ids existed) is verified with the
  current key only.
- Bad rings raise :class:`ValueError` with a message that names the offending kid, never a secret.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

KID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_GRACE = timedelta(days=1)


class SigningKeyError(ValueError):
    """No key of the ring may verify this token (unknown kid, or its grace period is over)."""


@dataclass(frozen=True)
class SigningKey:
    """One signing secret and its id; ``retired_at`` is set once a newer key replaced it."""

    kid: str
    secret: str
    retired_at: datetime | None = None


def default_kid(secret: str) -> str:
    """A stable kid for a secret configured without one (a short hash: it reveals nothing usable)."""
    return "k-" + hashlib.sha256(secret.encode()).hexdigest()[:12]


class SigningKeyRing:
    """The current signing key and the retired ones still inside their grace period (see module contract)."""

    def __init__(self, current: SigningKey, previous: Sequence[SigningKey] = (), *, grace: timedelta) -> None:
        if grace <= timedelta(0) or grace > MAX_GRACE:
            raise ValueError(f"the signing-key grace period must be more than 0 and at most {MAX_GRACE}")
        if current.retired_at is not None:
            raise ValueError(f"the current signing key {current.kid!r} cannot be retired")
        keys = (current, *previous)
        for key in keys:
            if not KID_PATTERN.match(key.kid):
                raise ValueError(f"signing key id {key.kid!r} must be 1-64 characters of A-Z a-z 0-9 . _ -")
            if not key.secret:
                raise ValueError(f"signing key {key.kid!r} has an empty secret")
        for key in previous:
            if key.retired_at is None or key.retired_at.tzinfo is None:
                raise ValueError(f"previous signing key {key.kid!r} needs a retired_at with a time zone")
        kids = [k.kid for k in keys]
        duplicate = next((kid for kid in kids if kids.count(kid) > 1), None)
        if duplicate is not None:
            raise ValueError(f"signing key id {duplicate!r} is used twice")
        secrets = [k.secret for k in keys]
        if len(set(secrets)) != len(secrets):
            reused = next(k.kid for k in previous if secrets.count(k.secret) > 1)
            raise ValueError(f"previous signing key {reused!r} reuses a secret of another key")
        self.current = current
        self.previous = tuple(previous)
        self.grace = grace
        self._by_kid = {k.kid: k for k in keys}

    def verification_key(self, kid: str | None, now: datetime) -> SigningKey:
        """The key that verifies a token with ``kid`` at ``now`` (see module contract)."""
        if kid is None:
            return self.current
        key = self._by_kid.get(kid)
        if key is None:
            raise SigningKeyError("access token was signed with an unknown key")
        if key.retired_at is not None and now >= key.retired_at + self.grace:
            raise SigningKeyError("access token was signed with a retired key whose grace period is over")
        return key
