"""What each Compute action needs and leaves, read-only: permissions, current state, preconditions, rollback.

Everything here is pure or reads (machine types); :mod:`cloudoptima.clouds.gcp.actions.runner` decides,
:mod:`cloudoptima.clouds.gcp.actions.mutations` changes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from cloudoptima.clouds.gcp import targets
from cloudoptima.clouds.gcp.inventory import last_segment, relative_name
from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.gcp.targets import Target
from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRequest,
    RollbackPlan,
)

PERMISSIONS: dict[ActionKind, tuple[str, ...]] = {
    ActionKind.STOP: ("compute.instances.stop",),
    ActionKind.START: ("compute.instances.start",),
    ActionKind.RESIZE: (
        "compute.instances.stop",
        "compute.instances.setMachineType",
        "compute.instances.start",
    ),
    ActionKind.SNAPSHOT_AND_DELETE_DISK: (
        "compute.disks.createSnapshot",
        "compute.snapshots.create",
        "compute.disks.delete",
    ),
    ActionKind.RESTORE_DISK: ("compute.disks.create", "compute.snapshots.useReadOnly"),
    ActionKind.DELETE_SNAPSHOT: ("compute.snapshots.delete",),
    ActionKind.RELEASE_IP: ("compute.addresses.delete",),
}
_LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_STOPPED = {"TERMINATED", "STOPPED"}
RESTORE_REQUIRED = ("snapshot_id", "zone", "disk_type", "size_gb")
RESTORE_NOTE = (
    "restore_disk re-creates the disk under the same name, so the same resource id (after.disk_id); Compute "
    "still makes a new disk (new numeric id and creation time), and it is not attached to anything"
)


def label_permission(target: Target) -> str:
    """The setLabels permission for the target's kind."""
    return f"compute.{target.kind}s.setLabels"


def snapshot_name(disk_name: str, resource_id: str) -> str:
    """A valid, deterministic snapshot name for a disk (≤ 63 chars)."""
    digest = hashlib.sha256(resource_id.encode()).hexdigest()[:8]
    return f"{disk_name[:50]}-co-{digest}"


def current_state(target: Target, obj: Any) -> dict[str, Any]:
    """The part of ``obj`` (the fetched resource) an action changes or checks: id, labels, status, size."""
    state: dict[str, Any] = {"resource_id": target.resource_id, "labels": dict(obj.labels)}
    if target.kind == "instance":
        state |= {"status": obj.status, "machine_type": last_segment(obj.machine_type)}
    elif target.kind == "disk":
        state |= {"users": [relative_name(u) for u in obj.users], "size_gb": int(obj.size_gb)}
    elif target.kind == "address":
        state |= {"status": obj.status, "address": obj.address}
    else:
        state |= {"source_disk": relative_name(obj.source_disk), "disk_size_gb": int(obj.disk_size_gb)}
    return state


def preconditions(session: GcpSession, request: ActionRequest, target: Target, obj: Any) -> list[str]:
    """Why ``request`` cannot run on ``obj`` now (empty when it can); reads machine types only."""
    rid, kind = request.resource_id, request.kind
    if kind == ActionKind.STOP and obj.status != "RUNNING":
        return [f"{rid} is {obj.status}, stop needs RUNNING"]
    if kind == ActionKind.START and obj.status not in _STOPPED:
        return [f"{rid} is {obj.status}, start needs TERMINATED"]
    if kind == ActionKind.RESIZE:
        size = str(request.parameters.get("size", ""))
        if not size:
            return [f"resize of {rid} needs parameters.size"]
        if size == last_segment(obj.machine_type):
            return [f"{rid} already is {size}"]
        if obj.status not in _STOPPED | {"RUNNING"}:
            return [f"{rid} is {obj.status}, resize needs RUNNING or TERMINATED"]
        if not targets.machine_type_exists(session, target.location, size):
            return [f"unknown machine type {size} in zone {target.location} for {rid}"]
    if kind == ActionKind.SNAPSHOT_AND_DELETE_DISK and obj.users:
        return [f"{rid} is attached to {', '.join(relative_name(u) for u in obj.users)}"]
    if kind == ActionKind.RELEASE_IP and obj.status != "RESERVED":
        return [f"{rid} ({obj.address}) is {obj.status}, release needs RESERVED (unused)"]
    if kind == ActionKind.TAG:
        tags = request.parameters.get("tags")
        if not isinstance(tags, dict) or not tags:
            return [f"tag of {rid} needs parameters.tags"]
        bad = [
            f"{k}={v}" for k, v in tags.items() if not _LABEL.match(str(k)) or not _LABEL_VALUE.match(str(v))
        ]
        if bad:
            return [f"invalid GCP labels for {rid}: {', '.join(bad)} (lowercase, digits, _ and -)"]
    if kind == ActionKind.UNTAG and not isinstance(request.parameters.get("keys"), list):
        return [f"untag of {rid} needs parameters.keys"]
    return []


def rollback_plan(request: ActionRequest, target: Target, obj: Any) -> RollbackPlan:
    """How to undo ``request`` on ``obj``: the inverse action, or why it is irreversible with evidence."""
    rid, kind, region = target.resource_id, request.kind, request.region
    if kind == ActionKind.STOP:
        return RollbackPlan(action=ActionRequest(kind=ActionKind.START, resource_id=rid, region=region))
    if kind == ActionKind.START:
        return RollbackPlan(action=ActionRequest(kind=ActionKind.STOP, resource_id=rid, region=region))
    if kind == ActionKind.RESIZE:
        back = {"size": last_segment(obj.machine_type)}
        return RollbackPlan(
            action=ActionRequest(kind=ActionKind.RESIZE, resource_id=rid, region=region, parameters=back)
        )
    if kind in (ActionKind.TAG, ActionKind.UNTAG):
        return label_rollback(request, rid, dict(obj.labels))
    if kind == ActionKind.SNAPSHOT_AND_DELETE_DISK:
        restore = {
            "snapshot_id": f"projects/{target.project}/global/snapshots/{snapshot_name(obj.name, rid)}",
            "name": obj.name,
            "zone": target.location,
            "disk_type": last_segment(obj.type_),
            "size_gb": int(obj.size_gb),
            "tags": dict(obj.labels),
        }
        action = ActionRequest(
            kind=ActionKind.RESTORE_DISK, resource_id=rid, region=region, parameters=restore
        )
        return RollbackPlan(action=action, evidence={**restore, "note": RESTORE_NOTE})
    if kind == ActionKind.DELETE_SNAPSHOT:
        return RollbackPlan(
            irreversible=f"snapshot {rid} and its data are deleted permanently",
            evidence={
                "source_disk": relative_name(obj.source_disk),
                "disk_size_gb": int(obj.disk_size_gb),
            },
        )
    return RollbackPlan(
        irreversible=f"address {obj.address} returns to Google's pool and cannot be reserved again",
        evidence={"address": obj.address, "region": target.location},
    )


def label_rollback(request: ActionRequest, rid: str, labels: dict[str, str]) -> RollbackPlan:
    """The inverse of a tag/untag given the labels before it (an untag may put overwritten values back)."""
    region = request.region
    if request.kind == ActionKind.TAG:
        tags = {str(k): str(v) for k, v in dict(request.parameters.get("tags") or {}).items()}
        added = [k for k in tags if k not in labels]
        restore = {k: labels[k] for k in tags if k in labels and labels[k] != tags[k]}
        params: dict[str, Any] = {"keys": added} | ({"tags": restore} if restore else {})
        return RollbackPlan(
            action=ActionRequest(kind=ActionKind.UNTAG, resource_id=rid, region=region, parameters=params)
        )
    keys = [str(k) for k in request.parameters.get("keys") or []]
    removed = {k: labels[k] for k in keys if k in labels}
    return RollbackPlan(
        action=ActionRequest(
            kind=ActionKind.TAG, resource_id=rid, region=region, parameters={"tags": removed}
        )
        if removed
        else None,
        evidence={"removed": removed},
    )


# ----- execution -----------------------------------------------------------------------------
