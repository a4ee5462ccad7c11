"""The recommendation lifecycle an execution drives (``ExecutionProgress.reached``) on real Postgres: applied
while approved/executing, completed after a verified change, active again after a failure unless another
execution is still open, untouched by dry runs and pending requests, active again after a completed rollback;
an owned (accepted) one goes back to accepted with its owner and due date, audited (#22)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.remediation import RemediationState
from cloudoptima.services.execution_progress import ExecutionProgress
from cloudoptima.services.executions import ExecutionService, RollbackRefused
from cloudoptima.services.recommendation_lifecycle import RecommendationLifecycle
from cloudoptima.storage.models import (
    AuditLog,
    ExecutionEvent,
    Organization,
    PolicyExecution,
    Recommendation,
    User,
)
from cloudoptima.storage.tenancy import scope

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _org(session: Session) -> uuid.UUID:
    org = Organization(name=f"progress-{uuid.uuid4().hex[:8]}", subscription_tier="free", settings={})
    session.add(org)
    session.flush()
    scope(session, org.id)
    return org.id


def _rec(session: Session, org: uuid.UUID) -> Recommendation:
    rec = Recommendation(
        organization_id=org,
        fingerprint=uuid.uuid4().hex,
        title="Stop idle VM",
        category="compute",
        risk_level="medium",
        affected_resources=[],
        actions=[{"type": "stop", "resource_id": "i-1", "description": "stop", "parameters": {}}],
        status="active",
    )
    session.add(rec)
    session.flush()
    return rec


def _execution(
    session: Session,
    org: uuid.UUID,
    rec: Recommendation | None,
    status: str,
    *,
    dry_run: bool = False,
    age: int = 0,
) -> PolicyExecution:
    row = PolicyExecution(
        organization_id=org,
        status=status,
        workflow_id=f"remediation-{uuid.uuid4()}",
        kind="recommendation" if rec is not None else "manual",
        recommendation_id=rec.id if rec is not None else None,
        dry_run=dry_run,
        started_at=NOW - timedelta(minutes=age),
        plan={"title": "stop idle VM"},
    )
    session.add(row)
    session.flush()
    return row


def test_an_execution_moves_its_recommendation_through_its_lifecycle(db_session: Session) -> None:
    org = _org(db_session)
    progress = ExecutionProgress(db_session, org, now=lambda: NOW)
    rec = _rec(db_session, org)

    dry = _execution(db_session, org, rec, "planning", dry_run=True)
    progress.reached(dry.id, RemediationState.EXECUTING)
    assert rec.status == "active", "a dry run never moves the recommendation"

    first = _execution(db_session, org, rec, "pending_approval", age=2)
    progress.reached(first.id, RemediationState.PENDING_APPROVAL)
    assert rec.status == "active", "only an approved change makes it applied"
    assert ExecutionService(db_session, org).open_execution_of(rec.id) is not None
    progress.reached(first.id, RemediationState.APPROVED, {"user_id": "u", "channel": "rest"})
    assert rec.status == "applied"

    # a second (racing) execution refused while the first is open leaves it applied
    second = _execution(db_session, org, rec, "refused", age=1)
    progress.reached(second.id, RemediationState.REFUSED, error="already has an open execution")
    assert rec.status == "applied"

    first.status = "failed"
    progress.reached(first.id, RemediationState.FAILED, error="step 0 failed")
    assert rec.status == "active", "a failed execution returns it to active"

    third = _execution(db_session, org, rec, "executing")
    progress.reached(third.id, RemediationState.EXECUTING)
    assert rec.status == "applied"
    third.status = "completed"
    progress.reached(third.id, RemediationState.COMPLETED)
    assert rec.status == "completed" and rec.applied_at == NOW

    undo = _execution(db_session, org, None, "completed")
    ExecutionService(db_session, org, now=lambda: NOW).link_rollback(third.id, str(undo.id), "admin")
    progress.reached(undo.id, RemediationState.COMPLETED)
    assert rec.status == "active", "a completed rollback makes it applicable again"

    detail = ExecutionService(db_session, org).get(first.id)
    assert [s.state for s in detail.timeline] == ["pending_approval", "approved", "failed"]
    assert detail.decision is None  # no decision columns were written on this hand-made row
    assert ExecutionService(db_session, org).get(third.id).rolled_back_by[0].execution_id == str(undo.id)
    assert ExecutionService(db_session, org).get(undo.id).rollback_of is not None


def test_another_organisation_sees_nothing(db_session: Session) -> None:
    org = _org(db_session)
    rec = _rec(db_session, org)
    row = _execution(db_session, org, rec, "completed")
    other = _org(db_session)
    service = ExecutionService(db_session, other)
    assert service.list() == ([], 0)
    assert service.open_execution_of(rec.id) is None
    with pytest.raises(LookupError, match=str(row.id)):
        service.get(row.id)


def test_a_rollback_is_reserved_under_a_lock_so_only_one_starts(db_session: Session) -> None:
    org = _org(db_session)
    done = _execution(db_session, org, None, "completed")
    db_session.add(
        ExecutionEvent(
            organization_id=org,
            execution_id=done.id,
            kind="step",
            key="0",
            at=NOW,
            data={
                "index": 0,
                "resource_id": "i-1",
                "action": "stop",
                "status": "succeeded",
                "rollback_action": {"cloud_account_id": "", "resource_id": "i-1", "action": "start"},
            },
        )
    )
    db_session.flush()
    service = ExecutionService(db_session, org, now=lambda: NOW)
    plan, reservation = service.reserve_rollback(done.id, "admin")
    assert [a.action for a in plan.actions] == ["start"] and plan.risk_level.value == "low"
    with pytest.raises(RollbackRefused, match="already has a rollback being started"):
        service.reserve_rollback(done.id, "someone else")
    service.release_rollback(done.id, reservation)
    _plan, reservation = service.reserve_rollback(done.id, "admin")
    undo = _execution(db_session, org, None, "pending_approval")
    service.link_rollback(done.id, str(undo.id), "admin", reservation=reservation)
    detail = service.get(done.id)
    assert [link.execution_id for link in detail.rolled_back_by] == [str(undo.id)]
    assert (
        detail.rollback_refusal
        == f"execution {done.id} already has an open rollback: execution {undo.id} (pending_approval)"
    )


def test_an_accepted_recommendation_keeps_its_owner_through_a_failed_or_undone_execution(
    db_session: Session,
) -> None:
    org = _org(db_session)
    owner = User(
        organization_id=org, email=f"{uuid.uuid4().hex[:10]}@example.com", password_hash="-", role="engineer"
    )
    db_session.add(owner)
    db_session.flush()
    progress = ExecutionProgress(db_session, org, now=lambda: NOW)
    rec = _rec(db_session, org)
    rec.status, rec.owner_user_id, rec.due_date = "accepted", owner.id, date(2026, 7, 1)

    failing = _execution(db_session, org, rec, "executing")
    progress.reached(failing.id, RemediationState.APPROVED, {"user_id": "u", "channel": "rest"})
    assert rec.status == "applied"
    progress.reached(failing.id, RemediationState.FAILED, error="step 0 failed")
    assert (rec.status, rec.owner_user_id, rec.due_date) == ("accepted", owner.id, date(2026, 7, 1))

    done = _execution(db_session, org, rec, "executing")
    progress.reached(done.id, RemediationState.EXECUTING)
    progress.reached(done.id, RemediationState.COMPLETED)
    undo = _execution(db_session, org, None, "completed")
    ExecutionService(db_session, org, now=lambda: NOW).link_rollback(done.id, str(undo.id), "admin")
    progress.reached(undo.id, RemediationState.COMPLETED)
    assert (rec.status, rec.owner_user_id) == ("accepted", owner.id), "an undone change is still owned"

    history = RecommendationLifecycle(db_session, org, now=lambda: NOW).history(rec.id)
    assert [(h.from_status, h.to_status, h.actor, h.reason) for h in history] == [
        ("applied", "accepted", "system", "execution failed"),
        ("completed", "accepted", "system", "execution rolled_back"),
    ]
    audit = db_session.scalars(
        select(AuditLog).where(AuditLog.organization_id == org, AuditLog.action == "recommendation.returned")
    ).all()
    assert {(a.details["to"], a.details["execution_id"], a.details["due_date"]) for a in audit} == {
        ("accepted", str(failing.id), "2026-07-01"),
        ("accepted", str(undo.id), "2026-07-01"),  # the rollback execution undid it
    }

    plain = _rec(db_session, org)  # nobody owns it: back to open, as before
    lone = _execution(db_session, org, plain, "executing")
    progress.reached(lone.id, RemediationState.EXECUTING)
    progress.reached(lone.id, RemediationState.CANCELLED)
    assert (plain.status, plain.owner_user_id) == ("active", None)
