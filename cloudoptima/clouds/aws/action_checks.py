"""Dry-run checks of EC2 actions: find the target, check preconditions and permissions, plan the rollback.

Contract: nothing here changes the account. Permissions are checked by calling the mutating API with
``DryRun=True``: ``DryRunOperation`` means permitted, ``UnauthorizedOperation`` names the missing IAM
action. Preconditions: the target exists; stop needs a running instance, start a stopped one; resize a
running or stopped instance and a different instance type that ``DescribeInstanceTypes`` knows in the
region; snapshot-and-delete an unattached volume; release an unassociated address; tag a non-empty tag map;
untag a non-empty key list; restore-disk complete parameters (:data:`RESTORE_REQUIRED`), a completed
snapshot at least as large as ``size_gb`` and no volume still carrying the old id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudoptima.clouds.aws.ec2_inventory import InstanceTypeBook, tags_of
from cloudoptima.clouds.aws.errors import (
    ACCESS_CODES,
    DRY_RUN_OK,
    aws_errors,
    error_code,
    permission_named_in,
    translate,
)
from cloudoptima.clouds.protocol import ActionKind, ActionRequest, ActionValidation, RollbackPlan

_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_PREFIX_KIND = {"i-": "instance", "vol-": "volume", "snap-": "snapshot", "eipalloc-": "address"}
_ACTION_KIND = {
    ActionKind.STOP: "instance",
    ActionKind.START: "instance",
    ActionKind.RESIZE: "instance",
    ActionKind.SNAPSHOT_AND_DELETE_DISK: "volume",
    ActionKind.DELETE_SNAPSHOT: "snapshot",
    ActionKind.RELEASE_IP: "address",
}


@dataclass
class Target:
    """The resource an action is about, as EC2 describes it now."""

    kind: str
    resource_id: str
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def tags(self) -> dict[str, str]:
        return tags_of(self.raw.get("Tags"))

    def state(self) -> dict[str, Any]:
        """The facts a reviewer needs (state, type, size, attachment, tags)."""
        raw = self.raw
        facts: dict[str, Any] = {"kind": self.kind, "resource_id": self.resource_id, "tags": self.tags}
        if self.kind == "instance":
            facts |= {"state": raw["State"]["Name"], "instance_type": raw["InstanceType"]}
            facts["availability_zone"] = raw.get("Placement", {}).get("AvailabilityZone")
        elif self.kind == "volume":
            facts |= {
                "state": raw["State"],
                "size_gb": raw["Size"],
                "volume_type": raw.get("VolumeType"),
                "iops": raw.get("Iops"),
                "throughput": raw.get("Throughput"),
                "availability_zone": raw.get("AvailabilityZone"),
                "attached_to": [a["InstanceId"] for a in raw.get("Attachments", [])],
            }
        elif self.kind == "snapshot":
            facts |= {
                "state": raw.get("State"),
                "volume_id": raw.get("VolumeId"),
                "size_gb": raw.get("VolumeSize"),
            }
        else:
            facts |= {
                "address": raw.get("PublicIp"),
                "allocation_id": raw.get("AllocationId"),
                "associated_with": raw.get("InstanceId") or raw.get("NetworkInterfaceId") or None,
            }
        return facts


RESTORE_NOTE = (
    "restore_disk creates a NEW volume (new id) from the snapshot taken before the delete; the restore "
    "result's after.disk_id names it, and anything that referenced the old id must be pointed at the new one"
)
RESTORE_REQUIRED = ("snapshot_id", "size_gb", "volume_type", "availability_zone")
MANAGED_BY_TAG = {"Key": "managed-by", "Value": "cloudoptima"}


def restore_request(request: ActionRequest, volume: Target) -> ActionRequest:
    """The RESTORE_DISK action that re-creates ``volume``; execution adds the ``snapshot_id`` it took."""
    facts = volume.state()
    parameters = {
        "size_gb": facts["size_gb"],
        "volume_type": facts["volume_type"],
        "availability_zone": facts["availability_zone"],
        "iops": facts["iops"],
        "throughput": facts["throughput"],
        "name": volume.tags.get("Name"),
        "tags": volume.tags,
    }
    return ActionRequest(
        kind=ActionKind.RESTORE_DISK,
        resource_id=request.resource_id,
        region=request.region,
        parameters=parameters,
    )


def create_volume_params(parameters: dict[str, Any], client_token: str) -> dict[str, Any]:
    """``CreateVolume`` arguments re-creating a volume from RESTORE_DISK ``parameters`` (complete ones)."""
    volume_type = str(parameters["volume_type"])
    params: dict[str, Any] = {
        "SnapshotId": str(parameters["snapshot_id"]),
        "AvailabilityZone": str(parameters["availability_zone"]),
        "VolumeType": volume_type,
        "Size": int(parameters["size_gb"]),
        "ClientToken": client_token[:64],
    }
    if parameters.get("iops") and volume_type in ("io1", "io2", "gp3"):
        params["Iops"] = int(parameters["iops"])
    if parameters.get("throughput") and volume_type == "gp3":
        params["Throughput"] = int(parameters["throughput"])
    tags = {str(k): str(v) for k, v in dict(parameters.get("tags") or {}).items()}
    tags.setdefault(MANAGED_BY_TAG["Key"], MANAGED_BY_TAG["Value"])
    params["TagSpecifications"] = [
        {"ResourceType": "volume", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    ]
    return params


def validate_restore(request: ActionRequest, ec2: Any) -> tuple[ActionValidation, Target | None]:
    """RESTORE_DISK: complete parameters, a completed snapshot, the old volume gone, CreateVolume allowed.

    The target returned is the snapshot the volume is created from.
    """
    rid = request.resource_id
    parameters = request.parameters
    needs = [
        f"restore_disk of {rid} needs parameters.{k}"
        for k in RESTORE_REQUIRED
        if parameters.get(k) in (None, "")
    ]
    if not needs and not str(parameters["size_gb"]).isdigit():
        needs = [f"restore_disk of {rid} needs a whole number of GiB in parameters.size_gb"]
    if needs:
        return ActionValidation(ok=False, problems=needs), None
    snapshot_id = str(parameters["snapshot_id"])
    snapshot = find_target(ec2, "snapshot", snapshot_id)
    if snapshot is None:
        problem = (
            f"snapshot {snapshot_id} (to restore {rid}) not found in {request.region or 'the default region'}"
        )
        return ActionValidation(ok=False, problems=[problem]), None
    problems: list[str] = []
    state = snapshot.raw.get("State")
    if state != "completed":
        problems.append(f"snapshot {snapshot_id} is {state}; restore needs a completed snapshot")
    if int(parameters["size_gb"]) < int(snapshot.raw.get("VolumeSize") or 0):
        problems.append(
            f"parameters.size_gb {parameters['size_gb']} is smaller than snapshot {snapshot_id} "
            f"({snapshot.raw.get('VolumeSize')} GiB)"
        )
    if find_target(ec2, "volume", rid) is not None:
        problems.append(f"volume {rid} still exists; there is nothing to restore")
    missing: list[str] = []
    if not problems:
        denied = dry_run(ec2.create_volume, **create_volume_params(parameters, "dry-run"))
        missing = [denied] if denied else []
    rollback = RollbackPlan(
        evidence={
            "snapshot_id": snapshot_id,
            "note": (
                "undoing a restore means deleting the restored volume (after.disk_id); that is left to a "
                f"person: the protocol has no plain delete-disk action and snapshot {snapshot_id} is kept"
            ),
        }
    )
    verdict = ActionValidation(
        ok=not problems and not missing,
        problems=problems + [f"missing permission {m}" for m in missing],
        missing_permissions=missing,
        current_state=snapshot.state() | {"restores": rid},
        rollback=rollback,
    )
    return verdict, snapshot


def target_kind(request: ActionRequest) -> str | None:
    """Which EC2 resource type the request targets (None when the id is not an EC2 id)."""
    if request.kind in _ACTION_KIND:
        return _ACTION_KIND[request.kind]
    if _IP.match(request.resource_id):
        return "address"
    for prefix, kind in _PREFIX_KIND.items():
        if request.resource_id.startswith(prefix):
            return kind
    return None


def _is_not_found(error: ClientError) -> bool:
    code = error_code(error)
    return code.startswith("Invalid") and (code.endswith("NotFound") or code.endswith("Malformed"))


def find_target(ec2: Any, kind: str, resource_id: str) -> Target | None:
    """The target as EC2 describes it, or None when it does not exist."""
    with aws_errors("ec2"):
        try:
            if kind == "instance":
                reservations = ec2.describe_instances(InstanceIds=[resource_id])["Reservations"]
                found = [
                    i for r in reservations for i in r["Instances"] if i["State"]["Name"] != "terminated"
                ]
            elif kind == "volume":
                found = ec2.describe_volumes(VolumeIds=[resource_id])["Volumes"]
            elif kind == "snapshot":
                found = ec2.describe_snapshots(SnapshotIds=[resource_id], OwnerIds=["self"])["Snapshots"]
            elif _IP.match(resource_id):
                found = ec2.describe_addresses(PublicIps=[resource_id])["Addresses"]
            else:
                found = ec2.describe_addresses(AllocationIds=[resource_id])["Addresses"]
        except ClientError as error:
            if _is_not_found(error):
                return None
            raise
    return Target(kind, resource_id, found[0]) if found else None


def dry_run(call: Callable[..., Any], **params: Any) -> str | None:
    """Call an EC2 API with ``DryRun=True``; the missing IAM action when denied, else None."""
    try:
        call(DryRun=True, **params)
    except ClientError as error:
        if error_code(error) == DRY_RUN_OK:
            return None
        if error_code(error) in ACCESS_CODES:
            return permission_named_in(error, "ec2")
        raise translate(error, "ec2") from error
    except BotoCoreError as error:
        raise translate(error, "ec2") from error
    return None


def rollback_for(request: ActionRequest, target: Target) -> RollbackPlan:
    """How to undo ``request`` given the target's current state."""
    region = request.region
    rid = request.resource_id
    if request.kind == ActionKind.STOP:
        return RollbackPlan(action=ActionRequest(kind=ActionKind.START, resource_id=rid, region=region))
    if request.kind == ActionKind.START:
        return RollbackPlan(action=ActionRequest(kind=ActionKind.STOP, resource_id=rid, region=region))
    if request.kind == ActionKind.RESIZE:
        old = target.raw["InstanceType"]
        back = ActionRequest(kind=ActionKind.RESIZE, resource_id=rid, region=region, parameters={"size": old})
        return RollbackPlan(action=back, evidence={"previous_size": old})
    if request.kind == ActionKind.SNAPSHOT_AND_DELETE_DISK:
        return RollbackPlan(
            action=restore_request(request, target), evidence={"volume": target.state(), "note": RESTORE_NOTE}
        )
    if request.kind == ActionKind.DELETE_SNAPSHOT:
        return RollbackPlan(
            irreversible=f"the data of snapshot {rid} is gone", evidence={"snapshot": target.state()}
        )
    if request.kind == ActionKind.RELEASE_IP:
        address = target.raw.get("PublicIp")
        return RollbackPlan(
            irreversible=f"address {address} returns to AWS's pool and may not be allocatable again",
            evidence={"address": address, "allocation_id": target.raw.get("AllocationId")},
        )
    current = target.tags
    if request.kind == ActionKind.TAG:
        wanted: dict[str, str] = dict(request.parameters.get("tags", {}))
        overwritten = {k: current[k] for k in wanted if k in current}
        new_keys = [k for k in wanted if k not in current]
        if new_keys:
            untag = ActionRequest(
                kind=ActionKind.UNTAG, resource_id=rid, region=region, parameters={"keys": new_keys}
            )
            return RollbackPlan(action=untag, evidence={"overwritten": overwritten})
        restore = ActionRequest(
            kind=ActionKind.TAG, resource_id=rid, region=region, parameters={"tags": overwritten}
        )
        return RollbackPlan(action=restore, evidence={"overwritten": overwritten})
    removed = {k: current[k] for k in request.parameters.get("keys", []) if k in current}
    retag = ActionRequest(kind=ActionKind.TAG, resource_id=rid, region=region, parameters={"tags": removed})
    return RollbackPlan(action=retag if removed else None, evidence={"removed": removed})


def preconditions(request: ActionRequest, target: Target, types: InstanceTypeBook) -> list[str]:
    """Why ``request`` cannot run on ``target`` now (empty when it can)."""
    rid = request.resource_id
    raw = target.raw
    if request.kind in (ActionKind.STOP, ActionKind.START, ActionKind.RESIZE):
        state = raw["State"]["Name"]
        if request.kind == ActionKind.STOP and state != "running":
            return [f"{rid} is {state}; stop needs a running instance"]
        if request.kind == ActionKind.START and state != "stopped":
            return [f"{rid} is {state}; start needs a stopped instance"]
        if request.kind == ActionKind.RESIZE:
            size = str(request.parameters.get("size", ""))
            if state not in ("running", "stopped"):
                return [f"{rid} is {state}; resize needs a running or stopped instance"]
            if not size:
                return ["resize needs parameters.size"]
            if size == raw["InstanceType"]:
                return [f"{rid} already is {size}"]
            if not types.is_known(size):
                return [f"instance type {size} is not offered in {request.region or 'this region'}"]
        return []
    if request.kind == ActionKind.SNAPSHOT_AND_DELETE_DISK and raw.get("Attachments"):
        return [f"{rid} is attached to {raw['Attachments'][0]['InstanceId']}; detach it first"]
    if request.kind == ActionKind.RELEASE_IP and (raw.get("AssociationId") or raw.get("InstanceId")):
        return [f"{rid} is associated; disassociate it first"]
    if request.kind == ActionKind.TAG and not request.parameters.get("tags"):
        return ["tag needs parameters.tags"]
    if request.kind == ActionKind.UNTAG and not request.parameters.get("keys"):
        return ["untag needs parameters.keys"]
    return []


def permission_checks(request: ActionRequest, target: Target, ec2: Any) -> list[str]:
    """Dry-run every API the action would call; the IAM actions that were denied."""
    rid = request.resource_id
    checks: list[tuple[Callable[..., Any], dict[str, Any]]] = []
    if request.kind in (ActionKind.STOP, ActionKind.RESIZE):
        checks.append((ec2.stop_instances, {"InstanceIds": [rid]}))
    if request.kind in (ActionKind.START, ActionKind.RESIZE):
        checks.append((ec2.start_instances, {"InstanceIds": [rid]}))
    if request.kind == ActionKind.RESIZE:
        size = str(request.parameters["size"])
        checks.append((ec2.modify_instance_attribute, {"InstanceId": rid, "InstanceType": {"Value": size}}))
    if request.kind == ActionKind.SNAPSHOT_AND_DELETE_DISK:
        checks.append((ec2.create_snapshot, {"VolumeId": rid}))
        checks.append((ec2.delete_volume, {"VolumeId": rid}))
    if request.kind == ActionKind.DELETE_SNAPSHOT:
        checks.append((ec2.delete_snapshot, {"SnapshotId": rid}))
    if request.kind == ActionKind.RELEASE_IP:
        key = (
            {"AllocationId": target.raw["AllocationId"]}
            if target.raw.get("AllocationId")
            else {"PublicIp": rid}
        )
        checks.append((ec2.release_address, key))
    if request.kind == ActionKind.TAG:
        tags = [{"Key": k, "Value": str(v)} for k, v in request.parameters["tags"].items()]
        checks.append((ec2.create_tags, {"Resources": [rid], "Tags": tags}))
    if request.kind == ActionKind.UNTAG:
        checks.append(
            (ec2.delete_tags, {"Resources": [rid], "Tags": [{"Key": k} for k in request.parameters["keys"]]})
        )
    missing = [dry_run(call, **params) for call, params in checks]
    return [m for m in missing if m is not None]


def validate(
    request: ActionRequest, ec2: Any, types: InstanceTypeBook
) -> tuple[ActionValidation, Target | None]:
    """The dry-run verdict for ``request`` and the target it found (None when missing)."""
    if request.kind == ActionKind.RESTORE_DISK:
        return validate_restore(request, ec2)
    kind = target_kind(request)
    if kind is None:
        problem = f"{request.resource_id} is not an EC2 resource id this provider can act on"
        return ActionValidation(ok=False, problems=[problem]), None
    target = find_target(ec2, kind, request.resource_id)
    if target is None:
        problem = f"{kind} {request.resource_id} not found in {request.region or 'the default region'}"
        return ActionValidation(ok=False, problems=[problem]), None
    problems = preconditions(request, target, types)
    missing = permission_checks(request, target, ec2) if not problems else []
    verdict = ActionValidation(
        ok=not problems and not missing,
        problems=problems + [f"missing permission {m}" for m in missing],
        missing_permissions=missing,
        current_state=target.state(),
        rollback=rollback_for(request, target),
    )
    return verdict, target
