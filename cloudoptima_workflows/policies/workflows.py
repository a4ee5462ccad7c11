"""Policy workflows: execute one policy through the remediation workflow (so its approval rules apply), and
evaluate event/threshold triggers, starting a policy execution for each new firing.

- ``PolicyExecution`` matches the policy now (only the firing's resources when a trigger named them),
  publishes ``started`` (or ``skipped``) on the ``policy_executions`` channel, runs the ``Remediation``
  child (dry run, approval, execution) and publishes ``finished`` with its final state.
- ``PolicyTriggers`` (started after each collection and analysis) records the new firings
  (``policies.evaluate_triggers``), starts one ``PolicyExecution`` per firing (id
  ``policy-firing-<firing id>``, abandoned on close, a duplicate id refused even after it closed: a firing
  starts one execution, ever) and records and publishes them (``policies.firings_started``). The requester
  of a triggered run is ``system:trigger`` with the viewer role, who can never approve: a person must.

Activities (``PolicyActivityInterface``) and the remediation workflow are referenced as typed methods; this
module imports no I/O library (an import contract). Histories from before the stage events replay the old
path (``workflow.patched``).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    # By full dotted name: ``from package import module`` would give the sandbox its own copy of the
    # module, whose classes are not the ones the activity interfaces name (pydantic then refuses them).
    import cloudoptima_workflows.policies.inputs as p
    import cloudoptima_workflows.remediation.inputs as r
    from cloudoptima_workflows.policies.interface import PolicyActivityInterface
    from cloudoptima_workflows.remediation.workflows import RemediationWorkflow

_QUICK = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(seconds=30))
STAGES_PATCH = "policy-stage-events"


async def _stage(params: p.PolicyExecutionInput, stage: str, data: dict[str, object]) -> None:
    await workflow.execute_activity_method(
        PolicyActivityInterface.publish,
        p.PolicyStage(
            organization_id=params.organization_id, policy_id=params.policy_id, stage=stage, data=dict(data)
        ),
        start_to_close_timeout=timedelta(minutes=1),
        retry_policy=_QUICK,
    )


@workflow.defn(name="PolicyExecution")
class PolicyExecutionWorkflow:
    """Match the policy's conditions now and remediate the matches (dry run: plan only)."""

    @workflow.run
    async def run(self, params: p.PolicyExecutionInput) -> p.PolicyRunResult:
        stages = workflow.patched(STAGES_PATCH)
        match: p.PolicyMatch = await workflow.execute_activity_method(
            PolicyActivityInterface.match,
            p.PolicyMatchInput(
                organization_id=params.organization_id,
                policy_id=params.policy_id,
                resource_ids=params.resource_ids,
            ),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=_QUICK,
        )
        execution_id = params.execution_id or str(workflow.uuid4())
        child_id = params.remediation_workflow_id or f"{workflow.info().workflow_id}/remediation"
        about = {
            "execution_id": execution_id,
            "workflow_id": child_id,
            "trigger": params.trigger,
            "firing_id": params.firing_id or None,
            "dry_run": params.dry_run,
        }
        if not match.enabled and params.trigger != "manual":
            if stages:
                await _stage(params, "skipped", {**about, "detail": "the policy is disabled"})
            return p.PolicyRunResult(
                policy_id=params.policy_id, state="skipped", detail="the policy is disabled"
            )
        if stages:
            await _stage(
                params,
                "started",
                {**about, "policy": match.name, "matched_resource_ids": list(match.matched_resource_ids)},
            )
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
            RemediationWorkflow.run, request, id=child_id
        )
        if stages:
            await _stage(params, "finished", {**about, "state": status.state, "error": status.error})
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
    """Record new trigger firings and start one policy execution per firing (see the module docstring)."""

    @workflow.run
    async def run(self, params: p.PolicyTriggersInput) -> p.PolicyTriggersResult:
        fired: p.TriggeredPolicies = await workflow.execute_activity_method(
            PolicyActivityInterface.evaluate_triggers,
            params.evaluation,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=_QUICK,
        )
        org = params.evaluation.organization_id
        started: dict[str, str] = {}
        for firing in fired.firings:
            child_id = f"policy-firing-{firing.firing_id}"
            # Another evaluation may have started this firing already: one execution per firing, ever.
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await workflow.start_child_workflow(
                    PolicyExecutionWorkflow.run,
                    p.PolicyExecutionInput(
                        organization_id=org,
                        policy_id=firing.policy_id,
                        requested_by=params.requested_by,
                        trigger=firing.trigger,
                        execution_id=firing.execution_id,
                        resource_ids=list(firing.resource_ids) or None,
                        firing_id=firing.firing_id,
                    ),
                    id=child_id,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
            started[firing.firing_id] = child_id
        if fired.firings:
            await workflow.execute_activity_method(
                PolicyActivityInterface.firings_started,
                p.FiringsStarted(organization_id=org, started=started, firings=list(fired.firings)),
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=_QUICK,
            )
        return p.PolicyTriggersResult(started_workflow_ids=list(started.values()))
