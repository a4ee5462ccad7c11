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

The package: ``approval`` (risk, approvers, safety controls, decisions), ``plans`` (states, plans, steps,
outcomes, approval and execution views) and ``policies`` (policy definitions).
"""

from __future__ import annotations

from cloudoptima.domain.remediation.approval import (
    ACTION_RISK,
    DEFAULT_APPROVAL_TTL_SECONDS,
    Approver,
    Decision,
    SafetyControls,
    approver_roles,
    can_approve,
    highest_risk,
    needs_approval,
)
from cloudoptima.domain.remediation.base import (
    FrozenModel,
)
from cloudoptima.domain.remediation.plans import (
    TERMINAL_STATES,
    ExecutionRecord,
    PendingApproval,
    PlannedAction,
    PlanStep,
    RemediationImpact,
    RemediationPlan,
    RemediationState,
    RollbackOutcome,
    StepOutcome,
    StepVerification,
)
from cloudoptima.domain.remediation.policies import (
    ConditionOperator,
    PolicyAction,
    PolicyCondition,
    PolicyDefinition,
    PolicyTrigger,
)

__all__ = [
    "ACTION_RISK",
    "DEFAULT_APPROVAL_TTL_SECONDS",
    "TERMINAL_STATES",
    "Approver",
    "ConditionOperator",
    "Decision",
    "ExecutionRecord",
    "FrozenModel",
    "PendingApproval",
    "PlanStep",
    "PlannedAction",
    "PolicyAction",
    "PolicyCondition",
    "PolicyDefinition",
    "PolicyTrigger",
    "RemediationImpact",
    "RemediationPlan",
    "RemediationState",
    "RollbackOutcome",
    "SafetyControls",
    "StepOutcome",
    "StepVerification",
    "approver_roles",
    "can_approve",
    "highest_risk",
    "needs_approval",
]
