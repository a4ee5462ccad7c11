"""Per-user digest subscriptions: create or replace, read, delete (one per user), and the digest of one user.

Contract:
- A subscription (``notification_digests``, at most one per user) holds a checked
  :class:`~cloudoptima.services.digests.schedule.DigestSchedule`. :meth:`Digests.put` creates or replaces the
  caller's own subscription (replacing keeps ``last_sent_at``, so a period already sent is not sent again,
  and clears the last error); a user outside the organisation is :class:`DigestError` naming ``user_id``;
  reading or deleting a missing one is :class:`DigestNotFound`.
- :class:`DigestView` is the subscription as the API shows it, with ``next_send_at``: the latest send time
  while the digest is due and unsent, else the next one.
- :meth:`Digests.figures` and :meth:`Digests.build_digest` are the digest's numbers and notice
  (:mod:`~cloudoptima.services.digests.figures`, :mod:`~cloudoptima.services.digests.notice`).
- Every query is scoped to the organisation (tenant repository); ``now`` comes from the caller and must carry
  a time zone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.notices import Notice
from cloudoptima.services.digests.figures import DigestFigures, digest_figures
from cloudoptima.services.digests.notice import digest_notice
from cloudoptima.services.digests.schedule import (
    DigestError,
    DigestPeriod,
    DigestSchedule,
    aware,
    is_due,
    latest_send_time,
    next_send_time,
    schedule_of,
)
from cloudoptima.storage.models import NotificationDigestRow, User
from cloudoptima.storage.tenancy import TenantRepository


class DigestNotFound(LookupError):
    """The user has no digest subscription."""

    def __init__(self, user_id: uuid.UUID) -> None:
        super().__init__(f"user {user_id} has no digest subscription")
        self.user_id = user_id


@dataclass(frozen=True)
class DigestView:
    """One user's subscription as the API shows it."""

    id: uuid.UUID
    user_id: uuid.UUID
    frequency: str
    day_of_week: int | None
    time_of_day: str
    timezone: str
    channel: str
    last_sent_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    next_send_at: datetime


def view_of(row: NotificationDigestRow, now: datetime) -> DigestView:
    schedule = schedule_of(row)
    due = is_due(row, now)
    return DigestView(
        id=row.id,
        user_id=row.user_id,
        frequency=row.frequency,
        day_of_week=row.day_of_week,
        time_of_day=row.time_of_day,
        timezone=row.timezone,
        channel=row.channel,
        last_sent_at=row.last_sent_at,
        last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        next_send_at=latest_send_time(schedule, now) if due else next_send_time(schedule, now),
    )


class DigestRows(TenantRepository[NotificationDigestRow]):
    model = NotificationDigestRow
    """The organisation's subscription rows."""


class Digests:
    """One organisation's digest subscriptions and digests (see module contract)."""

    def __init__(self, session: Session, organization_id: uuid.UUID) -> None:
        self._session = session
        self._org = organization_id
        self._repo = DigestRows(session, organization_id)

    # ---- subscriptions ----------------------------------------------------------------------------------
    def _row(self, user_id: uuid.UUID) -> NotificationDigestRow | None:
        return self._session.scalars(
            self._repo.query().where(NotificationDigestRow.user_id == user_id)
        ).first()

    def get(self, user_id: uuid.UUID, *, now: datetime) -> DigestView:
        """The user's subscription; :class:`DigestNotFound` when there is none."""
        row = self._row(user_id)
        if row is None:
            raise DigestNotFound(user_id)
        return view_of(row, aware(now))

    def put(self, user_id: uuid.UUID, schedule: DigestSchedule, *, now: datetime) -> tuple[DigestView, bool]:
        """Create or replace the user's subscription; returns it and whether it was created. Replacing keeps
        ``last_sent_at`` (a period already sent is not sent again) and clears the last error."""
        now = aware(now)
        user = self._session.scalars(
            select(User).where(User.organization_id == self._org, User.id == user_id)
        ).first()
        if user is None:
            raise DigestError("user_id", f"{user_id} is not a user of this organisation")
        row = self._row(user_id)
        created = row is None
        if row is None:
            row = NotificationDigestRow(organization_id=self._org, user_id=user_id, created_at=now)
            self._session.add(row)
        row.frequency, row.day_of_week = schedule.frequency, schedule.day_of_week
        row.time_of_day, row.timezone, row.channel = schedule.time_of_day, schedule.timezone, schedule.channel
        row.last_error = None
        self._session.flush()
        return view_of(row, now), created

    def delete(self, user_id: uuid.UUID) -> None:
        """Remove the user's subscription; :class:`DigestNotFound` when there is none."""
        row = self._row(user_id)
        if row is None:
            raise DigestNotFound(user_id)
        self._session.delete(row)
        self._session.flush()

    # ---- the digest -------------------------------------------------------------------------------------
    def figures(self, user: User, period: DigestPeriod, *, now: datetime, base_url: str) -> DigestFigures:
        """The digest's numbers for ``user`` and ``period`` (:func:`~.figures.digest_figures`)."""
        return digest_figures(self._session, self._org, user, period, now=now, base_url=base_url)

    def build_digest(self, user: User, period: DigestPeriod, *, now: datetime, base_url: str) -> Notice:
        """The digest notice for ``user`` and ``period`` (:func:`~.notice.digest_notice`)."""
        figures = self.figures(user, period, now=now, base_url=base_url)
        return digest_notice(self._org, user.id, period, figures)
