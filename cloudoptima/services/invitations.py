"""Invitations: an admin invites an email with a role; the invitee accepts by choosing a password.

Contract:
- An invitation is a ``users`` row that is inactive and whose ``password_hash`` is
  ``!invited:<sha256 of the invitation secret>`` (never a valid argon2 hash, so it cannot sign in). The
  plaintext secret is returned once, to be sent to the invitee.
- Inviting an email that is pending in the same organisation re-issues it (new secret, new role, the old
  secret stops working); an email with an account anywhere is refused (``EmailTakenError``).
- ``accept(secret, password)`` within ``INVITATION_DAYS`` of the (re-)issue activates the user with that
  password; a used, revoked, expired or unknown secret raises ``InvalidInvitationError``.
- ``revoke`` deletes a pending invitation of this organisation (another organisation's id is missing).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloudoptima.domain.rbac import Role, is_role
from cloudoptima.security.passwords import MIN_PASSWORD_LENGTH, hash_password
from cloudoptima.services.auth import INVITED_HASH_PREFIX, EmailTakenError, normalise_email
from cloudoptima.services.tokens import opaque_secret, secret_hash
from cloudoptima.storage.models import User
from cloudoptima.storage.tenancy import TenantRepository

INVITATION_DAYS = 7


class InvalidInvitationError(ValueError):
    pass


class _UserRepository(TenantRepository[User]):
    model = User


@dataclass(frozen=True)
class IssuedInvitation:
    user: User
    secret: str
    expires_at: datetime


class InvitationService:
    """Invitations of one organisation (see module contract); the caller commits."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._repo = _UserRepository(session, organization_id)
        self._now = now

    def invite(self, email: str, role: Role, invited_by: uuid.UUID) -> IssuedInvitation:
        if not is_role(role):
            raise ValueError(f"unknown role {role!r}")
        address = normalise_email(email)
        # Core (not ORM) so the tenant filter does not hide an account of another organisation.
        existing = (
            self._session.connection()
            .execute(select(User.__table__.c.id).where(func.lower(User.__table__.c.email) == address))
            .scalar()
        )
        pending = self._repo.get(existing) if existing is not None else None
        if existing is not None and (pending is None or not _is_pending(pending)):
            raise EmailTakenError("an account with this email already exists")
        secret = opaque_secret()
        now = self._now()
        if pending is None:
            pending = User(email=address, password_hash="", role=role, is_active=False, full_name=None)
            pending.created_at = now
            self._repo.add(pending)
        pending.role = role
        pending.password_hash = INVITED_HASH_PREFIX + secret_hash(secret)
        pending.updated_at = now
        self._session.flush()
        return IssuedInvitation(user=pending, secret=secret, expires_at=now + timedelta(days=INVITATION_DAYS))

    def pending(self) -> Sequence[User]:
        return self._session.scalars(
            self._repo.query()
            .where(User.password_hash.startswith(INVITED_HASH_PREFIX), User.is_active.is_(False))
            .order_by(User.updated_at.desc())
        ).all()

    def revoke(self, invitation_id: uuid.UUID) -> None:
        row = self._repo.get(invitation_id)
        if row is None or not _is_pending(row):
            raise LookupError(f"invitation {invitation_id} not found")
        self._repo.delete(row)


def _is_pending(user: User) -> bool:
    return not user.is_active and user.password_hash.startswith(INVITED_HASH_PREFIX)


def accept_invitation(
    session: Session,
    secret: str,
    password: str,
    full_name: str | None = None,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> User:
    """Activate the invited user (unscoped session: the secret names the organisation)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    user = session.scalars(
        select(User).where(User.password_hash == INVITED_HASH_PREFIX + secret_hash(secret)).with_for_update()
    ).first()
    if user is None or user.is_active:
        raise InvalidInvitationError("invitation is invalid or was already used")
    if user.updated_at + timedelta(days=INVITATION_DAYS) <= now():
        raise InvalidInvitationError("invitation has expired; ask for a new one")
    user.password_hash = hash_password(password)
    user.is_active = True
    if full_name:
        user.full_name = full_name.strip()
    session.flush()
    return user
