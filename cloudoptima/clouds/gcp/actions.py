"""Remediation actions on Compute resources: validate (dry run) and execute (once per idempotency key).

Contract:

- :meth:`ActionRunner.validate` resolves the target, asks ``projects.testIamPermissions`` for exactly the
  permissions the action uses (:data:`PERMISSIONS`), reads the resource and checks preconditions. It changes
  nothing and returns the rollback plan the execution would give.
- :meth:`ActionRunner.execute` records ``key → ActionResult`` (a repeated key returns the first result
  without acting) and sends a ``requestId`` derived from the key with every mutating call, so a retried
  call is deduplicated by Compute too. Missing permissions raise :class:`CredentialsError`, failed
  preconditions :class:`ActionRefusedError`. Operations are waited for (``operation_timeout``).
- stop ↔ start; resize stops a running instance, calls ``setMachineType`` and starts it again (rollback:
  resize back); unknown machine types are refused. snapshot-and-delete-disk snapshots an unattached disk
  then deletes it; its rollback is RESTORE_DISK with the disk's name, zone, type, size, labels and the
  snapshot id (the snapshot name is derived from the disk, so a dry run already knows it).
- restore-disk inserts a disk with the old name (so the same resource id; Compute still makes a new disk
  with a new numeric id) from the snapshot. It is refused while a disk of that name exists, when the
  snapshot is missing or not READY, when a required parameter (:data:`RESTORE_REQUIRED`) is absent or the
  zone differs from the resource id's. Its rollback has no action: undoing it means deleting the disk,
  which the protocol can only say as another snapshot-and-delete; the evidence names the disk so a person
  can delete it. Deleting a snapshot and releasing an address are irreversible (the IP is recorded).
- tag/untag are labels (``setLabels`` with the current ``labelFingerprint``). An untag may also carry
  ``{"tags": {...}}`` to put back values a tag overwrote (``setLabels`` replaces the map atomically).
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from typing import Any

from google.cloud import compute_v1, resourcemanager_v3
from google.iam.v1 import iam_policy_pb2

from cloudoptima.clouds.gcp import targets
from cloudoptima.clouds.gcp.inventory import last_segment, relative_name
from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.gcp.targets import Target
from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRefusedError,
    ActionRequest,
    ActionResult,
    ActionValidation,
    CredentialsError,
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
_NAMESPACE = uuid.UUID("6f1c33c8-4c36-4f59-9d61-2b0d1c7a2a11")
RESTORE_REQUIRED = ("snapshot_id", "zone", "disk_type", "size_gb")
RESTORE_NOTE = (
    "restore_disk re-creates the disk under the same name, so the same resource id (after.disk_id); Compute "
    "still makes a new disk (new numeric id and creation time), and it is not attached to anything"
)


def label_permission(target: Target) -> str:
    """The setLabels permission for the target's kind."""
    return f"compute.{target.kind}s.setLabels"


class ActionRunner:
    """Validates and executes actions for one project; remembers results per idempotency key."""

    def __init__(self, session: GcpSession) -> None:
        self.session = session
        self._results: dict[str, ActionResult] = {}
        self._lock = threading.Lock()

    # ----- validation ----------------------------------------------------------------------------

    def missing_permissions(self, permissions: list[str]) -> list[str]:
        """Those of ``permissions`` the caller lacks on the project (``testIamPermissions``)."""
        client = self.session.rest_client("resourcemanager", resourcemanager_v3.ProjectsClient)
        request = iam_policy_pb2.TestIamPermissionsRequest(
            resource=f"projects/{self.session.project}", permissions=permissions
        )
        held = self.session.call(
            lambda: client.test_iam_permissions(request=request, retry=self.session.retry),
            "resourcemanager/testIamPermissions",
        )
        return [p for p in permissions if p not in set(held.permissions)]

    def validate(self, request: ActionRequest) -> ActionValidation:
        """Permissions, preconditions and rollback plan of ``request``; changes nothing."""
        target = targets.resolve(self.session, request)
        if isinstance(target, str):
            return ActionValidation(ok=False, problems=[target])
        if request.kind == ActionKind.RESTORE_DISK:
            return self._validate_restore(request, target)
        needed = list(PERMISSIONS.get(request.kind, (label_permission(target),)))
        missing = self.missing_permissions(needed)
        problems = [f"missing permission {p} on projects/{self.session.project}" for p in missing]
        current = targets.fetch(self.session, target)
        if current is None:
            problems.append(f"{target.kind} {request.resource_id} not found")
            return ActionValidation(ok=False, problems=problems, missing_permissions=missing)
        state = self._state(target, current)
        problems.extend(self._preconditions(request, target, current))
        rollback = self._rollback(request, target, current)
        return ActionValidation(
            ok=not problems,
            problems=problems,
            missing_permissions=missing,
            current_state=state,
            rollback=rollback,
        )

    def _validate_restore(self, request: ActionRequest, target: Target) -> ActionValidation:
        rid, params = request.resource_id, request.parameters
        needs = [
            f"restore_disk of {rid} needs parameters.{k}"
            for k in RESTORE_REQUIRED
            if params.get(k) in (None, "")
        ]
        if not needs and not str(params["size_gb"]).isdigit():
            needs = [f"restore_disk of {rid} needs a whole number in parameters.size_gb"]
        if needs:
            return ActionValidation(ok=False, problems=needs)
        missing = self.missing_permissions(list(PERMISSIONS[ActionKind.RESTORE_DISK]))
        problems = [f"missing permission {p} on projects/{self.session.project}" for p in missing]
        if str(params["zone"]) != target.location:
            problems.append(f"parameters.zone {params['zone']} is not the zone of {rid} ({target.location})")
        if params.get("name") and str(params["name"]) != target.name:
            problems.append(f"parameters.name {params['name']} is not the name of {rid} ({target.name})")
        snapshot_id = relative_name(str(params["snapshot_id"]))
        parts = snapshot_id.split("/")
        project = parts[1] if len(parts) == 5 and parts[0] == "projects" else self.session.project
        snapshot = targets.fetch(
            self.session, Target("snapshot", project, "global", last_segment(snapshot_id))
        )
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
        if targets.fetch(self.session, target) is not None:
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

    def _state(self, target: Target, obj: Any) -> dict[str, Any]:
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

    def _preconditions(self, request: ActionRequest, target: Target, obj: Any) -> list[str]:
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
            if not targets.machine_type_exists(self.session, target.location, size):
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
                f"{k}={v}"
                for k, v in tags.items()
                if not _LABEL.match(str(k)) or not _LABEL_VALUE.match(str(v))
            ]
            if bad:
                return [f"invalid GCP labels for {rid}: {', '.join(bad)} (lowercase, digits, _ and -)"]
        if kind == ActionKind.UNTAG and not isinstance(request.parameters.get("keys"), list):
            return [f"untag of {rid} needs parameters.keys"]
        return []

    def _rollback(self, request: ActionRequest, target: Target, obj: Any) -> RollbackPlan:
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
            return self._label_rollback(request, rid, dict(obj.labels))
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

    def _label_rollback(self, request: ActionRequest, rid: str, labels: dict[str, str]) -> RollbackPlan:
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

    def execute(self, request: ActionRequest, key: str) -> ActionResult:
        """Run ``request`` once for ``key`` (see module docstring)."""
        with self._lock:
            if key in self._results:
                return self._results[key]
            verdict = self.validate(request)
            if verdict.missing_permissions:
                raise CredentialsError(
                    f"{request.kind.value} on {request.resource_id}: missing {', '.join(verdict.missing_permissions)}",
                    permission=verdict.missing_permissions[0],
                )
            if not verdict.ok or verdict.rollback is None:
                raise ActionRefusedError("; ".join(verdict.problems) or f"{request.resource_id} refused")
            target = targets.resolve(self.session, request)
            assert isinstance(target, Target)
            after = self._act(request, target, key)
            result = ActionResult(
                request=request,
                idempotency_key=key,
                status="succeeded",
                before=verdict.current_state,
                after=after,
                rollback=verdict.rollback,
            )
            self._results[key] = result
            return result

    def _wait(self, call: Any, scope: str) -> None:
        timeout = self.session.settings.operation_timeout
        self.session.call(lambda: call().result(timeout=timeout), scope)

    def _act(self, request: ActionRequest, target: Target, key: str) -> dict[str, Any]:
        s, p, loc, name, kind = self.session, target.project, target.location, target.name, request.kind
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
                self._wait(lambda: instances.stop(request=stop, retry=retry), "stop")
            if kind == ActionKind.RESIZE:
                body = c.InstancesSetMachineTypeRequest(
                    machine_type=f"zones/{loc}/machineTypes/{request.parameters['size']}"
                )
                resize = c.SetMachineTypeInstanceRequest(
                    **where, instances_set_machine_type_request_resource=body, request_id=rid("resize")
                )
                self._wait(lambda: instances.set_machine_type(request=resize, retry=retry), "setMachineType")
            if kind == ActionKind.START or (kind == ActionKind.RESIZE and was_running):
                start = c.StartInstanceRequest(**where, request_id=rid("start"))
                self._wait(lambda: instances.start(request=start, retry=retry), "start")
        elif kind == ActionKind.SNAPSHOT_AND_DELETE_DISK:
            snap = c.Snapshot(name=snapshot_name(name, target.resource_id), labels={"cloudoptima": "backup"})
            create = c.CreateSnapshotDiskRequest(
                project=p, zone=loc, disk=name, snapshot_resource=snap, request_id=rid("snapshot")
            )
            self._wait(lambda: disks.create_snapshot(request=create, retry=retry), "createSnapshot")
            delete = c.DeleteDiskRequest(project=p, zone=loc, disk=name, request_id=rid("delete"))
            self._wait(lambda: disks.delete(request=delete, retry=retry), "deleteDisk")
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
            self._wait(lambda: disks.insert(request=insert, retry=retry), "insertDisk")
            created = targets.fetch(s, target)
            return {
                "disk_id": target.resource_id,
                "snapshot_id": disk.source_snapshot,
                "size_gb": int(created.size_gb) if created is not None else None,
            }
        elif kind == ActionKind.DELETE_SNAPSHOT:
            snapshots = s.rest_client("compute", c.SnapshotsClient)
            drop = c.DeleteSnapshotRequest(project=p, snapshot=name, request_id=rid("delete"))
            self._wait(lambda: snapshots.delete(request=drop, retry=retry), "deleteSnapshot")
            return {"deleted": target.resource_id}
        elif kind == ActionKind.RELEASE_IP:
            addresses = s.rest_client("compute", c.AddressesClient)
            current = targets.fetch(s, target)
            release = c.DeleteAddressRequest(project=p, region=loc, address=name, request_id=rid("delete"))
            self._wait(lambda: addresses.delete(request=release, retry=retry), "release")
            return {"deleted": target.resource_id, "released_ip": current.address if current else None}
        else:
            self._set_labels(request, target, rid("labels"))
        return self._state(target, targets.fetch(s, target))

    def _set_labels(self, request: ActionRequest, target: Target, request_id: str) -> None:
        s, c = self.session, compute_v1
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
        self._wait(lambda: client.set_labels(request=body, retry=s.retry), "setLabels")


def snapshot_name(disk_name: str, resource_id: str) -> str:
    """A valid, deterministic snapshot name for a disk (≤ 63 chars)."""
    digest = hashlib.sha256(resource_id.encode()).hexdigest()[:8]
    return f"{disk_name[:50]}-co-{digest}"
