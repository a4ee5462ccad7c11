"""``/v1/policies``: CRUD, execute now (optionally dry run), execution history and trigger firings.

A condition, event, filter or metric that does not exist is refused with 422 naming its field path
(``["body", "conditions", 0, "field"]``) and listing the valid names. A dry run answers with every
resource it would touch and the action per resource (``PolicyService.dry_run``), and is also recorded in
the execution history through the workflow.

A policy whose trigger is ``schedule`` gets a Temporal Schedule (``cloudoptima_workflows.client``), kept in
step on create, update and delete; creating or changing one also needs ``schedule:policies``.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from cloudoptima.domain.remediation import PolicyDefinition
from cloudoptima.services.policies import PolicyDryRun, PolicyService, PolicyValidationError, validate_policy
from cloudoptima.services.policy_catalog import delete_policy, list_policies
from cloudoptima.services.policy_triggers import PolicyTriggerService
from cloudoptima.services.remediation import RemediationService
from cloudoptima.storage.models import Policy
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.live_events import announce
from cloudoptima_gateway.remediation_requests import approver_of, provider_factory
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.common import Success, not_found
from cloudoptima_gateway.schemas.policies import (
    DryRunResourceOut,
    ExecuteIn,
    ExecuteOut,
    ExecutionList,
    ExecutionOut,
    FiringList,
    FiringOut,
    PolicyCreated,
    PolicyIn,
    PolicyList,
    PolicyOut,
)
from cloudoptima_workflows.client import delete_policy_schedule, start_policy_execution, sync_policy_schedule

router = APIRouter(prefix="/policies", tags=["policies"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:dashboard")]
Writer = Annotated[Principal, Permission("write:policies")]


def _out(row: Policy) -> PolicyOut:
    return PolicyOut(
        id=row.id,
        name=row.name,
        description=row.description,
        enabled=row.enabled,
        trigger=dict(row.trigger_config or {}),
        conditions=list(row.conditions or []),
        actions=list(row.actions or []),
        safety_controls=dict(row.safety_controls or {}),
        last_executed=row.last_executed_at,
        execution_count=row.execution_count,
        success_rate=round(row.success_count / row.execution_count, 4) if row.execution_count else None,
    )


def _loc(problem: str) -> list[str | int]:
    """``conditions[0].field: ...`` -> ``["body", "conditions", 0, "field"]``."""
    loc: list[str | int] = ["body"]
    for part in problem.split(":", 1)[0].split("."):
        name, _, index = part.partition("[")
        loc.append(name)
        if index.rstrip("]").isdigit():
            loc.append(int(index.rstrip("]")))
    return loc


def _definition(body: PolicyIn, principal: Principal) -> PolicyDefinition:
    try:
        definition = validate_policy(body.model_dump())
    except PolicyValidationError as exc:
        detail = [{"type": "value_error", "loc": _loc(p), "msg": p, "input": None} for p in exc.problems]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail) from exc
    if definition.trigger.type == "schedule" and not principal.can("schedule:policies"):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"permission 'schedule:policies' is required for a schedule trigger; "
            f"role '{principal.role}' does not grant it",
        )
    return definition


async def _sync_schedule(
    runtime: Runtime, principal: Principal, policy_id: uuid.UUID, definition: PolicyDefinition
) -> str | None:
    return await sync_policy_schedule(
        await runtime.temporal(),
        organization_id=str(principal.organization_id),
        policy_id=str(policy_id),
        trigger=definition.trigger,
        enabled=definition.enabled,
        owner=approver_of(principal),
    )


async def _announce(
    runtime: Runtime, org: uuid.UUID, policy_id: uuid.UUID, change: str, enabled: bool | None
) -> None:
    """Tell the organisation's browsers on the ``policies`` channel, once the change is committed
    (``{"policy_id", "change", "enabled"?}``; enabling or disabling is an update)."""
    data: dict[str, object] = {"policy_id": str(policy_id), "change": change}
    if enabled is not None:
        data["enabled"] = enabled
    await announce(runtime, org, "policies", data, now=datetime.now(UTC))


@router.get("", response_model=PolicyList)
def list_all(principal: Reader, session: TenantDb) -> PolicyList:
    return PolicyList(policies=[_out(r) for r in list_policies(session, principal.organization_id)])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PolicyCreated)
async def create_policy(
    body: PolicyIn, request: Request, runtime: RuntimeDep, principal: Writer
) -> PolicyCreated:
    definition = _definition(body, principal)
    org = principal.organization_id

    def store() -> uuid.UUID:
        with tenant_session(runtime.sessions(), org) as session:
            return PolicyService(session, org).create(definition).id

    policy_id = await run_in_threadpool(store)
    request.state.audit_resource_id = str(policy_id)
    await _announce(runtime, org, policy_id, "created", definition.enabled)
    schedule_id = None
    if definition.trigger.type == "schedule":
        schedule_id = await _sync_schedule(runtime, principal, policy_id, definition)
    return PolicyCreated(policy_id=policy_id, schedule_id=schedule_id)


@router.get("/{policy_id}", response_model=PolicyOut)
def get_policy(policy_id: uuid.UUID, principal: Reader, session: TenantDb) -> PolicyOut:
    try:
        return _out(PolicyService(session, principal.organization_id).get(policy_id))
    except LookupError as exc:
        raise not_found("policy", policy_id) from exc


@router.put("/{policy_id}", response_model=Success)
async def replace_policy(
    policy_id: uuid.UUID, body: PolicyIn, runtime: RuntimeDep, principal: Writer
) -> Success:
    definition = _definition(body, principal)
    org = principal.organization_id

    def store() -> None:
        with tenant_session(runtime.sessions(), org) as session:
            PolicyService(session, org).update(policy_id, definition)

    try:
        await run_in_threadpool(store)
    except LookupError as exc:
        raise not_found("policy", policy_id) from exc
    await _announce(runtime, org, policy_id, "updated", definition.enabled)
    await _sync_schedule(runtime, principal, policy_id, definition)
    return Success()


@router.delete("/{policy_id}", response_model=Success)
async def remove_policy(policy_id: uuid.UUID, runtime: RuntimeDep, principal: Writer) -> Success:
    org = principal.organization_id

    def remove() -> bool:
        with tenant_session(runtime.sessions(), org) as session:
            scheduled = PolicyService(session, org).get(policy_id).trigger_config.get("type") == "schedule"
            delete_policy(session, org, policy_id)
            return scheduled

    try:
        scheduled = await run_in_threadpool(remove)
    except LookupError as exc:
        raise not_found("policy", policy_id) from exc
    await _announce(runtime, org, policy_id, "deleted", None)
    if scheduled:
        await delete_policy_schedule(await runtime.temporal(), str(policy_id))
    return Success()


@router.post("/{policy_id}/execute", status_code=status.HTTP_202_ACCEPTED, response_model=ExecuteOut)
async def execute_policy(
    policy_id: uuid.UUID, body: ExecuteIn, request: Request, runtime: RuntimeDep, principal: Writer
) -> ExecuteOut:
    """Run the policy now through the remediation workflow (``dry_run`` stops after the checked plan)."""
    org = principal.organization_id

    def check() -> PolicyDryRun | None:
        with tenant_session(runtime.sessions(), org) as session:
            service = PolicyService(session, org)
            service.get(policy_id)
            if not body.dry_run:
                return None
            remediation = RemediationService(session, org, provider_factory(runtime, session))
            dry = service.dry_run(policy_id, remediation, requested_by_role=principal.role)
            session.rollback()  # a dry run changes nothing
            return dry

    try:
        dry = await run_in_threadpool(check)
    except LookupError as exc:
        raise not_found("policy", policy_id) from exc
    info = await start_policy_execution(
        await runtime.temporal(),
        str(org),
        str(policy_id),
        approver_of(principal),
        dry_run=body.dry_run,
        temporal_ui_url=runtime.settings.resolved_temporal_ui_url(),
    )
    request.state.audit_details = {"execution_id": info.execution_id, "dry_run": body.dry_run}
    out = ExecuteOut(execution_id=info.execution_id, workflow_id=info.workflow_id, status=info.status)
    if dry is not None:
        out.matched_resource_ids = list(dry.matched_resource_ids)
        out.resources = [DryRunResourceOut.model_validate(asdict(r)) for r in dry.resources]
        out.plan_problems = list(dry.plan.problems)
    return out


@router.get("/{policy_id}/executions", response_model=ExecutionList)
def policy_executions(
    policy_id: uuid.UUID, principal: Reader, runtime: RuntimeDep, session: TenantDb
) -> ExecutionList:
    org = principal.organization_id
    try:
        PolicyService(session, org).get(policy_id)
    except LookupError as exc:
        raise not_found("policy", policy_id) from exc
    records = RemediationService(session, org, provider_factory(runtime, session)).executions(
        policy_id=policy_id
    )
    return ExecutionList(executions=[ExecutionOut.model_validate(r.model_dump()) for r in records])


@router.get("/{policy_id}/firings", response_model=FiringList)
def policy_firings(policy_id: uuid.UUID, principal: Reader, session: TenantDb) -> FiringList:
    """What fired the policy's event or threshold trigger, newest first (the last 100 firings)."""
    org = principal.organization_id
    try:
        PolicyService(session, org).get(policy_id)
    except LookupError as exc:
        raise not_found("policy", policy_id) from exc
    rows = PolicyTriggerService(session, org).firings(policy_id)
    return FiringList(
        firings=[
            FiringOut(
                id=row.id,
                trigger=row.trigger_type,
                event=row.event,
                event_id=row.event_id,
                metric=row.metric,
                observed=row.observed,
                threshold=row.threshold,
                window_start=row.window_start,
                window_end=row.window_end,
                resource_ids=list(row.resource_ids or []),
                details=dict(row.details or {}),
                execution_id=row.execution_id,
                workflow_id=row.workflow_id,
                fired_at=row.fired_at,
            )
            for row in rows
        ]
    )
