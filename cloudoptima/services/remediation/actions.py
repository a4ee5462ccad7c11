"""Acting on a planned step: execute it once per idempotency key, verify the state read back, roll it back."""

from __future__ import annotations

import uuid

from cloudoptima.clouds.protocol import ProviderError
from cloudoptima.domain.remediation import (
    PlannedAction,
    PlanStep,
    RollbackOutcome,
    StepOutcome,
    StepVerification,
)
from cloudoptima.services.remediation.scope import RemediationScope, planned_action, provider_request

_COMPARED_KEYS = ("state", "size", "tags")


class StepActions(RemediationScope):
    """Execute, verify and roll back single steps through the account's provider (see the package contract)."""

    def execute_step(self, step: PlanStep, idempotency_key: str) -> StepOutcome:
        """Run one step once per key; refusals are ``failed`` outcomes, retryable errors propagate."""
        provider = self._providers(uuid.UUID(step.cloud_account_id))
        common = {"index": step.index, "resource_id": step.resource_id, "action": step.action}
        try:
            result = provider.execute_action(provider_request(planned_action(step)), idempotency_key)
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
        """Re-read the state after ``outcome`` (see the package contract)."""
        provider = self._providers(uuid.UUID(cloud_account_id))
        if outcome.rollback_action is not None:
            verdict = provider.validate_action(provider_request(outcome.rollback_action))
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
        verdict = provider.validate_action(provider_request(original))
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
            provider.execute_action(provider_request(outcome.rollback_action), idempotency_key)
        except ProviderError as exc:
            if exc.retryable:
                raise
            return RollbackOutcome(**common, status="failed", detail=str(exc))
        return RollbackOutcome(
            **common, status="rolled_back", detail=f"{outcome.rollback_action.action} done"
        )
