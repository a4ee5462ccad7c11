"""A remediation waiting for approval, requested by someone else, and an admin who may decide it: for the
tool-wide tests that call every tool (``approve_remediation``, ``reject_remediation``) with a real id.

``pending_executions(engine, *orgs)`` seeds one per organisation for the block and removes them after;
``pending_of(org)`` is ``(execution id, admin user id)`` of the seeded one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from cloudoptima.storage.models import PolicyExecution, User

DECISION_TOOLS = ("approve_remediation", "reject_remediation")
_SEEDED: dict[uuid.UUID, tuple[str, uuid.UUID]] = {}


def pending_of(organization_id: uuid.UUID) -> tuple[str, uuid.UUID]:
    """``(execution id, admin user id)`` seeded for the organisation by :func:`pending_executions`."""
    return _SEEDED[organization_id]


def _seed(session: Session, organization_id: uuid.UUID) -> tuple[str, uuid.UUID]:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    admin = User(
        organization_id=organization_id,
        email=f"decider-{uuid.uuid4().hex[:10]}@example.com",
        password_hash="not-a-password",
        role="admin",
        is_active=True,
    )
    session.add(admin)
    session.flush()
    # 40 risks of ~420 characters: more, and longer, than the decision tools show (20, cut at 300)
    risks = [f"step {i} ({'x' * 400}) cannot be undone" for i in range(40)]
    row = PolicyExecution(
        organization_id=organization_id,
        status="pending_approval",
        workflow_id=f"remediation-{uuid.uuid4()}",
        kind="manual",
        started_at=at,
        expires_at=at + timedelta(days=3),
        risk_level="low",
        requested_by=str(uuid.uuid4()),
        requested_by_role="engineer",
        plan={
            "title": "tag for review",
            "approver_roles": ["engineer", "finops_manager", "admin"],
            "impact": {"savings": "0", "risks": risks},
        },
        execution_logs=["planned"],
    )
    session.add(row)
    session.flush()
    return str(row.id), admin.id


@contextmanager
def pending_executions(engine: Engine, *organization_ids: uuid.UUID) -> Iterator[None]:
    """Seed one pending remediation (and its deciding admin) per organisation; remove them afterwards."""
    with Session(engine) as session:
        for org in organization_ids:
            _SEEDED[org] = _seed(session, org)
        session.commit()
    try:
        yield
    finally:
        with Session(engine) as session:
            for org in organization_ids:
                execution_id, admin = _SEEDED.pop(org)
                session.execute(delete(PolicyExecution).where(PolicyExecution.id == uuid.UUID(execution_id)))
                session.execute(delete(User).where(User.id == admin))
            session.commit()
