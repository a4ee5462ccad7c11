"""Following and undoing remediations: ``/v1/executions`` (list, one, rollback).

- ``GET /v1/executions`` pages the organisation's executions (newest first; ``state``, ``recommendation_id``).
- ``GET /v1/executions/{id}`` is everything about one (``cloudoptima.services.executions``): plan, dry-run
  result, who decided (user, role, channel, when), each step's outcome, verifications, automatic rollbacks,
  safety snapshots and the net saving, the timeline of states, rollback links. Progress arrives live on the
  WebSocket ``policy_executions`` channel (``cloudoptima_workflows.remediation.progress``).
- ``POST /v1/executions/{id}/rollback`` undoes a completed execution: it starts an ordinary remediation of
  the undo actions through the same request path as ``POST /v1/recommendations/{id}/apply`` with approval
  required, so it waits for an approver like any change (decided through ``/v1/approvals``). Refused with
  409 and the reason when the execution is not completed, was a dry run, is already (being) rolled back, or
  has steps that cannot be undone (named). The caller needs the apply permission of the undo's risk.

Reading needs ``read:recommendations``; another organisation's execution is 404.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from starlette.concurrency import run_in_threadpool

from cloudoptima.domain.executions import ExecutionDetail
from cloudoptima.domain.rbac import RISK_PERMISSION
from cloudoptima.domain.remediation import RemediationState
from cloudoptima.services.executions import ExecutionService, RollbackPlan, RollbackRefused
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep
from cloudoptima_gateway.remediation_requests import start_actions
from cloudoptima_gateway.schemas.common import not_found
from cloudoptima_gateway.schemas.executions import ExecutionList, RollbackOut

router = APIRouter(route_class=AuditedRoute, tags=["executions"])
Reader = Annotated[Principal, Permission("read:recommendations")]
Applier = Annotated[Principal, Permission(RISK_PERMISSION["low"])]


MAX_OFFSET = 10_000_000
"""The largest ``offset`` a list accepts: 200-row pages up to 50,000 deep; more is a bad request (422), never
an OFFSET the database cannot hold."""


@router.get("/executions", response_model=ExecutionList)
async def list_executions(
    runtime: RuntimeDep,
    principal: Reader,
    state: Annotated[RemediationState | None, Query(description="Only executions in this state.")] = None,
    recommendation_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Executions to skip (bounded).")] = 0,
) -> ExecutionList:
    """The organisation's executions, newest first."""
    org = principal.organization_id

    def load() -> ExecutionList:
        with tenant_session(runtime.sessions(), org) as session:
            items, total = ExecutionService(session, org).list(
                state=state.value if state is not None else None,
                recommendation_id=recommendation_id,
                limit=limit,
                offset=offset,
            )
        return ExecutionList(executions=items, total=total, limit=limit, offset=offset)

    return await run_in_threadpool(load)


@router.get("/executions/{execution_id}", response_model=ExecutionDetail)
async def get_execution(execution_id: uuid.UUID, runtime: RuntimeDep, principal: Reader) -> ExecutionDetail:
    """Everything about one execution (see module docstring)."""
    org = principal.organization_id

    def load() -> ExecutionDetail:
        with tenant_session(runtime.sessions(), org) as session:
            return ExecutionService(session, org).get(execution_id)

    try:
        return await run_in_threadpool(load)
    except LookupError as exc:
        raise not_found("execution", execution_id) from exc


@router.post("/executions/{execution_id}/rollback", response_model=RollbackOut, status_code=202)
async def rollback_execution(
    execution_id: uuid.UUID, request: Request, runtime: RuntimeDep, principal: Applier
) -> RollbackOut:
    """Start the approval-gated rollback of a completed execution (see module docstring)."""
    org = principal.organization_id

    def plan() -> RollbackPlan:
        with tenant_session(runtime.sessions(), org) as session:
            return ExecutionService(session, org).rollback_plan(execution_id)

    try:
        undo = await run_in_threadpool(plan)
    except LookupError as exc:
        raise not_found("execution", execution_id) from exc
    except RollbackRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    needed = RISK_PERMISSION[undo.risk_level.value]
    if not principal.can(needed):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"rolling back needs a {undo.risk_level.value}-risk change, which requires permission "
            f"'{needed}'; role '{principal.role}' does not grant it",
        )
    requester = str(principal.user_id)

    def reserve() -> tuple[RollbackPlan, str]:
        with tenant_session(runtime.sessions(), org) as session:
            return ExecutionService(session, org).reserve_rollback(execution_id, requester)

    def settle(rollback_id: str | None, reservation: str) -> None:
        with tenant_session(runtime.sessions(), org) as session:
            service = ExecutionService(session, org)
            if rollback_id is None:
                service.release_rollback(execution_id, reservation)
            else:
                service.link_rollback(execution_id, rollback_id, requester, reservation=reservation)

    try:
        undo, reservation = await run_in_threadpool(reserve)
    except LookupError as exc:
        raise not_found("execution", execution_id) from exc
    except RollbackRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    try:
        info = await start_actions(
            runtime,
            principal,
            [action.model_dump() for action in undo.actions],
            title=undo.title,
            approval_required=True,
        )
    except BaseException:
        await run_in_threadpool(settle, None, reservation)
        raise
    await run_in_threadpool(settle, info.execution_id, reservation)
    request.state.audit_details = {
        "rollback_of": str(execution_id),
        "execution_id": info.execution_id,
        "risk": undo.risk_level.value,
    }
    return RollbackOut(
        execution_id=info.execution_id,
        workflow_id=info.workflow_id,
        rollback_of=str(execution_id),
        state=info.status,
        approval_required=True,
        risk_level=undo.risk_level.value,
        actions=[action.model_dump() for action in undo.actions],
        temporal_ui_url=info.temporal_ui_url,
    )
