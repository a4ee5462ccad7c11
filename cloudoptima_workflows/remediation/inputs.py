"""Inputs, results and the status of the remediation workflow (pydantic messages, see
``cloudoptima_workflows.message``).

Who asks or decides (``Approver``) and the safety controls (``SafetyControls``) are the kernel's own models
(``cloudoptima.domain.remediation``), as are the states (``RemediationState``). The plan and step views
(:class:`PlanView`, :class:`PlanStepView`) are not the kernel's ``RemediationPlan`` / ``PlanStep``: they
leave out what the workflow must not carry (a step's provider ``current_state``, the plan's organisation and
creation time), flatten the impact preview into the plan, add ``approvals_needed``, and, like every message,
ignore unknown fields so an older history still replays; they are converted at the activity boundary
(``cloudoptima_workflows.remediation.activities.plan_view``). Money is ``Decimal`` (written as the same
decimal string it always was, e.g. ``"12.34"``); datetimes are UTC.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field

from cloudoptima.domain.remediation import DEFAULT_APPROVAL_TTL_SECONDS as DEFAULT_APPROVAL_TTL_SECONDS
from cloudoptima.domain.remediation import Approver as Approver
from cloudoptima.domain.remediation import RemediationState
from cloudoptima.domain.remediation import SafetyControls as SafetyControls
from cloudoptima_workflows.message import Message

STEP_KEY_FORMAT = "{workflow_id}/step-{index}"
ROLLBACK_KEY_FORMAT = "{workflow_id}/rollback-{index}"


class ResourceAction(Message):
    """One provider action (``action`` is an ``ActionKind`` value) on one resource of one account."""

    cloud_account_id: str
    resource_id: str
    action: str
    region: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    description: str = ""


class RemediationRequest(Message):
    """Apply a recommendation (``recommendation_id``) or explicit ``actions`` (a policy's matches).

    Seed ``POST /recommendations/{id}/apply``: ``schedule`` (run at that time after approval),
    ``approval_required`` and ``dry_run`` (stop after the plan). ``execution_id`` is the
    ``policy_executions`` row id (the client generates it so it can return it at once).
    """

    organization_id: str
    requested_by: Approver
    execution_id: str
    recommendation_id: str | None = None
    policy_id: str | None = None
    actions: list[ResourceAction] = Field(default_factory=list)
    title: str = ""
    risk_level: str | None = None
    approval_required: bool = True
    dry_run: bool = False
    schedule: datetime | None = None
    approval_ttl_seconds: int = DEFAULT_APPROVAL_TTL_SECONDS
    safety: SafetyControls = Field(default_factory=SafetyControls)


class PlanStepView(Message):
    """One planned step as the workflow and its status show it."""

    index: int
    cloud_account_id: str
    resource_id: str
    action: str
    region: str | None
    parameters: dict[str, Any]
    description: str
    valid: bool | None
    problems: list[str]
    monthly_cost_before: Decimal
    monthly_cost_after: Decimal | None
    rollback_available: bool
    irreversible: str | None


class PlanView(Message):
    """The checked, costed plan: steps, impact preview, risk, and who may approve it."""

    title: str
    source: str
    risk_level: str
    approval_required: bool
    approver_roles: list[str]
    steps: list[PlanStepView]
    current_monthly: Decimal
    projected_monthly: Decimal
    savings: Decimal
    risks: list[str]
    rollback_available: bool
    valid: bool
    problems: list[str]
    safety: SafetyControls
    approvals_needed: int = 1
    """Distinct approvals the plan needs (the organisation's ``high_risk_approvers`` for a high-risk plan)."""


class PlanInput(Message):
    request: RemediationRequest
    workflow_id: str


CHANNEL_REST = "rest"
CHANNEL_MCP = "mcp"
CHANNEL_TEMPORAL_UI = "temporal_ui"
UPDATE_CHANNELS = frozenset({CHANNEL_REST, CHANNEL_MCP})


class DecisionInput(Message):
    """The ``decide`` Update's argument: the claimed user id and the channel (``rest`` or ``mcp``). Who the
    user is, and their role, is read from the database by the workflow before it accepts anything."""

    approve: bool
    comment: str
    user_id: str
    channel: str = CHANNEL_REST


class SignalDecision(Message):
    """The ``approve`` / ``reject`` Signals' payload, typed in the Temporal UI: ``{"user_id": "<your user
    id>", "approval_code": "<the code CloudOptima shows you for it>", "comment": "..."}``. The channel is always ``temporal_ui``; a ``role`` or ``email`` in the payload
    is ignored (accepted only so an old-style payload is still judged and audited rather than dropped)."""

    user_id: str
    comment: str = ""
    role: str = ""
    email: str = ""
    approval_code: str = ""
    """The one-time code CloudOptima shows this user for this remediation (``GET /v1/approvals``)."""


class DecisionRecord(Message):
    """One accepted decision: the approver as stored in the database, when and through which channel."""

    approve: bool
    comment: str
    approver: Approver
    decided_at: datetime
    channel: str


class VerifyDecisionInput(Message):
    """Ask the database whether a claimed decision may be accepted now (``remediation.verify_decision``)."""

    organization_id: str
    execution_id: str
    workflow_id: str
    user_id: str
    approve: bool
    channel: str
    risk_level: str
    requested_by: str
    approved_by: list[str] = Field(default_factory=list)
    approval_code: str = ""


class DecisionVerdict(Message):
    """The database's answer: accepted, or refused with ``reason``; the user's stored role and e-mail, and how
    many distinct approvals the plan needs now."""

    accepted: bool
    reason: str
    user_id: str
    role: str
    email: str
    approvals_needed: int


class AuditDecisionInput(Message):
    """One decision, accepted or refused, for ``audit_logs`` (``remediation.audit_decision``); ``entry_id``
    makes a retried write idempotent."""

    organization_id: str
    execution_id: str
    workflow_id: str
    entry_id: str
    user_id: str
    approve: bool
    channel: str
    accepted: bool
    reason: str
    comment: str
    risk_level: str
    requested_by: str
    approvals: int
    approvals_needed: int


class StepInput(Message):
    organization_id: str
    step: PlanStepView
    idempotency_key: str


class StepResult(Message):
    """What executing one step did (``failed``: the provider refused, nothing changed)."""

    index: int
    resource_id: str
    action: str
    status: str
    idempotency_key: str
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    rollback_action: ResourceAction | None = None
    irreversible: str | None = None
    error: str | None = None


class VerifyInput(Message):
    organization_id: str
    step: PlanStepView
    result: StepResult


class VerifyResult(Message):
    index: int
    ok: bool
    observed: dict[str, Any]
    detail: str


class RollbackInput(Message):
    organization_id: str
    step: PlanStepView
    result: StepResult
    idempotency_key: str


class RollbackResult(Message):
    index: int
    resource_id: str
    status: str
    detail: str


class RecordInput(Message):
    """Advance the ``policy_executions`` row to ``state`` with the whole log so far."""

    organization_id: str
    execution_id: str
    state: RemediationState
    logs: list[str]
    decision: DecisionRecord | None = None
    expires_at: datetime | None = None
    resources_affected: int | None = None
    error: str | None = None


class RemediationStatus(Message):
    """The ``status`` query (and the ``decide`` Update's result): the plan and the progress so far."""

    workflow_id: str
    execution_id: str
    state: RemediationState
    plan: PlanView | None = None
    decision: DecisionRecord | None = None
    steps: list[StepResult] = Field(default_factory=list)
    verifications: list[VerifyResult] = Field(default_factory=list)
    rollbacks: list[RollbackResult] = Field(default_factory=list)
    logs: list[str] = Field(default_factory=list)
    error: str | None = None
    expires_at: datetime | None = None
    scheduled_for: datetime | None = None
    approvals: list[DecisionRecord] = Field(default_factory=list)
    """Every accepted approval so far (a high-risk plan may need two distinct approvers)."""
    approvals_needed: int = 1
