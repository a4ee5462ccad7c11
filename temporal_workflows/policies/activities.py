"""Policy activities: match a policy's conditions over stored resources; evaluate event/threshold triggers."""

from __future__ import annotations

import uuid

from temporalio import activity

from cloudoptima.services.policies import PolicyService
from cloudoptima.services.remediation import RemediationError
from cloudoptima.storage.tenancy import tenant_session
from temporal_workflows.policies import inputs as p
from temporal_workflows.remediation import inputs as r
from temporal_workflows.remediation.activities import RemediationDeps, safety_input


class PolicyActivities:
    """Activities bound to the same dependencies as the remediation activities."""

    def __init__(self, deps: RemediationDeps) -> None:
        self._deps = deps

    @activity.defn(name="policies.match")
    def match(self, params: p.PolicyMatchInput) -> p.PolicyMatch:
        """The policy's matched resources as planned actions (an unknown policy matches nothing, disabled)."""
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
                    safety=r.SafetyControlsInput(),
                )
            definition = service.definition_of(row)
            matched, actions = service.planned_actions(definition)
        return p.PolicyMatch(
            name=definition.name,
            enabled=definition.enabled,
            risk_level=definition.risk.value,
            safety=safety_input(definition.safety_controls),
            matched_resource_ids=matched,
            actions=[r.ResourceAction(**a.model_dump()) for a in actions],
        )

    @activity.defn(name="policies.evaluate_triggers")
    def evaluate_triggers(self, params: p.TriggerEvaluationInput) -> p.TriggeredPolicies:
        """Enabled policies whose event trigger matches the event or whose threshold fires on the metrics."""
        org = uuid.UUID(params.organization_id)
        with tenant_session(self._deps.sessions, org) as session:
            fired = PolicyService(session, org, now=self._deps.now).triggered(
                event=params.event, payload=params.payload, metrics=params.metrics
            )
        return p.TriggeredPolicies(policy_ids=[str(pid) for pid in fired])
