"""Executions API bodies: a page of executions and the started rollback (the detail is
``cloudoptima.domain.executions.ExecutionDetail``)."""

from __future__ import annotations

from typing import Any

from cloudoptima.domain.executions import ExecutionSummary
from cloudoptima_gateway.schemas.common import Schema


class ExecutionList(Schema):
    executions: list[ExecutionSummary]
    total: int
    limit: int
    offset: int


class RollbackOut(Schema):
    """The rollback remediation that was started: it waits for an approval before undoing anything."""

    execution_id: str
    workflow_id: str
    rollback_of: str
    state: str
    approval_required: bool
    risk_level: str
    actions: list[dict[str, Any]]
    temporal_ui_url: str | None
