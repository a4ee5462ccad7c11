"""Rolling an execution back: which actions undo it (:meth:`ExecutionRollbacks.rollback_plan`, or
:class:`RollbackRefused` naming why), and the reservation that lets two requests at once start one rollback."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete

from cloudoptima.domain.recommendations import RiskLevel
from cloudoptima.domain.remediation import ACTION_RISK, PlannedAction, RemediationState, highest_risk
from cloudoptima.services.execution_progress import ROLLBACK_REQUEST
from cloudoptima.services.executions.scope import ExecutionScope, event_index
from cloudoptima.storage.models import ExecutionEvent, PolicyExecution

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


RESERVED = "reserved:"
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


class ExecutionRollbacks(ExecutionScope):
    """Rollback plans and reservations of the organisation's executions (see the package contract)."""

    def rollback_plan(
        self,
        execution_id: uuid.UUID,
        *,
        _row: PolicyExecution | None = None,
        _events: Sequence[ExecutionEvent] | None = None,
    ) -> RollbackPlan:
        """The actions that undo a completed execution, or :class:`RollbackRefused` (see the package contract)."""
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
            if request.key.startswith(RESERVED):
                raise RollbackRefused(f"{name} already has a rollback being started")
            other = self._executions.get(uuid.UUID(request.key))
            state = other.status if other is not None else RemediationState.QUEUED.value
            if state == RemediationState.COMPLETED.value:
                raise RollbackRefused(f"{name} was already rolled back by execution {request.key}")
            if state not in _FAILED_ROLLBACK:
                raise RollbackRefused(
                    f"{name} already has an open rollback: execution {request.key} ({state})"
                )
        steps = sorted((e for e in events if e.kind == "step"), key=event_index)
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
        reservation = f"{RESERVED}{uuid.uuid4()}"
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
