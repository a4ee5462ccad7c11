"""Per-user digest subscriptions (migration 0026, table ``notification_digests``), used only by
:mod:`cloudoptima.services.digests`.

At most one row per user of an organisation: ``frequency`` ``daily`` or ``weekly`` (``day_of_week`` 0 =
Monday, weekly only), the local ``time_of_day`` (``HH:MM``) in the IANA ``timezone``, the ``channel``
(``email`` or ``in_app``), ``last_sent_at`` (the pass that last sent it), and ``last_attempt_at`` /
``last_error`` (the last failed send, cleared by the next successful one).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey


class NotificationDigestRow(UUIDPrimaryKey, TenantScoped, Base):
    """One user's digest subscription (see the module docstring)."""

    __tablename__ = "notification_digests"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id", name="uq_notification_digests_user"),
        CheckConstraint("frequency IN ('daily', 'weekly')", name="frequency"),
        CheckConstraint("day_of_week IS NULL OR day_of_week BETWEEN 0 AND 6", name="day"),
        CheckConstraint("channel IN ('email', 'in_app')", name="channel"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    frequency: Mapped[str] = mapped_column(String(8))
    day_of_week: Mapped[int | None] = mapped_column(SmallInteger)
    time_of_day: Mapped[str] = mapped_column(String(5), server_default=text("'08:00'"))
    timezone: Mapped[str] = mapped_column(String(64), server_default=text("'UTC'"))
    channel: Mapped[str] = mapped_column(String(8), server_default=text("'email'"))
    last_sent_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
