""":class:`ExecutionService`: the executions of one organisation as ``GET /v1/executions`` reads them, and
their rollbacks (:class:`ExecutionRollbacks`)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select

from cloudoptima.domain.executions import (
    ExecutionDetail,
    ExecutionSummary,
    RollbackLink,
    SavingView,
    StateReached,
)
from cloudoptima.domain.remediation import RemediationState
from cloudoptima.services.execution_progress import ROLLBACK_REQUEST
from cloudoptima.services.executions.rollback import RESERVED, ExecutionRollbacks, RollbackRefused
from cloudoptima.services.executions.scope import event_index
from cloudoptima.services.executions.views import STAGE, decision_of, dry_run_of, money, summary_of
from cloudoptima.storage.models import ExecutionEvent, PolicyExecution


class ExecutionService(ExecutionRollbacks):
    """Reads the executions of one organisation (see the package contract)."""

    def list(
        self,
        *,
        state: str | None = None,
        recommendation_id: uuid.UUID | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[ExecutionSummary], int]:
        """A page of executions, newest first, and how many match in all."""
        query = self._executions.query()
        if state is not None:
            query = query.where(PolicyExecution.status == state)
        if recommendation_id is not None:
            query = query.where(PolicyExecution.recommendation_id == recommendation_id)
        total = self._session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self._session.scalars(
            query.order_by(PolicyExecution.started_at.desc(), PolicyExecution.id).limit(limit).offset(offset)
        ).all()
        return [ExecutionSummary(**summary_of(row)) for row in rows], int(total)

    def get(self, execution_id: uuid.UUID) -> ExecutionDetail:
        """Everything about one execution (``LookupError`` when absent)."""
        row = self.row(execution_id)
        events = self._events(row.id)
        by_kind: dict[str, list[ExecutionEvent]] = {}
        for event in events:
            by_kind.setdefault(event.kind, []).append(event)
        plan = dict(row.plan or {})
        snapshots = [dict(e.data) for e in by_kind.get("snapshot", [])]
        impact = dict(plan.get("impact") or {})
        planned = money(impact.get("savings"))
        expected = money(impact.get("safety_snapshots_monthly")) or Decimal(0)
        taken = sum((money(s.get("monthly_cost")) or Decimal(0) for s in snapshots), Decimal(0))
        snapshot_cost = taken if snapshots else expected
        gross = None if planned is None else planned + expected
        try:
            refusal: str | None = None
            self.rollback_plan(row.id, _row=row, _events=events)
        except RollbackRefused as exc:
            refusal = str(exc)
        origin = self._origin(row.id)
        return ExecutionDetail(
            **summary_of(row),
            requested_by_role=row.requested_by_role,
            approval_required=row.approval_required,
            expires_at=row.expires_at,
            scheduled_for=row.scheduled_for,
            resources_affected=row.resources_affected,
            error=row.error_message,
            plan=plan,
            dry_run_result=dry_run_of(plan),
            decision=decision_of(row, by_kind.get("state", [])),
            steps=[dict(e.data) for e in sorted(by_kind.get("step", []), key=event_index)],
            verifications=[dict(e.data) for e in sorted(by_kind.get("verification", []), key=event_index)],
            rollbacks=[dict(e.data) for e in sorted(by_kind.get("rollback", []), key=event_index)],
            snapshots=snapshots,
            timeline=[
                StateReached(state=e.key, at=e.at)
                for e in sorted(by_kind.get("state", []), key=lambda e: (e.at, STAGE.get(e.key, len(STAGE))))
            ],
            saving=SavingView(
                gross_monthly=gross,
                safety_snapshots_monthly=snapshot_cost,
                snapshots_taken=bool(snapshots),
                net_monthly=None if gross is None else gross - snapshot_cost,
            ),
            rollback_of=None if origin is None else self._link(origin, origin.execution_id),
            rolled_back_by=[
                self._link(e, uuid.UUID(e.key))
                for e in by_kind.get(ROLLBACK_REQUEST, [])
                if not e.key.startswith(RESERVED)
            ],
            rollback_possible=refusal is None,
            rollback_refusal=refusal,
            logs=[str(line) for line in row.execution_logs or []],
        )

    def _origin(self, execution_id: uuid.UUID) -> ExecutionEvent | None:
        return self._session.scalars(
            select(ExecutionEvent).where(
                ExecutionEvent.organization_id == self._org,
                ExecutionEvent.kind == ROLLBACK_REQUEST,
                ExecutionEvent.key == str(execution_id),
            )
        ).first()

    def _link(self, event: ExecutionEvent, other_id: uuid.UUID) -> RollbackLink:
        """A rollback request seen from one side: the other execution's id and state."""
        other = self._executions.get(other_id)
        return RollbackLink(
            execution_id=str(other_id),
            state=other.status if other is not None else RemediationState.QUEUED.value,
            requested_by=event.data.get("requested_by"),
            requested_at=event.at,
        )

    def open_execution_of(self, recommendation_id: uuid.UUID) -> PolicyExecution | None:
        """The oldest open (unfinished, not dry-run) execution of a recommendation."""
        return self._progress.open_execution_of(recommendation_id)
