"""Notification channels and deliveries (migration 0024), used only by
:mod:`cloudoptima.services.notification_delivery`.

Targets and webhook signing secrets are stored encrypted with the credential cipher; ``target_hint`` is the
redacted form that may be shown. ``(channel_id, idempotency_key)`` is unique per delivery.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey


class NotificationChannelRow(UUIDPrimaryKey, TenantScoped, Base):
    """One configured destination of an organisation (email address, Slack/Teams/webhook URL)."""

    __tablename__ = "notification_channels"
    __table_args__ = (
        UniqueConstraint("organization_id", "name", name="uq_notification_channels_name"),
        CheckConstraint("kind IN ('email', 'slack', 'teams', 'webhook')", name="kind"),
    )

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    target_encrypted: Mapped[str] = mapped_column(Text)
    target_hint: Mapped[str] = mapped_column(String(300))
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime]


class NotificationDeliveryRow(UUIDPrimaryKey, TenantScoped, Base):
    """One notice to one channel: ``pending`` (due at ``next_attempt_at``), ``delivered`` or ``dead``."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "idempotency_key", name="uq_notification_deliveries_key"),
        CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
        Index(
            "ix_notification_deliveries_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_notification_deliveries_org_status",
            "organization_id",
            "status",
            text("created_at DESC"),
        ),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notification_channels.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    notice: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
