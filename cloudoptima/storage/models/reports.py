"""Generated reports and report schedules (migration 0025), used by :mod:`cloudoptima.services.reports`.

A ``reports`` row is one generation (ad hoc, or a scheduled run linked by ``schedule_id``): ``status``
``generating`` → ``completed`` (the artifact's ``artifact_key`` in the report store, ``content_type``,
``size_bytes``, ``sha256``, ``expires_at``) or ``failed`` (``error``); ``delivery_status`` ``pending`` →
``delivered`` or ``failed`` (``delivery_error``) for email and S3 deliveries. ``report_schedules`` holds the
recurring reports and the id of the Temporal Schedule that fires each.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey


class ReportScheduleRow(UUIDPrimaryKey, TenantScoped, Base):
    """A recurring report of an organisation (see migration 0025 for every column's meaning)."""

    __tablename__ = "report_schedules"
    __table_args__ = (
        CheckConstraint("format IN ('pdf', 'excel', 'csv', 'json')", name="format"),
        CheckConstraint("frequency IN ('daily', 'weekly', 'monthly')", name="frequency"),
        CheckConstraint("day_of_week IS NULL OR day_of_week BETWEEN 0 AND 6", name="day_of_week"),
        CheckConstraint("day_of_month IS NULL OR day_of_month BETWEEN 1 AND 28", name="day_of_month"),
    )

    name: Mapped[str] = mapped_column(String(200))
    template_id: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    format: Mapped[str] = mapped_column(String(8))
    delivery: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    frequency: Mapped[str] = mapped_column(String(8))
    day_of_week: Mapped[int | None] = mapped_column(SmallInteger)
    day_of_month: Mapped[int | None] = mapped_column(SmallInteger)
    time_of_day: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    enabled: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    temporal_schedule_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class ReportRow(UUIDPrimaryKey, TenantScoped, Base):
    """One report generation (see the module docstring for its life cycle)."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("format IN ('pdf', 'excel', 'csv', 'json')", name="format"),
        CheckConstraint("status IN ('generating', 'completed', 'failed')", name="status"),
        CheckConstraint(
            "delivery_status IS NULL OR delivery_status IN ('pending', 'delivered', 'failed')",
            name="delivery_status",
        ),
        Index("ix_reports_org_created", "organization_id", text("created_at DESC"), text("id DESC")),
        Index(
            "ix_reports_schedule",
            "schedule_id",
            text("created_at DESC"),
            postgresql_where=text("schedule_id IS NOT NULL"),
        ),
    )

    template_id: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    format: Mapped[str] = mapped_column(String(8))
    delivery: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("report_schedules.id", ondelete="SET NULL")
    )
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    artifact_key: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
