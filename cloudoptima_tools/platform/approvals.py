"""``remediation_executions`` and ``pending_approvals``: the remediation history and the approval queue."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.domain.remediation import ExecutionRecord, PendingApproval
from cloudoptima.services.remediation import RemediationService
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.platform.ids import parse_id
from cloudoptima_tools.spec import (
    PagedOutput,
    PageInput,
    ToolSpec,
    ToolUnavailableError,
    decode_cursor,
    page_of,
)


def _no_provider(account_id: uuid.UUID) -> CloudProviderClient:
    raise ToolUnavailableError("read-only tools never contact a cloud provider")


class ExecutionsInput(PageInput):
    policy_id: str | None = Field(default=None, description="Only executions of this policy.")


class ExecutionsOutput(PagedOutput):
    items: list[ExecutionRecord]


def remediation_executions(ctx: ToolContext, params: ExecutionsInput) -> ExecutionsOutput:
    offset = decode_cursor(params)
    policy = parse_id(params.policy_id, "policy") if params.policy_id else None
    with ctx.read_session() as session:
        service = RemediationService(session, ctx.organization_id, _no_provider, now=ctx.now)
        rows = service.executions(policy_id=policy, limit=offset + params.limit + 1)
    window = rows[offset:]
    page, cursor = page_of(params, window, None, offset)
    items = [r.model_copy(update={"logs": r.logs[-20:]}) for r in page]
    return ExecutionsOutput(items=items, returned=len(items), next_cursor=cursor)


class ApprovalsOutput(PagedOutput):
    items: list[PendingApproval]


def pending_approvals(ctx: ToolContext, params: PageInput) -> ApprovalsOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        service = RemediationService(session, ctx.organization_id, _no_provider, now=ctx.now)
        rows = service.pending_approvals(limit=offset + params.limit + 1)
    page, cursor = page_of(params, rows[offset:], None, offset)
    return ApprovalsOutput(items=page, returned=len(page), next_cursor=cursor)


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="remediation_executions",
        domain="platform",
        title="Policy and remediation executions",
        description=(
            "Remediation and policy executions, newest first, with state, decision, resources affected and "
            "the last log lines.\n"
            'Example: {"limit": 10}'
        ),
        input_model=ExecutionsInput,
        output_model=ExecutionsOutput,
        handler=remediation_executions,
        permission="read:recommendations",
        max_output_tokens=10_000,
    ),
    ToolSpec(
        name="pending_approvals",
        domain="platform",
        title="Remediations awaiting approval",
        description=(
            "Remediations waiting for a human decision (oldest first) with risk, approver roles, plan and "
            "impact.\n"
            'Example: {"limit": 10}'
        ),
        input_model=PageInput,
        output_model=ApprovalsOutput,
        handler=pending_approvals,
        permission="read:recommendations",
        max_output_tokens=10_000,
    ),
]
