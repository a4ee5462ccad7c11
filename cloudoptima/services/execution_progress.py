"""What a running remediation records besides its ``policy_executions`` row: the facts a person follows it by.

Called by the remediation activities after each stage (never by workflow code). Contract:

- Every fact is an ``execution_events`` row keyed by ``(execution, kind, key)`` (see
  :mod:`cloudoptima.storage.models.executions`): a retried activity rewrites its fact, never adds a second.
- :meth:`ExecutionProgress.reached` records a state and moves the execution's recommendation through its
  lifecycle (:class:`~cloudoptima.domain.recommendations.RecommendationStatus`): ``applied`` from
  ``approved`` until the end, ``completed`` (``applied_at`` set) after a verified change, back to
  ``accepted`` (it has an owner: owner and due date kept) or ``active`` after a rejected, expired, refused,
  failed, cancelled or rolled-back execution unless another execution of it is still open (audited:
  :meth:`~cloudoptima.services.recommendation_lifecycle.RecommendationLifecycle.execution_undone`). A dry
  run never moves it. A completed *rollback* execution makes the original recommendation ``accepted`` /
  ``active`` again the same way (its change was undone).
- :meth:`ExecutionProgress.stepped` records a step outcome and mirrors a succeeded step into the inventory
  (``resources``: state, tags, size, monthly cost the provider reported) so an analysis run before the next
  collection does not find the finding again. A ``snapshot_and_delete_disk`` step's safety snapshot becomes
  a ``snapshot`` resource (see :mod:`cloudoptima.services.safety_snapshots`) whose monthly cost is netted
  from the recommendation's reported saving.
- :meth:`ExecutionProgress.net_planned_snapshots` nets, in a freshly built plan, the safety snapshot each
  ``snapshot_and_delete_disk`` step would keep (what the approver reads is the net saving).
- Reaching ``completed``, ``failed``, ``rolled_back`` or ``refused`` (not in a dry run) also dispatches
  ``execution.succeeded`` / ``execution.failed`` through the organisation's notification rules in the same
  transaction, once per execution and state (:func:`cloudoptima.services.event_notices.notify_execution_finished`;
  in-app posts announced on ``publish``; links under ``console_url`` when given, else channels get
  ``{public_url}/v1/executions/{id}``).
- Each method returns the event to publish on the organisation's ``policy_executions`` channel
  (:func:`event_payload`); the caller publishes it after its transaction committed.
- Every query is scoped to the organisation; the caller owns the transaction.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cloudoptima.domain.recommendations import RecommendationStatus, money
from cloudoptima.domain.remediation import RemediationState, RollbackOutcome, StepOutcome, StepVerification
from cloudoptima.services.event_notices import notify_execution_finished
from cloudoptima.services.events import Publish
from cloudoptima.services.recommendation_lifecycle import RecommendationLifecycle
from cloudoptima.services.safety_snapshots import (
    SNAPSHOT_ACTION,
    SafetySnapshot,
    estimate_snapshot,
    inventory_snapshot,
)
from cloudoptima.storage.models import ExecutionEvent, PolicyExecution, ResourceDocument
from cloudoptima.storage.models import Recommendation as RecommendationRow
from cloudoptima.storage.tenancy import TenantRepository

EXECUTION_CHANNEL = "policy_executions"
"""The event type (WebSocket channel) every remediation event is published on."""

OPEN_STATES = frozenset(
    {
        RemediationState.QUEUED,
        RemediationState.PLANNING,
        RemediationState.PENDING_APPROVAL,
        RemediationState.APPROVED,
        RemediationState.SCHEDULED,
        RemediationState.EXECUTING,
        RemediationState.VERIFYING,
        RemediationState.ROLLING_BACK,
    }
)
"""States of an execution that has not finished (a recommendation cannot be requested again meanwhile)."""

_CHANGING = frozenset(
    {
        RemediationState.APPROVED,
        RemediationState.SCHEDULED,
        RemediationState.EXECUTING,
        RemediationState.VERIFYING,
        RemediationState.ROLLING_BACK,
    }
)
_UNDONE = frozenset(
    {
        RemediationState.REJECTED,
        RemediationState.EXPIRED,
        RemediationState.REFUSED,
        RemediationState.FAILED,
        RemediationState.CANCELLED,
        RemediationState.ROLLED_BACK,
    }
)
_MOVABLE = {
    RecommendationStatus.ACTIVE.value,
    RecommendationStatus.ACCEPTED.value,
    RecommendationStatus.SCHEDULED.value,
    RecommendationStatus.APPLIED.value,
    RecommendationStatus.EXPIRED.value,
}
ROLLBACK_REQUEST = "rollback_request"


class _Executions(TenantRepository[PolicyExecution]):
    model = PolicyExecution


class _Recommendations(TenantRepository[RecommendationRow]):
    model = RecommendationRow


def event_payload(row: PolicyExecution, event: str, **details: Any) -> dict[str, Any]:
    """The ``policy_executions`` event of ``row``: ids, kind, current state, what happened (``event``)."""
    return {
        "event": event,
        "execution_id": str(row.id),
        "workflow_id": row.workflow_id,
        "kind": row.kind,
        "recommendation_id": str(row.recommendation_id) if row.recommendation_id else None,
        "policy_id": str(row.policy_id) if row.policy_id else None,
        "state": row.status,
        "dry_run": row.dry_run,
        **details,
    }


class ExecutionProgress:
    """Records the progress of the remediations of one organisation (see module contract)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        publish: Publish | None = None,
        console_url: str | None = None,
        public_url: str | None = None,
    ) -> None:
        self._session = session
        self._org = organization_id
        self._now = now
        self._publish = publish
        self._console_url = console_url
        self._public_url = public_url
        self._executions = _Executions(session, organization_id)
        self._recommendations = _Recommendations(session, organization_id)
        self._lifecycle = RecommendationLifecycle(session, organization_id, now=now)

    # -- lookups --------------------------------------------------------------------------------------------

    def execution(self, execution_id: uuid.UUID) -> PolicyExecution | None:
        return self._executions.get(execution_id)

    def execution_of_workflow(self, workflow_id: str) -> PolicyExecution | None:
        """The execution row the workflow ``workflow_id`` keeps (None before its plan activity ran)."""
        return self._session.scalars(
            self._executions.query().where(PolicyExecution.workflow_id == workflow_id)
        ).first()

    def open_execution_of(
        self, recommendation_id: uuid.UUID, *, besides: uuid.UUID | None = None
    ) -> PolicyExecution | None:
        """The oldest unfinished, non-dry-run execution of a recommendation (other than ``besides``)."""
        query = (
            self._executions.query()
            .where(PolicyExecution.recommendation_id == recommendation_id)
            .where(PolicyExecution.status.in_([s.value for s in OPEN_STATES]))
            .where(PolicyExecution.dry_run.is_(False))
        )
        if besides is not None:
            query = query.where(PolicyExecution.id != besides)
        return self._session.scalars(query.order_by(PolicyExecution.started_at, PolicyExecution.id)).first()

    def rollback_origin(self, execution_id: uuid.UUID) -> PolicyExecution | None:
        """The execution that ``execution_id`` rolls back, when it is a rollback."""
        origin = self._session.scalars(
            select(ExecutionEvent.execution_id).where(
                ExecutionEvent.organization_id == self._org,
                ExecutionEvent.kind == ROLLBACK_REQUEST,
                ExecutionEvent.key == str(execution_id),
            )
        ).first()
        return None if origin is None else self._executions.get(origin)

    # -- facts ----------------------------------------------------------------------------------------------

    def note(self, execution_id: uuid.UUID, kind: str, key: str, data: Mapping[str, Any]) -> None:
        """Write one fact (replacing the same fact written by an earlier attempt)."""
        statement = insert(ExecutionEvent).values(
            id=uuid.uuid4(),
            organization_id=self._org,
            execution_id=execution_id,
            kind=kind,
            key=key,
            data=dict(data),
            at=self._now(),
        )
        self._session.execute(
            statement.on_conflict_do_update(
                constraint="uq_execution_events_key",
                set_={"data": statement.excluded.data, "at": statement.excluded.at},
            )
        )

    def reached(
        self,
        execution_id: uuid.UUID,
        state: RemediationState,
        decision: Mapping[str, Any] | None = None,
        *,
        error: str | None = None,
    ) -> dict[str, Any] | None:
        """Record that the execution reached ``state`` (``error``: why it ended so); move its
        recommendation (see module contract)."""
        row = self._executions.get(execution_id)
        if row is None:
            return None
        data: dict[str, Any] = {"state": state.value}
        if decision is not None and state in (RemediationState.APPROVED, RemediationState.REJECTED):
            data["decision"] = dict(decision)
        if error:
            data["error"] = error
        self.note(row.id, "state", state.value, data)
        if not row.dry_run:
            self._move_recommendation(row, state)
        self._session.flush()
        notify_execution_finished(
            self._session,
            row,
            state,
            error=error,
            now=self._now(),
            publish=self._publish,
            console_url=self._console_url,
            public_url=self._public_url,
        )
        return event_payload(row, "state", **{k: v for k, v in data.items() if k != "state"}) | {
            "state": state.value
        }

    def _move_recommendation(self, row: PolicyExecution, state: RemediationState) -> None:
        origin = self.rollback_origin(row.id)
        if origin is not None:
            if state is RemediationState.COMPLETED and origin.recommendation_id is not None:
                rec = self._recommendations.get(origin.recommendation_id)
                if rec is not None and rec.status == RecommendationStatus.COMPLETED.value:
                    self._lifecycle.execution_undone(rec, execution_id=row.id, state="rolled_back")
            return
        if row.recommendation_id is None:
            return
        rec = self._recommendations.get(row.recommendation_id)
        if rec is None:
            return
        now = self._now()
        if state in _CHANGING and rec.status in _MOVABLE:
            rec.status, rec.updated_at = RecommendationStatus.APPLIED.value, now
        elif state is RemediationState.COMPLETED and rec.status in _MOVABLE:
            rec.status, rec.applied_at, rec.updated_at = RecommendationStatus.COMPLETED.value, now, now
        elif (
            state in _UNDONE
            and rec.status == RecommendationStatus.APPLIED.value
            and self.open_execution_of(rec.id, besides=row.id) is None
        ):
            self._lifecycle.execution_undone(rec, execution_id=row.id, state=state.value)

    def stepped(
        self, execution_id: uuid.UUID, outcome: StepOutcome, cloud_account_id: str
    ) -> dict[str, Any] | None:
        """Record one step's outcome; mirror a succeeded step into the inventory (see module contract)."""
        row = self._executions.get(execution_id)
        if row is None:
            return None
        data = outcome.model_dump(mode="json") | {"cloud_account_id": cloud_account_id}
        snapshot: SafetySnapshot | None = None
        if outcome.status == "succeeded" and cloud_account_id:
            account = uuid.UUID(cloud_account_id)
            self._mirror(account, outcome)
            snapshot = inventory_snapshot(self._session, self._org, account, outcome, seen_at=self._now())
        if snapshot is not None:
            facts = snapshot.as_json()
            data["snapshot"] = facts
            self.note(row.id, "snapshot", snapshot.resource_id, facts | {"step": outcome.index})
            self._net_saving(row, snapshot.monthly_cost)
        self.note(row.id, "step", str(outcome.index), data)
        self._session.flush()
        details: dict[str, Any] = {
            "step": {
                "index": outcome.index,
                "resource_id": outcome.resource_id,
                "action": outcome.action,
                "status": outcome.status,
                "error": outcome.error,
            }
        }
        if snapshot is not None:
            details["snapshot"] = data["snapshot"]
        return event_payload(row, "step", **details)

    def verified(self, execution_id: uuid.UUID, check: StepVerification) -> dict[str, Any] | None:
        """Record one step's verification."""
        row = self._executions.get(execution_id)
        if row is None:
            return None
        self.note(row.id, "verification", str(check.index), check.model_dump(mode="json"))
        self._session.flush()
        return event_payload(
            row, "verification", verification={"index": check.index, "ok": check.ok, "detail": check.detail}
        )

    def undone(self, execution_id: uuid.UUID, rollback: RollbackOutcome) -> dict[str, Any] | None:
        """Record one step's automatic rollback."""
        row = self._executions.get(execution_id)
        if row is None:
            return None
        self.note(row.id, "rollback", str(rollback.index), rollback.model_dump(mode="json"))
        self._session.flush()
        return event_payload(row, "rollback", rollback=rollback.model_dump(mode="json"))

    def net_planned_snapshots(self, execution_id: uuid.UUID) -> dict[int, Decimal]:
        """Price the safety snapshot each planned ``snapshot_and_delete_disk`` step would keep and net it in
        the stored plan (the step's monthly cost after, the impact's savings and projection, a risk line
        naming size, price and source; ``impact.safety_snapshots_monthly`` holds the total). Returns the
        step index → monthly cost of each priced snapshot (empty: nothing changed)."""
        row = self._executions.get(execution_id)
        if row is None or not row.plan:
            return {}
        plan = dict(row.plan)
        steps = [dict(step) for step in plan.get("steps") or []]
        priced: dict[int, Decimal] = {}
        risks: list[str] = []
        for step in steps:
            if step.get("action") != SNAPSHOT_ACTION or not step.get("cloud_account_id"):
                continue
            estimate = estimate_snapshot(
                self._session,
                self._org,
                uuid.UUID(str(step["cloud_account_id"])),
                str(step.get("resource_id")),
                dict(step.get("current_state") or {}),
            )
            if estimate is None:
                continue
            size, cost, source = estimate
            index = int(step.get("index", 0))
            priced[index] = cost
            step["monthly_cost_after"] = str(cost)
            risks.append(
                f"step {index} keeps a safety snapshot of {step.get('resource_id')} ({size} GB): {cost}/month "
                f"at list price ({source or 'no known price'}); the saving shown is net of it"
            )
        if not priced:
            return {}
        total = sum(priced.values(), Decimal(0))
        impact = dict(plan.get("impact") or {})
        impact["savings"] = str(Decimal(str(impact.get("savings") or 0)) - total)
        impact["projected_monthly"] = str(Decimal(str(impact.get("projected_monthly") or 0)) + total)
        impact["risks"] = [*(impact.get("risks") or []), *risks]
        impact["safety_snapshots_monthly"] = str(total)
        plan["steps"], plan["impact"] = steps, impact
        row.plan = plan
        self._session.flush()
        return priced

    # -- inventory ------------------------------------------------------------------------------------------

    def _mirror(self, cloud_account_id: uuid.UUID, outcome: StepOutcome) -> None:
        """Apply what the provider reported after a step to the stored resource (known keys only)."""
        doc = self._session.scalars(
            select(ResourceDocument).where(
                ResourceDocument.organization_id == self._org,
                ResourceDocument.cloud_account_id == cloud_account_id,
                ResourceDocument.resource_id == outcome.resource_id,
            )
        ).first()
        if doc is None:
            return
        after = outcome.after
        if isinstance(after.get("state"), str):
            doc.status = after["state"]
        if isinstance(after.get("tags"), dict):
            doc.tags = dict(after["tags"])
        if isinstance(after.get("size"), str):
            doc.configuration = {**(doc.configuration or {}), "instance_type": after["size"]}
        cost = after.get("monthly_cost")
        if cost is not None:
            with contextlib.suppress(ArithmeticError):
                doc.cost_monthly = Decimal(str(cost))
        doc.last_updated = self._now()

    def _net_saving(self, row: PolicyExecution, snapshot_monthly: Decimal) -> None:
        """Take a safety snapshot's monthly cost off the recommendation's reported saving (once per fact)."""
        if row.recommendation_id is None or snapshot_monthly <= 0:
            return
        rec = self._recommendations.get(row.recommendation_id)
        if rec is None or rec.estimated_savings_monthly is None:
            return
        snapshots = self._session.scalars(
            select(ExecutionEvent.data).where(
                ExecutionEvent.organization_id == self._org,
                ExecutionEvent.execution_id == row.id,
                ExecutionEvent.kind == "snapshot",
            )
        ).all()
        netted = sum((Decimal(str(s.get("monthly_cost") or 0)) for s in snapshots), Decimal(0))
        evidence = dict(rec.evidence or {})
        gross = Decimal(str(evidence.get("gross_savings_monthly", rec.estimated_savings_monthly)))
        net = money(max(Decimal(0), gross - netted))
        evidence["gross_savings_monthly"] = str(gross)
        evidence["safety_snapshot_monthly"] = str(money(netted))
        rec.evidence = evidence
        rec.estimated_savings_monthly = net
        rec.estimated_savings_annual = net * 12
