"""Inputs and results of the policy workflows (pydantic messages, see ``cloudoptima_workflows.message``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cloudoptima_workflows.message import Message
from cloudoptima_workflows.remediation.inputs import Approver, ResourceAction, SafetyControls


class PolicyExecutionInput(Message):
    """Execute one policy now. Empty ``execution_id`` / ``remediation_workflow_id`` are generated."""

    organization_id: str
    policy_id: str
    requested_by: Approver
    dry_run: bool = False
    trigger: str = "manual"
    execution_id: str = ""
    remediation_workflow_id: str = ""
    approval_ttl_seconds: int = 72 * 3600
    resource_ids: list[str] | None = None
    """Act on these of the matched resources only (what a trigger fired for); None: every match."""
    firing_id: str = ""
    """The ``policy_firings`` row that started this execution (empty for manual and scheduled runs)."""


class PolicyMatchInput(Message):
    organization_id: str
    policy_id: str
    resource_ids: list[str] | None = None


class PolicyMatch(Message):
    """The policy's resources that match its conditions, as planned actions, and its controls."""

    name: str
    enabled: bool
    risk_level: str
    safety: SafetyControls
    matched_resource_ids: list[str] = Field(default_factory=list)
    actions: list[ResourceAction] = Field(default_factory=list)


class PolicyRunResult(Message):
    """How a policy execution ended: the remediation it started (and its final state) or why it did not."""

    policy_id: str
    state: str
    remediation_workflow_id: str = ""
    execution_id: str = ""
    matched_resource_ids: list[str] = Field(default_factory=list)
    detail: str = ""


class TriggerEvaluationInput(Message):
    """Evaluate the organisation's event and threshold triggers as of ``today`` (None: the activity's clock)
    over what its tables say happened; ``event`` + ``payload`` push one more event (its id is
    ``payload["id"]`` or a digest of the payload). ``source`` says who asked (``analysis``, ``collection``)."""

    organization_id: str
    event: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    today: str | None = None
    source: str = ""


class FiringView(Message):
    """One new firing (``policy_firings``): the execution it is to start and what fired it."""

    firing_id: str
    policy_id: str
    trigger: str
    execution_id: str
    resource_ids: list[str] = Field(default_factory=list)
    """When not empty, the execution acts on these resources only (a usage threshold, a resource or a
    recommendation event)."""
    summary: dict[str, Any] = Field(default_factory=dict)


class TriggeredPolicies(Message):
    firings: list[FiringView] = Field(default_factory=list)


class FiringsStarted(Message):
    """The workflows the firings started (``policies.firings_started`` records them and publishes)."""

    organization_id: str
    started: dict[str, str] = Field(default_factory=dict)
    """``firing id -> PolicyExecution workflow id``."""
    firings: list[FiringView] = Field(default_factory=list)


class PolicyStage(Message):
    """One stage of a policy run, published on the ``policy_executions`` channel (``policies.publish``)."""

    organization_id: str
    policy_id: str
    stage: str
    data: dict[str, Any] = Field(default_factory=dict)


class PolicyTriggersInput(Message):
    """Evaluate event/threshold triggers and start a policy execution for each new firing."""

    evaluation: TriggerEvaluationInput
    requested_by: Approver = Field(default_factory=lambda: Approver(user_id="system:trigger", role="viewer"))


class PolicyTriggersResult(Message):
    started_workflow_ids: list[str] = Field(default_factory=list)
