"""Immediate revocation: revoked sign-ins and deactivated users fail on their very next request.

The rule (checked on every authenticated request in the same Redis round trip as the rate limit, and when a
WebSocket opens):

- an **access token** is refused when Redis holds any of
  ``cloudoptima:revoked:{jti}`` (that token was logged out; kept until the token expires),
  ``cloudoptima:revoked-session:{sid}`` (its sign-in — the refresh-token family named by the token's ``sid``
  claim — was revoked: refresh-token reuse, logout, logout of every session, a password change (the other
  sessions), a password reset, a deactivation; kept for one access-token lifetime, after which every token
  issued to that sign-in has expired, and a revoked family cannot issue new ones), or
  ``cloudoptima:revoked-user:{user_id}`` (the user is deactivated; kept until the user is reactivated);
- an **API key** is refused when its row is revoked or its user inactive (read from the database on every
  use) or when the user marker exists.

"Every session of a user" means every refresh-token family with a token issued within the last access-token
lifetime (:func:`live_sessions`): only those can still have unexpired access tokens (every access token is
issued together with a refresh token of its family).

Open WebSockets: each revocation is also published as a :class:`Revocation` notice on
``cloudoptima:revocations:{organization_id}``; a socket whose token it matches is closed (code 4401, the
reason). Sockets re-check the markers every few seconds too, so a notice missed while a pub/sub connection
was re-established delays the close by no more than that.

Callers mark revocations *after* the database change committed (a failed change revokes nothing).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cloudoptima.storage.models import RefreshToken, User

TOKEN_PREFIX = "cloudoptima:revoked:"
SESSION_PREFIX = "cloudoptima:revoked-session:"
USER_PREFIX = "cloudoptima:revoked-user:"
NOTICE_PREFIX = "cloudoptima:revocations:"


def token_key(jti: str) -> str:
    return TOKEN_PREFIX + jti


def session_key(session_id: uuid.UUID) -> str:
    return f"{SESSION_PREFIX}{session_id}"


def user_key(user_id: uuid.UUID) -> str:
    return f"{USER_PREFIX}{user_id}"


def notice_channel(organization_id: uuid.UUID) -> str:
    """The pub/sub channel carrying one organisation's revocation notices."""
    return f"{NOTICE_PREFIX}{organization_id}"


def deny_keys(
    user_id: uuid.UUID, *, jti: str | None = None, session_id: uuid.UUID | None = None
) -> list[str]:
    """The markers any of which refuses a caller (see module rule)."""
    keys = [user_key(user_id)]
    if jti is not None:
        keys.append(token_key(jti))
    if session_id is not None:
        keys.append(session_key(session_id))
    return keys


@dataclass(frozen=True)
class Revocation:
    """What was revoked: some sign-ins (``session_ids``), some tokens (``jtis``) or the whole user."""

    organization_id: uuid.UUID
    user_id: uuid.UUID
    reason: str
    session_ids: tuple[uuid.UUID, ...] = ()
    jtis: tuple[str, ...] = ()
    user: bool = False
    token_ttl: dict[str, int] = field(default_factory=dict, compare=False)
    """Seconds each ``jti`` marker is kept (until that token expires); default: one access-token lifetime."""

    def matches(self, user_id: uuid.UUID, *, session_id: uuid.UUID | None, jti: str | None) -> bool:
        """True when a caller with these claims is revoked by this notice."""
        if user_id != self.user_id:
            return False
        return self.user or (session_id is not None and session_id in self.session_ids) or jti in self.jtis

    def encode(self) -> str:
        return json.dumps(
            {
                "organization_id": str(self.organization_id),
                "user_id": str(self.user_id),
                "reason": self.reason,
                "session_ids": [str(s) for s in self.session_ids],
                "jtis": list(self.jtis),
                "user": self.user,
            }
        )

    @classmethod
    def decode(cls, text: str | bytes) -> Revocation:
        """The notice in ``text``; ``ValueError`` when it is not one."""
        try:
            data: dict[str, Any] = json.loads(text)
            return cls(
                organization_id=uuid.UUID(data["organization_id"]),
                user_id=uuid.UUID(data["user_id"]),
                reason=str(data["reason"]),
                session_ids=tuple(uuid.UUID(s) for s in data["session_ids"]),
                jtis=tuple(str(j) for j in data["jtis"]),
                user=bool(data["user"]),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a revocation notice: {exc}") from exc


def live_sessions(
    session: Session,
    user_id: uuid.UUID,
    *,
    now: datetime,
    access_ttl: timedelta,
    keep: uuid.UUID | None = None,
) -> tuple[uuid.UUID, ...]:
    """The user's sign-ins that may still hold unexpired access tokens (see module rule), minus ``keep``."""
    found = session.scalars(
        select(RefreshToken.family_id)
        .where(RefreshToken.user_id == user_id, RefreshToken.issued_at >= now - access_ttl)
        .distinct()
    ).all()
    return tuple(sorted((f for f in found if f != keep), key=str))


def end_sign_ins(
    session: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    reason: str,
    *,
    now: datetime,
    access_ttl: timedelta,
    keep: uuid.UUID | None = None,
    whole_user: bool = False,
) -> Revocation:
    """Revoke every refresh-token family of the user except ``keep`` in the database (the caller commits) and
    return the :class:`Revocation` to apply once committed (``whole_user``: the user is deactivated)."""
    sessions = live_sessions(session, user_id, now=now, access_ttl=access_ttl, keep=keep)
    revoked = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    if keep is not None:
        revoked = revoked.where(RefreshToken.family_id != keep)
    session.execute(revoked.values(revoked_at=now))
    return Revocation(organization_id, user_id, reason, session_ids=sessions, user=whole_user)


def revoked_in_database(session: Session, user_id: uuid.UUID, session_id: uuid.UUID | None) -> str | None:
    """Why an access token of ``user_id`` / ``session_id`` is revoked according to the database alone (for
    callers without the gateway's Redis, e.g. MCP servers): ``"user deactivated"``, ``"session revoked"``, or
    None."""
    active = session.scalar(select(User.is_active).where(User.id == user_id))
    if not active:
        return "user deactivated"
    if session_id is not None:
        revoked = session.scalar(
            select(RefreshToken.id)
            .where(RefreshToken.family_id == session_id, RefreshToken.revoked_at.is_not(None))
            .limit(1)
        )
        if revoked is not None:
            return "session revoked"
    return None


class RevocationMarks:
    """Writes and reads the markers of the module rule (asyncio Redis client)."""

    def __init__(self, client: aioredis.Redis, *, access_ttl: timedelta) -> None:
        self._client = client
        self._ttl = max(int(access_ttl.total_seconds()), 1)

    async def apply(self, revocation: Revocation) -> None:
        """Set the markers of ``revocation`` and publish its notice (one round trip)."""
        async with self._client.pipeline(transaction=True) as pipe:
            for session_id in revocation.session_ids:
                pipe.set(session_key(session_id), revocation.reason, ex=self._ttl)
            for jti in revocation.jtis:
                pipe.set(token_key(jti), "1", ex=max(revocation.token_ttl.get(jti, self._ttl), 1))
            if revocation.user:
                pipe.set(user_key(revocation.user_id), revocation.reason)
            pipe.publish(notice_channel(revocation.organization_id), revocation.encode())
            await pipe.execute()

    async def restore_user(self, user_id: uuid.UUID) -> None:
        """Lift a deactivation marker (the user was reactivated)."""
        await self._client.delete(user_key(user_id))

    async def revoked(self, keys: Sequence[str]) -> bool:
        """True when any of ``keys`` (from :func:`deny_keys`) is set."""
        return bool(keys) and int(await self._client.exists(*keys)) > 0
