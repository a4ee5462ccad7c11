"""Remediation use cases of one organisation: plan, dry run, impact preview, execute, verify, roll back, record.

Contract:

- ``plan_recommendation`` / ``plan_actions`` build a :class:`RemediationPlan`: one step per action, each
  dry-run through the provider's ``validate_action`` when ``safety.dry_run_first`` (a provider error becomes
  a step problem, never an exception); a plan over ``max_resources_per_execution`` carries a plan-level
  problem naming the count and the cap and its steps are not dry-run. Monthly cost before comes from the
  provider's current state, else the stored ``resources`` row; after is 0 for stop/delete/release, unchanged
  for tags and unknown (None) otherwise. ``approval_required`` follows ``domain.remediation.needs_approval``
  with the organisation's ``auto_approve_low_risk`` setting read now: only a low-risk plan whose every step
  validated with a rollback can skip the wait, never a high-risk or irreversible one.
- ``execute_step`` acts once per idempotency key (the provider dedupes); a provider refusal (precondition,
  permission) is a ``failed`` outcome, while retryable provider errors propagate so the caller retries.
- ``verify_step`` re-reads state: the rollback action must now validate (and the state it reports must
  match what the action reported), or, for a step with no rollback action, the original action must no
  longer validate (its target is gone).
- ``rollback_step`` runs the step's rollback action once per key; irreversible steps are reported.
- ``open_execution`` / ``record`` keep one ``policy_executions`` row per remediation (idempotent: a retried
  call rewrites the same row with the full log); the first terminal record sets ``completed_at`` and bumps
  the policy's counters once.
- Every query goes through organisation-scoped repositories; the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.clouds.protocol import ActionKind, ActionRequest, CloudProviderClient, ProviderError
from cloudoptima.domain.organisation_settings import OrganisationSettings
from cloudoptima.domain.recommendations import RiskLevel
from cloudoptima.domain.remediation import (
    ACTION_RISK,
    TERMINAL_STATES,
    Decision,
    ExecutionRecord,
    PendingApproval,
    PlannedAction,
    PlanStep,
    RemediationImpact,
    RemediationPlan,
    RemediationState,
    RollbackOutcome,
    SafetyControls,
    StepOutcome,
    StepVerification,
    approver_roles,
    highest_risk,
    needs_approval,
)
from cloudoptima.storage.models import CloudAccount, Organization, Policy, PolicyExecution, ResourceDocument
from cloudoptima.storage.models import Recommendation as RecommendationRow
from cloudoptima.storage.tenancy import TenantRepository

ProviderFactory = Callable[[uuid.UUID], CloudProviderClient]
"""Builds the provider client of one ``cloud_accounts`` row id (the registry in production)."""

_ZERO_AFTER = {"stop", "snapshot_and_delete_disk", "delete_snapshot", "release_ip"}
_SAME_AFTER = {"tag", "untag"}
_COMPARED_KEYS = ("state", "size", "tags")
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


class RemediationError(LookupError):
    """A recommendation, policy or execution does not exist in this organisation."""


class _Recommendations(TenantRepository[RecommendationRow]):
    model = RecommendationRow


class _Executions(TenantRepository[PolicyExecution]):
    model = PolicyExecution


class _Policies(TenantRepository[Policy]):
    model = Policy


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _request(action: PlannedAction) -> ActionRequest:
    return ActionRequest(
        kind=ActionKind(action.action),
        resource_id=action.resource_id,
        region=action.region,
        parameters=action.parameters,
    )


def _planned(step: PlanStep) -> PlannedAction:
    return PlannedAction(
        cloud_account_id=step.cloud_account_id,
        resource_id=step.resource_id,
        action=step.action,
        region=step.region,
        parameters=step.parameters,
        description=step.description,
    )


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


class RemediationService:
    """Remediation of one organisation over one session (the caller commits)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        providers: ProviderFactory,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._org = organization_id
        self._providers = providers
        self._now = now
        self._recommendations = _Recommendations(session, organization_id)
        self._executions = _Executions(session, organization_id)
        self._policies = _Policies(session, organization_id)

    # -- planning -----------------------------------------------------------------------------------------

    def _account_id(self, provider: str | None, identifier: str | None) -> uuid.UUID | None:
        if identifier is None:
            return None
        query = select(CloudAccount.id).where(
            CloudAccount.organization_id == self._org, CloudAccount.account_identifier == identifier
        )
        if provider is not None:
            query = query.where(CloudAccount.provider == provider)
        return self._session.scalars(query).first()

    def recommendation_actions(
        self, recommendation_id: uuid.UUID
    ) -> tuple[RecommendationRow, list[PlannedAction]]:
        """The recommendation and its actions on its connected account (``RemediationError`` if absent)."""
        row = self._recommendations.get(recommendation_id)
        if row is None:
            raise RemediationError(f"recommendation {recommendation_id} not found")
        account = self._account_id(row.provider, row.account_identifier)
        actions = [
            PlannedAction(
                cloud_account_id=str(account) if account else "",
                resource_id=str(item["resource_id"]),
                action=str(item["type"]),
                region=row.region,
                parameters=dict(item.get("parameters") or {}),
                description=str(item.get("description") or ""),
            )
            for item in row.actions or []
        ]
        return row, actions

    def plan_recommendation(
        self,
        recommendation_id: uuid.UUID,
        *,
        safety: SafetyControls,
        requested_by_role: str,
        approval_requested: bool = True,
        risk_floor: RiskLevel | None = None,
    ) -> RemediationPlan:
        """Seed ``POST /recommendations/{id}/apply``: the recommendation's actions, checked and costed."""
        row, actions = self.recommendation_actions(recommendation_id)
        floor = [RiskLevel(row.risk_level)] + ([risk_floor] if risk_floor else [])
        plan = self.plan_actions(
            actions,
            source="recommendation",
            source_id=str(row.id),
            title=row.title,
            risk_floor=highest_risk(*floor),
            safety=safety,
            requested_by_role=requested_by_role,
            approval_requested=approval_requested,
        )
        if not row.actions:
            plan = plan.model_copy(
                update={"problems": [*plan.problems, "the recommendation has no provider action"]}
            )
        savings = _money(row.estimated_savings_monthly)
        if savings is None:
            return plan
        current = plan.impact.current_monthly
        projected = max(Decimal(0), current - savings)
        preview = dict(row.impact_preview or {})
        risks = [*(str(r) for r in preview.get("risks", [])), *plan.impact.risks]
        impact = plan.impact.model_copy(
            update={"projected_monthly": projected, "savings": current - projected, "risks": risks}
        )
        return plan.model_copy(update={"impact": impact})

    def plan_actions(
        self,
        actions: Sequence[PlannedAction],
        *,
        source: str,
        source_id: str | None,
        title: str,
        risk_floor: RiskLevel | None,
        safety: SafetyControls,
        requested_by_role: str,
        approval_requested: bool = True,
    ) -> RemediationPlan:
        """Check (dry run) and cost ``actions``; see the module contract for the rules."""
        problems: list[str] = []
        over_cap = len(actions) > safety.max_resources_per_execution
        if over_cap:
            problems.append(
                f"the plan touches {len(actions)} resources but the safety control "
                f"max_resources_per_execution is {safety.max_resources_per_execution}; narrow the "
                "conditions or raise the cap"
            )
        if not actions:
            problems.append("nothing to do: no resource action was planned")
        steps = [
            self._step(index, action, validate=safety.dry_run_first and not over_cap)
            for index, action in enumerate(actions)
        ]
        risk = highest_risk(*([risk_floor] if risk_floor else []), *(ACTION_RISK[a.action] for a in actions))
        reversible = bool(steps) and all(s.rollback_available and not s.irreversible for s in steps)
        organisation = self._session.get(Organization, self._org)
        settings = OrganisationSettings.of(organisation.settings if organisation is not None else None)
        return RemediationPlan(
            organization_id=str(self._org),
            source=source,  # type: ignore[arg-type]
            source_id=source_id,
            title=title,
            risk_level=risk,
            steps=steps,
            impact=self._impact(steps),
            safety=safety,
            approval_required=needs_approval(
                approval_requested,
                safety,
                requested_by_role,
                risk,
                reversible=reversible,
                auto_approve_low_risk=settings.auto_approve_low_risk,
            ),
            approver_roles=approver_roles(risk),
            problems=problems,
            created_at=self._now(),
        )

    def _stored_cost(self, resource_id: str) -> Decimal:
        cost = self._session.scalars(
            select(ResourceDocument.cost_monthly).where(
                ResourceDocument.organization_id == self._org, ResourceDocument.resource_id == resource_id
            )
        ).first()
        return cost if cost is not None else Decimal(0)

    def _step(self, index: int, action: PlannedAction, *, validate: bool) -> PlanStep:
        base = action.model_dump()
        problems: list[str] = []
        state: dict[str, Any] = {}
        valid: bool | None = None
        rollback_available, irreversible = False, None
        if not action.cloud_account_id:
            valid, problems = False, [f"{action.resource_id}: its cloud account is not connected"]
        elif validate:
            try:
                provider = self._providers(uuid.UUID(action.cloud_account_id))
                verdict = provider.validate_action(_request(action))
            except (ProviderError, ValidationError, ValueError, LookupError) as exc:
                valid, problems = False, [f"{action.resource_id}: {exc}"]
            else:
                valid, problems, state = verdict.ok, list(verdict.problems), dict(verdict.current_state)
                if verdict.rollback is not None:
                    rollback_available = verdict.rollback.action is not None
                    irreversible = verdict.rollback.irreversible
        before = _money(state.get("monthly_cost"))
        if before is None:
            before = self._stored_cost(action.resource_id)
        after: Decimal | None = None
        if action.action in _ZERO_AFTER:
            after = Decimal(0)
        elif action.action in _SAME_AFTER:
            after = before
        return PlanStep(
            index=index,
            **base,
            valid=valid,
            problems=problems,
            current_state=state,
            monthly_cost_before=before,
            monthly_cost_after=after,
            rollback_available=rollback_available,
            irreversible=irreversible,
        )

    @staticmethod
    def _impact(steps: Sequence[PlanStep]) -> RemediationImpact:
        current = sum((s.monthly_cost_before for s in steps), Decimal(0))
        projected = sum(
            (
                s.monthly_cost_after if s.monthly_cost_after is not None else s.monthly_cost_before
                for s in steps
            ),
            Decimal(0),
        )
        risks = [
            f"step {s.index} ({s.action} {s.resource_id}) cannot be undone: {s.irreversible}"
            for s in steps
            if s.irreversible
        ]
        unknown = [s.index for s in steps if s.monthly_cost_after is None]
        if unknown:
            risks.append(f"the cost after steps {unknown} is not known; it is counted as unchanged")
        refused = [s.index for s in steps if s.valid is False]
        if refused:
            risks.append(f"the dry run refused steps {refused}")
        return RemediationImpact(
            current_monthly=current,
            projected_monthly=projected,
            savings=current - projected,
            risks=risks,
            rollback_available=bool(steps) and all(s.rollback_available for s in steps),
            irreversible_steps=[s.index for s in steps if s.irreversible],
        )

    # -- execution ----------------------------------------------------------------------------------------

    def execute_step(self, step: PlanStep, idempotency_key: str) -> StepOutcome:
        """Run one step once per key; refusals are ``failed`` outcomes, retryable errors propagate."""
        provider = self._providers(uuid.UUID(step.cloud_account_id))
        common = {"index": step.index, "resource_id": step.resource_id, "action": step.action}
        try:
            result = provider.execute_action(_request(_planned(step)), idempotency_key)
        except ProviderError as exc:
            if exc.retryable:
                raise
            return StepOutcome(**common, status="failed", idempotency_key=idempotency_key, error=str(exc))
        back = result.rollback.action
        rollback = None
        if back is not None:
            rollback = PlannedAction(
                cloud_account_id=step.cloud_account_id,
                resource_id=back.resource_id,
                action=back.kind.value,
                region=back.region,
                parameters=back.parameters,
                description=f"roll back step {step.index}",
            )
        return StepOutcome(
            **common,
            status="succeeded",
            idempotency_key=idempotency_key,
            before=result.before,
            after=result.after,
            rollback_action=rollback,
            irreversible=result.rollback.irreversible,
        )

    def verify_step(
        self, outcome: StepOutcome, cloud_account_id: str, original: PlannedAction
    ) -> StepVerification:
        """Re-read the state after ``outcome`` (see the module contract)."""
        provider = self._providers(uuid.UUID(cloud_account_id))
        if outcome.rollback_action is not None:
            verdict = provider.validate_action(_request(outcome.rollback_action))
            observed = dict(verdict.current_state)
            mismatched = [
                k
                for k in _COMPARED_KEYS
                if k in observed and k in outcome.after and observed[k] != outcome.after[k]
            ]
            if not verdict.ok:
                detail = "; ".join(verdict.problems) or "the rollback no longer validates"
                return StepVerification(index=outcome.index, ok=False, observed=observed, detail=detail)
            if mismatched:
                detail = f"state read back differs on {', '.join(mismatched)}"
                return StepVerification(index=outcome.index, ok=False, observed=observed, detail=detail)
            return StepVerification(index=outcome.index, ok=True, observed=observed, detail="state matches")
        verdict = provider.validate_action(_request(original))
        if verdict.ok:
            return StepVerification(
                index=outcome.index,
                ok=False,
                observed=dict(verdict.current_state),
                detail="the action would still apply: the change is not visible",
            )
        return StepVerification(
            index=outcome.index,
            ok=True,
            observed=dict(verdict.current_state),
            detail="; ".join(verdict.problems),
        )

    def rollback_step(
        self, outcome: StepOutcome, cloud_account_id: str, idempotency_key: str
    ) -> RollbackOutcome:
        """Undo one executed step once per key; irreversible steps are reported."""
        common = {"index": outcome.index, "resource_id": outcome.resource_id}
        if outcome.rollback_action is None:
            detail = outcome.irreversible or "the provider offers no rollback for this action"
            return RollbackOutcome(**common, status="irreversible", detail=detail)
        provider = self._providers(uuid.UUID(cloud_account_id))
        try:
            provider.execute_action(_request(outcome.rollback_action), idempotency_key)
        except ProviderError as exc:
            if exc.retryable:
                raise
            return RollbackOutcome(**common, status="failed", detail=str(exc))
        return RollbackOutcome(
            **common, status="rolled_back", detail=f"{outcome.rollback_action.action} done"
        )

    # -- the policy_executions record ---------------------------------------------------------------------

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
