"""Policy activities: match a policy's conditions over stored resources; evaluate event/threshold triggers,
record what the firings started, and publish each stage of a policy run on the ``policy_executions``
channel (``deps.publish``; none when it is None)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from temporalio import activity

from cloudoptima.services.policies import PolicyService
from cloudoptima.services.policy_triggers import Firing, PolicyTriggerService, pushed_event
from cloudoptima.services.remediation import RemediationError
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.policies import inputs as p
from cloudoptima_workflows.policies.interface import PolicyActivityInterface
from cloudoptima_workflows.remediation import inputs as r
from cloudoptima_workflows.remediation.activities import RemediationDeps

POLICY_EXECUTIONS = "policy_executions"


def _view(firing: Firing) -> p.FiringView:
    return p.FiringView(
        firing_id=str(firing.id),
        policy_id=str(firing.policy_id),
        trigger=firing.trigger_type,
        execution_id=str(firing.execution_id),
        resource_ids=list(firing.resource_ids),
        summary=firing.summary(),
    )


class PolicyActivities(PolicyActivityInterface):
    """Activities bound to the same dependencies as the remediation activities."""

    def __init__(self, deps: RemediationDeps) -> None:
        self._deps = deps

    def _publish(self, organization_id: str, data: dict[str, Any]) -> None:
        if self._deps.publish is not None:
            self._deps.publish(uuid.UUID(organization_id), POLICY_EXECUTIONS, data)

    @activity.defn(name="policies.match")
    def match(self, params: p.PolicyMatchInput) -> p.PolicyMatch:
        """The policy's matched resources as planned actions (an unknown policy matches nothing, disabled);
        with ``resource_ids``, only those of the matches."""
        org = uuid.UUID(params.organization_id)
        with tenant_session(self._deps.sessions, org) as session:
            service = PolicyService(session, org, now=self._deps.now)
            try:
                row = service.get(uuid.UUID(params.policy_id))
            except RemediationError:
                return p.PolicyMatch(
                    name=f"unknown policy {params.policy_id}",
                    enabled=False,
                    risk_level="high",
                    safety=r.SafetyControls(),
                )
            definition = service.definition_of(row)
            matched, actions = service.planned_actions(definition, only=params.resource_ids)
        return p.PolicyMatch(
            name=definition.name,
            enabled=definition.enabled,
            risk_level=definition.risk.value,
            safety=definition.safety_controls,
            matched_resource_ids=matched,
            actions=[r.ResourceAction(**a.model_dump()) for a in actions],
        )

    @activity.defn(name="policies.evaluate_triggers")
    def evaluate_triggers(self, params: p.TriggerEvaluationInput) -> p.TriggeredPolicies:
        """Record the new firings of the organisation's event/threshold triggers (each event or window once,
        ``cloudoptima.services.policy_triggers``) and return them, after the earlier firings whose start was
        never recorded (a crash between this activity and ``policies.firings_started``): starting is
        idempotent by workflow id, so nothing fires twice and nothing recorded is lost."""
        org = uuid.UUID(params.organization_id)
        pushed = (
            pushed_event(params.event, params.payload, self._deps.now()) if params.event is not None else None
        )
        today = date.fromisoformat(params.today) if params.today else None
        with tenant_session(self._deps.sessions, org) as session:
            service = PolicyTriggerService(session, org, now=self._deps.now)
            earlier = service.unstarted()
            fired = service.evaluate(today=today, pushed=pushed)
        return p.TriggeredPolicies(firings=[_view(f) for f in [*earlier, *fired]])

    @activity.defn(name="policies.firings_started")
    def firings_started(self, params: p.FiringsStarted) -> int:
        """Record which workflow each firing started and publish a ``fired`` stage per firing."""
        org = uuid.UUID(params.organization_id)
        with tenant_session(self._deps.sessions, org) as session:
            service = PolicyTriggerService(session, org, now=self._deps.now)
            for firing_id, workflow_id in params.started.items():
                service.attach(uuid.UUID(firing_id), workflow_id)
        for firing in params.firings:
            self._publish(
                params.organization_id,
                {
                    **firing.summary,
                    "stage": "fired",
                    "workflow_id": params.started.get(firing.firing_id),
                },
            )
        return len(params.firings)

    @activity.defn(name="policies.publish")
    def publish(self, params: p.PolicyStage) -> None:
        """Publish one stage of a policy run (``started``, ``skipped``, ``finished``)."""
        self._publish(
            params.organization_id, {"policy_id": params.policy_id, "stage": params.stage, **params.data}
        )
