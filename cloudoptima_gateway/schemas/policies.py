"""Policies API bodies (seed §3.2). Conditions and actions are validated by the kernel's policy model."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from cloudoptima_gateway.schemas.common import Schema, StrictBody


class TriggerIn(StrictBody):
    type: Literal["schedule", "event", "threshold"]
    config: dict[str, Any] = Field(default_factory=dict)


class ConditionIn(StrictBody):
    field: str = Field(min_length=1, max_length=255)
    operator: Literal[
        "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists", "older_than_days"
    ]
    value: Any = None


class ActionIn(StrictBody):
    type: str = Field(min_length=1, max_length=64)
    config: dict[str, Any] = Field(default_factory=dict)


class SafetyIn(StrictBody):
    dry_run_first: bool = True
    require_approval: bool = True
    rollback_enabled: bool = True
    max_resources_per_execution: int = Field(default=25, ge=1, le=10_000)


class PolicyIn(StrictBody):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=5000)
    enabled: bool = True
    trigger: TriggerIn
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=50)
    actions: list[ActionIn] = Field(min_length=1, max_length=20)
    safety_controls: SafetyIn = Field(default_factory=SafetyIn)
    risk_level: Literal["low", "medium", "high"] | None = None


class PolicyOut(Schema):
    id: uuid.UUID
    name: str
    description: str | None
    enabled: bool
    trigger: dict[str, Any]
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    safety_controls: dict[str, Any]
    last_executed: datetime | None
    execution_count: int
    success_rate: float | None


class PolicyList(Schema):
    policies: list[PolicyOut]


class PolicyCreated(Schema):
    policy_id: uuid.UUID
    schedule_id: str | None = None


class ExecuteIn(StrictBody):
    dry_run: bool = False


class DryRunResourceOut(Schema):
    """One resource a dry run would touch and the action it would take there (with the provider's check)."""

    resource_id: str
    resource_name: str | None
    resource_type: str
    provider: str
    region: str | None
    cloud_account_id: str
    action: str
    parameters: dict[str, Any]
    valid: bool | None
    problems: list[str]
    monthly_cost_before: Decimal
    monthly_cost_after: Decimal | None


class ExecuteOut(Schema):
    execution_id: str
    workflow_id: str
    status: str
    matched_resource_ids: list[str] | None = None
    """Dry run only: every resource the policy's conditions match now."""
    resources: list[DryRunResourceOut] | None = None
    """Dry run only: what the run would do, one entry per matched resource × action."""
    plan_problems: list[str] | None = None
    """Dry run only: why the plan as a whole could not run (over the resource cap, nothing to do)."""


class FiringOut(Schema):
    """One firing of an event or threshold trigger: what fired it and the execution it started."""

    id: uuid.UUID
    trigger: str
    event: str | None
    event_id: str | None
    metric: str | None
    observed: Decimal | None
    threshold: Decimal | None
    window_start: date | None
    window_end: date | None
    resource_ids: list[str]
    details: dict[str, Any]
    execution_id: uuid.UUID
    workflow_id: str | None
    fired_at: datetime


class FiringList(Schema):
    firings: list[FiringOut]


class ExecutionOut(Schema):
    id: str
    workflow_id: str | None
    started_at: datetime
    completed_at: datetime | None
    status: Literal["success", "failed", "partial", "pending", "running", "cancelled"]
    state: str
    dry_run: bool
    resources_affected: int | None
    logs: list[str]
    error: str | None


class ExecutionList(Schema):
    executions: list[ExecutionOut]
