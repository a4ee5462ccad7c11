"""The rollback plan of each protocol action on the sandbox (the inverse request, or why there is none)."""

from __future__ import annotations

from typing import Any

from cloudoptima.clouds.protocol import ActionKind, ActionRequest, RollbackPlan
from cloudoptima.clouds.sandbox.remediation.plan import RESTORE_NOTE, describe
from cloudoptima.domain.inventory import (
    DiskAttributes,
    InstanceAttributes,
    Resource,
)


def rollback_plan(request: ActionRequest, resource: Resource, snapshot_id: str | None) -> RollbackPlan:
    """How to undo ``request`` on ``resource``; ``snapshot_id`` is the snapshot a disk deletion takes (None in a dry run)."""
    rid, region, kind = resource.resource_id, resource.region, request.kind
    evidence: dict[str, Any] = {"before": describe(resource)}
    if kind is ActionKind.STOP:
        return RollbackPlan(
            action=ActionRequest(kind=ActionKind.START, resource_id=rid, region=region), evidence=evidence
        )
    if kind is ActionKind.START:
        return RollbackPlan(
            action=ActionRequest(kind=ActionKind.STOP, resource_id=rid, region=region), evidence=evidence
        )
    if kind is ActionKind.RESIZE:
        assert isinstance(resource.attributes, InstanceAttributes)
        back = ActionRequest(
            kind=ActionKind.RESIZE,
            resource_id=rid,
            region=region,
            parameters={"size": resource.attributes.instance_type},
        )
        return RollbackPlan(action=back, evidence=evidence)
    if kind is ActionKind.TAG:
        tags: dict[str, str] = request.parameters["tags"]
        untag: dict[str, Any] = {"keys": sorted(tags)}
        previous = {k: resource.tags[k] for k in sorted(tags) if k in resource.tags}
        if previous:
            untag["restore"] = previous
        return RollbackPlan(
            action=ActionRequest(kind=ActionKind.UNTAG, resource_id=rid, region=region, parameters=untag),
            evidence=evidence,
        )
    if kind is ActionKind.UNTAG:
        removed = {k: resource.tags[k] for k in request.parameters["keys"] if k in resource.tags}
        if not removed:
            return RollbackPlan(evidence=evidence)
        back = ActionRequest(
            kind=ActionKind.TAG, resource_id=rid, region=region, parameters={"tags": removed}
        )
        return RollbackPlan(action=back, evidence=evidence)
    if kind is ActionKind.SNAPSHOT_AND_DELETE_DISK:
        assert isinstance(resource.attributes, DiskAttributes)
        evidence |= {"snapshot_id": snapshot_id, "note": RESTORE_NOTE}
        parameters: dict[str, Any] = {
            "size_gb": resource.attributes.size_gb,
            "disk_type": resource.attributes.disk_type,
            "region": region,
            "name": resource.name,
            "tags": dict(resource.tags),
        }
        if snapshot_id is not None:
            parameters["snapshot_id"] = snapshot_id
        restore = ActionRequest(
            kind=ActionKind.RESTORE_DISK, resource_id=rid, region=region, parameters=parameters
        )
        return RollbackPlan(action=restore, evidence=evidence)
    if kind is ActionKind.DELETE_SNAPSHOT:
        return RollbackPlan(irreversible=f"the data of snapshot {rid} is deleted", evidence=evidence)
    return RollbackPlan(
        irreversible="a released address returns to the provider's pool; a new one will differ",
        evidence=evidence,
    )
