"""The policy activities as workflows call them: each one's registered name, argument and result.

Workflows reference these methods (``workflow.execute_activity_method(PolicyActivityInterface.<method>, …)``),
so they import no I/O library. ``PolicyActivities`` (``cloudoptima_workflows.policies.activities``) implements
them under the same names (``tests/workflows/test_activity_interfaces.py`` keeps the two in step).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from temporalio import activity

from cloudoptima_workflows.policies import inputs as p

__all__ = ["PolicyActivityInterface"]


class PolicyActivityInterface(ABC):
    """The policy activities (implemented by ``PolicyActivities``)."""

    @activity.defn(name="policies.match")
    @abstractmethod
    def match(self, params: p.PolicyMatchInput) -> p.PolicyMatch:
        """The policy's matched resources as planned actions (an unknown policy matches nothing, disabled);
        with ``resource_ids``, only those of the matches."""

    @activity.defn(name="policies.evaluate_triggers")
    @abstractmethod
    def evaluate_triggers(self, params: p.TriggerEvaluationInput) -> p.TriggeredPolicies:
        """Record the new firings of the organisation's event/threshold triggers (each event or window once,
        ``cloudoptima.services.policy_triggers``) and return them, after the earlier firings whose start was
        never recorded (a crash between this activity and ``policies.firings_started``): starting is
        idempotent by workflow id, so nothing fires twice and nothing recorded is lost."""

    @activity.defn(name="policies.firings_started")
    @abstractmethod
    def firings_started(self, params: p.FiringsStarted) -> int:
        """Record which workflow each firing started and publish a ``fired`` stage per firing."""

    @activity.defn(name="policies.publish")
    @abstractmethod
    def publish(self, params: p.PolicyStage) -> None:
        """Publish one stage of a policy run (``started``, ``skipped``, ``finished``)."""
