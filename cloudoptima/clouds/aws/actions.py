"""Execution of EC2 remediation actions, once per idempotency key, with a rollback plan.

Contract:

- :meth:`ActionRunner.execute` first returns the stored result of a known key without acting; otherwise it
  validates (see :mod:`.action_checks`), raising :class:`ActionRefusedError` for failed preconditions and
  :class:`CredentialsError` for denied permissions, then acts, waits for the end state and stores the result.
- Resize stops a running instance, changes its type and starts it again (if the type change fails, the
  instance is started again before the error escapes); its rollback resizes back.
- Snapshot-and-delete snapshots the volume, waits for the snapshot to complete, then deletes the volume;
  its rollback is a RESTORE_DISK action whose parameters are the volume's shape plus the snapshot id.
- Restore-disk creates a new volume (new id, returned as ``after["disk_id"]``) from the snapshot with the
  idempotency key as ``ClientToken`` and waits until it is available. Its rollback has no action: undoing
  it means deleting a volume, which the protocol can only express as another snapshot-and-delete; the
  evidence names the created volume so a person can delete it.
- Deleting a snapshot and releasing an address are irreversible; the evidence records what was removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudoptima.clouds.aws.action_checks import MANAGED_BY_TAG, Target, create_volume_params, validate
from cloudoptima.clouds.aws.ec2_inventory import InstanceTypeBook
from cloudoptima.clouds.aws.errors import aws_errors
from cloudoptima.clouds.aws.idempotency import IdempotencyStore
from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRefusedError,
    ActionRequest,
    ActionResult,
    ActionValidation,
    CredentialsError,
)


class ActionRunner:
    """Validates and executes actions. ``client_for(region)`` gives the boto3 EC2 client of a region."""

    def __init__(
        self,
        client_for: Callable[[str], Any],
        default_region: str,
        store: IdempotencyStore,
        waiter_delay: int = 15,
        waiter_attempts: int = 40,
    ) -> None:
        self._client_for = client_for
        self._default_region = default_region
        self._store = store
        self._waiter = {"Delay": waiter_delay, "MaxAttempts": waiter_attempts}
        self._types: dict[str, InstanceTypeBook] = {}

    def _ec2(self, request: ActionRequest) -> Any:
        return self._client_for(request.region or self._default_region)

    def _book(self, request: ActionRequest) -> InstanceTypeBook:
        region = request.region or self._default_region
        if region not in self._types:
            self._types[region] = InstanceTypeBook(self._client_for(region))
        return self._types[region]

    def validate(self, request: ActionRequest) -> ActionValidation:
        """Dry-run verdict; changes nothing."""
        verdict, _ = validate(request, self._ec2(request), self._book(request))
        return verdict

    def execute(self, request: ActionRequest, idempotency_key: str) -> ActionResult:
        """Act once per key (see module contract)."""
        with self._store.lock(idempotency_key):
            known = self._store.get(idempotency_key)
            if known is not None:
                return known
            verdict, target = validate(request, self._ec2(request), self._book(request))
            if verdict.missing_permissions:
                missing = verdict.missing_permissions[0]
                raise CredentialsError(
                    f"{request.kind.value} on {request.resource_id} needs {missing}", missing
                )
            if not verdict.ok or target is None or verdict.rollback is None:
                raise ActionRefusedError(
                    "; ".join(verdict.problems) or f"cannot act on {request.resource_id}"
                )
            after, evidence = self._act(request, target, idempotency_key)
            rollback = verdict.rollback.model_copy(
                update={"evidence": {**verdict.rollback.evidence, **evidence}}
            )
            if rollback.action is not None and rollback.action.kind == ActionKind.RESTORE_DISK:
                restore = rollback.action.model_copy(
                    update={"parameters": {**rollback.action.parameters, "snapshot_id": after["snapshot_id"]}}
                )
                rollback = rollback.model_copy(update={"action": restore})
            result = ActionResult(
                request=request,
                idempotency_key=idempotency_key,
                status="succeeded",
                before=verdict.current_state,
                after=after,
                rollback=rollback,
            )
            self._store.put(idempotency_key, result)
            return result

    def _act(
        self, request: ActionRequest, target: Target, idempotency_key: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        ec2 = self._ec2(request)
        rid = request.resource_id
        with aws_errors("ec2"):
            if request.kind == ActionKind.STOP:
                self._stop(ec2, rid)
                return {"state": "stopped"}, {}
            if request.kind == ActionKind.START:
                self._start(ec2, rid)
                return {"state": "running"}, {}
            if request.kind == ActionKind.RESIZE:
                return self._resize(ec2, target, str(request.parameters["size"])), {}
            if request.kind == ActionKind.SNAPSHOT_AND_DELETE_DISK:
                return self._snapshot_and_delete(ec2, rid)
            if request.kind == ActionKind.RESTORE_DISK:
                return self._restore(ec2, request, idempotency_key)
            if request.kind == ActionKind.DELETE_SNAPSHOT:
                ec2.delete_snapshot(SnapshotId=rid)
                return {"state": "deleted"}, {}
            if request.kind == ActionKind.RELEASE_IP:
                allocation = target.raw.get("AllocationId")
                ec2.release_address(**({"AllocationId": allocation} if allocation else {"PublicIp": rid}))
                return {"state": "released", "address": target.raw.get("PublicIp")}, {}
            if request.kind == ActionKind.TAG:
                tags = {str(k): str(v) for k, v in request.parameters["tags"].items()}
                ec2.create_tags(Resources=[rid], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
                return {"tags": {**target.tags, **tags}}, {}
            keys = [str(k) for k in request.parameters["keys"]]
            ec2.delete_tags(Resources=[rid], Tags=[{"Key": k} for k in keys])
            return {"tags": {k: v for k, v in target.tags.items() if k not in keys}}, {}

    def _stop(self, ec2: Any, instance_id: str) -> None:
        ec2.stop_instances(InstanceIds=[instance_id])
        ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id], WaiterConfig=self._waiter)

    def _start(self, ec2: Any, instance_id: str) -> None:
        ec2.start_instances(InstanceIds=[instance_id])
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=self._waiter)

    def _resize(self, ec2: Any, target: Target, size: str) -> dict[str, Any]:
        rid = target.resource_id
        was_running = target.raw["State"]["Name"] == "running"
        if was_running:
            self._stop(ec2, rid)
        try:
            ec2.modify_instance_attribute(InstanceId=rid, InstanceType={"Value": size})
        finally:
            if was_running:
                self._start(ec2, rid)
        return {"instance_type": size, "state": "running" if was_running else "stopped"}

    def _snapshot_and_delete(self, ec2: Any, volume_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        snapshot = ec2.create_snapshot(
            VolumeId=volume_id,
            Description=f"cloudoptima: before deleting {volume_id}",
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": [MANAGED_BY_TAG]}],
        )
        snapshot_id = snapshot["SnapshotId"]
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot_id], WaiterConfig=self._waiter)
        ec2.delete_volume(VolumeId=volume_id)
        return {"state": "deleted", "snapshot_id": snapshot_id}, {"snapshot_id": snapshot_id}

    def _restore(
        self, ec2: Any, request: ActionRequest, idempotency_key: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Create the volume from the snapshot (``ClientToken`` = key, so a retry creates one volume)."""
        created = ec2.create_volume(**create_volume_params(request.parameters, idempotency_key))
        volume_id = str(created["VolumeId"])
        ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=self._waiter)
        after = {
            "state": "available",
            "disk_id": volume_id,
            "snapshot_id": str(request.parameters["snapshot_id"]),
            "size_gb": int(created["Size"]),
        }
        return after, {"disk_id": volume_id}
