"""The only module the gateway (and the MCP platform server, via tools) uses to drive workflows.

Typed async functions over a connected ``temporalio.client.Client``:

- :func:`start_remediation` starts the remediation workflow on the ``remediation`` queue and returns at
  once with the ``policy_executions`` id (generated here), the workflow id and a Temporal UI link.
- :func:`decide` approves or rejects through the workflow's ``decide`` Update; a refusal (second decision,
  under-privileged approver, nothing pending, workflow finished) raises :class:`DecisionRefusedError` with
  the workflow's reason. :func:`remediation_status` reads the ``status`` query.
- :func:`start_policy_execution` runs a policy now (its remediation child has a deterministic id, returned
  as ``workflow_id`` so approvals go straight to it).
- :func:`sync_policy_schedule` creates, updates or deletes the Temporal Schedule of a policy whose trigger
  is ``schedule`` (call it whenever a policy is created, updated, enabled or disabled);
  :func:`delete_policy_schedule` removes it.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from cloudoptima.domain.remediation import PolicyTrigger
from temporal_workflows.policies.inputs import PolicyExecutionInput
from temporal_workflows.policies.workflows import PolicyExecutionWorkflow
from temporal_workflows.queues import REMEDIATION
from temporal_workflows.remediation.inputs import (
    DEFAULT_APPROVAL_TTL_SECONDS,
    QUEUED,
    Approver,
    DecisionInput,
    RemediationRequest,
    RemediationStatus,
)
from temporal_workflows.remediation.workflows import RemediationWorkflow

__all__ = [
    "Approver",
    "DecisionRefusedError",
    "RemediationHandleInfo",
    "RemediationRequest",
    "RemediationStatus",
    "decide",
    "delete_policy_schedule",
    "policy_schedule_id",
    "remediation_status",
    "start_policy_execution",
    "start_remediation",
    "sync_policy_schedule",
]

_UNATTENDED_ESTIMATE = timedelta(minutes=5)


class DecisionRefusedError(RuntimeError):
    """The workflow refused the decision; the message is its reason (safe to show the user)."""


@dataclass(frozen=True)
class RemediationHandleInfo:
    """What ``POST /recommendations/{id}/apply`` and ``POST /policies/{id}/execute`` return."""

    execution_id: str
    workflow_id: str
    status: str
    estimated_completion: datetime | None
    temporal_ui_url: str | None


def _ui_link(client: Client, base: str | None, workflow_id: str) -> str | None:
    if not base:
        return None
    return f"{base.rstrip('/')}/namespaces/{quote(client.namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"


def _estimate(approval_required: bool, schedule: datetime | None) -> datetime | None:
    """None while a human must decide; else the start (now or the schedule) plus a few minutes."""
    if approval_required:
        return None
    start = max(datetime.now(UTC), schedule) if schedule is not None else datetime.now(UTC)
    return start + _UNATTENDED_ESTIMATE


async def start_remediation(
    client: Client,
    request: RemediationRequest,
    *,
    workflow_id: str | None = None,
    temporal_ui_url: str | None = None,
    task_queue: str = REMEDIATION,
) -> RemediationHandleInfo:
    """Start a remediation (an empty ``request.execution_id`` is generated); returns without waiting."""
    if not request.execution_id:
        request = dataclasses.replace(request, execution_id=str(uuid.uuid4()))
    workflow_id = workflow_id or f"remediation-{request.execution_id}"
    await client.start_workflow(
        RemediationWorkflow.run,
        request,
        id=workflow_id,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    return RemediationHandleInfo(
        execution_id=request.execution_id,
        workflow_id=workflow_id,
        status=QUEUED,
        estimated_completion=None
        if request.dry_run
        else _estimate(request.approval_required, request.schedule),
        temporal_ui_url=_ui_link(client, temporal_ui_url, workflow_id),
    )


async def decide(
    client: Client, workflow_id: str, approve: bool, comment: str, approver: Approver
) -> RemediationStatus:
    """Approve or reject a pending remediation; :class:`DecisionRefusedError` when the workflow refuses."""
    handle = client.get_workflow_handle_for(RemediationWorkflow.run, workflow_id)
    try:
        return await handle.execute_update(
            RemediationWorkflow.decide, DecisionInput(approve=approve, comment=comment, approver=approver)
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        reason = getattr(cause, "message", None) or str(cause or exc)
        raise DecisionRefusedError(reason) from exc
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise DecisionRefusedError(f"remediation {workflow_id} is not running: {exc.message}") from exc
        raise


async def remediation_status(client: Client, workflow_id: str) -> RemediationStatus:
    """The plan and progress of a remediation (works after it finished, while a worker runs)."""
    handle = client.get_workflow_handle_for(RemediationWorkflow.run, workflow_id)
    return await handle.query(RemediationWorkflow.status)


async def start_policy_execution(
    client: Client,
    organization_id: str,
    policy_id: str,
    requested_by: Approver,
    *,
    dry_run: bool = False,
    approval_ttl_seconds: int = DEFAULT_APPROVAL_TTL_SECONDS,
    temporal_ui_url: str | None = None,
    task_queue: str = REMEDIATION,
) -> RemediationHandleInfo:
    """Run a policy now (seed ``POST /policies/{id}/execute``); ``workflow_id`` is its remediation's id."""
    execution_id = str(uuid.uuid4())
    parent_id = f"policy-{policy_id}-{execution_id}"
    child_id = f"{parent_id}/remediation"
    await client.start_workflow(
        PolicyExecutionWorkflow.run,
        PolicyExecutionInput(
            organization_id=organization_id,
            policy_id=policy_id,
            requested_by=requested_by,
            dry_run=dry_run,
            trigger="manual",
            execution_id=execution_id,
            remediation_workflow_id=child_id,
            approval_ttl_seconds=approval_ttl_seconds,
        ),
        id=parent_id,
        task_queue=task_queue,
    )
    return RemediationHandleInfo(
        execution_id=execution_id,
        workflow_id=child_id,
        status=QUEUED,
        estimated_completion=None,
        temporal_ui_url=_ui_link(client, temporal_ui_url, child_id),
    )


def policy_schedule_id(policy_id: str) -> str:
    """The Temporal Schedule id of a policy."""
    return f"policy-schedule-{policy_id}"


def _spec(trigger: PolicyTrigger) -> ScheduleSpec:
    cron = trigger.config.get("cron")
    if cron is not None:
        return ScheduleSpec(cron_expressions=[str(cron)])
    return ScheduleSpec(
        intervals=[ScheduleIntervalSpec(every=timedelta(seconds=int(trigger.config["interval_seconds"])))]
    )


async def sync_policy_schedule(
    client: Client,
    *,
    organization_id: str,
    policy_id: str,
    trigger: PolicyTrigger,
    enabled: bool,
    owner: Approver,
    task_queue: str = REMEDIATION,
) -> str | None:
    """Make the policy's schedule match its trigger: created/updated for an enabled schedule trigger (runs
    as ``owner``, so the approval rules see who set it up), deleted otherwise. Returns the schedule id or
    None when the policy has no schedule now."""
    schedule_id = policy_schedule_id(policy_id)
    if trigger.type != "schedule" or not enabled:
        await delete_policy_schedule(client, policy_id)
        return None
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            PolicyExecutionWorkflow.run,
            PolicyExecutionInput(
                organization_id=organization_id, policy_id=policy_id, requested_by=owner, trigger="schedule"
            ),
            id=f"policy-{policy_id}-scheduled",
            task_queue=task_queue,
        ),
        spec=_spec(trigger),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(note=f"policy {policy_id} of organisation {organization_id}"),
    )
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
    return schedule_id


async def delete_policy_schedule(client: Client, policy_id: str) -> bool:
    """Delete the policy's schedule; False when it had none."""
    try:
        await client.get_schedule_handle(policy_schedule_id(policy_id)).delete()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
