"""Budgets, recommendations and anomalies (seed §4.1, lifecycle columns from migration 0003)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Numeric, String, Text, text
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
    last_evaluated_at: Mapped[datetime | None]
    last_evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Recommendation(UUIDPrimaryKey, TenantScoped, Base):
    __tablename__ = "recommendations"
    __table_args__ = (
        Index("uq_recommendations_org_fingerprint", "organization_id", "fingerprint", unique=True),
        Index("ix_recommendations_org_status", "organization_id", "status"),
    )

    fingerprint: Mapped[str | None] = mapped_column(String(128), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(64))
    profile: Mapped[str | None] = mapped_column(String(64))
    provider: Mapped[str | None] = mapped_column(String(20))
    account_identifier: Mapped[str | None] = mapped_column(String(255))
    region: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(100))
    risk_level: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    priority: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    estimated_savings_monthly: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    estimated_savings_annual: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    resource_ids: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    affected_resources: Mapped[list[Any]] = mapped_column(JSONB)
    actions: Mapped[list[Any]] = mapped_column(JSONB)
    manual_steps: Mapped[list[Any] | None] = mapped_column(JSONB)
    impact_analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    impact_preview: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    narratives: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The narrator's texts: ``{"key", "engineer", "finance", "source", "written_at"}`` (see migration 0008)."""
    status: Mapped[str] = mapped_column(String(50), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    applied_at: Mapped[datetime | None]
    changed_after: Mapped[datetime | None]
    """Applied by hand at an inexact time: the last collection that saw the old state; the change happened in
    ``(changed_after, applied_at]`` (migration 0041). None: ``applied_at`` is exact."""
    dismissed_at: Mapped[datetime | None]
    dismissal_reason: Mapped[str | None] = mapped_column(Text)
    dismissed_permanently: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """Who took an ``accepted`` recommendation on (migration 0035)."""
    due_date: Mapped[date | None] = mapped_column(Date)
    """By when the owner means to have it applied (migration 0035)."""
    snoozed_until: Mapped[datetime | None]
    """A ``snoozed`` recommendation is ``active`` (open) again from this moment (migration 0035)."""
    overdue_notified_for: Mapped[date | None] = mapped_column(Date)
    """The due date whose ``recommendation.overdue`` notice was sent (migration 0040); NULL: none yet."""


class Anomaly(UUIDPrimaryKey, TenantScoped, Base):
    __tablename__ = "anomalies"
    __table_args__ = (Index("uq_anomalies_org_fingerprint", "organization_id", "fingerprint", unique=True),)

    cloud_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cloud_accounts.id", ondelete="SET NULL")
    )
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    scope: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    related_scopes: Mapped[list[Any] | None] = mapped_column(JSONB)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    service_name: Mapped[str | None] = mapped_column(String(255))
    region: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(16), default="anomaly", server_default=text("'anomaly'"))
    """``anomaly`` (spike or dip) or ``change`` (a lasting step of level, reported once; migration 0016)."""
    actual_spend: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    expected_spend: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    impact_amount: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    deviation_percent: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    score: Mapped[float | None] = mapped_column(Float)
    root_cause: Mapped[str | None] = mapped_column(Text)
    root_cause_source: Mapped[str] = mapped_column(String(40), default="contributions")
    """``contributions`` (deterministic text from the numbers) or ``agent:<provider>``."""
    contributions: Mapped[list[Any] | None] = mapped_column(JSONB)
    dimension_contributions: Mapped[list[Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(50), default="active")
    status_set_by: Mapped[str] = mapped_column(String(16), default="system", server_default=text("'system'"))
    feedback: Mapped[str | None] = mapped_column(String(32))
    feedback_at: Mapped[datetime | None]
    affected_resources: Mapped[list[Any] | None] = mapped_column(JSONB)
    drivers: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """What changed inside the top cell (``services.anomaly_drivers``; migration 0015)."""
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
