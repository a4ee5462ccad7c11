"""Scheduled cost exports and the record of every export run (migration 0030), used by
:mod:`cloudoptima.services.cost_export_schedules`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey


class CostExportScheduleRow(UUIDPrimaryKey, TenantScoped, Base):
    """A recurring export of an organisation (see migration 0030 for every column's meaning)."""

    __tablename__ = "cost_export_schedules"

    name: Mapped[str] = mapped_column(String(200))
    dataset: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    partition: Mapped[str] = mapped_column(String(8))
    focus_version: Mapped[str | None] = mapped_column(String(8))
    """FOCUS version of ``focus_raw`` columns (migration 0032; None: 1.2 or not FOCUS)."""
    destination: Mapped[dict[str, Any]] = mapped_column(JSONB)
    frequency: Mapped[str] = mapped_column(String(8))
    day_of_week: Mapped[int | None] = mapped_column(SmallInteger)
    day_of_month: Mapped[int | None] = mapped_column(SmallInteger)
    time_of_day: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    temporal_schedule_id: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]


class CostExportRunRow(UUIDPrimaryKey, TenantScoped, Base):
    """One export run, scheduled (``schedule_id``) or one-off (see migration 0030)."""

    __tablename__ = "cost_export_runs"

    schedule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cost_export_schedules.id", ondelete="SET NULL")
    )
    dataset: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    partition: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    focus_version: Mapped[str | None] = mapped_column(String(8))
    """FOCUS version of ``focus_raw`` columns (migration 0032; None: 1.2 or not FOCUS)."""
    destination: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10))
    """``queued`` (migration 0032) -> ``running`` -> ``succeeded`` | ``failed``."""
    error: Mapped[str | None] = mapped_column(Text)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    requested_by: Mapped[uuid.UUID | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
