"""Approvals API bodies: pending remediation decisions and the decision itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from cloudoptima_gateway.schemas.common import Schema, StrictBody


class PendingApprovalOut(Schema):
    execution_id: str
    workflow_id: str | None
    kind: str
    policy_id: str | None
    recommendation_id: str | None
    title: str
    risk_level: str | None
    approver_roles: list[str]
    requested_by: str | None
    requested_at: datetime
    expires_at: datetime | None
    scheduled_for: datetime | None
    plan: dict[str, Any]
    impact: dict[str, Any]
    temporal_ui_approval_code: str | None = Field(
        default=None,
        description="Your one-time code for deciding this remediation from the Temporal UI (signal approve or "
        'reject with {"user_id", "approval_code", "comment"}); bound to you and this remediation.',
    )


class ApprovalList(Schema):
    approvals: list[PendingApprovalOut]
    total: int


class DecisionIn(StrictBody):
    approve: bool
    comment: str = Field(default="", max_length=2000)


class DecisionOut(Schema):
    execution_id: str
    workflow_id: str
    state: str = Field(description="pending_approval while a high-risk plan waits for another approver")
    approved: bool
    approvals: int = Field(default=0, description="distinct approvals accepted so far")
    approvals_needed: int = Field(default=1, description="distinct approvals the plan needs")
