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
  process) takes effect within that time in every MCP process. Concurrent requests with a bearer that is not
  remembered share one verification (argon2 costs ~30 CPU-ms a key: 50 sessions' requests arriving while it
  runs would otherwise each run it). A bearer remembered for ``REFRESH_AFTER_SECONDS`` or more is still
  answered from memory while one background thread verifies it again: steady callers never wait for argon2,
  a success is remembered from the moment that verification started, and a refusal forgets the bearer (its
  next request is verified, and refused). Nothing is ever served older than ``VERIFIED_TTL_SECONDS``.
"""

from __future__ import annotations

import hashlib
import logging
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

_log = logging.getLogger("cloudoptima.mcp.identity")
VERIFIED_TTL_SECONDS = 10.0
REFRESH_AFTER_SECONDS = 8.0


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
        self._verifying: dict[str, threading.Lock] = {}
        self.refreshes: dict[str, threading.Thread] = {}
        """Background re-verifications in progress, by bearer digest (tests join them)."""

    def _remembered(self, digest: str) -> Identity | None:
        found = self._entry(digest)
        return found[1] if found is not None else None

    def _entry(self, digest: str) -> tuple[float, Identity] | None:
        """(age in seconds, identity) of a bearer remembered for less than the TTL."""
        with self._lock:
            found = self._verified.get(digest)
        if found is None:
            return None
        age = self._clock() - found[0]
        return (age, found[1]) if age < VERIFIED_TTL_SECONDS else None

    def _identity(self, token: str, digest: str) -> Identity:
        remembered = self._remembered(digest)
        if remembered is not None:
            return remembered
        with self._lock:
            flight = self._verifying.setdefault(digest, threading.Lock())
        with flight:  # one verification per bearer at a time; the others wait for its result
            remembered = self._remembered(digest)
            if remembered is not None:
                return remembered
            try:
                return self._verify_and_remember(token, digest)
            finally:
                with self._lock:
                    if self._verifying.get(digest) is flight:
                        del self._verifying[digest]

    def _verify_and_remember(self, token: str, digest: str) -> Identity:
        now = self._clock()
        identity = self._verify(token)
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[digest] = (now, identity)
        return identity

    def _refresh(self, token: str, digest: str) -> None:
        try:
            self._verify_and_remember(token, digest)
        except AuthenticationError:
            with self._lock:
                self._verified.pop(digest, None)
        except Exception:  # e.g. the database is away: the entry simply expires and the next request verifies
            _log.warning("background re-verification of a bearer failed", exc_info=True)
        finally:
            with self._lock:
                self.refreshes.pop(digest, None)

    def _refresh_ahead(self, token: str, digest: str) -> None:
        """Start the background re-verification of a remembered bearer, unless one is running."""
        with self._lock:
            if digest in self.refreshes:
                return
            thread = threading.Thread(
                target=self._refresh, args=(token, digest), name="bearer-refresh", daemon=True
            )
            self.refreshes[digest] = thread
        thread.start()

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
            found = self._entry(digest)
            if found is None:
                identity = await anyio.to_thread.run_sync(self._identity, token, digest)
            else:
                age, identity = found
                if age >= REFRESH_AFTER_SECONDS:
                    self._refresh_ahead(token, digest)
        except AuthenticationError:
            return None
        return AccessToken(
            token=token,
            client_id=identity.principal,
            scopes=[],
            claims=identity.claims(),
        )
