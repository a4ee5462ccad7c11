"""``get_execution`` and ``rollback_remediation``: follow a remediation, and undo a completed one.

Contract:
- ``get_execution`` returns what ``GET /v1/executions/{id}`` returns (``cloudoptima.services.executions``):
  plan, dry-run result, decision (user, role, channel, when), steps, verifications, automatic rollbacks,
  safety snapshots and the net saving, timeline, rollback links (the plan without its steps, which the
  dry-run result lists, and the last 30 log lines). Read-only; needs ``read:recommendations``.
- ``rollback_remediation`` changes nothing by itself. With ``confirm=false`` it returns the undo actions and
  their risk; with ``confirm=true`` it starts an ordinary remediation of those actions with approval
  required (``ToolContext.start_rollback``), which waits for a human approver before any step runs.
  Refused (input error naming why) for an execution that is not completed, was a dry run, is already (being)
  rolled back, or has steps that cannot be undone (each named). The caller needs the apply permission of
  the undo's risk.
- :func:`refuse_if_open` is the one-open-execution-per-recommendation check ``request_remediation`` runs.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from cloudoptima.domain.executions import ExecutionDetail
from cloudoptima.domain.rbac import RISK_PERMISSION
from cloudoptima.services.executions import ExecutionService, RollbackRefused
from cloudoptima_tools.context import RollbackStart, ToolContext
from cloudoptima_tools.platform import parse_id
from cloudoptima_tools.spec import (
    ToolInput,
    ToolInputError,
    ToolNotFoundError,
    ToolPermissionError,
    ToolSpec,
    ToolUnavailableError,
)

_LOG_LINES = 30


class ExecutionInput(ToolInput):
    execution_id: str = Field(description="The execution id (returned by request_remediation).")


class RollbackInput(ExecutionInput):
    confirm: bool = Field(
        default=False,
        description="false: show what the rollback would run. true: start the approval-gated rollback.",
    )


class RollbackOutput(BaseModel):
    state: Literal["awaiting_confirmation"] | str = Field(
        description="awaiting_confirmation (preview only) or the rollback workflow's state (queued, …)."
    )
    rollback_of: str
    execution_id: str | None = Field(default=None, description="The rollback execution, once started.")
    workflow_id: str | None = None
    temporal_ui_url: str | None = None
    risk_level: str
    approval_required: bool = True
    actions: list[dict[str, Any]]
    message: str


def refuse_if_open(ctx: ToolContext, recommendation_id: uuid.UUID) -> None:
    """``ToolInputError`` naming the open execution when the recommendation has one."""
    with ctx.read_session() as session:
        row = ExecutionService(session, ctx.organization_id).open_execution_of(recommendation_id)
        if row is not None:
            raise ToolInputError(
                f"recommendation {recommendation_id} already has an open execution {row.id} ({row.status}); "
                "follow it with get_execution"
            )


def get_execution(ctx: ToolContext, params: ExecutionInput) -> ExecutionDetail:
    """See module contract."""
    execution_id = parse_id(params.execution_id, "execution")
    with ctx.read_session() as session:
        try:
            detail = ExecutionService(session, ctx.organization_id).get(execution_id)
        except LookupError as exc:
            raise ToolNotFoundError(str(exc)) from exc
    # the plan's steps are in dry_run_result; the full log is on the REST endpoint
    plan = {k: v for k, v in detail.plan.items() if k != "steps"}
    return detail.model_copy(update={"plan": plan, "logs": detail.logs[-_LOG_LINES:]})


def rollback_remediation(ctx: ToolContext, params: RollbackInput) -> RollbackOutput:
    """See module contract."""
    execution_id = parse_id(params.execution_id, "execution")
    with ctx.read_session() as session:
        try:
            undo = ExecutionService(session, ctx.organization_id).rollback_plan(execution_id)
        except LookupError as exc:
            raise ToolNotFoundError(str(exc)) from exc
        except RollbackRefused as exc:
            raise ToolInputError(str(exc)) from exc
    needed = RISK_PERMISSION[undo.risk_level.value]
    if not ctx.can(needed):
        raise ToolPermissionError(
            f"role {ctx.role!r} cannot request a {undo.risk_level.value}-risk rollback (needs {needed!r})"
        )
    actions = [a.model_dump() for a in undo.actions]
    common: dict[str, Any] = {
        "rollback_of": str(execution_id),
        "risk_level": undo.risk_level.value,
        "actions": actions,
    }
    if not params.confirm:
        return RollbackOutput(
            state="awaiting_confirmation",
            message="Nothing was started. Review the undo actions, then call rollback_remediation again "
            "with confirm=true to start the approval-gated rollback.",
            **common,
        )
    if ctx.start_rollback is None:
        raise ToolUnavailableError("rollback needs Temporal: this server has no Temporal connection")
    with ctx.session() as session:
        try:
            undo, reservation = ExecutionService(session, ctx.organization_id).reserve_rollback(
                execution_id, ctx.principal
            )
        except LookupError as exc:
            raise ToolNotFoundError(str(exc)) from exc
        except RollbackRefused as exc:
            raise ToolInputError(str(exc)) from exc
    try:
        started = ctx.start_rollback(
            RollbackStart(
                organization_id=ctx.organization_id,
                rollback_of=execution_id,
                actions=[a.model_dump() for a in undo.actions],
                title=undo.title,
                requested_by=ctx.principal,
                requested_by_role=ctx.role,
            )
        )
    except BaseException:
        with ctx.session() as session:
            ExecutionService(session, ctx.organization_id).release_rollback(execution_id, reservation)
        raise
    with ctx.session() as session:
        ExecutionService(session, ctx.organization_id).link_rollback(
            execution_id, started.execution_id, ctx.principal, reservation=reservation
        )
    return RollbackOutput(
        state=started.state,
        execution_id=started.execution_id,
        workflow_id=started.workflow_id,
        temporal_ui_url=started.temporal_ui_url,
        message="Rollback started. It plans and dry-runs the undo, then waits for an approver; nothing "
        "changes before approval.",
        **common,
    )


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="get_execution",
        domain="platform",
        title="Follow a remediation",
        description=(
            "Everything about one remediation execution: its plan and dry-run result, who approved or "
            "rejected it (user, role, channel, when), each step's outcome, verifications, automatic "
            "rollbacks, safety snapshots with their monthly cost and the net saving, the timeline of states "
            "and whether it can be rolled back (or why not).\n"
            'Example: {"execution_id": "5f0c…"}'
        ),
        input_model=ExecutionInput,
        output_model=ExecutionDetail,
        handler=get_execution,
        permission="read:recommendations",
        max_output_tokens=10_000,
    ),
    ToolSpec(
        name="rollback_remediation",
        domain="platform",
        title="Roll back a remediation",
        description=(
            "Undo a completed remediation: call with confirm=false to see the undo actions and their risk; "
            "confirm=true starts an approval-gated remediation of them, which waits for a human approver "
            "before changing anything. Refused, with the reason, for executions that did not complete or "
            "whose steps cannot be undone (e.g. a released IP address).\n"
            'Example: {"execution_id": "5f0c…", "confirm": true}'
        ),
        input_model=RollbackInput,
        output_model=RollbackOutput,
        handler=rollback_remediation,
        permission=RISK_PERMISSION["low"],
        read_only=False,
        destructive=True,
        idempotent=False,
        open_world=True,
        max_output_tokens=6_000,
    ),
]
