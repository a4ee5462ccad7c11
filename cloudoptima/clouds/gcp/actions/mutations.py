"""The changing calls of each Compute action, each sent with a requestId derived from the idempotency key."""

from __future__ import annotations

import uuid
from typing import Any

from google.cloud import compute_v1

from cloudoptima.clouds.gcp import targets
from cloudoptima.clouds.gcp.actions.checks import current_state, snapshot_name
from cloudoptima.clouds.gcp.inventory import relative_name
from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.gcp.targets import Target
from cloudoptima.clouds.protocol import ActionKind, ActionRequest

_NAMESPACE = uuid.UUID("6f1c33c8-4c36-4f59-9d61-2b0d1c7a2a11")


def wait(session: GcpSession, call: Any, scope: str) -> None:
    """Run ``call`` (which starts an operation) and wait for the operation (``operation_timeout``)."""
    timeout = session.settings.operation_timeout
    session.call(lambda: call().result(timeout=timeout), scope)


def act(session: GcpSession, request: ActionRequest, target: Target, key: str) -> dict[str, Any]:
    """Perform ``request`` on ``target`` (validated); every mutating call carries a requestId derived from ``key``."""
    s, p, loc, name, kind = session, target.project, target.location, target.name, request.kind
    c = compute_v1

    def rid(step: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{key}/{step}"))

    instances = s.rest_client("compute", c.InstancesClient)
    disks = s.rest_client("compute", c.DisksClient)
    retry = s.retry
    if kind in (ActionKind.STOP, ActionKind.START, ActionKind.RESIZE):
        current = targets.fetch(s, target)
        was_running = current is not None and current.status == "RUNNING"
        where: dict[str, Any] = {"project": p, "zone": loc, "instance": name}
        if kind == ActionKind.STOP or (kind == ActionKind.RESIZE and was_running):
            stop = c.StopInstanceRequest(**where, request_id=rid("stop"))
            wait(s, lambda: instances.stop(request=stop, retry=retry), "stop")
        if kind == ActionKind.RESIZE:
            body = c.InstancesSetMachineTypeRequest(
                machine_type=f"zones/{loc}/machineTypes/{request.parameters['size']}"
            )
            resize = c.SetMachineTypeInstanceRequest(
                **where, instances_set_machine_type_request_resource=body, request_id=rid("resize")
            )
            wait(s, lambda: instances.set_machine_type(request=resize, retry=retry), "setMachineType")
        if kind == ActionKind.START or (kind == ActionKind.RESIZE and was_running):
            start = c.StartInstanceRequest(**where, request_id=rid("start"))
            wait(s, lambda: instances.start(request=start, retry=retry), "start")
    elif kind == ActionKind.SNAPSHOT_AND_DELETE_DISK:
        snap = c.Snapshot(name=snapshot_name(name, target.resource_id), labels={"cloudoptima": "backup"})
        create = c.CreateSnapshotDiskRequest(
            project=p, zone=loc, disk=name, snapshot_resource=snap, request_id=rid("snapshot")
        )
        wait(s, lambda: disks.create_snapshot(request=create, retry=retry), "createSnapshot")
        delete = c.DeleteDiskRequest(project=p, zone=loc, disk=name, request_id=rid("delete"))
        wait(s, lambda: disks.delete(request=delete, retry=retry), "deleteDisk")
        return {"deleted": target.resource_id, "snapshot": f"projects/{p}/global/snapshots/{snap.name}"}
    elif kind == ActionKind.RESTORE_DISK:
        params = request.parameters
        disk = c.Disk(
            name=name,
            size_gb=int(params["size_gb"]),
            type_=f"zones/{loc}/diskTypes/{params['disk_type']}",
            source_snapshot=relative_name(str(params["snapshot_id"])),
            labels={str(k): str(v) for k, v in dict(params.get("tags") or {}).items()},
        )
        insert = c.InsertDiskRequest(project=p, zone=loc, disk_resource=disk, request_id=rid("restore"))
        wait(s, lambda: disks.insert(request=insert, retry=retry), "insertDisk")
        created = targets.fetch(s, target)
        return {
            "disk_id": target.resource_id,
            "snapshot_id": disk.source_snapshot,
            "size_gb": int(created.size_gb) if created is not None else None,
        }
    elif kind == ActionKind.DELETE_SNAPSHOT:
        snapshots = s.rest_client("compute", c.SnapshotsClient)
        drop = c.DeleteSnapshotRequest(project=p, snapshot=name, request_id=rid("delete"))
        wait(s, lambda: snapshots.delete(request=drop, retry=retry), "deleteSnapshot")
        return {"deleted": target.resource_id}
    elif kind == ActionKind.RELEASE_IP:
        addresses = s.rest_client("compute", c.AddressesClient)
        current = targets.fetch(s, target)
        release = c.DeleteAddressRequest(project=p, region=loc, address=name, request_id=rid("delete"))
        wait(s, lambda: addresses.delete(request=release, retry=retry), "release")
        return {"deleted": target.resource_id, "released_ip": current.address if current else None}
    else:
        set_labels(s, request, target, rid("labels"))
    return current_state(target, targets.fetch(s, target))


def set_labels(session: GcpSession, request: ActionRequest, target: Target, request_id: str) -> None:
    """``setLabels`` with the current ``labelFingerprint``: merge (tag) or drop keys and put values back (untag)."""
    s, c = session, compute_v1
    current = targets.fetch(s, target)
    labels = dict(current.labels) if current is not None else {}
    if request.kind == ActionKind.TAG:
        labels |= {str(k): str(v) for k, v in dict(request.parameters["tags"]).items()}
    else:
        for k in request.parameters.get("keys") or []:
            labels.pop(str(k), None)
        labels |= {str(k): str(v) for k, v in dict(request.parameters.get("tags") or {}).items()}
    fingerprint = current.label_fingerprint if current is not None else ""
    common: dict[str, Any] = {"project": target.project, "request_id": request_id}
    client: Any
    body: Any
    if target.kind == "instance":
        client = s.rest_client("compute", c.InstancesClient)
        body = c.SetLabelsInstanceRequest(
            **common,
            zone=target.location,
            instance=target.name,
            instances_set_labels_request_resource=c.InstancesSetLabelsRequest(
                labels=labels, label_fingerprint=fingerprint
            ),
        )
    elif target.kind == "disk":
        client = s.rest_client("compute", c.DisksClient)
        body = c.SetLabelsDiskRequest(
            **common,
            zone=target.location,
            resource=target.name,
            zone_set_labels_request_resource=c.ZoneSetLabelsRequest(
                labels=labels, label_fingerprint=fingerprint
            ),
        )
    elif target.kind == "snapshot":
        client = s.rest_client("compute", c.SnapshotsClient)
        body = c.SetLabelsSnapshotRequest(
            **common,
            resource=target.name,
            global_set_labels_request_resource=c.GlobalSetLabelsRequest(
                labels=labels, label_fingerprint=fingerprint
            ),
        )
    else:
        client = s.rest_client("compute", c.AddressesClient)
        body = c.SetLabelsAddressRequest(
            **common,
            region=target.location,
            resource=target.name,
            region_set_labels_request_resource=c.RegionSetLabelsRequest(
                labels=labels, label_fingerprint=fingerprint
            ),
        )
    wait(s, lambda: client.set_labels(request=body, retry=s.retry), "setLabels")
