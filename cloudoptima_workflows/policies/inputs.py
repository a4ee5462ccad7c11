"""Inputs and results of the policy workflows (plain dataclasses: Temporal serialises them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloudoptima_workflows.remediation.inputs import Approver, ResourceAction, SafetyControlsInput


@dataclass(frozen=True)
class PolicyExecutionInput:
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


@dataclass(frozen=True)
class PolicyMatchInput:
    organization_id: str
    policy_id: str
    resource_ids: list[str] | None = None


@dataclass(frozen=True)
class PolicyMatch:
    """The policy's resources that match its conditions, as planned actions, and its controls."""

    name: str
    enabled: bool
    risk_level: str
    safety: SafetyControlsInput
    matched_resource_ids: list[str] = field(default_factory=list)
    actions: list[ResourceAction] = field(default_factory=list)


@dataclass(frozen=True)
class PolicyRunResult:
    """How a policy execution ended: the remediation it started (and its final state) or why it did not."""

    policy_id: str
    state: str
    remediation_workflow_id: str = ""
    execution_id: str = ""
    matched_resource_ids: list[str] = field(default_factory=list)
    detail: str = ""


@dataclass(frozen=True)
class TriggerEvaluationInput:
    """Evaluate the organisation's event and threshold triggers as of ``today`` (None: the activity's clock)
    over what its tables say happened; ``event`` + ``payload`` push one more event (its id is
    ``payload["id"]`` or a digest of the payload). ``source`` says who asked (``analysis``, ``collection``)."""

    organization_id: str
    event: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    today: str | None = None
    source: str = ""


@dataclass(frozen=True)
class FiringView:
    """One new firing (``policy_firings``): the execution it is to start and what fired it."""

    firing_id: str
    policy_id: str
    trigger: str
    execution_id: str
    resource_ids: list[str] = field(default_factory=list)
    """When not empty, the execution acts on these resources only (a usage threshold, a resource or a
    recommendation event)."""
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TriggeredPolicies:
    firings: list[FiringView] = field(default_factory=list)


@dataclass(frozen=True)
class FiringsStarted:
    """The workflows the firings started (``policies.firings_started`` records them and publishes)."""

    organization_id: str
    started: dict[str, str] = field(default_factory=dict)
    """``firing id -> PolicyExecution workflow id``."""
    firings: list[FiringView] = field(default_factory=list)


@dataclass(frozen=True)
class PolicyStage:
    """One stage of a policy run, published on the ``policy_executions`` channel (``policies.publish``)."""

    organization_id: str
    policy_id: str
    stage: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyTriggersInput:
    """Evaluate event/threshold triggers and start a policy execution for each new firing."""

    evaluation: TriggerEvaluationInput
    requested_by: Approver = field(default_factory=lambda: Approver(user_id="system:trigger", role="viewer"))


@dataclass(frozen=True)
class PolicyTriggersResult:
    started_workflow_ids: list[str] = field(default_factory=list)
