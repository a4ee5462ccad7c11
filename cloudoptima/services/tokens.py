"""Access tokens (JWT, PyJWT) with the seed's §6.1 payload, and opaque secrets stored as hashes.

Contract:
- ``issue`` signs ``{sub, org_id, role, permissions, iat, exp, jti}`` with the configured secret and
  algorithm; ``permissions`` are the role's permissions at issue time (``cloudoptima.domain.rbac``). Given a
  ``session_id`` (the sign-in's refresh-token family) it also signs ``sid``, so revoking a session reaches
  its access tokens (``cloudoptima.services.revocation``).
- Signing keys rotate (``cloudoptima.security.jwt_keys``): tokens are signed with the ring's current key and
  carry its ``kid`` header; ``verify`` picks the key by ``kid`` and accepts a retired key only inside its
  grace period (a token without ``kid`` is checked against the current key).
- ``verify`` checks signature, expiry (no leeway), required claims and the role; anything else raises
  :class:`TokenError` with a message safe to show a caller. Revocation (``jti``) is the caller's check.
- ``opaque_secret`` / ``secret_hash``: refresh and invitation secrets are random URL-safe strings; only their
  SHA-256 is stored (they carry 256 bits of entropy, so a slow hash adds nothing).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import jwt

from cloudoptima.domain.rbac import Role, is_role, permissions_for
from cloudoptima.security.jwt_keys import (
    MAX_GRACE,
    SigningKey,
    SigningKeyError,
    SigningKeyRing,
    default_kid,
)

REQUIRED_CLAIMS = ("sub", "org_id", "role", "permissions", "iat", "exp", "jti")
VERIFIED_CACHE = 10_000


class TokenError(ValueError):
    """The token is malformed, expired, badly signed or carries an unknown role."""


@dataclass(frozen=True)
class AccessClaims:
    """A verified access token."""

    user_id: uuid.UUID
    organization_id: uuid.UUID
    role: Role
    permissions: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    jti: str
    session_id: uuid.UUID | None = None
    """The sign-in (refresh-token family) the token belongs to; None for tokens issued without one."""
    key_id: str | None = None
    """The ``kid`` of the key that signed the token (None for tokens issued before key ids existed)."""


def opaque_secret() -> str:
    """A fresh 256-bit URL-safe secret."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """The stored form of an opaque secret (hex SHA-256)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenIssuer:
    """Signs access tokens with the current key of a ring and verifies them with the ring.

    ``secret`` alone makes a ring of one key (kid derived from the secret); ``keys`` (whose current key must
    be ``secret``) adds retired keys still inside their grace period.
    """

    def __init__(
        self,
        secret: str,
        *,
        algorithm: str = "HS256",
        access_minutes: int = 30,
        keys: SigningKeyRing | None = None,
    ) -> None:
        if not secret:
            raise ValueError("a JWT secret is required")
        self.access_ttl = timedelta(minutes=access_minutes)
        if keys is None:
            grace = max(timedelta(minutes=1), min(self.access_ttl, MAX_GRACE))
            keys = SigningKeyRing(SigningKey(default_kid(secret), secret), grace=grace)
        elif keys.current.secret != secret:
            raise ValueError("the key ring's current key must be the issuer's secret")
        self._keys = keys
        self._secret = secret
        self._algorithm = algorithm
        self._verified: dict[str, AccessClaims] = {}

    def issue(
        self,
        user_id: uuid.UUID,
        organization_id: uuid.UUID,
        role: Role,
        *,
        now: datetime | None = None,
        session_id: uuid.UUID | None = None,
    ) -> tuple[str, AccessClaims]:
        """A signed token and its claims (``sid`` = ``session_id`` when given)."""
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        claims = AccessClaims(
            user_id=user_id,
            organization_id=organization_id,
            role=role,
            permissions=permissions_for(role),
            issued_at=issued,
            expires_at=issued + self.access_ttl,
            jti=uuid.uuid4().hex,
            session_id=session_id,
            key_id=self._keys.current.kid,
        )
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "org_id": str(organization_id),
            "role": role,
            "permissions": list(claims.permissions),
            "iat": int(issued.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "jti": claims.jti,
        }
        if session_id is not None:
            payload["sid"] = str(session_id)
        token = jwt.encode(
            payload, self._secret, algorithm=self._algorithm, headers={"kid": self._keys.current.kid}
        )
        return token, claims

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token (see module contract).

        A token whose signature was verified is remembered (at most ``VERIFIED_CACHE`` tokens, per issuer)
        so its next use skips the signature check; its expiry is still checked on every use.
        """
        known = self._verified.get(token)
        if known is not None:
            self._key_for(known.key_id)  # a retired key's grace period may have ended since
            if datetime.now(UTC) < known.expires_at:
                return known
            self._verified.pop(token, None)
            raise TokenError("access token has expired")
        claims = self._decode(token)
        if len(self._verified) >= VERIFIED_CACHE:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _key_for(self, kid: str | None) -> SigningKey:
        try:
            return self._keys.verification_key(kid, datetime.now(UTC))
        except SigningKeyError as exc:
            raise TokenError(str(exc)) from exc

    def _decode(self, token: str) -> AccessClaims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise TokenError("access token is invalid") from exc
        if kid is not None and not isinstance(kid, str):
            raise TokenError("access token is invalid")
        key = self._key_for(kid)
        try:
            payload = jwt.decode(
                token,
                key.secret,
                algorithms=[self._algorithm],
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("access token is invalid") from exc
        role = payload.get("role")
        if not isinstance(role, str) or not is_role(role):
            raise TokenError("access token carries an unknown role")
        try:
            user_id = uuid.UUID(str(payload["sub"]))
            org_id = uuid.UUID(str(payload["org_id"]))
            session_id = uuid.UUID(str(payload["sid"])) if payload.get("sid") is not None else None
        except ValueError as exc:
            raise TokenError("access token is invalid") from exc
        typed_role = cast(Role, role)
        return AccessClaims(
            user_id=user_id,
            organization_id=org_id,
            role=typed_role,
            # Permissions follow the role: a token can never carry more than its role grants.
            permissions=permissions_for(typed_role),
            issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            jti=str(payload["jti"]),
            session_id=session_id,
            key_id=kid,
        )
