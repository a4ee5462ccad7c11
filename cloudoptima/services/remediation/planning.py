"""Planning a remediation: the actions of a recommendation or a policy, each dry-run through the provider,
costed before and after, with the plan's risk, impact and whether it must wait for an approval."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from cloudoptima.clouds.protocol import ProviderError
from cloudoptima.domain.organisation_settings import OrganisationSettings
from cloudoptima.domain.recommendations import RiskLevel
from cloudoptima.domain.remediation import (
    ACTION_RISK,
    PlannedAction,
    PlanStep,
    RemediationImpact,
    RemediationPlan,
    SafetyControls,
    approver_roles,
    highest_risk,
    needs_approval,
)
from cloudoptima.services.remediation.scope import RemediationError, RemediationScope, provider_request
from cloudoptima.storage.models import CloudAccount, Organization, ResourceDocument
from cloudoptima.storage.models import Recommendation as RecommendationRow

_ZERO_AFTER = {"stop", "snapshot_and_delete_disk", "delete_snapshot", "release_ip"}
_SAME_AFTER = {"tag", "untag"}


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class RemediationPlanning(RemediationScope):
    """Plans of recommendations and policy actions (see the package contract)."""

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
        """Check (dry run) and cost ``actions``; see the package contract for the rules."""
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
                verdict = provider.validate_action(provider_request(action))
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
