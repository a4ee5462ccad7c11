"""``request_remediation``: start the approval-gated remediation workflow of a recommendation.

Contract:
- Nothing here changes a cloud. With ``confirm=false`` the tool only returns the preview (what would run,
  costs, risks) and asks to be called again with ``confirm=true``. With ``confirm=true`` it starts the
  remediation workflow, always with ``approval_required``: the workflow plans, dry-runs and then waits for
  a human approver with the right role (REST API, MCP client or Temporal UI) before any step executes.
- The caller needs the permission for the recommendation's risk (``apply:<risk>_risk_recommendations``,
  ``cloudoptima.domain.rbac``), like ``POST /recommendations/{id}/apply``.
- Only active (or scheduled) recommendations of the caller's organisation can be requested.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from cloudoptima.domain.rbac import RISK_PERMISSION
from tools.context import RemediationStart, ToolContext
from tools.executions import refuse_if_open
from tools.platform import RecommendationDetail, RecommendationInput, parse_id, recommendation_impact_preview
from tools.spec import ToolInputError, ToolPermissionError, ToolSpec, ToolUnavailableError

_REQUESTABLE = ("active", "scheduled")


class RemediationInput(RecommendationInput):
    dry_run: bool = Field(default=False, description="Plan and dry-run only; never waits to execute.")
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
    if not params.dry_run:
        refuse_if_open(ctx, parse_id(detail.id, "recommendation"))
    if detail.status not in _REQUESTABLE:
        raise ToolInputError(
            f"recommendation {detail.id} is {detail.status}; only active ones can be applied"
        )
    common: dict[str, Any] = {"recommendation_id": detail.id, "dry_run": params.dry_run, "preview": detail}
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
    started = ctx.start_remediation(
        RemediationStart(
            organization_id=ctx.organization_id,
            recommendation_id=parse_id(detail.id, "recommendation"),
            requested_by=ctx.principal,
            requested_by_role=ctx.role,
            title=detail.title,
            risk_level=detail.risk_level,
            dry_run=params.dry_run,
        )
    )
    return RemediationOutput(
        state=started.state,
        execution_id=started.execution_id,
        workflow_id=started.workflow_id,
        temporal_ui_url=started.temporal_ui_url,
        message=(
            "Workflow started. It plans and dry-runs, then waits for an approver; no cloud change happens "
            "before approval."
            if not params.dry_run
            else "Dry-run workflow started: it plans and validates only, and changes nothing."
        ),
        **common,
    )


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
]
