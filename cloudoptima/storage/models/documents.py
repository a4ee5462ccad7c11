"""The spec's MongoDB collections as Postgres JSONB tables (seed §4.2): resources and audit logs."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey, utcnow


class ResourceDocument(UUIDPrimaryKey, TenantScoped, Base):
    """One inventory item as last seen in its cloud; type-specific fields live in ``configuration``."""

    __tablename__ = "resources"
    __table_args__ = (
        UniqueConstraint("organization_id", "cloud_account_id", "resource_id"),
        Index("ix_resources_org_provider_type", "organization_id", "provider", "resource_type"),
        Index("ix_resources_tags", "tags", postgresql_using="gin"),
        Index("ix_resources_last_seen", "last_seen"),
    )

    cloud_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cloud_accounts.id", ondelete="CASCADE")
    )
    resource_id: Mapped[str] = mapped_column(Text)
    resource_arn: Mapped[str | None] = mapped_column(Text)
    resource_name: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(20))
    resource_type: Mapped[str] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str | None] = mapped_column(String(50))
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    cost_monthly: Mapped[Decimal | None] = mapped_column(Numeric(15, 4))
    tags: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    optimization_score: Mapped[int | None] = mapped_column(Integer)
    recommendations: Mapped[list[str]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    """When the name, status, region, tags or configuration last changed (not every sighting)."""
    first_seen: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    """When a collection first stored the resource (``created_at`` is the cloud's creation time)."""
    previous_seen: Mapped[datetime | None]
    """The last sighting before the latest change (``last_updated``); for a resource marked deleted, its last
    sighting. None: not known (migration 0041)."""


class AuditLog(UUIDPrimaryKey, TenantScoped, Base):
    """Who did what, to which resource, from where, and how it ended (seed §4.2 ``audit_logs``)."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        # Every read is one organisation's, newest first with ``id`` breaking ties (the keyset order of
        # ``GET /v1/audit-logs``); each filter has an index that starts with the organisation.
        Index("ix_audit_logs_org_time_id", "organization_id", "timestamp", "id"),
        Index("ix_audit_logs_org_action_time", "organization_id", "action", "timestamp"),
        Index("ix_audit_logs_org_channel_time", "organization_id", "channel", "timestamp"),
        Index("ix_audit_logs_org_actor_time", "organization_id", "actor", "timestamp"),
        Index(
            "ix_audit_logs_org_resource_time", "organization_id", "resource_type", "resource_id", "timestamp"
        ),
        Index("ix_audit_logs_user_time", "user_id", "timestamp"),
    )

    user_id: Mapped[uuid.UUID | None]
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(100))
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(16), default="rest")
    """How the action arrived: ``rest``, ``mcp``, ``workflow`` or ``temporal_ui``."""
    actor: Mapped[str] = mapped_column(String(128), default="system")
    """Who acted: ``user:<id>``, ``api_key:<id>`` or ``system`` (a workflow; its id is in ``details``)."""
