"""Protocol actions on a sandbox estate: permissions, preconditions, the sandbox actions they map to, rollback.

``plan_action(estate, account_id, request, at)`` is pure: it returns a :class:`Plan` whose ``problems`` are
empty only when the request can be applied at ``at`` (the plan is dry-run through ``apply_action``, so
validation and execution can never disagree). Mapping to the generator's actions:

- stop / start / tag / untag / delete_snapshot / release_ip → the same sandbox action; resize → the same
  action, wrapped in stop … start when the instance runs (as the clouds do: ``launched_at`` moves);
- snapshot_and_delete_disk → a synthetic snapshot id (derived from the idempotency key, recorded in the
  result's ``after`` and the rollback) and ``delete_disk``. Its rollback is a ``restore_disk`` action with
  the disk's size, type, region, name, tags and the snapshot id (a dry run's plan omits the id: it depends
  on the key). The snapshot is not a resource of the estate (it neither bills nor shows in the inventory);
  the snapshots that exist are the ones journalled snapshot_and_delete actions recorded (``snapshots``).
- restore_disk → a ``restore`` of the deleted disk's resource as a new, unattached disk (created at ``at``,
  parameters' size/type/name/tags). Unlike AWS the disk keeps its old id (like Azure and GCP). The snapshot
  must exist and have been taken of that disk, the disk must still be deleted, and the parameters must be
  complete (:data:`RESTORE_REQUIRED`). Its rollback has no action (undoing it would delete the disk, which
  the protocol can only say as another snapshot_and_delete); ``SandboxProvider.undo`` can revert it.

Permissions are named ``<family>.<verb>`` (see :data:`ACTION_PERMISSIONS`); an account configured with a
denied permission reports it in ``missing_permissions``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cloudoptima.clouds.protocol import ActionKind, ActionRequest, RollbackPlan
from cloudoptima.clouds.sandbox import catalog, ids
from cloudoptima.clouds.sandbox.actions import Action, apply_action
from cloudoptima.clouds.sandbox.actions import ActionKind as SandboxKind
from cloudoptima.clouds.sandbox.estate import Estate
from cloudoptima.domain.inventory import (
    DiskAttributes,
    InstanceAttributes,
    PublicIpAttributes,
    Resource,
    ResourceKind,
    ResourceState,
)

READ_PERMISSIONS: dict[str, str] = {
    "costs": "billing.read",
    "inventory": "inventory.read",
    "utilisation": "monitoring.read",
    "iam": "iam.read",
}
"""The permission each read needs (``verify`` checks all of them)."""

ACTION_PERMISSIONS: dict[ActionKind, tuple[str, ...]] = {
    ActionKind.STOP: ("compute.stop",),
    ActionKind.START: ("compute.start",),
    ActionKind.RESIZE: ("compute.resize",),
    ActionKind.SNAPSHOT_AND_DELETE_DISK: ("disk.snapshot", "disk.delete"),
    ActionKind.RESTORE_DISK: ("disk.create",),
    ActionKind.DELETE_SNAPSHOT: ("snapshot.delete",),
    ActionKind.RELEASE_IP: ("network.release_ip",),
    ActionKind.TAG: ("tags.write",),
    ActionKind.UNTAG: ("tags.write",),
}
"""The permissions each action needs (a database's stop/start needs ``database.stop`` / ``database.start``)."""

DRY_RUN = "dry-run"
RESTORE_REQUIRED = ("snapshot_id", "size_gb", "disk_type", "region")
RESTORE_NOTE = (
    "restore_disk re-creates the disk from the snapshot as a new, unattached disk; in the sandbox it keeps "
    "the old id (after.disk_id), as on Azure and GCP, while a real AWS restore gives a new volume id"
)

_DIRECT = {
    ActionKind.STOP: SandboxKind.STOP,
    ActionKind.START: SandboxKind.START,
    ActionKind.RESIZE: SandboxKind.RESIZE,
    ActionKind.DELETE_SNAPSHOT: SandboxKind.DELETE_SNAPSHOT,
    ActionKind.RELEASE_IP: SandboxKind.RELEASE_IP,
    ActionKind.SNAPSHOT_AND_DELETE_DISK: SandboxKind.DELETE_DISK,
}
_TARGET_KIND = {
    ActionKind.RESIZE: (ResourceKind.COMPUTE_INSTANCE,),
    ActionKind.STOP: (ResourceKind.COMPUTE_INSTANCE, ResourceKind.DATABASE),
    ActionKind.START: (ResourceKind.COMPUTE_INSTANCE, ResourceKind.DATABASE),
    ActionKind.SNAPSHOT_AND_DELETE_DISK: (ResourceKind.DISK,),
    ActionKind.DELETE_SNAPSHOT: (ResourceKind.SNAPSHOT,),
    ActionKind.RELEASE_IP: (ResourceKind.PUBLIC_IP,),
}


@dataclass(frozen=True)
class Plan:
    """What a request would do: problems (empty = feasible), sandbox actions, rollback and state snapshots."""

    problems: list[str]
    permissions: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    undo: tuple[Action, ...] = ()
    rollback: RollbackPlan | None = None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def required_permissions(request: ActionRequest, resource: Resource | None) -> tuple[str, ...]:
    """Permissions ``request`` needs on ``resource`` (databases use the ``database.*`` family)."""
    needed = ACTION_PERMISSIONS[request.kind]
    if resource is not None and resource.kind is ResourceKind.DATABASE:
        return tuple(p.replace("compute.", "database.") for p in needed)
    return needed


def describe(resource: Resource) -> dict[str, Any]:
    """JSON-safe snapshot of what an action can change on ``resource``."""
    state: dict[str, Any] = {
        "resource_id": resource.resource_id,
        "kind": resource.kind.value,
        "region": resource.region,
        "state": resource.state.value,
        "tags": dict(resource.tags),
        "monthly_cost": str(resource.monthly_cost),
        "sku_id": resource.sku_id,
    }
    attributes = resource.attributes
    if isinstance(attributes, InstanceAttributes):
        state["size"] = attributes.instance_type
    if isinstance(attributes, DiskAttributes):
        state["attached_to"] = attributes.attached_to
        state["size_gb"] = attributes.size_gb
    if isinstance(attributes, PublicIpAttributes):
        state["address"] = attributes.address
        state["associated_with"] = attributes.associated_with
    return state


def synthetic_snapshot_id(disk: Resource, key: str) -> str:
    """A provider-styled snapshot id for the snapshot taken before deleting ``disk`` (stable per key)."""
    digest = hashlib.sha256(f"{disk.resource_id}|{key}".encode()).hexdigest()
    group = (
        disk.resource_id.split("/resourceGroups/")[-1].split("/")[0]
        if "/resourceGroups/" in disk.resource_id
        else ""
    )
    return ids.resource_id(
        disk.provider,
        ResourceKind.SNAPSHOT,
        account=disk.account_id,
        region=disk.region,
        name=f"{disk.name}-predelete-{digest[:8]}",
        group=group,
        rng=random.Random(digest),
    )


def _string_map(value: Any) -> dict[str, str] | None:
    if (
        isinstance(value, dict)
        and value
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    ):
        return dict(value)
    return None


def _sandbox_actions(
    request: ActionRequest, resource: Resource, at: datetime
) -> tuple[list[str], list[Action]]:
    """The sandbox actions of a request whose target exists, or the problems with its parameters."""
    rid = resource.resource_id
    if request.kind is ActionKind.TAG:
        tags = _string_map(request.parameters.get("tags"))
        if tags is None:
            return ["tag needs parameters.tags: a non-empty {str: str} mapping"], []
        return [], [Action(kind=SandboxKind.TAG, resource_id=rid, at=at, params=tags)]
    if request.kind is ActionKind.UNTAG:
        keys = request.parameters.get("keys")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            return ["untag needs parameters.keys: a non-empty list of tag keys"], []
        actions = [Action(kind=SandboxKind.UNTAG, resource_id=rid, at=at, params=dict.fromkeys(keys, ""))]
        restore = request.parameters.get("restore")
        if restore is not None:
            restored = _string_map(restore)
            if restored is None:
                return ["untag parameters.restore must be a non-empty {str: str} mapping"], []
            actions.append(Action(kind=SandboxKind.TAG, resource_id=rid, at=at, params=restored))
        return [], actions
    if request.kind is ActionKind.RESIZE:
        size = request.parameters.get("size")
        if not isinstance(size, str) or not size:
            return ["resize needs parameters.size"], []
        try:
            catalog.instance_type(resource.provider, size)
        except KeyError:
            return [f"unknown size {size!r}: not in the {resource.provider.value} instance catalogue"], []
        assert isinstance(resource.attributes, InstanceAttributes)
        if size == resource.attributes.instance_type:
            return [f"{rid} already has size {size}"], []
        resize = Action(kind=SandboxKind.RESIZE, resource_id=rid, at=at, params={"target_type": size})
        if resource.state is ResourceState.RUNNING:
            # like the clouds: a running instance is stopped, resized and started again
            stop = Action(kind=SandboxKind.STOP, resource_id=rid, at=at)
            return [], [stop, resize, Action(kind=SandboxKind.START, resource_id=rid, at=at)]
        return [], [resize]
    return [], [Action(kind=_DIRECT[request.kind], resource_id=rid, at=at)]


def _state_problems(request: ActionRequest, resource: Resource) -> list[str]:
    rid, state = resource.resource_id, resource.state
    allowed = _TARGET_KIND.get(request.kind)
    if allowed is not None and resource.kind not in allowed:
        return [f"{request.kind.value} does not apply to {rid}, a {resource.kind.value}"]
    if request.kind is ActionKind.STOP and state is not ResourceState.RUNNING:
        return [f"stop needs a running resource; {rid} is {state.value}"]
    if request.kind is ActionKind.START and state is not ResourceState.STOPPED:
        return [f"start needs a stopped resource; {rid} is {state.value}"]
    attributes = resource.attributes
    if isinstance(attributes, PublicIpAttributes) and attributes.associated_with is not None:
        return [f"{rid} is associated with {attributes.associated_with}; release needs an unassociated IP"]
    return []


def _rollback(request: ActionRequest, resource: Resource, snapshot_id: str | None) -> RollbackPlan:
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


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if str(number) == str(value).strip() else None


def _plan_restore(
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
        return _plan_restore(estate, account_id, request, at, snapshots or {})
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
    problems += _state_problems(request, resource)
    if problems:
        return Plan(problems=problems, permissions=permissions, before=before)
    problems, actions = _sandbox_actions(request, resource, at)
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
        rollback=_rollback(request, resource, snapshot_id if key != DRY_RUN else None),
        before=before,
        after=after,
    )
