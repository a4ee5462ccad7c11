"""Validation of RESTORE_DISK, the rollback of snapshot-and-delete: the snapshot must exist and the disk must not."""

from __future__ import annotations

from cloudoptima.clouds.gcp import targets
from cloudoptima.clouds.gcp.actions.checks import PERMISSIONS, RESTORE_REQUIRED
from cloudoptima.clouds.gcp.actions.permissions import missing_permissions
from cloudoptima.clouds.gcp.inventory import last_segment, relative_name
from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.gcp.targets import Target
from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRequest,
    ActionValidation,
    RollbackPlan,
)


def validate_restore(session: GcpSession, request: ActionRequest, target: Target) -> ActionValidation:
    """Validation of RESTORE_DISK: parameters, permissions, the snapshot (exists, READY, fits) and no disk in the way."""
    rid, params = request.resource_id, request.parameters
    needs = [
        f"restore_disk of {rid} needs parameters.{k}" for k in RESTORE_REQUIRED if params.get(k) in (None, "")
    ]
    if not needs and not str(params["size_gb"]).isdigit():
        needs = [f"restore_disk of {rid} needs a whole number in parameters.size_gb"]
    if needs:
        return ActionValidation(ok=False, problems=needs)
    missing = missing_permissions(session, list(PERMISSIONS[ActionKind.RESTORE_DISK]))
    problems = [f"missing permission {p} on projects/{session.project}" for p in missing]
    if str(params["zone"]) != target.location:
        problems.append(f"parameters.zone {params['zone']} is not the zone of {rid} ({target.location})")
    if params.get("name") and str(params["name"]) != target.name:
        problems.append(f"parameters.name {params['name']} is not the name of {rid} ({target.name})")
    snapshot_id = relative_name(str(params["snapshot_id"]))
    parts = snapshot_id.split("/")
    project = parts[1] if len(parts) == 5 and parts[0] == "projects" else session.project
    snapshot = targets.fetch(session, Target("snapshot", project, "global", last_segment(snapshot_id)))
    if snapshot is None:
        problems.append(f"snapshot {snapshot_id} (to restore {rid}) not found")
        return ActionValidation(ok=False, problems=problems, missing_permissions=missing)
    if snapshot.status != "READY":
        problems.append(f"snapshot {snapshot_id} is {snapshot.status}, restore needs READY")
    if int(params["size_gb"]) < int(snapshot.disk_size_gb):
        problems.append(
            f"parameters.size_gb {params['size_gb']} is smaller than snapshot {snapshot_id} "
            f"({snapshot.disk_size_gb} GB)"
        )
    if targets.fetch(session, target) is not None:
        problems.append(f"disk {rid} still exists; there is nothing to restore")
    rollback = RollbackPlan(
        evidence={
            "disk_id": target.resource_id,
            "snapshot_id": snapshot_id,
            "note": "undoing a restore means deleting the restored disk (after.disk_id); that is left "
            "to a person: the protocol has no plain delete-disk action and the snapshot is kept",
        }
    )
    return ActionValidation(
        ok=not problems,
        problems=problems,
        missing_permissions=missing,
        current_state={
            "snapshot_id": snapshot_id,
            "snapshot_size_gb": int(snapshot.disk_size_gb),
            "restores": target.resource_id,
        },
        rollback=rollback,
    )
