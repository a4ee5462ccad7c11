"""Who is calling an MCP server, and how that is established.

Contract:
- stdio: :func:`identity_from_api_key` verifies ``CLOUDOPTIMA_API_KEY`` against ``api_keys`` (argon2, via
  ``cloudoptima.services.api_keys``) once at start; the server then acts for that key's organisation and
  its user's role. A missing or invalid key stops the server with a clear message.
- HTTP: :class:`BearerVerifier` accepts ``Authorization: Bearer <token>`` where the token is an API key
  (``co_...``) or a gateway access token (JWT, ``cloudoptima.services.tokens``; a revoked ``jti``, a revoked
  sign-in (its ``sid`` family) and a deactivated user are refused, read from the database).
  The organisation and role travel in the access token's claims; every tool call reads them per request.
  A verified bearer is remembered for ``VERIFIED_TTL_SECONDS`` (keyed by its SHA-256, never the token; on
  the ``clock`` the verifier is given), so argon2 runs once per key per 10 s rather than per request and a
  remembered bearer is answered without a worker thread; revoking a key or a user (in the gateway, another
  process) takes effect within that time in every MCP process.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from fastmcp.server.auth import AccessToken, TokenVerifier
from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.domain.rbac import Role, is_role
from cloudoptima.services.api_keys import authenticate_api_key
from cloudoptima.services.audit import api_key_actor
from cloudoptima.services.revocation import revoked_in_database
from cloudoptima.services.tokens import TokenError, TokenIssuer
from cloudoptima.storage.models import RevokedToken

VERIFIED_TTL_SECONDS = 10.0


class AuthenticationError(Exception):
    """The credential is missing, malformed, revoked or wrong."""


@dataclass(frozen=True)
class Identity:
    """The organisation and role a request acts for."""

    organization_id: uuid.UUID
    role: Role
    principal: str
    credential: str | None = None
    """``api_key:<key id>`` when the caller presented an API key (the audit log's actor), else None."""

    def claims(self) -> dict[str, str]:
        claims = {"org_id": str(self.organization_id), "role": self.role, "sub": self.principal}
        if self.credential is not None:
            claims["credential"] = self.credential
        return claims

    @classmethod
    def from_claims(cls, claims: dict[str, object]) -> Identity:
        role = str(claims.get("role", ""))
        if not is_role(role):
            raise AuthenticationError("token carries no valid role")
        try:
            org = uuid.UUID(str(claims.get("org_id")))
        except ValueError as exc:
            raise AuthenticationError("token carries no organisation") from exc
        credential = claims.get("credential")
        return cls(
            organization_id=org,
            role=role,  # type: ignore[arg-type]
            principal=str(claims.get("sub", "unknown")),
            credential=str(credential) if credential else None,
        )


def identity_from_api_key(factory: sessionmaker[Session], plaintext: str | None) -> Identity:
    """The identity of a valid API key (see module contract)."""
    if not plaintext:
        raise AuthenticationError("set CLOUDOPTIMA_API_KEY to an API key of your organisation")
    with factory() as session:
        found = authenticate_api_key(session, plaintext.strip())
        if found is None:
            raise AuthenticationError("CLOUDOPTIMA_API_KEY is not a valid, active API key")
        session.commit()  # last_used_at
    return Identity(
        organization_id=found.organization_id,
        role=found.role,
        principal=f"user:{found.user_id}",
        credential=api_key_actor(found.key_id),
    )


def identity_from_jwt(factory: sessionmaker[Session], issuer: TokenIssuer, token: str) -> Identity:
    try:
        claims = issuer.verify(token)
    except TokenError as exc:
        raise AuthenticationError(str(exc)) from exc
    with factory() as session:
        if session.get(RevokedToken, claims.jti) is not None:
            raise AuthenticationError("access token has been revoked")
        why = revoked_in_database(session, claims.user_id, claims.session_id)
        if why is not None:
            raise AuthenticationError(f"access token has been revoked ({why})")
    return Identity(
        organization_id=claims.organization_id, role=claims.role, principal=f"user:{claims.user_id}"
    )


class BearerVerifier(TokenVerifier):
    """Verifies API keys and gateway JWTs presented as bearer tokens (see module contract)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        issuer: TokenIssuer | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._clock = clock
        self._factory = factory
        self._issuer = issuer
        self._verified: dict[str, tuple[float, Identity]] = {}
        self._lock = threading.Lock()

    def _remembered(self, digest: str) -> Identity | None:
        with self._lock:
            found = self._verified.get(digest)
        if found is not None and self._clock() - found[0] < VERIFIED_TTL_SECONDS:
            return found[1]
        return None

    def _identity(self, token: str, digest: str) -> Identity:
        remembered = self._remembered(digest)
        if remembered is not None:
            return remembered
        now = self._clock()
        identity = self._verify(token)
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[digest] = (now, identity)
        return identity

    def _verify(self, token: str) -> Identity:
        if token.startswith("co_"):
            return identity_from_api_key(self._factory, token)
        if self._issuer is None:
            raise AuthenticationError("only API keys are accepted (no JWT secret configured)")
        return identity_from_jwt(self._factory, self._issuer, token)

    async def verify_token(self, token: str) -> AccessToken | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        try:
            # A remembered bearer is answered on the event loop; only a verification needs a thread.
            identity = self._remembered(digest)
            if identity is None:
                identity = await anyio.to_thread.run_sync(self._identity, token, digest)
        except AuthenticationError:
            return None
        return AccessToken(
            token=token,
            client_id=identity.principal,
            scopes=[],
            claims=identity.claims(),
        )
