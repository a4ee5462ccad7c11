"""The remediation activities as workflows call them: each one's registered name, argument and result.

Workflows reference these methods (``workflow.execute_activity_method(RemediationActivityInterface.<method>,
…)``), so they import no I/O library. ``RemediationActivities``
(``cloudoptima_workflows.remediation.activities``) implements them under the same names
(``tests/workflows/test_activity_interfaces.py`` keeps the two in step).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima_workflows.remediation import inputs as i

__all__ = ["RemediationActivityInterface"]


class RemediationActivityInterface(ABC):
    """The remediation activities (implemented by ``RemediationActivities``)."""

    @activity.defn(name="remediation.plan")
    @abstractmethod
    def plan(self, params: i.PlanInput) -> i.PlanView:
        """Build the plan (dry run + impact preview) and open the ``policy_executions`` row."""

    @activity.defn(name="remediation.execute_step")
    @abstractmethod
    def execute_step(self, params: i.StepInput) -> i.StepResult:
        """Execute one step once per idempotency key."""

    @activity.defn(name="remediation.verify_step")
    @abstractmethod
    def verify_step(self, params: i.VerifyInput) -> i.VerifyResult:
        """Re-read the state after one executed step."""

    @activity.defn(name="remediation.rollback_step")
    @abstractmethod
    def rollback_step(self, params: i.RollbackInput) -> i.RollbackResult:
        """Undo one executed step (once per key) or report it as irreversible."""

    @activity.defn(name="remediation.record")
    @abstractmethod
    def record(self, params: i.RecordInput) -> None:
        """Advance the ``policy_executions`` row (state, full log, decision, expiry)."""

    @activity.defn(name="remediation.verify_decision")
    @abstractmethod
    def verify_decision(self, params: i.VerifyDecisionInput) -> i.DecisionVerdict:
        """Look the claimed decider up in the database now (``ApprovalService.verify``); read-only."""

    @activity.defn(name="remediation.audit_decision")
    @abstractmethod
    def audit_decision(self, params: i.AuditDecisionInput) -> None:
        """Write the decision's ``audit_logs`` row once per ``entry_id`` (accepted or refused)."""
