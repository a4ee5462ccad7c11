""":class:`RemediationService`: every remediation use case of one organisation in one object, composed of its
parts (planning, step actions, execution records), which share one :class:`RemediationScope`."""

from __future__ import annotations

from cloudoptima.services.remediation.actions import StepActions
from cloudoptima.services.remediation.planning import RemediationPlanning
from cloudoptima.services.remediation.records import ExecutionRecords


class RemediationService(RemediationPlanning, StepActions, ExecutionRecords):
    """Remediation of one organisation over one session (the caller commits).

    Constructed as ``RemediationService(session, organization_id, providers, now=...)``; see the package
    contract for what each method guarantees.
    """
