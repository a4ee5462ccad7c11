"""Sign-up, sign-in, rotating refresh tokens and logout (seed §3.2 Authentication API, §6.1).

Contract:
- ``register`` creates an organisation (tier ``free``) and its first user, who administers it (RBAC role
  ``admin``); the seed's ``role`` (cfo, devops, engineer) is the person's job and is kept in the
  organisation's settings (``personas``). Emails are unique and compared case-insensitively; passwords
  have at least 8 characters (argon2id hashes only).
- ``login`` answers :class:`InvalidCredentialsError` for an unknown email, a wrong password, an inactive
  user or a pending invitation alike (no account enumeration). Throttling is the caller's
  (``cloudoptima.services.rate_limits.LoginThrottle``).
- Refresh tokens are opaque, stored as SHA-256, single use, and rotate within a *family*: presenting a token
  that was already used or revoked revokes every token of its family (someone holds a stolen copy), commits
  that revocation and raises :class:`RefreshTokenReusedError`.
- ``logout`` revokes the access token's ``jti`` until it expires (``revoked_tokens``), the token's own
  sign-in (its ``sid`` family) and, when given, the refresh token's family.
- Every access token carries its sign-in's family as ``sid``, so the gateway can refuse the access tokens of a
  revoked family on their next request (``cloudoptima.services.revocation``).
The session is unscoped (sign-in happens before a tenant is known); rows are written with explicit
organisation ids. The caller commits, except for the reuse revocation, which must survive the error.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cloudoptima.domain.rbac import Role, is_role
from cloudoptima.security.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from cloudoptima.services.tokens import AccessClaims, TokenIssuer, opaque_secret, secret_hash
from cloudoptima.storage.models import Organization, RefreshToken, RevokedToken, User

Persona = Literal["cfo", "devops", "engineer"]
PERSONAS: tuple[Persona, ...] = ("cfo", "devops", "engineer")
INVITED_HASH_PREFIX = "!invited:"
"""``users.password_hash`` of an invited user who has not chosen a password yet (never a valid hash)."""


class AuthError(Exception):
    """Base of the sign-in errors; messages are safe to show to the caller."""


class InvalidCredentialsError(AuthError):
    pass


class EmailTakenError(AuthError):
    pass


class InvalidRefreshTokenError(AuthError):
    pass


class RefreshTokenReusedError(InvalidRefreshTokenError):
    """A spent or revoked refresh token was presented; its family (one sign-in) is now revoked."""

    def __init__(self, message: str, *, family_id: uuid.UUID, user_id: uuid.UUID, organization_id: uuid.UUID):
        super().__init__(message)
        self.family_id = family_id
        self.user_id = user_id
        self.organization_id = organization_id


@dataclass(frozen=True)
class TokenPair:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    role: Role
    access_token: str
    refresh_token: str
    expires_in: int
    claims: AccessClaims


def normalise_email(email: str) -> str:
    return email.strip().lower()


class AuthService:
    """Authentication use cases over one unscoped session (see module contract)."""

    def __init__(
        self,
        session: Session,
        issuer: TokenIssuer,
        *,
        refresh_days: int = 14,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._issuer = issuer
        self._refresh_ttl = timedelta(days=refresh_days)
        self._now = now

    # ---- registration and sign-in -----------------------------------------------------------------------
    def email_taken(self, email: str) -> bool:
        found = self._session.scalar(select(User.id).where(func.lower(User.email) == normalise_email(email)))
        return found is not None

    def register(self, email: str, password: str, company_name: str, persona: Persona) -> TokenPair:
        """A new organisation and its admin; ``EmailTakenError`` / ``ValueError`` for bad input."""
        if persona not in PERSONAS:
            raise ValueError(f"role must be one of {', '.join(PERSONAS)}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
        if self.email_taken(email):
            raise EmailTakenError("an account with this email already exists")
        org = Organization(name=company_name.strip(), subscription_tier="free", settings={})
        self._session.add(org)
        self._session.flush()
        user = User(
            organization_id=org.id,
            email=normalise_email(email),
            password_hash=hash_password(password),
            role="admin",
            is_active=True,
        )
        self._session.add(user)
        self._session.flush()
        org.settings = {"personas": {str(user.id): persona}}
        return self._new_pair(user, family_id=uuid.uuid4())

    def login(self, email: str, password: str) -> TokenPair:
        user = self._session.scalars(
            select(User).where(func.lower(User.email) == normalise_email(email))
        ).first()
        if (
            user is None
            or not user.is_active
            or user.password_hash.startswith(INVITED_HASH_PREFIX)
            or not verify_password(user.password_hash, password)
        ):
            raise InvalidCredentialsError("email or password is incorrect")
        user.last_login = self._now()
        return self._new_pair(user, family_id=uuid.uuid4())

    def user_org(self, email: str) -> uuid.UUID | None:
        """The organisation of the account with ``email`` (for audit records of failed sign-ins)."""
        return self._session.scalar(
            select(User.organization_id).where(func.lower(User.email) == normalise_email(email))
        )

    def issue_for(self, user: User) -> TokenPair:
        """A fresh pair (new family) for an already authenticated user (invitation acceptance)."""
        return self._new_pair(user, family_id=uuid.uuid4())

    # ---- refresh and logout -------------------------------------------------------------------------------
    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is spent and a new pair of the same family is issued."""
        now = self._now()
        row = self._session.scalars(
            select(RefreshToken)
            .where(RefreshToken.token_hash == secret_hash(refresh_token))
            .with_for_update()
        ).first()
        if row is None:
            raise InvalidRefreshTokenError("refresh token is invalid")
        if row.used_at is not None or row.revoked_at is not None:
            self.revoke_family(row.family_id)
            self._session.commit()
            raise RefreshTokenReusedError(
                "refresh token was already used; every session of this sign-in has been revoked",
                family_id=row.family_id,
                user_id=row.user_id,
                organization_id=row.organization_id,
            )
        if row.expires_at <= now:
            raise InvalidRefreshTokenError("refresh token has expired")
        user = self._session.get(User, row.user_id)
        if user is None or not user.is_active:
            raise InvalidRefreshTokenError("refresh token is invalid")
        row.used_at = now
        return self._new_pair(user, family_id=row.family_id)

    def revoke_family(self, family_id: uuid.UUID) -> None:
        self._session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=self._now())
        )

    def logout(self, claims: AccessClaims, refresh_token: str | None = None) -> None:
        self._session.execute(
            insert(RevokedToken)
            .values(jti=claims.jti, expires_at=claims.expires_at, revoked_at=self._now())
            .on_conflict_do_nothing(index_elements=["jti"])
        )
        if claims.session_id is not None:
            self.revoke_family(claims.session_id)
        if refresh_token:
            row = self._session.scalars(
                select(RefreshToken).where(
                    RefreshToken.token_hash == secret_hash(refresh_token),
                    RefreshToken.user_id == claims.user_id,
                )
            ).first()
            if row is not None:
                self.revoke_family(row.family_id)
        self._session.flush()

    def is_revoked(self, jti: str) -> bool:
        return self._session.get(RevokedToken, jti) is not None

    # ---- internals -----------------------------------------------------------------------------------------
    def _new_pair(self, user: User, *, family_id: uuid.UUID) -> TokenPair:
        if not is_role(user.role):
            raise InvalidCredentialsError("account has no valid role")
        role: Role = user.role  # type: ignore[assignment]
        now = self._now()
        access, claims = self._issuer.issue(
            user.id, user.organization_id, role, now=now, session_id=family_id
        )
        refresh = opaque_secret()
        self._session.add(
            RefreshToken(
                organization_id=user.organization_id,
                user_id=user.id,
                family_id=family_id,
                token_hash=secret_hash(refresh),
                issued_at=now,
                expires_at=now + self._refresh_ttl,
            )
        )
        self._session.flush()
        return TokenPair(
            user_id=user.id,
            organization_id=user.organization_id,
            role=role,
            access_token=access,
            refresh_token=refresh,
            expires_in=int(self._issuer.access_ttl.total_seconds()),
            claims=claims,
        )
