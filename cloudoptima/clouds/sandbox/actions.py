"""Pure application of remediation actions to a sandbox estate, with what is needed to roll them back.

``apply_action(estate, action)`` never mutates ``estate``; it returns an ``ActionOutcome`` with the changed
estate, the ids of the resources that changed and a ``rollback`` action (kind ``restore``) that puts those
resources back in their previous configuration; its ``at`` is the action's time, so set it to the moment the
rollback is applied (``rollback.model_copy(update={"at": …})``). Billing changes take
effect at ``action.at``: the open billing segment of each changed resource is closed there and, if the
resource still bills, a new one is opened from ``pricing.segment_for`` of its new configuration. So cost rows
regenerated after a stop are lower from that moment on, and a rollback brings the original price back.
Tag changes alter no billing segment (cost rows always carry a resource's current tags).

Preconditions (else ``ValueError``): stop needs a running instance or database; start a stopped one; resize
an instance and a ``target_type`` of the same provider; delete_disk a disk not attached to a running
instance; release_ip an unassociated IP; ``at`` not before the start of the resource's open segment.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from cloudoptima.clouds.sandbox import catalog
from cloudoptima.clouds.sandbox.estate import BillingSegment, Estate
from cloudoptima.clouds.sandbox.pricing import monthly_cost, segment_for
from cloudoptima.domain.inventory import (
    DiskAttributes,
    InstanceAttributes,
    PublicIpAttributes,
    Resource,
    ResourceKind,
    ResourceState,
    UtcDatetime,
)


class ActionKind(StrEnum):
    """What an action does."""

    STOP = "stop"
    START = "start"
    RESIZE = "resize"
    TERMINATE = "terminate"
    DELETE_DISK = "delete_disk"
    DELETE_SNAPSHOT = "delete_snapshot"
    RELEASE_IP = "release_ip"
    DELETE_LOAD_BALANCER = "delete_load_balancer"
    TAG = "tag"
    UNTAG = "untag"
    RESTORE = "restore"


class Action(BaseModel):
    """One action on one resource at ``at``.

    ``params``: ``resize`` → ``{"target_type": …}``; ``tag`` → tags to set; ``untag`` → keys to remove (values
    ignored). ``previous`` is used by ``restore`` only: the resource versions to put back.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ActionKind
    resource_id: str
    at: UtcDatetime
    params: dict[str, str] = Field(default_factory=dict)
    previous: tuple[Resource, ...] = ()


class ActionOutcome(BaseModel):
    """The estate after an action, what changed, and the action that undoes it."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    estate: Estate
    changed: tuple[str, ...]
    rollback: Action


_DELETE_KIND = {
    ActionKind.DELETE_DISK: ResourceKind.DISK,
    ActionKind.DELETE_SNAPSHOT: ResourceKind.SNAPSHOT,
    ActionKind.RELEASE_IP: ResourceKind.PUBLIC_IP,
    ActionKind.DELETE_LOAD_BALANCER: ResourceKind.LOAD_BALANCER,
}
_STOPPABLE = (ResourceKind.COMPUTE_INSTANCE, ResourceKind.DATABASE)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _deleted(resource: Resource, action: Action) -> Resource:
    return resource.model_copy(
        update={"state": ResourceState.DELETED, "deleted_at": action.at, "stopped_at": None}
    )


def _changes(estate: Estate, action: Action) -> list[Resource]:
    """The new versions of every resource the action touches (first = the target)."""
    if action.kind is ActionKind.RESTORE:
        _require(bool(action.previous), "restore needs the previous resource versions")
        return list(action.previous)
    target = estate.resource(action.resource_id)
    kind = action.kind
    _require(target.state is not ResourceState.DELETED, f"{target.resource_id} is deleted")
    if kind is ActionKind.STOP:
        _require(
            target.kind in _STOPPABLE and target.state is ResourceState.RUNNING, "stop needs a running VM/DB"
        )
        return [target.model_copy(update={"state": ResourceState.STOPPED, "stopped_at": action.at})]
    if kind is ActionKind.START:
        _require(
            target.kind in _STOPPABLE and target.state is ResourceState.STOPPED, "start needs a stopped VM/DB"
        )
        return [
            target.model_copy(
                update={"state": ResourceState.RUNNING, "stopped_at": None, "launched_at": action.at}
            )
        ]
    if kind is ActionKind.RESIZE:
        _require(isinstance(target.attributes, InstanceAttributes), "resize needs an instance")
        size = catalog.instance_type(target.provider, action.params.get("target_type", ""))
        attributes = target.attributes.model_copy(
            update={
                "instance_type": size.name,
                "family": size.family,
                "vcpu": size.vcpu,
                "memory_gib": size.memory_gib,
            }
        )
        return [target.model_copy(update={"attributes": attributes})]
    if kind is ActionKind.TERMINATE:
        _require(isinstance(target.attributes, InstanceAttributes), "terminate needs an instance")
        assert isinstance(target.attributes, InstanceAttributes)
        disks = [estate.resource(d) for d in target.attributes.attached_disk_ids]
        return [
            _deleted(target, action),
            *(_deleted(d, action) for d in disks if d.state is not ResourceState.DELETED),
        ]
    if kind in _DELETE_KIND:
        _require(target.kind is _DELETE_KIND[kind], f"{kind} does not apply to a {target.kind}")
        changed = [_deleted(target, action)]
        attributes = target.attributes
        if isinstance(attributes, PublicIpAttributes):
            _require(attributes.associated_with is None, "release_ip needs an unassociated address")
        if isinstance(attributes, DiskAttributes) and attributes.attached_to is not None:
            owner = estate.resource(attributes.attached_to)
            _require(owner.state is not ResourceState.RUNNING, "cannot delete a disk of a running instance")
            if isinstance(owner.attributes, InstanceAttributes):
                kept = tuple(d for d in owner.attributes.attached_disk_ids if d != target.resource_id)
                changed.append(
                    owner.model_copy(
                        update={"attributes": owner.attributes.model_copy(update={"attached_disk_ids": kept})}
                    )
                )
        return changed
    if kind is ActionKind.TAG:
        return [target.model_copy(update={"tags": {**target.tags, **action.params}})]
    _require(kind is ActionKind.UNTAG, f"unsupported action {kind}")
    return [
        target.model_copy(update={"tags": {k: v for k, v in target.tags.items() if k not in action.params}})
    ]


def _rebill(
    segments: tuple[BillingSegment, ...], old: Resource, new: Resource, action: Action
) -> tuple[BillingSegment, ...]:
    if old.model_copy(update={"tags": new.tags}) == new:
        return segments
    kept = list(segments)
    if kept and kept[-1].end is None:
        _require(
            action.at >= kept[-1].start, "an action cannot take effect before the current billing period"
        )
        kept[-1] = kept[-1].closed(action.at)
    opened = segment_for(new, action.at)
    if opened is not None:
        kept.append(opened)
    return tuple(kept)


def apply_action(estate: Estate, action: Action) -> ActionOutcome:
    """Apply ``action``; returns the new estate, the changed resource ids and the rollback action."""
    updates = _changes(estate, action)
    new_resources = {r.resource_id: r for r in updates}
    old_versions = tuple(estate.resource(rid) for rid in new_resources)
    segments = dict(estate.segments)
    for old in old_versions:
        new = new_resources[old.resource_id]
        segments[old.resource_id] = _rebill(segments.get(old.resource_id, ()), old, new, action)
        opened = segments[old.resource_id]
        priced: dict[str, object] = {"monthly_cost": monthly_cost(new)}
        if opened and opened[-1].end is None:
            priced["sku_id"] = opened[-1].sku_id
        new_resources[old.resource_id] = new.model_copy(update=priced)
    resources = tuple(new_resources.get(r.resource_id, r) for r in estate.resources)
    changed_estate = Estate.model_construct(
        spec=estate.spec,
        accounts=estate.accounts,
        resources=resources,
        segments=segments,
        profiles=estate.profiles,
        principals=estate.principals,
        manifest=estate.manifest,
    )
    rollback = Action(
        kind=ActionKind.RESTORE, resource_id=action.resource_id, at=action.at, previous=old_versions
    )
    return ActionOutcome(estate=changed_estate, changed=tuple(new_resources), rollback=rollback)
