"""An execution as a person follows it: plan, dry run, decision, steps, checks, rollbacks, snapshots, timeline.

An *execution* is one remediation (one ``policy_executions`` row and its workflow). These models are what
``GET /v1/executions/{id}``, the MCP ``get_execution`` tool and the rollback refusal carry. Money is
``Decimal``; datetimes are UTC. No I/O and no third-party imports besides pydantic.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DecisionView(_Model):
    """Who decided, how and when (``channel``: the way the decision arrived, e.g. update, signal, rest, mcp)."""

    decision: str
    user_id: str | None
    role: str | None
    channel: str | None
    decided_at: datetime | None
    comment: str | None


class DryRunStep(_Model):
    """One step as the dry run judged it."""

    index: int
    resource_id: str
    action: str
    valid: bool | None
    problems: list[str]
    rollback_available: bool
    irreversible: str | None


class DryRunResult(_Model):
    """The plan's dry run: valid only when no plan problem and no refused step."""

    valid: bool
    problems: list[str]
    steps: list[DryRunStep]


class StateReached(_Model):
    """One state of the execution and when it was reached (``planned`` marks the plan being built)."""

    state: str
    at: datetime


class SavingView(_Model):
    """The monthly saving before safety snapshots (``gross_monthly``), what the safety snapshots cost a month
    (those taken once the steps ran, else those the plan expects: ``snapshots_taken``) and the net saving."""

    gross_monthly: Decimal | None
    safety_snapshots_monthly: Decimal
    snapshots_taken: bool
    net_monthly: Decimal | None


class RollbackLink(_Model):
    """A rollback execution of this one (or the one this rolls back)."""

    execution_id: str
    state: str
    requested_by: str | None
    requested_at: datetime


class ExecutionSummary(_Model):
    """One execution in a list."""

    id: str
    workflow_id: str | None
    kind: str
    title: str
    state: str
    dry_run: bool
    risk_level: str | None
    recommendation_id: str | None
    policy_id: str | None
    requested_by: str | None
    started_at: datetime
    updated_at: datetime | None
    completed_at: datetime | None


class ExecutionDetail(ExecutionSummary):
    """Everything about one execution (see module docstring)."""

    requested_by_role: str | None
    approval_required: bool
    expires_at: datetime | None
    scheduled_for: datetime | None
    resources_affected: int | None
    error: str | None
    plan: dict[str, Any]
    dry_run_result: DryRunResult
    decision: DecisionView | None
    steps: list[dict[str, Any]] = Field(default_factory=list)
    verifications: list[dict[str, Any]] = Field(default_factory=list)
    rollbacks: list[dict[str, Any]] = Field(default_factory=list)
    snapshots: list[dict[str, Any]] = Field(default_factory=list)
    timeline: list[StateReached] = Field(default_factory=list)
    saving: SavingView
    rollback_of: RollbackLink | None = None
    rolled_back_by: list[RollbackLink] = Field(default_factory=list)
    rollback_possible: bool
    rollback_refusal: str | None
    logs: list[str] = Field(default_factory=list)
