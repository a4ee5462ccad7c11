"""What a sandbox action needs and would do: permissions, the :class:`Plan`, and JSON-safe resource states."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from cloudoptima.clouds.protocol import ActionKind, ActionRequest, RollbackPlan
from cloudoptima.clouds.sandbox import ids
from cloudoptima.clouds.sandbox.actions import Action
from cloudoptima.domain.inventory import (
    DiskAttributes,
    InstanceAttributes,
    PublicIpAttributes,
    Resource,
    ResourceKind,
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
