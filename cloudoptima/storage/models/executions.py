"""What happened during one remediation, step by step (migration 0018): ``execution_events``.

One row per fact about one ``policy_executions`` row, keyed by ``(execution_id, kind, key)`` so a retried
activity rewrites its fact instead of adding a second one:

- ``state`` (key: the state name): when the execution reached that state; the decision for
  ``approved`` / ``rejected``;
- ``step`` / ``verification`` / ``rollback`` (key: the step index): the outcome of executing, verifying and
  rolling back one step (``rollback_action`` of a step is what a later rollback runs);
- ``snapshot`` (key: the snapshot id): a safety snapshot the execution took, its size and monthly cost;
- ``rollback_request`` (key: the rollback execution id): a rollback of this execution was requested.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cloudoptima.storage.base import Base, TenantScoped, UUIDPrimaryKey, utcnow


class ExecutionEvent(UUIDPrimaryKey, TenantScoped, Base):
    __tablename__ = "execution_events"
    __table_args__ = (
        UniqueConstraint("execution_id", "kind", "key", name="uq_execution_events_key"),
        Index("ix_execution_events_kind_key", "organization_id", "kind", "key"),
    )

    execution_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("policy_executions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)
