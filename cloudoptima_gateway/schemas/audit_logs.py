"""``GET /v1/audit-logs`` replies: audit rows as stored (``cloudoptima.services.audit``), newest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from cloudoptima_gateway.schemas.common import Schema


class AuditLogOut(Schema):
    id: uuid.UUID
    timestamp: datetime
    channel: str = Field(description="How the action arrived: rest, mcp, workflow or temporal_ui.")
    actor: str = Field(description="user:<id>, api_key:<id> or system (a workflow; see details.workflow_id).")
    user_id: uuid.UUID | None
    action: str
    resource_type: str | None
    resource_id: str | None
    outcome: str = Field(description="success, failure or denied.")
    details: dict[str, Any]
    ip_address: str | None
    user_agent: str | None


class AuditLogList(Schema):
    items: list[AuditLogOut]
    returned: int
    next_cursor: str | None = Field(
        default=None, description="Pass as cursor for the next (older) page; absent on the last page."
    )
