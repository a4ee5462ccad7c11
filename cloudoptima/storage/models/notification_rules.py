"""Notification rules (migration 0026), used only by :mod:`cloudoptima.services.notification_rules`.

One row says which events of an organisation notify whom: ``event_type`` (a ``NoticeEventType`` but
``digest``), thresholds (``min_severity``, ``min_amount``), ``scope`` filters (JSONB), where it goes
(``channel_id``, or NULL for the in-app inbox, then ``recipients`` ``roles``/``user_ids``), optional
``quiet_hours`` (``start``, ``end``, ``timezone``) and ``enabled``. Deleting a channel deletes its rules.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey


class NotificationRuleRow(UUIDPrimaryKey, TenantScoped, Base):
    """One rule of an organisation (see the module docstring and migration 0026)."""

    __tablename__ = "notification_rules"
    __table_args__ = (
        UniqueConstraint("organization_id", "name", name="uq_notification_rules_name"),
        CheckConstraint(
            "event_type IN ('budget.actual', 'budget.forecasted', 'anomaly.detected', "
            "'recommendation.created', 'approval.requested', 'execution.succeeded', 'execution.failed', "
            "'collection.failed', 'report.ready', 'commitment.expiring', 'recommendation.overdue')",
            name="event_type",
        ),
        CheckConstraint(
            "min_severity IS NULL OR min_severity IN ('info', 'warning', 'critical')", name="severity"
        ),
        Index(
            "ix_notification_rules_org_event",
            "organization_id",
            "event_type",
            postgresql_where=text("enabled"),
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(40))
    min_severity: Mapped[str | None] = mapped_column(String(16))
    min_amount: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    scope: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    channel_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE")
    )
    recipients: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    quiet_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
