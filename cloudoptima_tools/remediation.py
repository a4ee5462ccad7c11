"""Remediation tools: ``request_remediation`` starts the approval-gated workflow of a recommendation;
``approve_remediation`` / ``reject_remediation`` decide a pending one as the caller's user.

Contract:
- ``request_remediation`` changes no cloud itself. With ``confirm=false`` it only returns the preview (what
  would run, costs, risks) and asks to be called again with ``confirm=true``. With ``confirm=true`` it starts
  the remediation workflow with ``approval_required`` true unless the caller sets it false (the same rule as
  ``POST /recommendations/{id}/apply``: even then only a low-risk, reversible plan of an organisation with
  ``auto_approve_low_risk`` runs without a person's approval). The caller needs the permission for the
  recommendation's risk (``apply:<risk>_risk_recommendations``, ``cloudoptima.domain.rbac``). Only active
  (or scheduled) recommendations of the caller's organisation can be requested.
- ``approve_remediation`` / ``reject_remediation`` act as the user the API key (or token) belongs to. They
  check first, against the database (``cloudoptima.services.approvals``), that a remediation of this
  organisation waits for a decision under ``execution_id`` and that this user may take it (active, role
  grants the plan's risk permission, not the requester unless ``allow_self_approval``); a refusal is
  audited (channel ``mcp``) and returned as an error. With ``confirm=false`` they return the pending plan
  and ask for ``confirm=true``; with ``confirm=true`` the decision goes through the one decision path the
  REST API uses (the workflow verifies again at decision time, applies two-approver rules and audits).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cloudoptima.domain.rbac import RISK_PERMISSION
from cloudoptima.domain.remediation import PendingApproval
from cloudoptima.services.approvals import ApprovalService, DecisionClaim, NotPendingError
from cloudoptima_tools.context import RemediationDecision, RemediationStart, ToolContext
from cloudoptima_tools.executions import refuse_if_open
from cloudoptima_tools.platform import (
    RecommendationDetail,
    RecommendationInput,
    parse_id,
    recommendation_impact_preview,
)
from cloudoptima_tools.spec import (
    ToolError,
    ToolInput,
    ToolInputError,
    ToolNotFoundError,
    ToolPermissionError,
    ToolSpec,
    ToolUnavailableError,
)

_REQUESTABLE = ("active", "accepted", "scheduled")


class RemediationInput(RecommendationInput):
    dry_run: bool = Field(default=False, description="Plan and dry-run only; never waits to execute.")
    approval_required: bool = Field(
        default=True,
        description="Wait for a person's approval (default). false only skips it for a low-risk, reversible "
        "plan when the organisation allows automatic approval; anything else still waits.",
    )
    confirm: bool = Field(
        default=False,
        description="false: preview only. true: start the approval-gated workflow (nothing runs before approval).",
    )


class RemediationOutput(BaseModel):
    state: Literal["awaiting_confirmation", "not_confirmed"] | str = Field(
        description="awaiting_confirmation (preview only) or the workflow state (queued, pending_approval, …)."
    )
    recommendation_id: str
    execution_id: str | None = None
    workflow_id: str | None = None
    temporal_ui_url: str | None = None
    approval_required: bool = True
    dry_run: bool = False
    message: str
    preview: RecommendationDetail


def request_remediation(ctx: ToolContext, params: RemediationInput) -> RemediationOutput:
    """See module contract."""
    detail = recommendation_impact_preview(
        ctx, RecommendationInput(recommendation_id=params.recommendation_id)
    )
    permission = RISK_PERMISSION.get(detail.risk_level, RISK_PERMISSION["high"])
    if not ctx.can(permission):
        raise ToolPermissionError(
            f"role {ctx.role!r} cannot request a {detail.risk_level}-risk remediation (needs {permission!r})"
        )
    if detail.status not in _REQUESTABLE:
        raise ToolInputError(
            f"recommendation {detail.id} is {detail.status}; only open (active) or accepted ones can be applied"
        )
    common: dict[str, Any] = {
        "recommendation_id": detail.id,
        "dry_run": params.dry_run,
        "preview": detail,
        "approval_required": params.approval_required,
    }
    if not params.confirm:
        return RemediationOutput(
            state="awaiting_confirmation",
            message=(
                "Nothing was started. Review the preview, then call request_remediation again with "
                "confirm=true to start the approval-gated workflow."
            ),
            **common,
        )
    if ctx.start_remediation is None:
        raise ToolUnavailableError("remediation needs Temporal: this server has no Temporal connection")
    if not params.dry_run:
        refuse_if_open(ctx, parse_id(detail.id, "recommendation"))
    started = ctx.start_remediation(
        RemediationStart(
            organization_id=ctx.organization_id,
            recommendation_id=parse_id(detail.id, "recommendation"),
            requested_by=ctx.principal,
            requested_by_role=ctx.role,
            title=detail.title,
            risk_level=detail.risk_level,
            dry_run=params.dry_run,
            approval_required=params.approval_required,
        )
    )
    return RemediationOutput(
        state=started.state,
        execution_id=started.execution_id,
        workflow_id=started.workflow_id,
        temporal_ui_url=started.temporal_ui_url,
        message=(
            "Dry-run workflow started: it plans and validates only, and changes nothing."
            if params.dry_run
            else "Workflow started. It plans and dry-runs, then waits for an approver; no cloud change happens "
            "before approval."
            if params.approval_required
            else "Workflow started. It plans and dry-runs; only if the plan is low-risk and reversible and the "
            "organisation allows automatic approval does it run without waiting for an approver."
        ),
        **common,
    )


class DecisionToolInput(ToolInput):
    execution_id: str = Field(
        description="The pending remediation's execution id (from request_remediation)."
    )
    comment: str = Field(default="", max_length=2000, description="Why (kept in the audit log).")
    confirm: bool = Field(
        default=False, description="false: show the pending plan only. true: take the decision as your user."
    )


class PendingSummary(BaseModel):
    execution_id: str
    workflow_id: str | None
    title: str
    risk_level: str | None
    approver_roles: list[str]
    requested_by: str | None
    requested_at: datetime
    expires_at: datetime | None
    monthly_savings: str | None = Field(description="USD per month the plan saves (decimal string).")
    risks: list[str]


class DecisionToolOutput(BaseModel):
    state: str = Field(
        description="awaiting_confirmation (nothing decided yet), or the remediation's state after the "
        "decision: approved/executing/…, rejected, or pending_approval while another approver is needed."
    )
    execution_id: str
    workflow_id: str | None
    approve: bool
    approvals: int = 0
    approvals_needed: int = 1
    message: str
    pending: PendingSummary


def _summary(found: PendingApproval) -> PendingSummary:
    impact = found.impact
    savings = impact.get("savings")
    return PendingSummary(
        execution_id=found.execution_id,
        workflow_id=found.workflow_id,
        title=found.title,
        risk_level=found.risk_level,
        approver_roles=found.approver_roles,
        requested_by=found.requested_by,
        requested_at=found.requested_at,
        expires_at=found.expires_at,
        monthly_savings=None if savings is None else str(savings),
        risks=[str(r)[:300] for r in impact.get("risks", [])][:20],
    )


def _check(
    ctx: ToolContext, execution_id: uuid.UUID, user_id: str, approve: bool, comment: str
) -> PendingApproval:
    """The pending remediation this user may decide; a refusal is audited (channel ``mcp``) and raised."""
    refusal: ToolError | None = None
    found: PendingApproval | None = None
    with ctx.session() as session:
        approvals = ApprovalService(session, ctx.organization_id, now=ctx.now)
        claim = DecisionClaim(
            user_id=user_id,
            approve=approve,
            channel="mcp",
            execution_id=str(execution_id),
            workflow_id="",
            risk_level="",
            requested_by="",
            comment=comment,
        )
        try:
            found = approvals.pending(execution_id)
        except NotPendingError as exc:
            refusal = ToolNotFoundError(str(exc))
        else:
            claim = dataclasses.replace(
                claim,
                workflow_id=found.workflow_id or "",
                risk_level=found.risk_level or "high",
                requested_by=found.requested_by or "",
            )
            verdict = approvals.verify(claim)
            if not verdict.accepted:
                refusal = ToolPermissionError(verdict.reason)
        if refusal is not None:
            approvals.audit(claim, accepted=False, reason=str(refusal))
    if refusal is not None:
        raise refusal
    assert found is not None
    return found


def _decide(ctx: ToolContext, params: DecisionToolInput, approve: bool) -> DecisionToolOutput:
    execution_id = parse_id(params.execution_id, "execution")
    user_id = ctx.principal.removeprefix("user:")
    found = _check(ctx, execution_id, user_id, approve, params.comment)
    verb = "approve" if approve else "reject"
    if not params.confirm:
        return DecisionToolOutput(
            state="awaiting_confirmation",
            execution_id=found.execution_id,
            workflow_id=found.workflow_id,
            approve=approve,
            message=f"Nothing was decided. Review the pending plan, then call {verb}_remediation again with "
            "confirm=true.",
            pending=_summary(found),
        )
    if ctx.decide_remediation is None:
        raise ToolUnavailableError("deciding needs Temporal: this server has no Temporal connection")
    decided = ctx.decide_remediation(
        RemediationDecision(
            organization_id=ctx.organization_id,
            execution_id=execution_id,
            approve=approve,
            comment=params.comment,
            user_id=user_id,
        )
    )
    if not approve:
        message = "Rejected: the remediation ends and changes nothing."
    elif decided.approvals < decided.approvals_needed:
        message = (
            f"Approval {decided.approvals} of {decided.approvals_needed} recorded; the remediation waits for "
            "another, distinct approver."
        )
    else:
        message = "Approved: the remediation runs its steps (or waits for its schedule) and verifies them."
    return DecisionToolOutput(
        state=decided.state,
        execution_id=decided.execution_id,
        workflow_id=decided.workflow_id,
        approve=approve,
        approvals=decided.approvals,
        approvals_needed=decided.approvals_needed,
        message=message,
        pending=_summary(found),
    )


def approve_remediation(ctx: ToolContext, params: DecisionToolInput) -> DecisionToolOutput:
    """See module contract."""
    return _decide(ctx, params, True)


def reject_remediation(ctx: ToolContext, params: DecisionToolInput) -> DecisionToolOutput:
    """See module contract."""
    return _decide(ctx, params, False)


CONFIRMATION_PROMPTS: dict[str, str] = {
    "approve_remediation": (
        "Approve the pending remediation ({target}) as your user? Once every required approval is in, it "
        "changes your cloud."
    ),
    "reject_remediation": "Reject the pending remediation ({target}) as your user? It ends and changes nothing.",
}
"""What the user is asked (elicitation) before a decision tool runs; ``{target}`` lists the arguments."""


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="request_remediation",
        domain="platform",
        title="Request a remediation",
        description=(
            "Start the approval-gated remediation workflow of a recommendation and return its execution id, "
            "workflow state and Temporal UI link. Call first with confirm=false to see the preview (monthly "
            "USD before/after, steps, risks); confirm=true starts the workflow, which waits for a human "
            "approval before changing anything.\n"
            'Example: {"recommendation_id": "9a1b…", "confirm": true}'
        ),
        input_model=RemediationInput,
        output_model=RemediationOutput,
        handler=request_remediation,
        permission=RISK_PERMISSION["low"],
        read_only=False,
        destructive=True,
        idempotent=False,
        open_world=True,
        max_output_tokens=10_000,
    ),
    ToolSpec(
        name="approve_remediation",
        domain="platform",
        title="Approve a remediation",
        description=(
            "Approve a remediation waiting for approval, as your own user (the API key's user). Refused for "
            "the requester (unless the organisation allows self-approval), for a role without the plan's risk "
            "permission and for inactive users; a high-risk plan may need two distinct approvers. Call first "
            "with confirm=false to see the pending plan; confirm=true decides. Every attempt is audited.\n"
            'Example: {"execution_id": "5c2e…", "comment": "idle for 30 days", "confirm": true}'
        ),
        input_model=DecisionToolInput,
        output_model=DecisionToolOutput,
        handler=approve_remediation,
        permission=RISK_PERMISSION["low"],
        read_only=False,
        destructive=True,
        idempotent=False,
        open_world=True,
        max_output_tokens=4_000,
    ),
    ToolSpec(
        name="reject_remediation",
        domain="platform",
        title="Reject a remediation",
        description=(
            "Reject a remediation waiting for approval, as your own user; it ends and changes nothing. Needs "
            "the plan's risk permission. Call first with confirm=false to see the pending plan; confirm=true "
            "decides. Every attempt is audited.\n"
            'Example: {"execution_id": "5c2e…", "comment": "needed for the quarter close", "confirm": true}'
        ),
        input_model=DecisionToolInput,
        output_model=DecisionToolOutput,
        handler=reject_remediation,
        permission=RISK_PERMISSION["low"],
        read_only=False,
        destructive=True,
        idempotent=False,
        open_world=True,
        max_output_tokens=4_000,
    ),
]
