"""Policy workflows: execute one policy through the remediation workflow (so its approval rules apply), and
evaluate event/threshold triggers, starting a policy execution for each policy that fires.

Activities and the remediation workflow are referenced by name; this module imports only temporalio and
inputs.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from temporal_workflows.policies import inputs as p
    from temporal_workflows.remediation import inputs as r

_QUICK = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(seconds=30))


@workflow.defn(name="PolicyExecution")
class PolicyExecutionWorkflow:
    """Match the policy's conditions now and remediate the matches (dry run: plan only)."""

    @workflow.run
    async def run(self, params: p.PolicyExecutionInput) -> p.PolicyRunResult:
        match: p.PolicyMatch = await workflow.execute_activity(
            "policies.match",
            p.PolicyMatchInput(organization_id=params.organization_id, policy_id=params.policy_id),
            result_type=p.PolicyMatch,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=_QUICK,
        )
        if not match.enabled and params.trigger != "manual":
            return p.PolicyRunResult(
                policy_id=params.policy_id, state="skipped", detail="the policy is disabled"
            )
        execution_id = params.execution_id or str(workflow.uuid4())
        child_id = params.remediation_workflow_id or f"{workflow.info().workflow_id}/remediation"
        request = r.RemediationRequest(
            organization_id=params.organization_id,
            requested_by=params.requested_by,
            execution_id=execution_id,
            policy_id=params.policy_id,
            actions=list(match.actions),
            title=match.name,
            risk_level=match.risk_level,
            approval_required=match.safety.require_approval,
            dry_run=params.dry_run,
            approval_ttl_seconds=params.approval_ttl_seconds,
            safety=match.safety,
        )
        status: r.RemediationStatus = await workflow.execute_child_workflow(
            "Remediation", request, id=child_id, result_type=r.RemediationStatus
        )
        return p.PolicyRunResult(
            policy_id=params.policy_id,
            state=status.state,
            remediation_workflow_id=child_id,
            execution_id=execution_id,
            matched_resource_ids=list(match.matched_resource_ids),
            detail=status.error or "",
        )


@workflow.defn(name="PolicyTriggers")
class PolicyTriggersWorkflow:
    """Evaluate event/threshold triggers (for the analysis workflow) and start the policies that fire."""

    @workflow.run
    async def run(self, params: p.PolicyTriggersInput) -> p.PolicyTriggersResult:
        fired: p.TriggeredPolicies = await workflow.execute_activity(
            "policies.evaluate_triggers",
            params.evaluation,
            result_type=p.TriggeredPolicies,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=_QUICK,
        )
        started = []
        trigger = "event" if params.evaluation.event else "threshold"
        for policy_id in fired.policy_ids:
            child_id = f"{workflow.info().workflow_id}/policy-{policy_id}"
            await workflow.start_child_workflow(
                "PolicyExecution",
                p.PolicyExecutionInput(
                    organization_id=params.evaluation.organization_id,
                    policy_id=policy_id,
                    requested_by=params.requested_by,
                    trigger=trigger,
                ),
                id=child_id,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
            started.append(child_id)
        return p.PolicyTriggersResult(started_workflow_ids=started)
