"""A remediation's plan and what became of it: its states, the planned actions and steps with their dry-run
verdicts, the impact preview, each step's outcome, verification and rollback, and the views of a pending
approval and of an execution record."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator

from cloudoptima.domain.recommendations import RiskLevel
from cloudoptima.domain.remediation.approval import ACTION_RISK, SafetyControls
from cloudoptima.domain.remediation.base import FrozenModel


class RemediationState(StrEnum):
    """Where a remediation is. Terminal: every state from ``completed`` on."""

    QUEUED = "queued"
    PLANNING = "planning"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    EXECUTING = "executing"
    VERIFYING = "verifying"
    ROLLING_BACK = "rolling_back"
    COMPLETED = "completed"
    DRY_RUN = "dry_run"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REFUSED = "refused"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"


TERMINAL_STATES = frozenset(
    {
        RemediationState.COMPLETED,
        RemediationState.DRY_RUN,
        RemediationState.REJECTED,
        RemediationState.EXPIRED,
        RemediationState.REFUSED,
        RemediationState.FAILED,
        RemediationState.ROLLED_BACK,
        RemediationState.CANCELLED,
    }
)


class PlannedAction(FrozenModel):
    """An action to plan: a provider action kind on one resource of one connected account."""

    cloud_account_id: str
    resource_id: str
    action: str
    region: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    description: str = ""

    @field_validator("action")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in ACTION_RISK:
            raise ValueError(f"action must be one of {', '.join(sorted(ACTION_RISK))}, got {value!r}")
        return value


class PlanStep(FrozenModel):
    """One planned action with its dry-run verdict (``valid`` None when the dry run was skipped)."""

    index: int = Field(ge=0)
    cloud_account_id: str
    resource_id: str
    action: str
    region: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    description: str = ""
    valid: bool | None = None
    problems: list[str] = Field(default_factory=list)
    current_state: dict[str, Any] = Field(default_factory=dict)
    monthly_cost_before: Decimal = Decimal(0)
    monthly_cost_after: Decimal | None = None
    rollback_available: bool = False
    irreversible: str | None = None


class RemediationImpact(FrozenModel):
    """Impact preview: monthly cost before/after, risks and whether everything can be rolled back."""

    current_monthly: Decimal
    projected_monthly: Decimal
    savings: Decimal
    risks: list[str] = Field(default_factory=list)
    rollback_available: bool
    irreversible_steps: list[int] = Field(default_factory=list)


class RemediationPlan(FrozenModel):
    """What a remediation would do, checked and costed, and who may approve it."""

    organization_id: str
    source: Literal["recommendation", "policy", "manual"]
    source_id: str | None = None
    title: str
    risk_level: RiskLevel
    steps: list[PlanStep]
    impact: RemediationImpact
    safety: SafetyControls
    approval_required: bool
    approver_roles: list[str]
    problems: list[str] = Field(default_factory=list)
    created_at: datetime

    @property
    def valid(self) -> bool:
        """No plan-level problem and no step the dry run refused."""
        return not self.problems and all(step.valid is not False for step in self.steps)


class StepOutcome(FrozenModel):
    """What executing one step did. ``failed`` outcomes changed nothing (the provider refused)."""

    index: int
    resource_id: str
    action: str
    status: Literal["succeeded", "failed"]
    idempotency_key: str
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    rollback_action: PlannedAction | None = None
    irreversible: str | None = None
    error: str | None = None


class StepVerification(FrozenModel):
    """Whether the state read back after execution shows the change."""

    index: int
    ok: bool
    observed: dict[str, Any] = Field(default_factory=dict)
    detail: str = ""


class RollbackOutcome(FrozenModel):
    """How undoing one executed step went; ``irreversible`` steps are reported, not undone."""

    index: int
    resource_id: str
    status: Literal["rolled_back", "irreversible", "failed"]
    detail: str = ""


class PendingApproval(FrozenModel):
    """One remediation waiting for a decision (``GET /v1/approvals``)."""

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


class ExecutionRecord(FrozenModel):
    """Seed ``GET /policies/{id}/executions`` item, plus the detailed state and decision."""

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
    decision: str | None
    decided_by: str | None
