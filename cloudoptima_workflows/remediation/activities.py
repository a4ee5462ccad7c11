"""Remediation activities: thin adapters from the workflow's messages to :mod:`cloudoptima.services.remediation`.

Every activity opens its own organisation-scoped session (committed on success). Providers come from the
injected factory (``cloud_account_id -> CloudProviderClient``; the registry in production, the sandbox in
tests). Retryable provider errors propagate so Temporal retries them; refusals come back as results.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from cloudoptima.domain.recommendations import RiskLevel
from cloudoptima.domain.remediation import (
    Approver,
    Decision,
    PlannedAction,
    PlanStep,
    RemediationPlan,
    RemediationState,
    StepOutcome,
)
from cloudoptima.services.approvals import AUDIT_NAMESPACE, ApprovalService, DecisionClaim
from cloudoptima.services.events import Publish
from cloudoptima.services.remediation import ProviderFactory, RemediationError, RemediationService
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.remediation import inputs as i
from cloudoptima_workflows.remediation.interface import RemediationActivityInterface

_CHANNELS = frozenset({"rest", "mcp", "temporal_ui", "update", "signal"})


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RemediationDeps:
    """What the remediation and policy activities need (wired in the worker's composition root)."""

    sessions: sessionmaker[Session]
    providers: ProviderFactory
    now: Callable[[], datetime] = _utcnow
    publish: Publish | None = None
    """Publishes the progress events (``cloudoptima_workflows.remediation.progress``); None: none published."""
    approval_keys: tuple[str, ...] = ()
    """The encryption key ring: what Temporal-UI approval codes are checked with (none: every such decision
    is refused)."""
    console_url: str | None = None
    """The web console's base URL: notices of waiting approvals and finished executions link to its pages
    (``{console_url}/approvals/{id}``, ``{console_url}/executions/{id}``); None: to the API (below)."""
    public_url: str | None = None
    """The address people reach the gateway at (``Settings.resolved_public_url``): without a console, channel
    notices link to ``{public_url}/v1/executions/{id}`` (the inbox to the API path); None: no channel link."""


def plan_view(plan: RemediationPlan) -> i.PlanView:
    """The kernel plan as the workflow carries it: the impact flattened into the plan, each step without its
    provider ``current_state`` (money stays ``Decimal``)."""
    return i.PlanView(
        title=plan.title,
        source=plan.source,
        risk_level=plan.risk_level.value,
        approval_required=plan.approval_required,
        approver_roles=list(plan.approver_roles),
        steps=[i.PlanStepView.model_validate(s.model_dump(exclude={"current_state"})) for s in plan.steps],
        current_monthly=plan.impact.current_monthly,
        projected_monthly=plan.impact.projected_monthly,
        savings=plan.impact.savings,
        risks=list(plan.impact.risks),
        rollback_available=plan.impact.rollback_available,
        valid=plan.valid,
        problems=list(plan.problems),
        safety=plan.safety,
    )


def plan_step(view: i.PlanStepView) -> PlanStep:
    """The kernel step a workflow step stands for (its ``current_state`` empty: the workflow never carries it)."""
    return PlanStep.model_validate(view.model_dump())


def _resource_action(action: PlannedAction | None) -> i.ResourceAction | None:
    return None if action is None else i.ResourceAction(**action.model_dump())


def _outcome(result: i.StepResult) -> StepOutcome:
    back = result.rollback_action
    return StepOutcome(
        index=result.index,
        resource_id=result.resource_id,
        action=result.action,
        status=result.status,  # type: ignore[arg-type]
        idempotency_key=result.idempotency_key,
        before=dict(result.before),
        after=dict(result.after),
        rollback_action=None if back is None else PlannedAction(**back.model_dump()),
        irreversible=result.irreversible,
        error=result.error,
    )


def _planned(step: i.PlanStepView) -> PlannedAction:
    return PlannedAction(
        cloud_account_id=step.cloud_account_id,
        resource_id=step.resource_id,
        action=step.action,
        region=step.region,
        parameters=dict(step.parameters),
        description=step.description,
    )


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


class RemediationActivities(RemediationActivityInterface):
    """Activities bound to a session factory and a provider factory."""

    def __init__(self, deps: RemediationDeps) -> None:
        self._deps = deps

    def _service(self, session: Session, organization_id: str) -> RemediationService:
        return RemediationService(
            session, uuid.UUID(organization_id), self._deps.providers, now=self._deps.now
        )

    @activity.defn(name="remediation.plan")
    def plan(self, params: i.PlanInput) -> i.PlanView:
        """Build the plan (dry run + impact preview) and open the ``policy_executions`` row."""
        request = params.request
        org = uuid.UUID(request.organization_id)
        safety = request.safety
        role = request.requested_by.role
        floor = RiskLevel(request.risk_level) if request.risk_level else None
        with tenant_session(self._deps.sessions, org) as session:
            service = self._service(session, request.organization_id)
            recommendation_id = _uuid(request.recommendation_id)
            if recommendation_id is not None:
                try:
                    plan = service.plan_recommendation(
                        recommendation_id,
                        safety=safety,
                        requested_by_role=role,
                        approval_requested=request.approval_required,
                        risk_floor=floor,
                    )
                except RemediationError as exc:
                    plan = service.plan_actions(
                        [],
                        source="recommendation",
                        source_id=request.recommendation_id,
                        title=request.title,
                        risk_floor=floor,
                        safety=safety,
                        requested_by_role=role,
                    )
                    plan = plan.model_copy(update={"problems": [str(exc)]})
                    recommendation_id = None
            else:
                plan = service.plan_actions(
                    [PlannedAction(**a.model_dump()) for a in request.actions],
                    source="policy" if request.policy_id else "manual",
                    source_id=request.policy_id,
                    title=request.title or "manual remediation",
                    risk_floor=floor,
                    safety=safety,
                    requested_by_role=role,
                    approval_requested=request.approval_required,
                )
            service.open_execution(
                uuid.UUID(request.execution_id),
                workflow_id=params.workflow_id,
                plan=plan,
                kind=plan.source,
                requested_by=request.requested_by.user_id,
                requested_by_role=role,
                dry_run=request.dry_run,
                scheduled_for=request.schedule,
                policy_id=_uuid(request.policy_id),
                recommendation_id=recommendation_id,
            )
            settings = ApprovalService(session, org, now=self._deps.now).settings()
        needed = settings.high_risk_approvers if plan.risk_level is RiskLevel.HIGH else 1
        return plan_view(plan).model_copy(update={"approvals_needed": needed})

    @activity.defn(name="remediation.execute_step")
    def execute_step(self, params: i.StepInput) -> i.StepResult:
        """Execute one step once per idempotency key."""
        with tenant_session(self._deps.sessions, uuid.UUID(params.organization_id)) as session:
            outcome = self._service(session, params.organization_id).execute_step(
                plan_step(params.step), params.idempotency_key
            )
        return i.StepResult(
            index=outcome.index,
            resource_id=outcome.resource_id,
            action=outcome.action,
            status=outcome.status,
            idempotency_key=outcome.idempotency_key,
            before=dict(outcome.before),
            after=dict(outcome.after),
            rollback_action=_resource_action(outcome.rollback_action),
            irreversible=outcome.irreversible,
            error=outcome.error,
        )

    @activity.defn(name="remediation.verify_step")
    def verify_step(self, params: i.VerifyInput) -> i.VerifyResult:
        """Re-read the state after one executed step."""
        with tenant_session(self._deps.sessions, uuid.UUID(params.organization_id)) as session:
            check = self._service(session, params.organization_id).verify_step(
                _outcome(params.result), params.step.cloud_account_id, _planned(params.step)
            )
        return i.VerifyResult(
            index=check.index, ok=check.ok, observed=dict(check.observed), detail=check.detail
        )

    @activity.defn(name="remediation.rollback_step")
    def rollback_step(self, params: i.RollbackInput) -> i.RollbackResult:
        """Undo one executed step (once per key) or report it as irreversible."""
        with tenant_session(self._deps.sessions, uuid.UUID(params.organization_id)) as session:
            undone = self._service(session, params.organization_id).rollback_step(
                _outcome(params.result), params.step.cloud_account_id, params.idempotency_key
            )
        return i.RollbackResult(
            index=undone.index, resource_id=undone.resource_id, status=undone.status, detail=undone.detail
        )

    @activity.defn(name="remediation.record")
    def record(self, params: i.RecordInput) -> None:
        """Advance the ``policy_executions`` row (state, full log, decision, expiry)."""
        decision = None
        if params.decision is not None:
            d = params.decision
            decision = Decision(
                approved=d.approve,
                comment=d.comment,
                approver=Approver(user_id=d.approver.user_id, role=d.approver.role, email=d.approver.email),
                decided_at=d.decided_at,
                channel=d.channel if d.channel in _CHANNELS else "update",  # type: ignore[arg-type]
            )
        with tenant_session(self._deps.sessions, uuid.UUID(params.organization_id)) as session:
            self._service(session, params.organization_id).record(
                uuid.UUID(params.execution_id),
                RemediationState(params.state),
                params.logs,
                decision=decision,
                expires_at=params.expires_at,
                resources_affected=params.resources_affected,
                error=params.error,
            )

    @activity.defn(name="remediation.verify_decision")
    def verify_decision(self, params: i.VerifyDecisionInput) -> i.DecisionVerdict:
        """Look the claimed decider up in the database now (``ApprovalService.verify``); read-only."""
        org = uuid.UUID(params.organization_id)
        with tenant_session(self._deps.sessions, org) as session:
            verdict = ApprovalService(
                session, org, now=self._deps.now, approval_keys=self._deps.approval_keys
            ).verify(_claim(params))
            session.rollback()
        return i.DecisionVerdict(
            accepted=verdict.accepted,
            reason=verdict.reason,
            user_id=verdict.user_id,
            role=verdict.role,
            email=verdict.email,
            approvals_needed=verdict.approvals_needed,
        )

    @activity.defn(name="remediation.audit_decision")
    def audit_decision(self, params: i.AuditDecisionInput) -> None:
        """Write the decision's ``audit_logs`` row once per ``entry_id`` (accepted or refused)."""
        org = uuid.UUID(params.organization_id)
        claim = DecisionClaim(
            user_id=params.user_id,
            approve=params.approve,
            channel=params.channel,
            execution_id=params.execution_id,
            workflow_id=params.workflow_id,
            risk_level=params.risk_level,
            requested_by=params.requested_by,
            comment=params.comment,
        )
        with tenant_session(self._deps.sessions, org) as session:
            ApprovalService(session, org, now=self._deps.now).audit(
                claim,
                accepted=params.accepted,
                reason=params.reason,
                approvals=params.approvals,
                approvals_needed=params.approvals_needed,
                entry_id=uuid.uuid5(AUDIT_NAMESPACE, params.entry_id),
            )


def _claim(params: i.VerifyDecisionInput) -> DecisionClaim:
    return DecisionClaim(
        user_id=params.user_id,
        approve=params.approve,
        channel=params.channel,
        execution_id=params.execution_id,
        workflow_id=params.workflow_id,
        risk_level=params.risk_level,
        requested_by=params.requested_by,
        approved_by=tuple(params.approved_by),
        approval_code=params.approval_code,
    )
