"""What the worker registers on the ``remediation`` task queue for remediation and policies.

``workflows()`` lists the workflow classes; ``activities(deps)`` binds the activities to a session factory
and a provider factory (``cloud_account_id -> CloudProviderClient``). The activities are synchronous: run
the worker with an ``activity_executor`` (a thread pool).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudoptima_workflows.policies.activities import PolicyActivities
from cloudoptima_workflows.policies.workflows import PolicyExecutionWorkflow, PolicyTriggersWorkflow
from cloudoptima_workflows.remediation.activities import RemediationDeps
from cloudoptima_workflows.remediation.progress import FollowedRemediationActivities
from cloudoptima_workflows.remediation.workflows import RemediationWorkflow


def workflows() -> list[type]:
    """The remediation and policy workflows."""
    return [RemediationWorkflow, PolicyExecutionWorkflow, PolicyTriggersWorkflow]


def activities(deps: RemediationDeps) -> list[Callable[..., Any]]:
    """The remediation and policy activities bound to ``deps``."""
    remediation, policies = FollowedRemediationActivities(deps), PolicyActivities(deps)
    return [
        remediation.plan,
        remediation.execute_step,
        remediation.verify_step,
        remediation.rollback_step,
        remediation.record,
        remediation.verify_decision,
        remediation.audit_decision,
        policies.match,
        policies.evaluate_triggers,
        policies.firings_started,
        policies.publish,
    ]
