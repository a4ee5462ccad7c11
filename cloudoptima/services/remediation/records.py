"""The ``policy_executions`` record of a remediation: open it, advance its state with the full log, and read
it back as pending approvals or execution history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from cloudoptima.domain.remediation import (
    TERMINAL_STATES,
    Decision,
    ExecutionRecord,
    PendingApproval,
    RemediationPlan,
    RemediationState,
)
from cloudoptima.services.remediation.scope import RemediationError, RemediationScope
from cloudoptima.storage.models import PolicyExecution

_STATES = frozenset(s.value for s in RemediationState)
_SEED_STATUS = {
    RemediationState.COMPLETED: "success",
    RemediationState.DRY_RUN: "success",
    RemediationState.ROLLED_BACK: "failed",
    RemediationState.FAILED: "failed",
    RemediationState.REFUSED: "failed",
    RemediationState.REJECTED: "cancelled",
    RemediationState.EXPIRED: "cancelled",
    RemediationState.CANCELLED: "cancelled",
    RemediationState.PENDING_APPROVAL: "pending",
    RemediationState.QUEUED: "pending",
    RemediationState.SCHEDULED: "pending",
}


def pending_approval_of(row: PolicyExecution) -> PendingApproval:
    """The approval view of one ``policy_executions`` row (its plan, impact, requester and expiry)."""
    plan = dict(row.plan or {})
    return PendingApproval(
        execution_id=str(row.id),
        workflow_id=row.workflow_id,
        kind=row.kind,
        policy_id=str(row.policy_id) if row.policy_id else None,
        recommendation_id=str(row.recommendation_id) if row.recommendation_id else None,
        title=str(plan.get("title", "")),
        risk_level=row.risk_level,
        approver_roles=list(plan.get("approver_roles", [])),
        requested_by=row.requested_by,
        requested_at=row.started_at,
        expires_at=row.expires_at,
        scheduled_for=row.scheduled_for,
        plan=plan,
        impact=dict(plan.get("impact", {})),
    )


class ExecutionRecords(RemediationScope):
    """The organisation's ``policy_executions`` rows of remediations (see the package contract)."""

    def open_execution(
        self,
        execution_id: uuid.UUID,
        *,
        workflow_id: str,
        plan: RemediationPlan,
        kind: str,
        requested_by: str,
        requested_by_role: str,
        dry_run: bool,
        scheduled_for: datetime | None,
        policy_id: uuid.UUID | None = None,
        recommendation_id: uuid.UUID | None = None,
    ) -> PolicyExecution:
        """Create (or, on a retry, refresh) the execution row of a planned remediation."""
        row = self._executions.get(execution_id)
        if row is None:
            row = self._executions.add(
                PolicyExecution(
                    id=execution_id,
                    organization_id=self._org,
                    started_at=self._now(),
                    status=RemediationState.PLANNING.value,
                    execution_logs=[],
                )
            )
        row.workflow_id, row.kind, row.dry_run = workflow_id, kind, dry_run
        row.policy_id, row.recommendation_id = policy_id, recommendation_id
        row.plan = plan.model_dump(mode="json")
        row.risk_level, row.approval_required = plan.risk_level.value, plan.approval_required
        row.requested_by, row.requested_by_role = requested_by, requested_by_role
        row.scheduled_for, row.updated_at = scheduled_for, self._now()
        self._session.flush()
        return row

    def record(
        self,
        execution_id: uuid.UUID,
        state: RemediationState,
        logs: Sequence[str],
        *,
        decision: Decision | None = None,
        expires_at: datetime | None = None,
        resources_affected: int | None = None,
        error: str | None = None,
    ) -> PolicyExecution:
        """Advance the row to ``state`` with the full log so far (idempotent for a retried call).

        The row is locked while it is read and written, and a terminal state is final: a late write of an
        earlier stage (a record activity still running when the workflow was cancelled and recorded
        ``cancelled``) leaves the row as it is."""
        row = self._executions.get(execution_id)
        if row is None:
            raise RemediationError(f"execution {execution_id} not found")
        self._session.refresh(row, with_for_update=True)
        if RemediationState(row.status) in TERMINAL_STATES and state not in TERMINAL_STATES:
            return row
        now = self._now()
        row.status, row.execution_logs, row.updated_at = state.value, list(logs), now
        if expires_at is not None:
            row.expires_at = expires_at
        if resources_affected is not None:
            row.resources_affected = resources_affected
        if error is not None:
            row.error_message = error
        if decision is not None:
            row.decision = "approved" if decision.approved else "rejected"
            row.decided_by, row.decided_by_role = decision.approver.user_id, decision.approver.role
            row.decided_at, row.decision_comment = decision.decided_at, decision.comment
        if state in TERMINAL_STATES and row.completed_at is None:
            row.completed_at = now
            if row.policy_id is not None and not row.dry_run:
                policy = self._policies.get(row.policy_id)
                if policy is not None:
                    policy.execution_count = (policy.execution_count or 0) + 1
                    policy.success_count = (policy.success_count or 0) + int(
                        state is RemediationState.COMPLETED
                    )
                    policy.last_executed_at = now
        self._session.flush()
        return row

    def pending_approvals(self, *, limit: int = 100) -> list[PendingApproval]:
        """Remediations of this organisation waiting for a decision that has not lapsed, oldest first."""
        now = self._now()
        rows = self._session.scalars(
            self._executions.query()
            .where(PolicyExecution.status == RemediationState.PENDING_APPROVAL.value)
            .where((PolicyExecution.expires_at.is_(None)) | (PolicyExecution.expires_at > now))
            .order_by(PolicyExecution.started_at, PolicyExecution.id)
            .limit(limit)
        ).all()
        return [pending_approval_of(row) for row in rows]

    def executions(self, *, policy_id: uuid.UUID | None = None, limit: int = 50) -> list[ExecutionRecord]:
        """Execution history, newest first (seed ``GET /policies/{id}/executions`` when ``policy_id``)."""
        query = self._executions.query()
        if policy_id is not None:
            query = query.where(PolicyExecution.policy_id == policy_id)
        rows = self._session.scalars(
            query.order_by(PolicyExecution.started_at.desc(), PolicyExecution.id).limit(limit)
        ).all()
        return [self._record_of(row) for row in rows]

    @staticmethod
    def _record_of(row: PolicyExecution) -> ExecutionRecord:
        state = RemediationState(row.status) if row.status in _STATES else None
        seed = _SEED_STATUS.get(state, "running") if state is not None else "running"
        if state is RemediationState.FAILED and (row.resources_affected or 0) > 0:
            seed = "partial"
        return ExecutionRecord(
            id=str(row.id),
            workflow_id=row.workflow_id,
            started_at=row.started_at,
            completed_at=row.completed_at,
            status=seed,  # type: ignore[arg-type]
            state=row.status,
            dry_run=row.dry_run,
            resources_affected=row.resources_affected,
            logs=[str(line) for line in row.execution_logs or []],
            error=row.error_message,
            decision=row.decision,
            decided_by=row.decided_by,
        )
