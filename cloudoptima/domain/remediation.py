"""Approval-gated remediation and automation policies: plans, safety controls, decisions, states.

Modelled on AWS Budgets actions (propose → pending → approve → execute → reverse):

- A :class:`RemediationPlan` lists one :class:`PlanStep` per resource action, each dry-run through the
  provider (``valid``/``problems``), with monthly cost before/after, the impact summary and the roles that
  may approve it (:func:`approver_roles`, from the seed's risk-based RBAC: engineer low, finops_manager
  medium, admin high).
- The plan's ``risk_level`` is the highest of the source's risk and every step's :data:`ACTION_RISK`.
- ``approval_required`` is decided once, when the plan is built (:func:`needs_approval`): a person must
  approve every plan, except that an organisation that turned on ``auto_approve_low_risk`` lets a low-risk
  plan whose every step can be rolled back run without waiting, when neither the request nor the safety
  controls ask for approval and the requester could approve it themself. High-risk, medium-risk and
  irreversible plans always wait for a person.
- Policies (seed §3.2 Policies API): a trigger (schedule / event / threshold), conditions over stored
  resources, and actions that are provider action kinds (as plain strings: the domain never imports
  ``clouds``).

Money is ``Decimal``; datetimes are UTC. No I/O and no third-party imports besides pydantic.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cloudoptima.domain.rbac import RISK_PERMISSION, ROLE_ORDER, Role, has_permission
from cloudoptima.domain.recommendations import PROVIDER_ACTION_KINDS, RiskLevel

DEFAULT_APPROVAL_TTL_SECONDS = 72 * 3600
"""A pending plan expires after 72 hours unless the request says otherwise."""

ACTION_RISK: dict[str, RiskLevel] = {
    "tag": RiskLevel.LOW,
    "untag": RiskLevel.LOW,
    "start": RiskLevel.LOW,
    "stop": RiskLevel.MEDIUM,
    "resize": RiskLevel.MEDIUM,
    "restore_disk": RiskLevel.MEDIUM,
    "snapshot_and_delete_disk": RiskLevel.HIGH,
    "delete_snapshot": RiskLevel.HIGH,
    "release_ip": RiskLevel.HIGH,
}
"""The least risk of each provider action kind (deletions cannot be fully undone: high)."""

_RISK_RANK = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def highest_risk(*levels: RiskLevel) -> RiskLevel:
    """The riskiest of ``levels`` (low when none)."""
    return max(levels, key=_RISK_RANK.__getitem__, default=RiskLevel.LOW)


def can_approve(role: str, risk: RiskLevel) -> bool:
    """True when ``role`` holds the apply permission of ``risk`` (unknown roles never can)."""
    if role not in ROLE_ORDER:
        return False
    typed: Role = role  # type: ignore[assignment]
    return has_permission(typed, RISK_PERMISSION[risk.value])


def approver_roles(risk: RiskLevel) -> list[str]:
    """The roles allowed to approve a plan of ``risk``, lowest first."""
    return [role for role in ROLE_ORDER if can_approve(role, risk)]


class SafetyControls(_Model):
    """Seed ``safety_controls``: approval, dry run first, blast-radius cap, rollback on failure."""

    require_approval: bool = True
    dry_run_first: bool = True
    max_resources_per_execution: int = Field(default=25, ge=1, le=10_000)
    rollback_enabled: bool = True


def needs_approval(
    requested: bool,
    safety: SafetyControls,
    requester_role: str,
    risk: RiskLevel,
    *,
    reversible: bool,
    auto_approve_low_risk: bool,
) -> bool:
    """Whether a person must approve (see module contract): always, unless the organisation allows automatic
    approval (``auto_approve_low_risk``), ``risk`` is low, the plan is ``reversible`` (every step has a
    rollback), neither the request nor the safety controls ask for approval and the requester could approve
    a plan of ``risk`` themself."""
    automatic = (
        auto_approve_low_risk
        and risk is RiskLevel.LOW
        and reversible
        and not requested
        and not safety.require_approval
        and can_approve(requester_role, risk)
    )
    return not automatic


class Approver(_Model):
    """Who decides: the user id, their role (seed §6.2) and e-mail."""

    user_id: str = Field(min_length=1)
    role: str
    email: str = ""


class Decision(_Model):
    """An approval or rejection and where it came from: ``rest``, ``mcp``, ``temporal_ui`` (a signal), or the
    older generic ``update`` / ``signal``."""

    approved: bool
    comment: str = ""
    approver: Approver
    decided_at: datetime
    channel: Literal["rest", "mcp", "temporal_ui", "update", "signal"] = "update"


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


class PlannedAction(_Model):
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


class PlanStep(_Model):
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


class RemediationImpact(_Model):
    """Impact preview: monthly cost before/after, risks and whether everything can be rolled back."""

    current_monthly: Decimal
    projected_monthly: Decimal
    savings: Decimal
    risks: list[str] = Field(default_factory=list)
    rollback_available: bool
    irreversible_steps: list[int] = Field(default_factory=list)


class RemediationPlan(_Model):
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


class StepOutcome(_Model):
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


class StepVerification(_Model):
    """Whether the state read back after execution shows the change."""

    index: int
    ok: bool
    observed: dict[str, Any] = Field(default_factory=dict)
    detail: str = ""


class RollbackOutcome(_Model):
    """How undoing one executed step went; ``irreversible`` steps are reported, not undone."""

    index: int
    resource_id: str
    status: Literal["rolled_back", "irreversible", "failed"]
    detail: str = ""


class PendingApproval(_Model):
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


class ExecutionRecord(_Model):
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


# -- policies --------------------------------------------------------------------------------------------

ConditionOperator = Literal[
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists", "older_than_days"
]


class PolicyTrigger(_Model):
    """``schedule``: config ``{"cron": "0 2 * * *"}`` or ``{"interval_seconds": n}``; ``event``: config
    ``{"event": "anomaly.detected", "filters": {...}}``; ``threshold``: config
    ``{"metric": name, "operator": "gt"|"gte"|"lt"|"lte", "value": number}``."""

    type: Literal["schedule", "event", "threshold"]
    config: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _config_fits(self) -> PolicyTrigger:
        config = self.config
        if self.type == "schedule":
            cron, interval = config.get("cron"), config.get("interval_seconds")
            if (cron is None) == (interval is None):
                raise ValueError(
                    "a schedule trigger needs exactly one of config.cron or config.interval_seconds"
                )
            if cron is not None and (not isinstance(cron, str) or len(cron.split()) != 5):
                raise ValueError("config.cron must be a five-field cron expression")
            if interval is not None and (not isinstance(interval, int) or interval < 60):
                raise ValueError("config.interval_seconds must be an integer of at least 60")
        elif self.type == "event":
            if not isinstance(config.get("event"), str) or not config["event"]:
                raise ValueError("an event trigger needs config.event (e.g. 'anomaly.detected')")
            if not isinstance(config.get("filters", {}), dict):
                raise ValueError("config.filters must be an object")
        else:
            if not isinstance(config.get("metric"), str) or not config["metric"]:
                raise ValueError("a threshold trigger needs config.metric")
            if config.get("operator", "gte") not in ("gt", "gte", "lt", "lte"):
                raise ValueError("config.operator must be one of gt, gte, lt, lte")
            value = config.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError("config.value must be a number")
            try:
                Decimal(str(value))
            except ArithmeticError:
                raise ValueError("config.value must be a number") from None
        return self


class PolicyCondition(_Model):
    """``field`` is a column (``provider``, ``resource_type``, ``region``, ``status``, ``cost_monthly``,
    ``created_at``, ``last_seen``, ``resource_id``, ``resource_name``) or a path into ``tags.``,
    ``configuration.`` or ``metrics.`` (e.g. ``metrics.cpu_percent.avg``)."""

    field: str = Field(min_length=1)
    operator: ConditionOperator
    value: Any = None

    @model_validator(mode="after")
    def _value_fits(self) -> PolicyCondition:
        if self.operator in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"{self.operator} needs a list value")
        if self.operator == "exists" and not isinstance(self.value, bool):
            raise ValueError("exists needs a boolean value")
        if self.operator == "older_than_days" and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float) or self.value < 0
        ):
            raise ValueError("older_than_days needs a non-negative number of days")
        if self.operator in ("gt", "gte", "lt", "lte") and (
            self.value is None or isinstance(self.value, bool | list | dict)
        ):
            raise ValueError(f"{self.operator} needs a number, date or string value")
        return self


class PolicyAction(_Model):
    """Seed ``actions[]``: ``type`` is a provider action kind; ``config`` its parameters."""

    type: str
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in PROVIDER_ACTION_KINDS:
            raise ValueError(f"action type must be one of {', '.join(PROVIDER_ACTION_KINDS)}, got {value!r}")
        return value


class PolicyDefinition(_Model):
    """A policy as created through ``POST /policies`` (validated)."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    enabled: bool = True
    trigger: PolicyTrigger
    conditions: list[PolicyCondition] = Field(default_factory=list)
    actions: list[PolicyAction] = Field(min_length=1)
    safety_controls: SafetyControls = Field(default_factory=SafetyControls)
    risk_level: RiskLevel | None = None
    """Optional floor of the plan risk (the actions' own risk is always applied)."""

    @property
    def risk(self) -> RiskLevel:
        """The highest of the declared floor and every action's risk."""
        floor = [self.risk_level] if self.risk_level is not None else []
        return highest_risk(*floor, *(ACTION_RISK[a.type] for a in self.actions))
