"""Protocol requests → the generator's sandbox actions, and the resource states a request cannot apply to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cloudoptima.clouds.protocol import ActionKind, ActionRequest
from cloudoptima.clouds.sandbox import catalog
from cloudoptima.clouds.sandbox.actions import Action
from cloudoptima.clouds.sandbox.actions import ActionKind as SandboxKind
from cloudoptima.domain.inventory import (
    InstanceAttributes,
    PublicIpAttributes,
    Resource,
    ResourceKind,
    ResourceState,
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


def _string_map(value: Any) -> dict[str, str] | None:
    if (
        isinstance(value, dict)
        and value
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    ):
        return dict(value)
    return None


def sandbox_actions(
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


def state_problems(request: ActionRequest, resource: Resource) -> list[str]:
    """Why ``request`` does not apply to ``resource`` as it is (wrong kind or state); empty when it does."""
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
