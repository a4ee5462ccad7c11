"""Resolving an action's ``resource_id`` to a Compute resource, and reading it.

Contract:

- ``resource_id`` is a relative name (``projects/p/zones/z/instances/n``, ``.../zones/z/disks/n``,
  ``.../global/snapshots/n``, ``.../regions/r/addresses/n``) or a bare name. A bare name needs the request's
  ``region`` to be the zone (instances, disks) or region (addresses); for an instance a bare name with a
  region is looked up with ``aggregatedList`` (``filter name = ...``).
- :func:`fetch` returns the current resource message, or None when it does not exist.
- Resolution problems are returned as text that names the ``resource_id``; nothing here changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import compute_v1

from cloudoptima.clouds.gcp.inventory import last_segment
from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.protocol import ActionKind, ActionRequest

# collection name in a relative resource name -> our kind
_COLLECTIONS = {"instances": "instance", "disks": "disk", "snapshots": "snapshot", "addresses": "address"}
_DEFAULT_KIND = {
    ActionKind.STOP: "instance",
    ActionKind.START: "instance",
    ActionKind.RESIZE: "instance",
    ActionKind.TAG: "instance",
    ActionKind.UNTAG: "instance",
    ActionKind.SNAPSHOT_AND_DELETE_DISK: "disk",
    ActionKind.RESTORE_DISK: "disk",
    ActionKind.DELETE_SNAPSHOT: "snapshot",
    ActionKind.RELEASE_IP: "address",
}
_ALLOWED = {
    ActionKind.STOP: {"instance"},
    ActionKind.START: {"instance"},
    ActionKind.RESIZE: {"instance"},
    ActionKind.SNAPSHOT_AND_DELETE_DISK: {"disk"},
    ActionKind.RESTORE_DISK: {"disk"},
    ActionKind.DELETE_SNAPSHOT: {"snapshot"},
    ActionKind.RELEASE_IP: {"address"},
    ActionKind.TAG: {"instance", "disk", "snapshot", "address"},
    ActionKind.UNTAG: {"instance", "disk", "snapshot", "address"},
}


@dataclass(frozen=True)
class Target:
    """A Compute resource: ``location`` is a zone, a region or ``global``."""

    kind: str
    project: str
    location: str
    name: str

    @property
    def resource_id(self) -> str:
        collection = {v: k for k, v in _COLLECTIONS.items()}[self.kind]
        if self.location == "global":
            return f"projects/{self.project}/global/{collection}/{self.name}"
        scope = "regions" if self.kind == "address" else "zones"
        return f"projects/{self.project}/{scope}/{self.location}/{collection}/{self.name}"


def _is_zone(location: str) -> bool:
    parts = location.split("-")
    return len(parts) == 3 and len(parts[2]) == 1


def resolve(session: GcpSession, request: ActionRequest) -> Target | str:
    """The target of ``request``, or a problem naming its ``resource_id``."""
    rid = request.resource_id
    parts = rid.split("/")
    if len(parts) >= 4 and parts[0] == "projects":
        if parts[1] != session.project:
            return f"{rid} is in project {parts[1]}, not {session.project}"
        collection, name = parts[-2], parts[-1]
        kind = _COLLECTIONS.get(collection)
        location = "global" if parts[2] == "global" else (parts[3] if len(parts) == 6 else "")
        if kind is None or not location:
            return f"{rid} is not an instance, disk, snapshot or address"
        target = Target(kind, session.project, location, name)
    else:
        kind = _DEFAULT_KIND[request.kind]
        location = "global" if kind == "snapshot" else (request.region or "")
        if kind == "instance" and location and not _is_zone(location):
            found = find_instance_zone(session, rid)
            if found is None:
                return f"instance {rid} not found in project {session.project}"
            location = found
        if not location or (kind in ("instance", "disk") and not _is_zone(location)):
            return f"{rid}: give a relative resource name or the zone in region"
        target = Target(kind, session.project, location, rid)
    if target.kind not in _ALLOWED[request.kind]:
        return f"{request.kind.value} does not apply to {target.kind} {rid}"
    return target


def find_instance_zone(session: GcpSession, name: str) -> str | None:
    """The zone of the instance called ``name``, via a filtered aggregatedList."""
    client = session.rest_client("compute", compute_v1.InstancesClient)
    request = {"project": session.project, "filter": f'name = "{name}"', "max_results": 50}
    pages = session.call(
        lambda: list(client.aggregated_list(request=request, retry=session.retry).pages), "compute/instances"
    )
    for page in pages:
        for scope, scoped in page.items.items():
            if any(instance.name == name for instance in scoped.instances):
                return last_segment(scope)
    return None


def fetch(session: GcpSession, target: Target) -> Any | None:
    """The current Compute message for ``target``, or None if it does not exist."""
    p, loc, name, retry = target.project, target.location, target.name, session.retry
    compute = "compute"
    if target.kind == "instance":
        ic = session.rest_client(compute, compute_v1.InstancesClient)
        get = lambda: ic.get(project=p, zone=loc, instance=name, retry=retry)  # noqa: E731
    elif target.kind == "disk":
        dc = session.rest_client(compute, compute_v1.DisksClient)
        get = lambda: dc.get(project=p, zone=loc, disk=name, retry=retry)  # noqa: E731
    elif target.kind == "snapshot":
        sc = session.rest_client(compute, compute_v1.SnapshotsClient)
        get = lambda: sc.get(project=p, snapshot=name, retry=retry)  # noqa: E731
    else:
        ac = session.rest_client(compute, compute_v1.AddressesClient)
        get = lambda: ac.get(project=p, region=loc, address=name, retry=retry)  # noqa: E731
    try:
        return session.call(get, f"compute/{target.kind}s/{loc}")
    except gexc.NotFound:
        return None


def machine_type_exists(session: GcpSession, zone: str, machine_type: str) -> bool:
    """Whether ``machine_type`` is offered in ``zone`` (``machineTypes.get``)."""
    client = session.rest_client("compute", compute_v1.MachineTypesClient)
    try:
        session.call(
            lambda: client.get(
                project=session.project, zone=zone, machine_type=machine_type, retry=session.retry
            ),
            f"compute/machineTypes/{zone}",
        )
    except (gexc.NotFound, gexc.BadRequest):
        return False
    return True
