"""A completed remediation with one reversible step (stop, undone by start), for the tool-wide tests that
call every tool (``get_execution``, ``rollback_remediation``) with a real execution id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloudoptima.storage.models import ExecutionEvent, PolicyExecution

EXECUTION_TOOLS = ("get_execution", "rollback_remediation")


def seed_completed_execution(
    session: Session, organization_id: uuid.UUID, resource_id: str = "i-seeded"
) -> str:
    """Add the execution (and its step fact) in ``session``; returns its id."""
    at = datetime(2030, 1, 1, tzinfo=UTC)
    row = PolicyExecution(
        organization_id=organization_id,
        status="completed",
        workflow_id=f"remediation-{uuid.uuid4()}",
        kind="manual",
        started_at=at,
        completed_at=at,
        resources_affected=1,
        plan={"title": "stop an idle instance", "steps": [], "impact": {"savings": "10.00"}},
        execution_logs=["planned", "completed"],
    )
    session.add(row)
    session.flush()
    session.add(
        ExecutionEvent(
            organization_id=organization_id,
            execution_id=row.id,
            kind="step",
            key="0",
            at=at,
            data={
                "index": 0,
                "resource_id": resource_id,
                "action": "stop",
                "status": "succeeded",
                "rollback_action": {
                    "cloud_account_id": str(uuid.uuid4()),
                    "resource_id": resource_id,
                    "action": "start",
                    "region": None,
                    "parameters": {},
                    "description": "roll back step 0",
                },
            },
        )
    )
    session.flush()
    return str(row.id)


def completed_execution_of(engine: Engine, organization_id: uuid.UUID) -> str:
    """A completed execution of the organisation (seeded on first use)."""
    with Session(engine) as session:
        found = session.scalars(
            select(PolicyExecution.id).where(
                PolicyExecution.organization_id == organization_id, PolicyExecution.status == "completed"
            )
        ).first()
        if found is not None:
            return str(found)
        execution_id = seed_completed_execution(session, organization_id)
        session.commit()
        return execution_id
