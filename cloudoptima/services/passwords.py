"""Password change and reset by an emailed one-time link.

Contract:
- Policy (:func:`check_password_policy`): 8 to 256 characters, at least 4 different characters, not
  containing the account's email address or its local part (when that is 4 characters or more);
  :class:`PasswordPolicyError` names the rule.
- ``change(user_id, current, new, keep_session=sid)``: the current password must match
  (:class:`WrongPasswordError`), the new one must differ and pass the policy; every other sign-in of the user
  is revoked (refresh-token families in the database, and the returned :class:`Revocation` for the markers;
  the caller's own sign-in ``keep_session`` stays), and unused reset links are spent.
- ``request_reset(email)``: for an active account, a reset secret (256 bits) valid for ``reset_ttl``; only its
  SHA-256 is stored, and the account's earlier unused links stop working. Unknown, inactive or invited
  accounts give None — the caller answers the same either way (no account enumeration).
- ``confirm_reset(secret, new)``: an unknown, spent or expired secret raises :class:`InvalidResetTokenError`
  (one message for all three); otherwise the password is set, the link is spent (single use) and every
  sign-in of the user is revoked (the returned :class:`Revocation`).
The caller commits, then applies the revocation (``services.revocation``). Unscoped sessions work (reset
happens before sign-in); rows are read by their own ids and hashes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cloudoptima.security.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from cloudoptima.services.auth import INVITED_HASH_PREFIX, normalise_email
from cloudoptima.services.revocation import Revocation, end_sign_ins
from cloudoptima.services.tokens import opaque_secret, secret_hash
from cloudoptima.storage.models import PasswordResetToken, User

MAX_PASSWORD_LENGTH = 256
MIN_DISTINCT_CHARACTERS = 4


class PasswordPolicyError(ValueError):
    """The new password breaks a rule of the policy (the message names it)."""


class WrongPasswordError(ValueError):
    """The current password given does not match."""


class InvalidResetTokenError(ValueError):
    """The reset link is unknown, already used or expired."""


def check_password_policy(password: str, *, email: str) -> None:
    """Raise :class:`PasswordPolicyError` naming the first rule ``password`` breaks (see module contract)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise PasswordPolicyError(
            f"password must use at least {MIN_DISTINCT_CHARACTERS} different characters"
        )
    address = normalise_email(email)
    local = address.split("@", 1)[0]
    lowered = password.lower()
    if address in lowered or (len(local) >= 4 and local in lowered):
        raise PasswordPolicyError("password must not contain your email address")


@dataclass(frozen=True)
class ResetLink:
    """A freshly issued reset secret (shown once, in the email) and where it goes."""

    user_id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    secret: str
    expires_at: datetime


class PasswordService:
    """Password change and reset (see module contract); the caller commits."""

    def __init__(
        self,
        session: Session,
        *,
        access_ttl: timedelta,
        reset_ttl: timedelta = timedelta(minutes=30),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._access_ttl = access_ttl
        self._reset_ttl = reset_ttl
        self._now = now

    def change(
        self, user_id: uuid.UUID, current: str, new: str, *, keep_session: uuid.UUID | None
    ) -> Revocation:
        user = self._session.get(User, user_id, with_for_update=True)
        if user is None or not user.is_active:
            raise WrongPasswordError("current password is incorrect")
        if not verify_password(user.password_hash, current):
            raise WrongPasswordError("current password is incorrect")
        if new == current:
            raise PasswordPolicyError("the new password must differ from the current one")
        check_password_policy(new, email=user.email)
        return self._set_password(user, new, keep_session=keep_session, reason="password changed")

    def request_reset(self, email: str) -> ResetLink | None:
        user = self._session.scalars(
            select(User).where(func.lower(User.email) == normalise_email(email))
        ).first()
        if user is None or not user.is_active or user.password_hash.startswith(INVITED_HASH_PREFIX):
            return None
        now = self._now()
        self._spend_links(user.id, now)
        secret = opaque_secret()
        row = PasswordResetToken(
            organization_id=user.organization_id,
            user_id=user.id,
            token_hash=secret_hash(secret),
            created_at=now,
            expires_at=now + self._reset_ttl,
        )
        self._session.add(row)
        self._session.flush()
        return ResetLink(user.id, user.organization_id, user.email, secret, row.expires_at)

    def confirm_reset(self, secret: str, new: str) -> Revocation:
        now = self._now()
        row = self._session.scalars(
            select(PasswordResetToken)
            .where(PasswordResetToken.token_hash == secret_hash(secret))
            .with_for_update()
        ).first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise InvalidResetTokenError("password reset link is invalid, expired or already used")
        user = self._session.get(User, row.user_id, with_for_update=True)
        if user is None or not user.is_active:
            raise InvalidResetTokenError("password reset link is invalid, expired or already used")
        check_password_policy(new, email=user.email)
        return self._set_password(user, new, keep_session=None, reason="password reset")

    # ---- internals -----------------------------------------------------------------------------------------
    def _set_password(
        self, user: User, new: str, *, keep_session: uuid.UUID | None, reason: str
    ) -> Revocation:
        now = self._now()
        user.password_hash = hash_password(new)
        revocation = end_sign_ins(
            self._session,
            user.organization_id,
            user.id,
            reason,
            now=now,
            access_ttl=self._access_ttl,
            keep=keep_session,
        )
        self._spend_links(user.id, now)
        self._session.flush()
        return revocation

    def _spend_links(self, user_id: uuid.UUID, now: datetime) -> None:
        self._session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
            .values(used_at=now)
        )
