"""The in-app inbox (migration 0023): one ``notifications`` row per notice per user.

Written and read only through :mod:`cloudoptima.services.inbox`. ``(organization_id, user_id,
idempotency_key)`` is unique: posting the same notice again keeps the first row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey


class Notification(UUIDPrimaryKey, TenantScoped, Base):
    """One notice in one user's inbox; unread while ``read_at`` is NULL."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint(
            "organization_id", "user_id", "idempotency_key", name="uq_notifications_idempotency_key"
        ),
        CheckConstraint("severity IN ('info', 'warning', 'critical')", name="severity"),
        Index(
            "ix_notifications_unread",
            "organization_id",
            "user_id",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text("read_at IS NULL"),
        ),
        Index(
            "ix_notifications_user_created",
            "organization_id",
            "user_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
