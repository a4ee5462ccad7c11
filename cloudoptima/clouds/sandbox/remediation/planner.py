"""``plan_action``: check and dry-run a protocol request on an estate (the one entry point of this package)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from cloudoptima.clouds.protocol import ActionKind, ActionRequest
from cloudoptima.clouds.sandbox.actions import apply_action
from cloudoptima.clouds.sandbox.estate import Estate
from cloudoptima.clouds.sandbox.remediation.mapping import sandbox_actions, state_problems
from cloudoptima.clouds.sandbox.remediation.plan import (
    DRY_RUN,
    Plan,
    describe,
    required_permissions,
    synthetic_snapshot_id,
)
from cloudoptima.clouds.sandbox.remediation.restore import plan_restore
from cloudoptima.clouds.sandbox.remediation.rollback import rollback_plan
from cloudoptima.domain.inventory import (
    ResourceState,
)


def plan_action(
    estate: Estate,
    account_id: str,
    request: ActionRequest,
    at: datetime,
    key: str = DRY_RUN,
    snapshots: Mapping[str, str] | None = None,
) -> Plan:
    """Check and dry-run ``request`` on ``estate`` at ``at``; never changes anything.

    ``snapshots`` maps the snapshot ids that exist in the account to the disk each was taken of.
    """
    if request.kind is ActionKind.RESTORE_DISK:
        return plan_restore(estate, account_id, request, at, snapshots or {})
    try:
        resource = estate.resource(request.resource_id)
    except KeyError:
        resource = None
    if resource is None or resource.account_id != account_id:
        return Plan(
            problems=[f"resource {request.resource_id} does not exist in account {account_id}"],
            permissions=required_permissions(request, None),
        )
    permissions = required_permissions(request, resource)
    before = describe(resource)
    if resource.state is ResourceState.DELETED:
        return Plan(problems=[f"{resource.resource_id} is deleted"], permissions=permissions, before=before)
    problems = []
    if request.region is not None and request.region != resource.region:
        problems.append(f"{resource.resource_id} is in {resource.region}, not {request.region}")
    problems += state_problems(request, resource)
    if problems:
        return Plan(problems=problems, permissions=permissions, before=before)
    problems, actions = sandbox_actions(request, resource, at)
    if problems:
        return Plan(problems=problems, permissions=permissions, before=before)
    changed, undo = estate, []
    try:
        for action in actions:
            outcome = apply_action(changed, action)
            changed = outcome.estate
            undo.append(outcome.rollback)
    except (KeyError, ValueError) as exc:
        return Plan(problems=[f"{resource.resource_id}: {exc}"], permissions=permissions, before=before)
    after = describe(changed.resource(resource.resource_id))
    snapshot_id = None
    if request.kind is ActionKind.SNAPSHOT_AND_DELETE_DISK:
        snapshot_id = synthetic_snapshot_id(resource, key)
        after["snapshot_id"] = snapshot_id
    return Plan(
        problems=[],
        permissions=permissions,
        actions=tuple(actions),
        undo=tuple(reversed(undo)),
        rollback=rollback_plan(request, resource, snapshot_id if key != DRY_RUN else None),
        before=before,
        after=after,
    )
