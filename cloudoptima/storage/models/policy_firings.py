"""What fired a policy (migration 0020): ``policy_firings``.

One row per firing of an event or threshold trigger: the policy, the trigger type, what fired it (the event
name and the id of the thing it is about, or the metric, its observed value, the threshold and the window of
days ``[window_start, window_end)``), the resources it concerns, and the policy execution it started
(``execution_id`` is the ``policy_executions`` id, ``workflow_id`` the ``PolicyExecution`` workflow).
``(policy_id, fire_key)`` is unique: the same event or window fires a policy once, however many times the
triggers are evaluated.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey, utcnow


class PolicyFiring(UUIDPrimaryKey, TenantScoped, Base):
    __tablename__ = "policy_firings"
    __table_args__ = (
        UniqueConstraint("policy_id", "fire_key", name="uq_policy_firings_key"),
        Index("ix_policy_firings_org_time", "organization_id", "fired_at"),
    )

    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), index=True)
    trigger_type: Mapped[str] = mapped_column(String(16))
    fire_key: Mapped[str] = mapped_column(Text)
    event: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(Text)
    metric: Mapped[str | None] = mapped_column(String(64))
    observed: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    resource_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    execution_id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    workflow_id: Mapped[str | None] = mapped_column(String(255))
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
