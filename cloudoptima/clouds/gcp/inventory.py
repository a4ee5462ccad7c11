"""Compute Engine inventory of one project: instances, disks, snapshots, static addresses, forwarding rules.

Contract:

- Instances, disks, addresses and forwarding rules are read with ``aggregatedList`` (every zone and region
  in one paged call, ``pageToken`` followed to the end); snapshots with the global ``list``.
- A zone or region the API reports as unreachable (top-level ``unreachables`` or a scoped-list
  ``warning`` other than ``NO_RESULTS_ON_PAGE``) becomes a :class:`Failure` with scope
  ``compute/<kind>/<zone or region>``; the other scopes are still returned. A whole family failing with a
  non-credential error is one failure ``compute/<kind>``; credential errors and exhausted throttling raise.
- With ``use_asset_inventory`` the same resources are read from Cloud Asset (``assets.list``,
  content type RESOURCE) and mapped by the same functions, so both sources give identical resources.
- ``resource_id`` is the relative resource name, e.g. ``projects/p/zones/us-central1-a/instances/vm-1``.
- ``monthly_cost`` is the list-price estimate of :mod:`cloudoptima.clouds.gcp.pricing` (0 when stopped).
- A snapshot's ``size_gb`` is the GB it stores (``storageBytes``, rounded up): Compute bills snapshots by
  stored bytes, a fraction of the source disk's ``diskSizeGb`` (the fallback when the bytes are unknown).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from google.api_core import exceptions as gexc
from google.cloud import asset_v1, compute_v1
from google.protobuf.json_format import MessageToDict

from cloudoptima.clouds.gcp import pricing
from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.protocol import CredentialsError, Failure, Partial, ProviderError, ThrottledError
from cloudoptima.domain.inventory import (
    CloudProvider,
    DiskAttributes,
    InstanceAttributes,
    LoadBalancerAttributes,
    PublicIpAttributes,
    Resource,
    ResourceKind,
    ResourceState,
    SnapshotAttributes,
)

M = TypeVar("M")
_BENIGN_WARNINGS = {"NO_RESULTS_ON_PAGE"}
_RUNNING = {"RUNNING", "STAGING", "PROVISIONING", "REPAIRING"}
_ASSET_TYPES: dict[str, type[Any]] = {
    "compute.googleapis.com/Instance": compute_v1.Instance,
    "compute.googleapis.com/Disk": compute_v1.Disk,
    "compute.googleapis.com/Snapshot": compute_v1.Snapshot,
    "compute.googleapis.com/Address": compute_v1.Address,
    "compute.googleapis.com/ForwardingRule": compute_v1.ForwardingRule,
}


def relative_name(link: str) -> str:
    """``projects/...`` part of a Compute self link or URL (unchanged if it has none)."""
    index = link.find("projects/")
    return link[index:] if index >= 0 else link


def last_segment(link: str) -> str:
    """The last path segment of a URL (``.../zones/us-central1-a`` → ``us-central1-a``)."""
    return link.rstrip("/").rsplit("/", 1)[-1]


def region_of(location: str) -> str:
    """Region of a zone (``us-central1-a`` → ``us-central1``); regions and ``global`` are unchanged."""
    parts = location.split("-")
    if len(parts) == 3 and len(parts[2]) == 1:
        return f"{parts[0]}-{parts[1]}"
    return location


def parse_time(value: str) -> datetime | None:
    """An RFC 3339 timestamp from the API as aware UTC, or None when empty."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class ComputeInventory:
    """Reads the project's Compute resources (see module docstring)."""

    def __init__(self, session: GcpSession) -> None:
        self.session = session
        self.project = session.project
        self._shapes: dict[tuple[str, str], tuple[int, Decimal]] = {}

    # ----- reading -------------------------------------------------------------------------------

    def read(self) -> Partial[Resource]:
        """Every resource, from Compute or (when enabled) Cloud Asset."""
        if self.session.settings.use_asset_inventory:
            return self._read_assets()
        items: list[Resource] = []
        failures: list[Failure] = []
        s = self.session
        families: list[tuple[str, Callable[[], Iterable[Any]], Callable[[Any], Resource]]] = [
            (
                "instances",
                lambda: self._pages(s.rest_client("compute", compute_v1.InstancesClient)),
                self.instance,
            ),
            ("disks", lambda: self._pages(s.rest_client("compute", compute_v1.DisksClient)), self.disk),
            (
                "addresses",
                lambda: self._pages(s.rest_client("compute", compute_v1.AddressesClient)),
                self.address,
            ),
            (
                "forwardingRules",
                lambda: self._pages(s.rest_client("compute", compute_v1.ForwardingRulesClient)),
                self.forwarding_rule,
            ),
        ]
        for family, pages, mapper in families:
            found, failed = self._aggregated(family, pages)
            items.extend(mapper(obj) for obj in found)
            failures.extend(failed)
        try:
            snapshots = self.session.call(
                lambda: list(
                    s.rest_client("compute", compute_v1.SnapshotsClient).list(
                        request=compute_v1.ListSnapshotsRequest(project=self.project, max_results=500),
                        retry=s.retry,
                    )
                ),
                "compute/snapshots",
            )
            items.extend(self.snapshot(snap) for snap in snapshots)
        except (CredentialsError, ThrottledError):
            raise
        except (ProviderError, gexc.GoogleAPIError) as exc:
            failures.append(Failure(scope="compute/snapshots", error=str(exc), retryable=True))
        return Partial[Resource](items=items, failures=failures)

    def _pages(self, client: Any) -> Iterable[Any]:
        request = {"project": self.project, "max_results": 500}
        pager = client.aggregated_list(request=request, retry=self.session.retry)
        return list(pager.pages)

    def _aggregated(self, family: str, pages: Callable[[], Iterable[Any]]) -> tuple[list[Any], list[Failure]]:
        """Objects of every scope plus failures for unreachable scopes."""
        scope = f"compute/{family}"
        try:
            responses = self.session.call(lambda: list(pages()), scope)
        except (CredentialsError, ThrottledError):
            raise
        except (ProviderError, gexc.GoogleAPIError) as exc:
            return [], [Failure(scope=scope, error=str(exc), retryable=True)]
        found: list[Any] = []
        failures: dict[str, Failure] = {}
        field = {"forwardingRules": "forwarding_rules"}.get(family, family)
        for response in responses:
            for unreachable in response.unreachables:
                where = last_segment(unreachable)
                failures[where] = Failure(scope=f"{scope}/{where}", error="unreachable", retryable=True)
            for key, scoped in response.items.items():
                warning = scoped.warning
                if warning.code and warning.code not in _BENIGN_WARNINGS:
                    where = last_segment(key)
                    failures[where] = Failure(
                        scope=f"{scope}/{where}", error=f"{warning.code}: {warning.message}", retryable=True
                    )
                found.extend(getattr(scoped, field))
        return found, list(failures.values())

    def _read_assets(self) -> Partial[Resource]:
        client = self.session.rest_client("asset", asset_v1.AssetServiceClient)
        request = asset_v1.ListAssetsRequest(
            parent=f"projects/{self.project}",
            asset_types=list(_ASSET_TYPES),
            content_type=asset_v1.ContentType.RESOURCE,
            page_size=500,
        )
        assets = self.session.call(
            lambda: list(client.list_assets(request=request, retry=self.session.retry)), "asset/assets"
        )
        items: list[Resource] = []
        failures: list[Failure] = []
        mappers: dict[str, Callable[[Any], Resource]] = {
            "compute.googleapis.com/Instance": self.instance,
            "compute.googleapis.com/Disk": self.disk,
            "compute.googleapis.com/Snapshot": self.snapshot,
            "compute.googleapis.com/Address": self.address,
            "compute.googleapis.com/ForwardingRule": self.forwarding_rule,
        }
        for asset in assets:
            message_type = _ASSET_TYPES.get(asset.asset_type)
            if message_type is None:
                continue
            data = MessageToDict(type(asset.resource).pb(asset.resource).data)
            try:
                obj = message_type.from_json(json.dumps(data), ignore_unknown_fields=True)
                items.append(mappers[asset.asset_type](obj))
            except (ValueError, KeyError) as exc:
                failures.append(Failure(scope=f"asset/{asset.name}", error=f"unreadable asset: {exc}"))
        return Partial[Resource](items=items, failures=failures)

    # ----- mapping ---------------------------------------------------------------------------------

    def shape(self, zone: str, machine_type: str) -> tuple[int, Decimal]:
        """(vCPU, GiB) of a machine type: the price table, else ``machineTypes.get`` (cached)."""
        known = pricing.machine_shape(machine_type)
        if known is not None:
            return known
        key = (zone, machine_type)
        if key not in self._shapes:
            client = self.session.rest_client("compute", compute_v1.MachineTypesClient)
            found = self.session.call(
                lambda: client.get(
                    project=self.project, zone=zone, machine_type=machine_type, retry=self.session.retry
                ),
                f"compute/machineTypes/{zone}",
            )
            self._shapes[key] = (int(found.guest_cpus), Decimal(int(found.memory_mb)) / Decimal(1024))
        return self._shapes[key]

    def _base(self, obj: Any, kind: ResourceKind, location: str) -> dict[str, Any]:
        created = parse_time(obj.creation_timestamp) or datetime(1970, 1, 1, tzinfo=UTC)
        return {
            "resource_id": relative_name(obj.self_link),
            "name": obj.name,
            "kind": kind,
            "provider": CloudProvider.GCP,
            "account_id": self.project,
            "region": region_of(location),
            "service_name": "Compute Engine",
            "tags": dict(obj.labels),
            "created_at": created,
        }

    def instance(self, obj: compute_v1.Instance) -> Resource:
        """A Compute instance as a resource."""
        zone = last_segment(obj.zone)
        machine_type = last_segment(obj.machine_type)
        vcpu, memory = self.shape(zone, machine_type)
        running = obj.status in _RUNNING
        attributes = InstanceAttributes(
            instance_type=machine_type,
            family=pricing.family_of(machine_type),
            vcpu=vcpu,
            memory_gib=memory,
            attached_disk_ids=tuple(relative_name(d.source) for d in obj.disks if d.source),
        )
        return Resource(
            **self._base(obj, ResourceKind.COMPUTE_INSTANCE, zone),
            sku_id=machine_type,
            attributes=attributes,
            monthly_cost=pricing.instance_monthly(machine_type, vcpu, memory) if running else Decimal(0),
            state=ResourceState.RUNNING if running else ResourceState.STOPPED,
            launched_at=parse_time(obj.last_start_timestamp),
            stopped_at=None if running else parse_time(obj.last_stop_timestamp),
        )

    def disk(self, obj: compute_v1.Disk) -> Resource:
        """A persistent disk; ``attached_to`` is its first user instance."""
        location = last_segment(obj.zone or obj.region)
        disk_type = last_segment(obj.type_)
        users = [relative_name(u) for u in obj.users]
        attributes = DiskAttributes(
            disk_type=disk_type,
            size_gb=max(int(obj.size_gb), 1),
            attached_to=users[0] if users else None,
            detached_at=None if users else parse_time(obj.last_detach_timestamp),
        )
        return Resource(
            **self._base(obj, ResourceKind.DISK, location),
            sku_id=disk_type,
            attributes=attributes,
            monthly_cost=pricing.disk_monthly(disk_type, attributes.size_gb),
            state=ResourceState.IN_USE if users else ResourceState.AVAILABLE,
        )

    def snapshot(self, obj: compute_v1.Snapshot) -> Resource:
        """A disk snapshot, sized and priced on the bytes it stores (what Compute bills; the source disk's
        size when unknown), not on the source disk's size."""
        locations = list(obj.storage_locations)
        stored_gb = -(-int(obj.storage_bytes) // 1024**3) if obj.storage_bytes else int(obj.disk_size_gb)
        tier = (obj.snapshot_type or "STANDARD").lower()
        attributes = SnapshotAttributes(
            size_gb=max(stored_gb, 1),
            source_disk_id=relative_name(obj.source_disk) if obj.source_disk else "",
            storage_tier=tier,
        )
        return Resource(
            **self._base(obj, ResourceKind.SNAPSHOT, locations[0] if locations else "global"),
            sku_id=f"snapshot-{tier}",
            attributes=attributes,
            monthly_cost=pricing.snapshot_monthly(max(stored_gb, 1), tier),
            state=ResourceState.AVAILABLE,
        )

    def address(self, obj: compute_v1.Address) -> Resource:
        """A static address: ``IN_USE`` when a user holds it, ``AVAILABLE`` when only ``RESERVED``."""
        in_use = obj.status == "IN_USE"
        users = [relative_name(u) for u in obj.users]
        return Resource(
            **self._base(obj, ResourceKind.PUBLIC_IP, last_segment(obj.region) if obj.region else "global"),
            sku_id=f"address-{(obj.address_type or 'EXTERNAL').lower()}",
            attributes=PublicIpAttributes(address=obj.address, associated_with=users[0] if users else None),
            monthly_cost=pricing.address_monthly(in_use),
            state=ResourceState.IN_USE if in_use else ResourceState.AVAILABLE,
        )

    def forwarding_rule(self, obj: compute_v1.ForwardingRule) -> Resource:
        """A forwarding rule (the billable frontend of a load balancer)."""
        target = obj.target or obj.backend_service
        return Resource(
            **self._base(
                obj, ResourceKind.LOAD_BALANCER, last_segment(obj.region) if obj.region else "global"
            ),
            sku_id="forwarding-rule",
            attributes=LoadBalancerAttributes(
                lb_type=(obj.load_balancing_scheme or "EXTERNAL").lower(),
                target_ids=(relative_name(target),) if target else (),
            ),
            monthly_cost=pricing.forwarding_rule_monthly(),
            state=ResourceState.IN_USE,
        )
