"""restore_disk on the sandbox: a recorded snapshot of the disk brings the deleted disk back, unattached."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cloudoptima.clouds.protocol import ActionKind, ActionRequest, RollbackPlan
from cloudoptima.clouds.sandbox.actions import Action, apply_action
from cloudoptima.clouds.sandbox.actions import ActionKind as SandboxKind
from cloudoptima.clouds.sandbox.estate import Estate
from cloudoptima.clouds.sandbox.remediation.plan import ACTION_PERMISSIONS, RESTORE_REQUIRED, Plan, describe
from cloudoptima.domain.inventory import (
    DiskAttributes,
    ResourceState,
)


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if str(number) == str(value).strip() else None


def plan_restore(
    estate: Estate, account_id: str, request: ActionRequest, at: datetime, snapshots: Mapping[str, str]
) -> Plan:
    """restore_disk: complete parameters, a recorded snapshot of this disk, the disk still deleted."""
    rid, params = request.resource_id, request.parameters
    permissions = ACTION_PERMISSIONS[ActionKind.RESTORE_DISK]
    absent = [k for k in RESTORE_REQUIRED if params.get(k) in (None, "")]
    if absent:
        return Plan(
            problems=[f"restore_disk of {rid} needs parameters.{k}" for k in absent], permissions=permissions
        )
    snapshot_id = str(params["snapshot_id"])
    source = snapshots.get(snapshot_id)
    if source is None:
        problem = f"snapshot {snapshot_id} (to restore {rid}) does not exist in account {account_id}"
        return Plan(problems=[problem], permissions=permissions)
    try:
        resource = estate.resource(rid)
    except KeyError:
        resource = None
    if resource is None or resource.account_id != account_id:
        return Plan(problems=[f"disk {rid} was never in account {account_id}"], permissions=permissions)
    before = describe(resource) | {"snapshot_id": snapshot_id}
    attributes = resource.attributes
    problems: list[str] = []
    if source != rid:
        problems.append(f"snapshot {snapshot_id} was taken of {source}, not {rid}")
    if resource.state is not ResourceState.DELETED:
        problems.append(f"disk {rid} still exists; there is nothing to restore")
    if str(params["region"]) != resource.region or request.region not in (None, resource.region):
        problems.append(f"{rid} was in {resource.region}, not {params['region']}")
    size = _whole_number(params["size_gb"])
    if not isinstance(attributes, DiskAttributes) or size is None:
        problems.append(f"restore_disk of {rid} needs a whole-number parameters.size_gb for a disk")
    elif size < attributes.size_gb:
        problems.append(
            f"parameters.size_gb {size} is smaller than snapshot {snapshot_id} ({attributes.size_gb} GB)"
        )
    tags = params.get("tags") or {}
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        problems.append(f"restore_disk parameters.tags of {rid} must be a {{str: str}} mapping")
    if problems:
        return Plan(problems=problems, permissions=permissions, before=before)
    assert isinstance(attributes, DiskAttributes)
    disk = attributes.model_copy(
        update={
            "size_gb": size,
            "disk_type": str(params["disk_type"]),
            "attached_to": None,
            "detached_at": None,
        }
    )
    restored = resource.model_copy(
        update={
            "name": str(params.get("name") or resource.name),
            "tags": dict(tags),
            "attributes": disk,
            "state": ResourceState.AVAILABLE,
            "created_at": at,
            "deleted_at": None,
            "stopped_at": None,
        }
    )
    action = Action(kind=SandboxKind.RESTORE, resource_id=rid, at=at, previous=(restored,))
    try:
        outcome = apply_action(estate, action)
    except (KeyError, ValueError) as exc:
        return Plan(problems=[f"{rid}: {exc}"], permissions=permissions, before=before)
    rollback = RollbackPlan(
        evidence={
            "disk_id": rid,
            "snapshot_id": snapshot_id,
            "note": "undoing a restore means deleting the restored disk (after.disk_id); that is left to a "
            "person (or SandboxProvider.undo): the protocol has no plain delete-disk action",
        }
    )
    after = describe(outcome.estate.resource(rid)) | {"disk_id": rid, "snapshot_id": snapshot_id}
    return Plan(
        problems=[],
        permissions=permissions,
        actions=(action,),
        undo=(outcome.rollback,),
        rollback=rollback,
        before=before,
        after=after,
    )
