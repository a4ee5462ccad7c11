"""Policies and their executions (seed §4.1); executions carry the organisation for tenant scoping."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
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
