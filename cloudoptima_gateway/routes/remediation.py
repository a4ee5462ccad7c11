"""Acting on findings: ``POST /v1/recommendations/{id}/apply`` and ``/v1/approvals`` (pending decisions).

Both go through the remediation workflow (``cloudoptima_workflows.client``): apply starts it (dry run first,
then a person's approval: ``approval_required`` defaults to true, and the plan waives it only for a low-risk,
reversible plan of an organisation with ``auto_approve_low_risk`` on, when the caller sends
``approval_required: false``; never for a high-risk or irreversible one), and a decision goes through
``cloudoptima_workflows.client.decide_execution`` (channel ``rest``), the path the MCP tools share: the
workflow verifies the caller against the database, applies separation of duties and audits the decision.
Risk-based RBAC (seed §6.2): applying or approving a recommendation of risk R needs
``apply:R_risk_recommendations``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from cloudoptima.domain.organisation_settings import OrganisationSettings
from cloudoptima.domain.rbac import RISK_PERMISSION
from cloudoptima.domain.remediation import PendingApproval
from cloudoptima.security.approval_codes import approval_code
from cloudoptima.services.approvals import ApprovalService
from cloudoptima.services.price_catalog import price_catalog_for
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.remediation import RemediationService
from cloudoptima.storage.models import Organization
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep
from cloudoptima_gateway.live_events import announce
from cloudoptima_gateway.open_executions import refuse_if_open
from cloudoptima_gateway.remediation_requests import provider_factory, start_recommendation
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.approvals import ApprovalList, DecisionIn, DecisionOut, PendingApprovalOut
from cloudoptima_gateway.schemas.common import invalid, not_found
from cloudoptima_gateway.schemas.recommendations import ApplyIn, ApplyOut
from cloudoptima_workflows.client import DecisionRefusedError, NotPendingError, decide_execution
from cloudoptima_workflows.remediation.inputs import CHANNEL_REST

router = APIRouter(route_class=AuditedRoute)
LOWEST_APPLY = "apply:low_risk_recommendations"
Applier = Annotated[Principal, Permission(LOWEST_APPLY)]
APPLICABLE = ("active", "accepted", "scheduled")


def _risk_forbidden(principal: Principal, risk: str, verb: str) -> HTTPException | None:
    needed = RISK_PERMISSION.get(risk, RISK_PERMISSION["high"])
    if principal.can(needed):
        return None
    return HTTPException(
        status.HTTP_403_FORBIDDEN,
        detail=f"{verb} a {risk}-risk remediation requires permission '{needed}'; "
        f"role '{principal.role}' does not grant it",
    )


@router.post("/recommendations/{recommendation_id}/apply", tags=["recommendations"], response_model=ApplyOut)
async def apply_recommendation(
    recommendation_id: uuid.UUID, body: ApplyIn, request: Request, runtime: RuntimeDep, principal: Applier
) -> ApplyOut:
    """Start the remediation of a recommendation; returns its execution id at once."""
    org = principal.organization_id
    if body.schedule is not None and body.schedule.astimezone(UTC) <= datetime.now(UTC):
        raise invalid("schedule", "schedule must be in the future", location="body")

    def load() -> tuple[str, str, str, bool]:
        with tenant_session(runtime.sessions(), org) as session:
            row = RecommendationService(session, org, price_catalog_for(session, org)).get(recommendation_id)
            organisation = session.get(Organization, org)
            settings = OrganisationSettings.of(organisation.settings if organisation else None)
            return row.risk_level, row.status, row.title, settings.auto_approve_low_risk

    try:
        risk, current, title, auto_low = await run_in_threadpool(load)
    except LookupError as exc:
        raise not_found("recommendation", recommendation_id) from exc
    refused = _risk_forbidden(principal, risk, "applying")
    if refused is not None:
        raise refused
    if not body.dry_run:
        await refuse_if_open(runtime, org, recommendation_id)
    if current not in APPLICABLE:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"recommendation is {current}, not applicable")
    # the plan decides for good: only a low-risk reversible plan with auto_approve_low_risk skips the wait
    approval = body.approval_required or not (auto_low and risk == "low")
    info = await start_recommendation(
        runtime,
        principal,
        str(recommendation_id),
        risk_level=risk,
        title=title,
        approval_required=body.approval_required,
        dry_run=body.dry_run,
        schedule=body.schedule,
    )
    request.state.audit_details = {"execution_id": info.execution_id, "dry_run": body.dry_run, "risk": risk}
    requested = {
        "recommendation_id": str(recommendation_id),
        "change": "apply_requested",
        "execution_id": str(info.execution_id),
        "dry_run": body.dry_run,
    }
    await announce(runtime, org, "recommendations", requested, now=datetime.now(UTC))
    return ApplyOut(
        execution_id=info.execution_id,
        status="queued",
        estimated_completion=info.estimated_completion,
        dry_run=body.dry_run,
        approval_required=approval,
    )


def _pending(runtime: Runtime, org: uuid.UUID) -> list[PendingApproval]:
    with tenant_session(runtime.sessions(), org) as session:
        return RemediationService(session, org, provider_factory(runtime, session)).pending_approvals(
            limit=500
        )


def _self_approval(runtime: Runtime, org: uuid.UUID) -> bool:
    with tenant_session(runtime.sessions(), org) as session:
        return ApprovalService(session, org).settings().allow_self_approval


@router.get("/approvals", tags=["approvals"], response_model=ApprovalList)
async def list_approvals(runtime: RuntimeDep, principal: Applier) -> ApprovalList:
    """Remediations waiting for a decision that the caller's role may take, with plan and impact (the
    caller's own requests only when the organisation allows self-approval)."""
    pending = await run_in_threadpool(_pending, runtime, principal.organization_id)
    own_too = await run_in_threadpool(_self_approval, runtime, principal.organization_id)
    mine = [
        p
        for p in pending
        if principal.role in p.approver_roles and (own_too or p.requested_by != str(principal.user_id))
    ]
    keys = runtime.settings.resolved_encryption_keys
    user = str(principal.user_id)
    org = str(principal.organization_id)
    return ApprovalList(
        approvals=[
            PendingApprovalOut.model_validate(
                {
                    **p.model_dump(),
                    "temporal_ui_approval_code": approval_code(keys, org, p.execution_id, user),
                }
            )
            for p in mine
        ],
        total=len(mine),
    )


@router.post("/approvals/{execution_id}/decision", tags=["approvals"], response_model=DecisionOut)
async def decide_approval(
    execution_id: uuid.UUID, body: DecisionIn, request: Request, runtime: RuntimeDep, principal: Applier
) -> DecisionOut:
    """Approve or reject a pending remediation (the workflow refuses a second or an unauthorised decision)."""
    pending = await run_in_threadpool(_pending, runtime, principal.organization_id)
    found = next((p for p in pending if p.execution_id == str(execution_id)), None)
    if found is not None:
        refused = _risk_forbidden(principal, found.risk_level or "high", "deciding")
        if refused is not None:
            raise refused
    request.state.audit_details = {"approve": body.approve, "comment": body.comment[:200], "channel": "rest"}
    try:
        result = await decide_execution(
            await runtime.temporal(),
            runtime.sessions(),
            principal.organization_id,
            execution_id,
            approve=body.approve,
            comment=body.comment,
            user_id=str(principal.user_id),
            channel=CHANNEL_REST,
        )
    except NotPendingError as exc:
        raise not_found("pending approval", execution_id) from exc
    except DecisionRefusedError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return DecisionOut(
        execution_id=str(execution_id),
        workflow_id=result.workflow_id,
        state=result.status.state,
        approved=body.approve,
        approvals=len(result.status.approvals),
        approvals_needed=result.status.approvals_needed,
    )
