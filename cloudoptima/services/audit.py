"""The audit trail (seed §4.2 ``audit_logs``): who did what, to which resource, from where, with what result.

``record`` writes one row in its own short transaction, so a failed or refused action is recorded even
though the action itself was rolled back. ``details`` must be JSON-serialisable and never hold secrets.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from cloudoptima.storage.models import AuditLog
from cloudoptima.storage.tenancy import TenantRepository

AuditResult = Literal["success", "failure", "denied"]


@dataclass(frozen=True)
class AuditEntry:
    organization_id: uuid.UUID
    user_id: uuid.UUID | None
    action: str
    result: AuditResult
    resource_type: str | None = None
    resource_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    ip_address: str | None = None
    user_agent: str | None = None


class _AuditRepository(TenantRepository[AuditLog]):
    model = AuditLog


def record(factory: sessionmaker[Session], entry: AuditEntry) -> uuid.UUID:
    """Write ``entry`` and commit; returns the row id."""
    with factory() as session:
        row = AuditLog(
            user_id=entry.user_id,
            timestamp=datetime.now(UTC),
            action=entry.action[:100],
            resource_type=entry.resource_type[:64] if entry.resource_type else None,
            resource_id=entry.resource_id,
            details=entry.details,
            ip_address=entry.ip_address[:64] if entry.ip_address else None,
            user_agent=entry.user_agent,
            result=entry.result,
        )
        _AuditRepository(session, entry.organization_id).add(row)
        session.commit()
        return row.id


def recent(session: Session, organization_id: uuid.UUID, *, limit: int = 100) -> Sequence[AuditLog]:
    """The organisation's latest audit rows, newest first."""
    repo = _AuditRepository(session, organization_id)
    return session.scalars(repo.query().order_by(AuditLog.timestamp.desc()).limit(limit)).all()
