"""Execution of EC2 remediation actions, once per idempotency key, with a rollback plan.

Contract:

- :meth:`ActionRunner.execute` first returns the stored result of a known key without acting; otherwise it
  validates (see :mod:`.action_checks`), raising :class:`ActionRefusedError` for failed preconditions and
  :class:`CredentialsError` for denied permissions, then acts, waits for the end state and stores the result.
- Resize stops a running instance, changes its type and starts it again (if the type change fails, the
  instance is started again before the error escapes); its rollback resizes back.
- Snapshot-and-delete snapshots the volume, waits for the snapshot to complete, then deletes the volume;
  the snapshot id and the volume's shape are the evidence :meth:`restore_volume` needs (``CreateVolume``
  with the idempotency key as ``ClientToken``).
- Deleting a snapshot and releasing an address are irreversible; the evidence records what was removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudoptima.clouds.aws.action_checks import Target, validate
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

MANAGED_BY_TAG = {"Key": "managed-by", "Value": "cloudoptima"}


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
            after, evidence = self._act(request, target)
            rollback = verdict.rollback.model_copy(
                update={"evidence": {**verdict.rollback.evidence, **evidence}}
            )
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

    def _act(self, request: ActionRequest, target: Target) -> tuple[dict[str, Any], dict[str, Any]]:
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

    def restore_volume(self, region: str, evidence: dict[str, Any], idempotency_key: str) -> str:
        """Create a volume from the snapshot recorded by snapshot-and-delete; returns the new volume id.

        ``idempotency_key`` is sent as ``ClientToken``, so a retried restore creates one volume only.
        """
        volume = evidence.get("volume", {})
        snapshot_id = evidence.get("snapshot_id")
        if not snapshot_id or not volume.get("availability_zone"):
            raise ActionRefusedError("evidence lacks snapshot_id or the volume's availability zone")
        params: dict[str, Any] = {
            "SnapshotId": snapshot_id,
            "AvailabilityZone": volume["availability_zone"],
            "VolumeType": volume.get("volume_type") or "gp3",
            "ClientToken": idempotency_key[:64],
        }
        if volume.get("iops") and params["VolumeType"] in ("io1", "io2", "gp3"):
            params["Iops"] = int(volume["iops"])
        tags = [{"Key": k, "Value": v} for k, v in dict(volume.get("tags", {})).items()]
        params["TagSpecifications"] = [{"ResourceType": "volume", "Tags": [*tags, MANAGED_BY_TAG]}]
        ec2 = self._client_for(region)
        with aws_errors("ec2"):
            created = ec2.create_volume(**params)
            ec2.get_waiter("volume_available").wait(
                VolumeIds=[created["VolumeId"]], WaiterConfig=self._waiter
            )
        return str(created["VolumeId"])
