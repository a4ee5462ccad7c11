"""``audit_log``: the organisation's audit trail for admins (the MCP twin of ``GET /v1/audit-logs``).

Contract: the same filters, order and keyset cursor as the REST endpoint (``cloudoptima.services.
audit_queries``); needs ``read:audit_logs`` (admins). The page is cut to the tool's output budget from its
end (``truncated_for_size``) and ``next_cursor`` then resumes right after the last row returned, so no row
is skipped or repeated. A bad filter or cursor is a :class:`cloudoptima_tools.spec.ToolInputError` naming it.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cloudoptima.services.audit_queries import MAX_PAGE, AuditFilter, AuditQueryError, encode_cursor, search
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import ToolInput, ToolInputError, ToolSpec, estimate_tokens

BUDGET = 8_000


class AuditLogInput(ToolInput):
    user_id: uuid.UUID | None = Field(default=None, description="Only rows of this user.")
    actor: str | None = Field(
        default=None, min_length=1, max_length=200, description="user:<id>, api_key:<id> or system."
    )
    action: str | None = Field(
        default=None, min_length=1, max_length=200, description="Route name, MCP tool name or activity type."
    )
    resource_type: str | None = Field(default=None, min_length=1, max_length=200)
    resource_id: str | None = Field(default=None, min_length=1, max_length=200)
    channel: Literal["rest", "mcp", "workflow", "temporal_ui"] | None = None
    outcome: Literal["success", "failure", "denied"] | None = None
    since: datetime | None = Field(default=None, description="From this instant (inclusive, with zone).")
    until: datetime | None = Field(default=None, description="Before this instant (exclusive, with zone).")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE, description="Rows per page.")
    cursor: str | None = Field(default=None, description="next_cursor of the previous page.")


class AuditRow(BaseModel):
    id: str
    timestamp: datetime
    channel: str
    actor: str
    user_id: str | None
    action: str
    resource_type: str | None
    resource_id: str | None
    outcome: str
    details: dict[str, Any]


class AuditLogOutput(BaseModel):
    items: list[AuditRow]
    returned: int
    next_cursor: str | None = None
    truncated_for_size: bool = False


def audit_log(ctx: ToolContext, params: AuditLogInput) -> AuditLogOutput:
    """See module contract."""
    values = params.model_dump(exclude={"limit", "cursor"})
    try:
        filters = AuditFilter.build(**values)
        with ctx.read_session() as session:
            page = search(session, ctx.organization_id, filters, limit=params.limit, cursor=params.cursor)
    except AuditQueryError as exc:
        raise ToolInputError(f"audit_log {exc.field}: {exc.message}") from exc
    items: list[AuditRow] = []
    used = 64
    for row in page.rows:
        item = AuditRow(
            id=str(row.id),
            timestamp=row.timestamp,
            channel=row.channel,
            actor=row.actor,
            user_id=str(row.user_id) if row.user_id else None,
            action=row.action,
            resource_type=row.resource_type,
            resource_id=row.resource_id,
            outcome=row.result,
            details=row.details or {},
        )
        cost = estimate_tokens(json.dumps(item.model_dump(mode="json"))) + 1
        if items and used + cost > BUDGET - 256:
            return AuditLogOutput(
                items=items,
                returned=len(items),
                next_cursor=encode_cursor(page.rows[len(items) - 1]),
                truncated_for_size=True,
            )
        items.append(item)
        used += cost
    return AuditLogOutput(items=items, returned=len(items), next_cursor=page.next_cursor)


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="audit_log",
        domain="platform",
        title="Audit log",
        description=(
            "Who did what in the organisation, newest first: every REST write, MCP tool call (arguments "
            "summarised, secrets redacted), workflow write and approval decision, with channel "
            "(rest, mcp, workflow, temporal_ui), actor and outcome. Admins only. Page with next_cursor.\n"
            'Example: {"channel": "mcp", "outcome": "denied", "limit": 20}'
        ),
        input_model=AuditLogInput,
        output_model=AuditLogOutput,
        handler=audit_log,
        permission="read:audit_logs",
        max_output_tokens=BUDGET,
        example={"channel": "mcp", "limit": 20},
    )
]
