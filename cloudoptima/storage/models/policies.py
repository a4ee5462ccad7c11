"""Policies and their executions (seed §4.1); executions carry the organisation for tenant scoping.

A ``policy_executions`` row is the record of one remediation workflow (migration 0005): ``kind`` says what
started it (recommendation, policy or manual), ``plan`` is the checked and costed plan, and the decision
columns say who approved or rejected it and when; ``expires_at`` is when a pending approval lapses.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, Timestamps, UUIDPrimaryKey, utcnow


class Policy(UUIDPrimaryKey, Timestamps, TenantScoped, Base):
    __tablename__ = "policies"

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    trigger_config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    conditions: Mapped[list[Any]] = mapped_column(JSONB)
    actions: Mapped[list[Any]] = mapped_column(JSONB)
    safety_controls: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    last_executed_at: Mapped[datetime | None]
    execution_count: Mapped[int] = mapped_column(Integer, default=0)
    success_count: Mapped[int] = mapped_column(Integer, default=0)


class PolicyExecution(UUIDPrimaryKey, TenantScoped, Base):
    __tablename__ = "policy_executions"
    __table_args__ = (Index("ix_policy_executions_org_status", "organization_id", "status"),)

    policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    recommendation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("recommendations.id", ondelete="SET NULL")
    )
    workflow_id: Mapped[str | None] = mapped_column(String(255), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(50))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    resources_affected: Mapped[int | None] = mapped_column(Integer)
    execution_logs: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    error_message: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="policy", server_default=text("'policy'"))
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    risk_level: Mapped[str | None] = mapped_column(String(20))
    approval_required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    requested_by: Mapped[str | None] = mapped_column(String(255))
    requested_by_role: Mapped[str | None] = mapped_column(String(32))
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_by_role: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None]
    scheduled_for: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
