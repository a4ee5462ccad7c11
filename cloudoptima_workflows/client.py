"""The only module the gateway (and the MCP platform server, via tools) uses to drive workflows.

Typed async functions over a connected ``temporalio.client.Client``:

- :func:`start_remediation` starts the remediation workflow on the ``remediation`` queue and returns at
  once with the ``policy_executions`` id (generated here), the workflow id and a Temporal UI link.
- :func:`decide` approves or rejects through the workflow's ``decide`` Update, naming only the deciding
  user's id and the channel (``rest`` or ``mcp``): the workflow looks the user up in the database before it
  accepts (see ``cloudoptima_workflows.remediation.workflows``). A refusal (unknown, deactivated or
  under-privileged user, the requester, a second decision, nothing pending, workflow finished) raises
  :class:`DecisionRefusedError` with the reason. :func:`remediation_status` reads the ``status`` query.
- :func:`decide_execution` is the one decision path of the REST API and the MCP tools: it finds the
  remediation waiting for a decision in the caller's organisation (``cloudoptima.services.approvals``), then
  calls :func:`decide`. A decision refused before it reaches the workflow (nothing pending, workflow gone) is
  audited here with its channel; the workflow audits every decision it judges.
- :func:`start_policy_execution` runs a policy now (its remediation child has a deterministic id, returned
  as ``workflow_id`` so approvals go straight to it).
- :func:`sync_policy_schedule` creates, updates or deletes the Temporal Schedule of a policy whose trigger
  is ``schedule`` (call it whenever a policy is created, updated, enabled or disabled);
  :func:`delete_policy_schedule` removes it.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy.orm import Session, sessionmaker
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

from cloudoptima.domain.remediation import PendingApproval, PolicyTrigger, RemediationState
from cloudoptima.services.approvals import ApprovalService, DecisionClaim, NotPendingError
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.connection import DATA_CONVERTER, connect
from cloudoptima_workflows.policies.inputs import PolicyExecutionInput
from cloudoptima_workflows.policies.workflows import PolicyExecutionWorkflow
from cloudoptima_workflows.queues import REMEDIATION, REPORTS
from cloudoptima_workflows.remediation.inputs import (
    CHANNEL_REST,
    DEFAULT_APPROVAL_TTL_SECONDS,
    Approver,
    DecisionInput,
    RemediationRequest,
    RemediationStatus,
)
from cloudoptima_workflows.remediation.workflows import RemediationWorkflow
from cloudoptima_workflows.reports.inputs import (
    GENERATE_REPORT_WORKFLOW,
    GenerateReportInput,
    report_workflow_id,
)

__all__ = [
    "DATA_CONVERTER",
    "Approver",
    "DecisionRefusedError",
    "DecisionResult",
    "NotPendingError",
    "RemediationHandleInfo",
    "RemediationRequest",
    "RemediationStatus",
    "connect",
    "decide",
    "decide_execution",
    "delete_policy_schedule",
    "policy_schedule_id",
    "remediation_status",
    "start_policy_execution",
    "start_remediation",
    "start_report_generation",
    "sync_policy_schedule",
]

_UNATTENDED_ESTIMATE = timedelta(minutes=5)


class DecisionRefusedError(RuntimeError):
    """The decision was refused; the message is the reason (safe to show the user). ``judged``: the workflow
    itself judged (and audited) it, rather than the decision never reaching a running workflow."""

    def __init__(self, reason: str, *, judged: bool = False) -> None:
        super().__init__(reason)
        self.judged = judged


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
        request = request.model_copy(update={"execution_id": str(uuid.uuid4())})
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
        status=RemediationState.QUEUED,
        estimated_completion=None
        if request.dry_run
        else _estimate(request.approval_required, request.schedule),
        temporal_ui_url=_ui_link(client, temporal_ui_url, workflow_id),
    )


async def start_report_generation(
    client: Client, report_id: uuid.UUID | str, organization_id: uuid.UUID | str
) -> str:
    """Start generating the recorded report ``report_id`` (``Reports.request`` inserted it, committed) on the
    ``reports`` queue; returns the workflow id without waiting. Temporal errors (``RPCError``, ``OSError``,
    ``RuntimeError``) propagate: the caller marks the report failed."""
    workflow_id = report_workflow_id(str(report_id))
    await client.start_workflow(
        GENERATE_REPORT_WORKFLOW,
        GenerateReportInput(report_id=str(report_id), organization_id=str(organization_id)),
        id=workflow_id,
        task_queue=REPORTS,
    )
    return workflow_id


async def decide(
    client: Client,
    workflow_id: str,
    approve: bool,
    comment: str,
    user_id: str,
    *,
    channel: str = CHANNEL_REST,
) -> RemediationStatus:
    """``user_id`` approves or rejects a pending remediation through ``channel``; :class:`DecisionRefusedError`
    when the workflow refuses (its reason) or is not running."""
    handle = client.get_workflow_handle_for(RemediationWorkflow.run, workflow_id)
    try:
        return await handle.execute_update(
            RemediationWorkflow.decide,
            DecisionInput(approve=approve, comment=comment, user_id=user_id, channel=channel),
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        reason = getattr(cause, "message", None) or str(cause or exc)
        raise DecisionRefusedError(reason, judged=True) from exc
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise DecisionRefusedError(f"remediation {workflow_id} is not running: {exc.message}") from exc
        raise


@dataclass(frozen=True)
class DecisionResult:
    """What a decision did: the remediation's ids and its state afterwards (``pending_approval`` while a
    high-risk plan waits for its second approver)."""

    execution_id: str
    workflow_id: str
    status: RemediationStatus


async def decide_execution(
    client: Client,
    sessions: sessionmaker[Session],
    organization_id: uuid.UUID,
    execution_id: uuid.UUID,
    *,
    approve: bool,
    comment: str,
    user_id: str,
    channel: str,
) -> DecisionResult:
    """``user_id`` decides the pending remediation ``execution_id`` (see module contract).

    Raises :class:`NotPendingError` when nothing of this organisation waits for a decision under that id and
    :class:`DecisionRefusedError` when the workflow refuses; both are audited.
    """

    def pending() -> PendingApproval:
        with tenant_session(sessions, organization_id) as session:
            return ApprovalService(session, organization_id).pending(execution_id)

    def audit_refusal(reason: str, workflow_id: str, risk: str, requested_by: str) -> None:
        claim = DecisionClaim(
            user_id=user_id,
            approve=approve,
            channel=channel,
            execution_id=str(execution_id),
            workflow_id=workflow_id,
            risk_level=risk,
            requested_by=requested_by,
            comment=comment,
        )
        with tenant_session(sessions, organization_id) as session:
            ApprovalService(session, organization_id).audit(claim, accepted=False, reason=reason)

    try:
        found = await asyncio.to_thread(pending)
    except NotPendingError as exc:
        await asyncio.to_thread(audit_refusal, str(exc), "", "", "")
        raise
    assert found.workflow_id is not None
    try:
        status = await decide(client, found.workflow_id, approve, comment, user_id, channel=channel)
    except DecisionRefusedError as exc:
        if exc.judged:
            raise
        await asyncio.to_thread(
            audit_refusal, str(exc), found.workflow_id, found.risk_level or "", found.requested_by or ""
        )
        raise
    return DecisionResult(execution_id=str(execution_id), workflow_id=found.workflow_id, status=status)


STATUS_READY_WITHIN = 30.0
"""Seconds :func:`remediation_status` waits for a workflow whose latest task failed to answer again."""


async def remediation_status(
    client: Client, workflow_id: str, *, ready_within: float = STATUS_READY_WITHIN
) -> RemediationStatus:
    """The plan and progress of a remediation (works after it finished, while a worker runs).

    A workflow whose latest workflow task failed (it timed out on a loaded worker, or its worker stopped)
    cannot answer a query until the server's retry of that task completes (Temporal answers
    ``FAILED_PRECONDITION``, "Workflow Task in failed state"); the query is repeated with a growing pause for
    up to ``ready_within`` seconds, then that error is raised."""
    handle = client.get_workflow_handle_for(RemediationWorkflow.run, workflow_id)
    loop = asyncio.get_running_loop()
    deadline, pause = loop.time() + ready_within, 0.2
    while True:
        try:
            return await handle.query(RemediationWorkflow.status)
        except RPCError as error:
            if error.status != RPCStatusCode.FAILED_PRECONDITION or loop.time() + pause > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)


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
        status=RemediationState.QUEUED,
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
