"""An organisation's users, administered: list (paged), change a role, deactivate.

Contract:
- ``page(page, page_size)`` lists the organisation's users and pending invitations, newest first, each with
  a ``status``: ``active``, ``deactivated`` or ``invited``; ``total`` counts them all.
- ``change_role(actor, user, role)``: ``role`` must be one of ``cloudoptima.domain.rbac.ROLE_ORDER``
  (``ValueError`` listing them); a pending invitation or another organisation's user is missing
  (``LookupError``); demoting the organisation's last active admin raises :class:`LastAdminError`. Access
  tokens carry their role, so a changed role ends the user's sign-ins (the returned :class:`Revocation`);
  API keys act with the user's current role and keep working.
- ``deactivate(actor, user)``: not yourself (:class:`SelfDeactivationError`), not the last active admin
  (:class:`LastAdminError`); the user becomes inactive, every API key of theirs is revoked, every refresh
  token family revoked, and the returned :class:`Revocation` (``user=True``) makes their access tokens, keys
  and open sockets fail at once once applied. Deactivating an inactive user changes nothing more.
The admin rows are locked (``FOR UPDATE``) while the last-admin rule is checked, so two admins demoting each
other at once cannot leave none. The caller commits, then applies the revocation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cloudoptima.domain.rbac import ROLE_ORDER, is_role
from cloudoptima.services.auth import INVITED_HASH_PREFIX
from cloudoptima.services.revocation import Revocation, end_sign_ins
from cloudoptima.storage.models import ApiKey, User
from cloudoptima.storage.tenancy import TenantRepository

UserStatus = Literal["active", "deactivated", "invited"]


class UserAdminError(ValueError):
    """An administration rule refused the change (the message says which)."""


class LastAdminError(UserAdminError):
    """The change would leave the organisation without an active admin."""


class SelfDeactivationError(UserAdminError):
    """An admin tried to deactivate their own account."""


class _Users(TenantRepository[User]):
    model = User


def user_status(user: User) -> UserStatus:
    if user.is_active:
        return "active"
    return "invited" if user.password_hash.startswith(INVITED_HASH_PREFIX) else "deactivated"


@dataclass(frozen=True)
class UserPage:
    users: Sequence[User]
    total: int


@dataclass(frozen=True)
class RoleChange:
    user: User
    previous: str
    revocation: Revocation | None


@dataclass(frozen=True)
class Deactivation:
    user: User
    revoked_api_keys: int
    revocation: Revocation


class UserAdminService:
    """User administration of one organisation (see module contract); the caller commits."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        access_ttl: timedelta,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._users = _Users(session, organization_id)
        self._access_ttl = access_ttl
        self._now = now

    def page(self, *, page: int = 1, page_size: int = 50) -> UserPage:
        total = self._session.scalar(select(func.count()).select_from(self._users.query().subquery())) or 0
        rows = self._session.scalars(
            self._users.query()
            .order_by(User.created_at.desc(), User.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        return UserPage(users=rows, total=int(total))

    def change_role(self, actor_id: uuid.UUID, user_id: uuid.UUID, role: str) -> RoleChange:
        if not is_role(role):
            raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLE_ORDER)}")
        user = self._member(user_id)
        previous = user.role
        if previous == role:
            return RoleChange(user, previous, None)
        if previous == "admin" and user.is_active:
            self._keep_an_admin(user, "demote")
        user.role = role
        user.updated_at = self._now()
        revocation = self._end_sign_ins(user, f"role changed to {role}")
        self._session.flush()
        return RoleChange(user, previous, revocation)

    def deactivate(self, actor_id: uuid.UUID, user_id: uuid.UUID) -> Deactivation:
        if actor_id == user_id:
            raise SelfDeactivationError("you cannot deactivate yourself; ask another admin")
        user = self._member(user_id)
        if user.role == "admin" and user.is_active:
            self._keep_an_admin(user, "deactivate")
        now = self._now()
        user.is_active = False
        user.updated_at = now
        keys = self._session.execute(
            update(ApiKey)
            .where(
                ApiKey.organization_id == self._org, ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)
            )
            .values(revoked_at=now)
        )
        revocation = self._end_sign_ins(user, "user deactivated", whole_user=True)
        self._session.flush()
        return Deactivation(user, int(getattr(keys, "rowcount", 0) or 0), revocation)

    # ---- internals -----------------------------------------------------------------------------------------
    def _member(self, user_id: uuid.UUID) -> User:
        user = self._session.scalars(self._users.query().where(User.id == user_id).with_for_update()).first()
        if user is None or user_status(user) == "invited":
            raise LookupError(f"user {user_id} not found")
        return user

    def _keep_an_admin(self, user: User, verb: str) -> None:
        admins = self._session.scalars(
            self._users.query().where(User.role == "admin", User.is_active.is_(True)).with_for_update()
        ).all()
        if not [a for a in admins if a.id != user.id]:
            raise LastAdminError(
                f"cannot {verb} {user.email}: they are the organisation's last admin; make another user admin first"
            )

    def _end_sign_ins(self, user: User, reason: str, *, whole_user: bool = False) -> Revocation:
        return end_sign_ins(
            self._session,
            self._org,
            user.id,
            reason,
            now=self._now(),
            access_ttl=self._access_ttl,
            whole_user=whole_user,
        )
