"""Budgets, recommendations and anomalies (seed §4.1)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, Timestamps, UUIDPrimaryKey, utcnow


class Budget(UUIDPrimaryKey, Timestamps, TenantScoped, Base):
    __tablename__ = "budgets"

    name: Mapped[str] = mapped_column(String(255))
    amount: Mapped[Decimal] = mapped_column(Numeric(15, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    period: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    scope_type: Mapped[str | None] = mapped_column(String(50))
    scope_filters: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    alert_thresholds: Mapped[list[Any] | None] = mapped_column(JSONB)
    alert_state: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Recommendation(UUIDPrimaryKey, TenantScoped, Base):
    __tablename__ = "recommendations"

    fingerprint: Mapped[str | None] = mapped_column(String(128), index=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(100))
    risk_level: Mapped[str] = mapped_column(String(20))
    estimated_savings_monthly: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    estimated_savings_annual: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    affected_resources: Mapped[list[Any]] = mapped_column(JSONB)
    actions: Mapped[list[Any]] = mapped_column(JSONB)
    impact_analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(50), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    applied_at: Mapped[datetime | None]
    dismissed_at: Mapped[datetime | None]
    dismissal_reason: Mapped[str | None] = mapped_column(Text)


class Anomaly(UUIDPrimaryKey, TenantScoped, Base):
    __tablename__ = "anomalies"

    cloud_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cloud_accounts.id", ondelete="SET NULL")
    )
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    service_name: Mapped[str | None] = mapped_column(String(255))
    region: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(20))
    impact_amount: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    deviation_percent: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    root_cause: Mapped[str | None] = mapped_column(Text)
    contributions: Mapped[list[Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(50), default="active")
    feedback: Mapped[str | None] = mapped_column(String(32))
    affected_resources: Mapped[list[Any] | None] = mapped_column(JSONB)
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
