"""The remediation activities with progress a person can follow: facts recorded and events published.

:class:`FollowedRemediationActivities` registers under the same activity names as
:class:`~cloudoptima_workflows.remediation.activities.RemediationActivities` (the workflow is unchanged) and,
after each one did its work, records what happened through
:class:`cloudoptima.services.execution_progress.ExecutionProgress` and publishes it on the organisation's
``policy_executions`` WebSocket channel (``deps.publish``; none configured: nothing is published).

Events (``data.event``): ``state`` at every state the workflow records (``queued`` from the plan activity,
then ``pending_approval``, ``approved`` / ``rejected`` with the decision, ``scheduled``,
``executing``, ``verifying``, ``rolling_back`` and the final state), ``planned`` once the plan is built
(steps, risk, savings, approval, problems), ``step`` after each step (with the
safety snapshot it took), ``verification`` after each check and ``rollback`` after each automatic undo.
Publishing is best effort: a Redis failure is logged and never fails the activity (the facts are in
Postgres; ``GET /v1/executions/{id}`` shows them).

Recording ``completed``, ``failed``, ``rolled_back`` or ``refused`` dispatches ``execution.succeeded`` /
``execution.failed`` through the organisation's notification rules (``ExecutionProgress.reached``; by
default failures reach the admins' inbox). Recording ``pending_approval`` also posts an in-app inbox notice (``cloudoptima.services.inbox``) to every
active user whose role may decide the execution, once per execution, linking to the approval
(``deps.console_url`` + ``/approvals/{execution_id}`` when a console is configured, else the execution in
the API, ``/v1/executions/{execution_id}``, absolute under ``deps.public_url`` on channels).

The plan activity also refuses (as a plan problem, so nothing executes) a recommendation that already has
an older open execution: two requests racing past the API's check cannot both change the cloud; and it nets
the safety snapshot each ``snapshot_and_delete_disk`` step would keep from the plan's saving (priced by
``cloudoptima.services.safety_snapshots``), so the approver reads the net saving.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from temporalio import activity

from cloudoptima.domain.remediation import RemediationState, RollbackOutcome, StepVerification
from cloudoptima.services.execution_progress import EXECUTION_CHANNEL, ExecutionProgress, event_payload
from cloudoptima.services.inbox import notify_pending_approval
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.remediation import inputs as i
from cloudoptima_workflows.remediation.activities import (
    RemediationActivities,
    _outcome,
)

log = logging.getLogger(__name__)


class FollowedRemediationActivities(RemediationActivities):
    """Remediation activities that record and publish their progress (see module contract)."""

    def _progress(self, session: Any, organization_id: str) -> ExecutionProgress:
        return ExecutionProgress(
            session,
            uuid.UUID(organization_id),
            now=self._deps.now,
            publish=self._deps.publish,
            console_url=self._deps.console_url,
            public_url=self._deps.public_url,
        )

    def _emit(self, organization_id: str, payload: Mapping[str, Any] | None) -> None:
        publish = self._deps.publish
        if publish is None or payload is None:
            return
        try:
            publish(uuid.UUID(organization_id), EXECUTION_CHANNEL, payload)
        except Exception:  # best effort: the facts are stored; a dead Redis must not redo a cloud change
            log.exception("could not publish the %s event of %s", payload.get("event"), organization_id)

    def _execution_id(self, progress: ExecutionProgress) -> uuid.UUID | None:
        workflow_id = activity.info().workflow_id
        row = progress.execution_of_workflow(workflow_id) if workflow_id else None
        return None if row is None else row.id

    @activity.defn(name="remediation.plan")
    def plan(self, params: i.PlanInput) -> i.PlanView:
        """Plan (see the base class), record ``queued`` and ``planned``, refuse a second open request."""
        request = params.request
        org = request.organization_id
        view = super().plan(params)
        events: list[dict[str, Any] | None] = []
        with tenant_session(self._deps.sessions, uuid.UUID(org)) as session:
            progress = self._progress(session, org)
            row = progress.execution(uuid.UUID(request.execution_id))
            if row is None:
                return view
            if row.recommendation_id is not None and not row.dry_run:
                other = progress.open_execution_of(row.recommendation_id, besides=row.id)
                if other is not None and (other.started_at, str(other.id)) < (row.started_at, str(row.id)):
                    problem = (
                        f"recommendation {row.recommendation_id} already has an open execution {other.id} "
                        f"({other.status}); wait for it to finish"
                    )
                    view = view.model_copy(update={"problems": [*view.problems, problem], "valid": False})
                    stored = dict(row.plan or {})
                    stored["problems"] = [*stored.get("problems", []), problem]
                    row.plan = stored
            priced = progress.net_planned_snapshots(row.id)
            if priced:
                impact = dict(dict(row.plan or {}).get("impact") or {})
                view = view.model_copy(
                    update=dict(
                        steps=[
                            step.model_copy(update={"monthly_cost_after": priced[step.index]})
                            if step.index in priced
                            else step
                            for step in view.steps
                        ],
                        savings=Decimal(str(impact["savings"])),
                        projected_monthly=Decimal(str(impact["projected_monthly"])),
                        risks=[str(r) for r in impact.get("risks") or []],
                    )
                )
            summary = {
                "steps": len(view.steps),
                "risk_level": view.risk_level,
                "savings": str(view.savings),
                "approval_required": view.approval_required,
                "rollback_available": view.rollback_available,
                "problems": list(view.problems),
            }
            events.append(progress.reached(row.id, RemediationState.QUEUED))
            progress.note(row.id, "state", "planned", {"state": "planned", **summary})
            events.append(event_payload(row, "planned", plan=summary))
        for event in events:
            self._emit(org, event)
        return view

    @activity.defn(name="remediation.execute_step")
    def execute_step(self, params: i.StepInput) -> i.StepResult:
        """Execute one step (see the base class); record it, mirror it into the inventory, publish it."""
        result = super().execute_step(params)
        org = params.organization_id
        with tenant_session(self._deps.sessions, uuid.UUID(org)) as session:
            progress = self._progress(session, org)
            execution_id = self._execution_id(progress)
            event = (
                None
                if execution_id is None
                else progress.stepped(execution_id, _outcome(result), params.step.cloud_account_id)
            )
        self._emit(org, event)
        return result

    @activity.defn(name="remediation.verify_step")
    def verify_step(self, params: i.VerifyInput) -> i.VerifyResult:
        """Verify one step (see the base class); record and publish the check."""
        result = super().verify_step(params)
        org = params.organization_id
        with tenant_session(self._deps.sessions, uuid.UUID(org)) as session:
            progress = self._progress(session, org)
            execution_id = self._execution_id(progress)
            check = StepVerification(
                index=result.index, ok=result.ok, observed=dict(result.observed), detail=result.detail
            )
            event = None if execution_id is None else progress.verified(execution_id, check)
        self._emit(org, event)
        return result

    @activity.defn(name="remediation.rollback_step")
    def rollback_step(self, params: i.RollbackInput) -> i.RollbackResult:
        """Undo one step (see the base class); record and publish the undo."""
        result = super().rollback_step(params)
        org = params.organization_id
        with tenant_session(self._deps.sessions, uuid.UUID(org)) as session:
            progress = self._progress(session, org)
            execution_id = self._execution_id(progress)
            undone = RollbackOutcome(
                index=result.index,
                resource_id=result.resource_id,
                status=result.status,  # type: ignore[arg-type]
                detail=result.detail,
            )
            event = None if execution_id is None else progress.undone(execution_id, undone)
        self._emit(org, event)
        return result

    @activity.defn(name="remediation.record")
    def record(self, params: i.RecordInput) -> None:
        """Record the state and move the recommendation, then advance the execution row (see the base
        class), then publish the state change: a reader who sees the row's new state sees its fact."""
        decision: dict[str, Any] | None = None
        if params.decision is not None:
            d = params.decision
            decision = {
                "approved": d.approve,
                "user_id": d.approver.user_id,
                "role": d.approver.role,
                "channel": d.channel,
                "decided_at": d.decided_at.isoformat(),
                "comment": d.comment,
            }
        org = params.organization_id
        with tenant_session(self._deps.sessions, uuid.UUID(org)) as session:
            event = self._progress(session, org).reached(
                uuid.UUID(params.execution_id), RemediationState(params.state), decision, error=params.error
            )
        super().record(params)
        self._emit(org, event)
        if RemediationState(params.state) is RemediationState.PENDING_APPROVAL:
            self._notify_approvers(org, params.execution_id)

    def _notify_approvers(self, organization_id: str, execution_id: str) -> None:
        """Post the waiting approval to the inbox of every user whose role may decide it (once per execution:
        a retried record posts nothing new)."""
        org = uuid.UUID(organization_id)
        with tenant_session(self._deps.sessions, org) as session:
            notify_pending_approval(
                session,
                org,
                uuid.UUID(execution_id),
                now=self._deps.now(),
                publish=self._deps.publish,
                console_url=self._deps.console_url,
                public_url=self._deps.public_url,
            )
