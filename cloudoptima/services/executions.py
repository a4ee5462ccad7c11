"""Executions of one organisation: read them (``GET /v1/executions``) and decide what a rollback would run.

Contract:

- :meth:`ExecutionService.get` builds an :class:`ExecutionDetail` from the ``policy_executions`` row and its
  ``execution_events`` (``LookupError`` when absent or of another organisation). :meth:`list` pages them,
  newest first, optionally by state and recommendation.
- :meth:`rollback_plan` returns the actions that undo a completed execution (each succeeded step's rollback
  action, last step first) with their risk, or raises :class:`RollbackRefused` naming why: the execution was
  a dry run, is not ``completed`` (still open, failed, rolled back automatically…), has a rollback open or
  completed already, changed nothing, or has steps that cannot be undone (each named with its reason).
- :meth:`reserve_rollback` checks under a row lock and reserves; the caller then starts the rollback (an
  ordinary approval-gated remediation of those actions, through the same path as any remediation, never
  here) and :meth:`link_rollback` replaces the reservation with the rollback execution's id, or
  :meth:`release_rollback` drops it when the start failed. Two requests at once start one rollback.
- Every query is scoped to the organisation; the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cloudoptima.domain.executions import (
    DecisionView,
    DryRunResult,
    DryRunStep,
    ExecutionDetail,
    ExecutionSummary,
    RollbackLink,
    SavingView,
    StateReached,
)
from cloudoptima.domain.recommendations import RiskLevel
from cloudoptima.domain.remediation import ACTION_RISK, PlannedAction, RemediationState, highest_risk
from cloudoptima.services.execution_progress import ROLLBACK_REQUEST, ExecutionProgress
from cloudoptima.storage.models import ExecutionEvent, PolicyExecution
from cloudoptima.storage.tenancy import TenantRepository

_FAILED_ROLLBACK = frozenset(
    {
        RemediationState.REJECTED.value,
        RemediationState.EXPIRED.value,
        RemediationState.REFUSED.value,
        RemediationState.FAILED.value,
        RemediationState.CANCELLED.value,
        RemediationState.ROLLED_BACK.value,
        RemediationState.DRY_RUN.value,
    }
)


_STAGE = {
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


_RESERVED = "reserved:"
"""Key prefix of a rollback request whose rollback execution is being started."""


class RollbackRefused(ValueError):
    """This execution cannot be rolled back; the message says why."""


@dataclass(frozen=True)
class RollbackPlan:
    """What rolling an execution back runs: the undo actions (last step first), their risk and a title."""

    execution_id: uuid.UUID
    actions: list[PlannedAction]
    risk_level: RiskLevel
    title: str


class _Executions(TenantRepository[PolicyExecution]):
    model = PolicyExecution


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _index(event: ExecutionEvent) -> int:
    try:
        return int(event.key)
    except ValueError:
        return -1


class ExecutionService:
    """Reads the executions of one organisation (see module contract)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._now = now
        self._executions = _Executions(session, organization_id)
        self._progress = ExecutionProgress(session, organization_id, now=now)

    # -- reading --------------------------------------------------------------------------------------------

    def row(self, execution_id: uuid.UUID) -> PolicyExecution:
        """The execution row; ``LookupError`` when absent (or of another organisation)."""
        row = self._executions.get(execution_id)
        if row is None:
            raise LookupError(f"execution {execution_id} not found")
        return row

    def _events(self, execution_id: uuid.UUID) -> list[ExecutionEvent]:
        return list(
            self._session.scalars(
                select(ExecutionEvent)
                .where(
                    ExecutionEvent.organization_id == self._org, ExecutionEvent.execution_id == execution_id
                )
                .order_by(ExecutionEvent.at, ExecutionEvent.id)
            )
        )

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
        return [ExecutionSummary(**self._summary(row)) for row in rows], int(total)

    @staticmethod
    def _summary(row: PolicyExecution) -> dict[str, Any]:
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
        planned = _money(impact.get("savings"))
        expected = _money(impact.get("safety_snapshots_monthly")) or Decimal(0)
        taken = sum((_money(s.get("monthly_cost")) or Decimal(0) for s in snapshots), Decimal(0))
        snapshot_cost = taken if snapshots else expected
        gross = None if planned is None else planned + expected
        try:
            refusal: str | None = None
            self.rollback_plan(row.id, _row=row, _events=events)
        except RollbackRefused as exc:
            refusal = str(exc)
        origin = self._origin(row.id)
        return ExecutionDetail(
            **self._summary(row),
            requested_by_role=row.requested_by_role,
            approval_required=row.approval_required,
            expires_at=row.expires_at,
            scheduled_for=row.scheduled_for,
            resources_affected=row.resources_affected,
            error=row.error_message,
            plan=plan,
            dry_run_result=self._dry_run(plan),
            decision=self._decision(row, by_kind.get("state", [])),
            steps=[dict(e.data) for e in sorted(by_kind.get("step", []), key=_index)],
            verifications=[dict(e.data) for e in sorted(by_kind.get("verification", []), key=_index)],
            rollbacks=[dict(e.data) for e in sorted(by_kind.get("rollback", []), key=_index)],
            snapshots=snapshots,
            timeline=[
                StateReached(state=e.key, at=e.at)
                for e in sorted(
                    by_kind.get("state", []), key=lambda e: (e.at, _STAGE.get(e.key, len(_STAGE)))
                )
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
                if not e.key.startswith(_RESERVED)
            ],
            rollback_possible=refusal is None,
            rollback_refusal=refusal,
            logs=[str(line) for line in row.execution_logs or []],
        )

    @staticmethod
    def _dry_run(plan: dict[str, Any]) -> DryRunResult:
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

    @staticmethod
    def _decision(row: PolicyExecution, states: Sequence[ExecutionEvent]) -> DecisionView | None:
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

    # -- rollback -------------------------------------------------------------------------------------------

    def rollback_plan(
        self,
        execution_id: uuid.UUID,
        *,
        _row: PolicyExecution | None = None,
        _events: Sequence[ExecutionEvent] | None = None,
    ) -> RollbackPlan:
        """The actions that undo a completed execution, or :class:`RollbackRefused` (see module contract)."""
        row = _row if _row is not None else self.row(execution_id)
        events = list(_events) if _events is not None else self._events(row.id)
        name = f"execution {row.id}"
        if row.dry_run:
            raise RollbackRefused(
                f"{name} was a dry run: it changed nothing, so there is nothing to roll back"
            )
        if row.status != RemediationState.COMPLETED.value:
            reason = (
                "its changes were already rolled back automatically after a failure"
                if row.status == RemediationState.ROLLED_BACK.value
                else "only a completed execution can be rolled back"
            )
            raise RollbackRefused(f"{name} is {row.status}; {reason}")
        for request in (e for e in events if e.kind == ROLLBACK_REQUEST):
            if request.key.startswith(_RESERVED):
                raise RollbackRefused(f"{name} already has a rollback being started")
            other = self._executions.get(uuid.UUID(request.key))
            state = other.status if other is not None else RemediationState.QUEUED.value
            if state == RemediationState.COMPLETED.value:
                raise RollbackRefused(f"{name} was already rolled back by execution {request.key}")
            if state not in _FAILED_ROLLBACK:
                raise RollbackRefused(
                    f"{name} already has an open rollback: execution {request.key} ({state})"
                )
        steps = sorted((e for e in events if e.kind == "step"), key=_index)
        done = [dict(e.data) for e in steps if e.data.get("status") == "succeeded"]
        if not done:
            raise RollbackRefused(f"{name} changed nothing: no step succeeded")
        irreversible = [
            f"step {s.get('index')} ({s.get('action')} {s.get('resource_id')}): "
            f"{s.get('irreversible') or 'the provider offers no rollback for this action'}"
            for s in done
            if not s.get("rollback_action")
        ]
        if irreversible:
            raise RollbackRefused(
                f"{name} cannot be rolled back: {len(irreversible)} of its steps cannot be undone: "
                + "; ".join(irreversible)
            )
        actions = [PlannedAction(**s["rollback_action"]) for s in reversed(done)]
        risk = highest_risk(*(ACTION_RISK[a.action] for a in actions))
        title = f"roll back {dict(row.plan or {}).get('title') or name}"
        return RollbackPlan(execution_id=row.id, actions=actions, risk_level=risk, title=title[:500])

    def reserve_rollback(self, execution_id: uuid.UUID, requested_by: str) -> tuple[RollbackPlan, str]:
        """Check a rollback under a lock on the execution row and reserve it (a fact that refuses any other
        rollback until it is linked or released): two requests at once start one rollback, never two.
        Returns the undo plan and the reservation (``LookupError`` / :class:`RollbackRefused` as
        :meth:`rollback_plan`). The caller commits, starts the rollback, then links or releases."""
        row = self._session.scalars(
            self._executions.query().where(PolicyExecution.id == execution_id).with_for_update()
        ).first()
        if row is None:
            raise LookupError(f"execution {execution_id} not found")
        plan = self.rollback_plan(execution_id, _row=row)
        reservation = f"{_RESERVED}{uuid.uuid4()}"
        self._progress.note(row.id, ROLLBACK_REQUEST, reservation, {"requested_by": requested_by})
        self._session.flush()
        return plan, reservation

    def link_rollback(
        self,
        execution_id: uuid.UUID,
        rollback_execution_id: str,
        requested_by: str,
        *,
        reservation: str | None = None,
    ) -> None:
        """Record that ``rollback_execution_id`` rolls ``execution_id`` back (replacing ``reservation``)."""
        if reservation is not None:
            self.release_rollback(execution_id, reservation)
        self._progress.note(
            execution_id, ROLLBACK_REQUEST, rollback_execution_id, {"requested_by": requested_by}
        )
        self._session.flush()

    def release_rollback(self, execution_id: uuid.UUID, reservation: str) -> None:
        """Drop a reservation whose rollback could not be started (the execution is as it was)."""
        self._session.execute(
            delete(ExecutionEvent).where(
                ExecutionEvent.organization_id == self._org,
                ExecutionEvent.execution_id == execution_id,
                ExecutionEvent.kind == ROLLBACK_REQUEST,
                ExecutionEvent.key == reservation,
            )
        )
        self._session.flush()

    def open_execution_of(self, recommendation_id: uuid.UUID) -> PolicyExecution | None:
        """The oldest open (unfinished, not dry-run) execution of a recommendation."""
        return self._progress.open_execution_of(recommendation_id)
