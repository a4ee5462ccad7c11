"""``GET /v1/audit-logs``: the organisation's audit trail for its admins, filtered and paged.

Every write through REST, MCP tool call, workflow activity and approval decision is a row
(``cloudoptima.services.audit``). Filters: ``user_id``, ``actor``, ``action``, ``resource_type``,
``resource_id``, ``channel``, ``outcome``, ``from`` (inclusive) and ``to`` (exclusive, both with a time
zone). Rows come newest first by ``(timestamp, id)``; ``next_cursor`` resumes exactly after the last row
(keyset paging: stable while new rows arrive). A bad filter or cursor is a 422 naming it. Only the
``read:audit_logs`` permission (admins) may read; another organisation's rows are never visible.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from cloudoptima.services.audit_queries import MAX_PAGE, AuditFilter, AuditQueryError, search
from cloudoptima.storage.models import AuditLog
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, TenantDb
from cloudoptima_gateway.schemas.audit_logs import AuditLogList, AuditLogOut
from cloudoptima_gateway.schemas.common import invalid

router = APIRouter(prefix="/audit-logs", tags=["audit_logs"], route_class=AuditedRoute)
Auditor = Annotated[Principal, Permission("read:audit_logs")]
_PUBLIC_NAMES = {"since": "from", "until": "to"}
Text = Annotated[str | None, Query(min_length=1, max_length=200)]


def out(row: AuditLog) -> AuditLogOut:
    return AuditLogOut(
        id=row.id,
        timestamp=row.timestamp,
        channel=row.channel,
        actor=row.actor,
        user_id=row.user_id,
        action=row.action,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        outcome=row.result,
        details=row.details or {},
        ip_address=row.ip_address,
        user_agent=row.user_agent,
    )


@router.get("", response_model=AuditLogList)
def list_audit_logs(
    principal: Auditor,
    session: TenantDb,
    user_id: Annotated[uuid.UUID | None, Query(description="Rows of this user")] = None,
    actor: Annotated[Text, Query(description="user:<id>, api_key:<id> or system")] = None,
    action: Annotated[Text, Query(description="Route name, MCP tool name or activity type")] = None,
    resource_type: Text = None,
    resource_id: Text = None,
    channel: Literal["rest", "mcp", "workflow", "temporal_ui"] | None = None,
    outcome: Literal["success", "failure", "denied"] | None = None,
    since: Annotated[datetime | None, Query(alias="from", description="From (inclusive, with zone)")] = None,
    until: Annotated[datetime | None, Query(alias="to", description="To (exclusive, with zone)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditLogList:
    """The organisation's audit rows, newest first (see module docstring)."""
    try:
        filters = AuditFilter.build(
            user_id=user_id,
            actor=actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            channel=channel,
            outcome=outcome,
            since=since,
            until=until,
        )
        page = search(session, principal.organization_id, filters, limit=limit, cursor=cursor)
    except AuditQueryError as exc:
        raise invalid(_PUBLIC_NAMES.get(exc.field, exc.field), exc.message) from exc
    items = [out(row) for row in page.rows]
    return AuditLogList(items=items, returned=len(items), next_cursor=page.next_cursor)
