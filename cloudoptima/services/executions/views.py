"""The read views of an execution built from its row and events, pure: its summary, dry-run result,
decision, and the order of the stages of its timeline."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from cloudoptima.domain.executions import DecisionView, DryRunResult, DryRunStep
from cloudoptima.domain.remediation import RemediationState
from cloudoptima.storage.models import ExecutionEvent, PolicyExecution

STAGE = {
    name: rank
    for rank, name in enumerate(
        (
            "queued",
            "planned",
            "planning",
            "pending_approval",
            "approved",
            "rejected",
            "scheduled",
            "executing",
            "verifying",
            "rolling_back",
        )
    )
}
"""The order of the stages, for states recorded at the same instant (terminal states come last)."""


def money(value: Any) -> Decimal | None:
    """``value`` as a Decimal (None when absent or not a number)."""
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def summary_of(row: PolicyExecution) -> dict[str, Any]:
    """The fields of an :class:`ExecutionSummary` of ``row``."""
    plan = dict(row.plan or {})
    return {
        "id": str(row.id),
        "workflow_id": row.workflow_id,
        "kind": row.kind,
        "title": str(plan.get("title", "")),
        "state": row.status,
        "dry_run": row.dry_run,
        "risk_level": row.risk_level,
        "recommendation_id": str(row.recommendation_id) if row.recommendation_id else None,
        "policy_id": str(row.policy_id) if row.policy_id else None,
        "requested_by": row.requested_by,
        "started_at": row.started_at,
        "updated_at": row.updated_at,
        "completed_at": row.completed_at,
    }


def dry_run_of(plan: dict[str, Any]) -> DryRunResult:
    """The dry-run result recorded in a stored plan."""
    steps = [
        DryRunStep(
            index=int(s.get("index", i)),
            resource_id=str(s.get("resource_id", "")),
            action=str(s.get("action", "")),
            valid=s.get("valid"),
            problems=[str(p) for p in s.get("problems") or []],
            rollback_available=bool(s.get("rollback_available")),
            irreversible=s.get("irreversible"),
        )
        for i, s in enumerate(plan.get("steps") or [])
    ]
    problems = [str(p) for p in plan.get("problems") or []]
    return DryRunResult(
        valid=not problems and all(s.valid is not False for s in steps), problems=problems, steps=steps
    )


def decision_of(row: PolicyExecution, states: Sequence[ExecutionEvent]) -> DecisionView | None:
    """The decision on ``row`` with the channel its state event recorded (None before a decision)."""
    if row.decision is None:
        return None
    recorded: dict[str, Any] = {}
    for event in states:
        if event.key in (RemediationState.APPROVED.value, RemediationState.REJECTED.value):
            recorded = dict(event.data.get("decision") or {})
    return DecisionView(
        decision=row.decision,
        user_id=row.decided_by,
        role=row.decided_by_role,
        channel=recorded.get("channel"),
        decided_at=row.decided_at,
        comment=row.decision_comment,
    )
