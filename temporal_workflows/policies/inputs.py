"""Inputs and results of the policy workflows (plain dataclasses: Temporal serialises them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporal_workflows.remediation.inputs import Approver, ResourceAction, SafetyControlsInput


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


@dataclass(frozen=True)
class PolicyMatchInput:
    organization_id: str
    policy_id: str


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
    """An event (``anomaly.detected`` …) with its payload and/or current metrics for threshold triggers."""

    organization_id: str
    event: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TriggeredPolicies:
    policy_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PolicyTriggersInput:
    """Evaluate event/threshold triggers and start a policy execution for each policy that fires."""

    evaluation: TriggerEvaluationInput
    requested_by: Approver = field(default_factory=lambda: Approver(user_id="system:trigger", role="viewer"))


@dataclass(frozen=True)
class PolicyTriggersResult:
    started_workflow_ids: list[str] = field(default_factory=list)
