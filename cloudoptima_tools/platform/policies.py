"""``policies_list``: automation policies with trigger, conditions, actions, risk level and counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.services.policies import PolicyService, PolicyValidationError
from cloudoptima.storage.models import Policy
from cloudoptima.storage.tenancy import TenantRepository
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import (
    PagedOutput,
    PageInput,
    ToolSpec,
    decode_cursor,
    page_of,
)


class _Policies(TenantRepository[Policy]):
    model = Policy


class PoliciesInput(PageInput):
    enabled: bool | None = Field(
        default=None, description="Only enabled (true) or disabled (false) policies."
    )


class PolicyRow(BaseModel):
    id: str
    name: str
    description: str | None
    enabled: bool
    trigger: dict[str, Any]
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    risk_level: str | None = Field(
        description="Highest risk of the policy's actions (and its declared floor)."
    )
    execution_count: int
    success_count: int
    last_executed_at: datetime | None
    problem: str | None = Field(default=None, description="Why the stored definition no longer validates.")


class PoliciesOutput(PagedOutput):
    items: list[PolicyRow]


def _policy_row(row: Policy) -> PolicyRow:
    risk, problem = None, None
    try:
        risk = PolicyService.definition_of(row).risk.value
    except (PolicyValidationError, ValueError) as exc:
        problem = str(exc)
    return PolicyRow(
        id=str(row.id),
        name=row.name,
        description=row.description,
        enabled=row.enabled,
        trigger=dict(row.trigger_config or {}),
        conditions=list(row.conditions or [])[:20],
        actions=list(row.actions or [])[:20],
        risk_level=risk,
        execution_count=row.execution_count or 0,
        success_count=row.success_count or 0,
        last_executed_at=row.last_executed_at,
        problem=problem,
    )


def policies_list(ctx: ToolContext, params: PoliciesInput) -> PoliciesOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        repo = _Policies(session, ctx.organization_id)
        query = repo.query().order_by(Policy.name, Policy.id)
        if params.enabled is not None:
            query = query.where(Policy.enabled.is_(params.enabled))
        rows = list(session.scalars(query))
    page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
    items = [_policy_row(r) for r in page]
    return PoliciesOutput(items=items, returned=len(items), total=len(rows), next_cursor=cursor)


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="policies_list",
        domain="platform",
        title="Policies",
        description=(
            "Automation policies with trigger, conditions, actions, risk level and execution counters.\n"
            'Example: {"enabled": true}'
        ),
        input_model=PoliciesInput,
        output_model=PoliciesOutput,
        handler=policies_list,
        permission="read:recommendations",
        max_output_tokens=10_000,
    ),
]
