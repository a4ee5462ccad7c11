"""Inventory of one subscription: VMs, managed disks, snapshots, public IPs, load balancers, SQL databases.

Contract:

- Each resource provider list (``compute/virtualMachines``, ``compute/disks``, ``network/publicIPAddresses``…)
  is read subscription-wide with nextLink paging; one list failing becomes a :class:`Failure` with that scope
  and the other lists are still returned.
- A VM's power state comes from its instance view (a call to the VM's regional resource provider): when that
  call fails the VM is left out and ``compute/{location}`` is listed as failed.
- VM power states: ``running``/``starting`` → RUNNING; ``deallocated``/``deallocating`` → STOPPED with
  ``monthly_cost`` 0; ``stopped`` (powered off but still allocated) → STOPPED but *still billed*, so its
  ``monthly_cost`` stays the full compute price.
- vCPU/memory come from :mod:`pricing`'s size table, else from the VM's ``vmSizes`` list.
- References between resources (a snapshot's source disk, a disk's VM, a VM's disks, an address's or a load
  balancer's targets) are spelled as the referenced resource's own id when it is in the inventory: ARM ids
  are case-insensitive and a reference keeps the casing its creator typed (``RG-PROD`` for ``rg-prod``).
- Missing permissions and bad credentials raise :class:`CredentialsError` (protocol rule), never a Failure.
- Azure SQL databases are read by :mod:`sql_inventory`; other databases (PostgreSQL/MySQL flexible servers)
  and storage accounts are not inventoried by this adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cloudoptima.clouds.azure import ids, pricing
from cloudoptima.clouds.azure.errors import translate
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.azure.sql_inventory import sql_databases
from cloudoptima.clouds.protocol import CredentialsError, Failure
from cloudoptima.domain.inventory import (
    CloudAccount,
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

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RUNNING = {"running", "starting"}
_BILLED_STOPPED = {"stopped", "stopping"}


def as_dict(model: Any) -> dict[str, Any]:
    """An SDK model as its REST JSON (camelCase keys)."""
    return dict(model.as_dict()) if hasattr(model, "as_dict") else dict(model)


def dig(data: Any, *path: str) -> Any:
    """``data[p0][p1]…`` or None when any step is missing."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def when(value: Any) -> datetime | None:
    """A UTC datetime from an ARM timestamp string (or None)."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    head, _, rest = text.partition(".")
    if rest:  # ARM writes 7 fractional digits; fromisoformat accepts at most 6
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    parsed = datetime.fromisoformat(text)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def power_state(instance_view: dict[str, Any]) -> str:
    """``running`` / ``deallocated`` / ``stopped`` … from an instance view's ``PowerState/*`` status."""
    for status in instance_view.get("statuses") or []:
        code = str(status.get("code") or "")
        if code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1].lower()
    return "unknown"


def canonical_references(resources: list[Resource]) -> list[Resource]:
    """``resources`` with every reference to another listed resource spelled as that resource's own id
    (ARM compares ids case-insensitively, the rules compare them exactly); other references unchanged."""
    known = {r.resource_id.lower(): r.resource_id for r in resources}

    def same(value: str | None) -> str | None:
        return known.get(value.lower(), value) if value else value

    out = []
    for resource in resources:
        a = resource.attributes
        update: dict[str, Any] = {}
        if isinstance(a, SnapshotAttributes):
            update = {"source_disk_id": same(a.source_disk_id)}
        elif isinstance(a, DiskAttributes):
            update = {"attached_to": same(a.attached_to)}
        elif isinstance(a, InstanceAttributes):
            update = {"attached_disk_ids": tuple(same(d) or d for d in a.attached_disk_ids)}
        elif isinstance(a, PublicIpAttributes):
            update = {"associated_with": same(a.associated_with)}
        elif isinstance(a, LoadBalancerAttributes):
            update = {"target_ids": tuple(same(t) or t for t in a.target_ids)}
        spelled = a.model_copy(update=update) if update else a
        out.append(resource if spelled == a else resource.model_copy(update={"attributes": spelled}))
    return out


class InventoryReader:
    """Reads the inventory of ``session``'s subscription (see module contract)."""

    def __init__(self, session: AzureSession) -> None:
        self.session = session
        self.account_id = session.subscription_id
        self.failures: list[Failure] = []

    def read(self) -> tuple[list[Resource], list[Failure]]:
        self.failures = []
        nics = {
            n["id"].lower(): n
            for n in self._list("network/networkInterfaces", self.session.network.network_interfaces.list_all)
        }
        vm_of_ipconfig = {
            conf["id"].lower(): dig(nic, "properties", "virtualMachine", "id") or nic["id"]
            for nic in nics.values()
            for conf in dig(nic, "properties", "ipConfigurations") or []
        }
        resources: list[Resource] = []
        for vm in self._list("compute/virtualMachines", self.session.compute.virtual_machines.list_all):
            instance = self._vm(vm)
            if instance is not None:
                resources.append(instance)
        resources += [self._disk(d) for d in self._list("compute/disks", self.session.compute.disks.list)]
        resources += [
            self._snapshot(s) for s in self._list("compute/snapshots", self.session.compute.snapshots.list)
        ]
        resources += [
            self._public_ip(p, vm_of_ipconfig)
            for p in self._list(
                "network/publicIPAddresses", self.session.network.public_ip_addresses.list_all
            )
        ]
        resources += [
            self._load_balancer(lb, vm_of_ipconfig)
            for lb in self._list("network/loadBalancers", self.session.network.load_balancers.list_all)
        ]
        resources += sql_databases(self.session, self._list, self._base, when)
        return canonical_references(resources), self.failures

    def account(self) -> CloudAccount:
        """The subscription as a :class:`CloudAccount` (one ARM call)."""
        sub = as_dict(self.session.subscriptions.subscriptions.get(self.account_id))
        return CloudAccount(
            account_id=self.account_id,
            provider=CloudProvider.AZURE,
            name=str(sub.get("displayName") or self.account_id),
            billing_account_id=str(sub.get("tenantId") or self.session.settings.tenant_id),
            billing_account_name=str(sub.get("displayName") or self.account_id),
            regions=(),
            created_at=EPOCH,
        )

    # -- helpers -------------------------------------------------------------------------------------
    def _list(self, scope: str, call: Callable[[], Iterable[Any]]) -> list[dict[str, Any]]:
        try:
            return [as_dict(item) for item in call()]
        except Exception as exc:
            error = translate(exc, f"list {scope}")
            if isinstance(error, CredentialsError):
                raise error from None
            self.failures.append(Failure(scope=scope, error=str(error), retryable=error.retryable))
            return []

    def _base(self, item: dict[str, Any], kind: ResourceKind, service: str, sku: str) -> dict[str, Any]:
        return {
            "resource_id": item["id"],
            "name": item.get("name") or item["id"].rsplit("/", 1)[-1],
            "kind": kind,
            "provider": CloudProvider.AZURE,
            "account_id": self.account_id,
            "region": str(item.get("location") or "global"),
            "service_name": service,
            "sku_id": sku,
            "tags": {str(k): str(v) for k, v in (item.get("tags") or {}).items()},
            "created_at": when(dig(item, "properties", "timeCreated")) or EPOCH,
        }

    def _vm(self, vm: dict[str, Any]) -> Resource | None:
        arm = ids.parse(vm["id"])
        location = str(vm.get("location") or "unknown")
        if arm is None:
            return None
        try:
            view = as_dict(self.session.compute.virtual_machines.instance_view(arm.resource_group, arm.name))
        except Exception as exc:
            error = translate(exc, f"read the instance view of {arm.name}")
            if isinstance(error, CredentialsError):
                raise error from None
            self.failures.append(
                Failure(scope=f"compute/{location}", error=str(error), retryable=error.retryable)
            )
            return None
        power = power_state(view)
        size = str(dig(vm, "properties", "hardwareProfile", "vmSize") or "unknown")
        vcpu, memory, family = self._size(size, arm)
        storage = dig(vm, "properties", "storageProfile") or {}
        disk_ids = [dig(storage, "osDisk", "managedDisk", "id")] + [
            dig(d, "managedDisk", "id") for d in storage.get("dataDisks") or []
        ]
        running = power in _RUNNING
        billed = running or power in _BILLED_STOPPED
        created = when(dig(vm, "properties", "timeCreated")) or EPOCH
        return Resource(
            **self._base(vm, ResourceKind.COMPUTE_INSTANCE, "Virtual Machines", size),
            attributes=InstanceAttributes(
                instance_type=size,
                family=family,
                vcpu=vcpu,
                memory_gib=memory,
                platform=str(dig(storage, "osDisk", "osType") or "linux").lower(),
                attached_disk_ids=tuple(d for d in disk_ids if d),
            ),
            monthly_cost=pricing.vm_monthly(size, vcpu) if billed else Decimal(0),
            state=ResourceState.RUNNING if running else ResourceState.STOPPED,
            launched_at=created if running else None,
        )

    def _size(self, size: str, arm: ids.ArmId) -> tuple[int, Decimal, str]:
        known = pricing.VM_SIZES.get(size)
        if known:
            return known[0], known[1], known[3]
        family = size.removeprefix("Standard_").split("_")[0].rstrip("0123456789") or size
        try:
            for entry in self.session.compute.virtual_machines.list_available_sizes(
                arm.resource_group, arm.name
            ):
                data = as_dict(entry)
                if data.get("name") == size:
                    memory = (Decimal(int(data.get("memoryInMB") or 1024)) / 1024).quantize(Decimal("0.01"))
                    return int(data.get("numberOfCores") or 1), memory, family
        except Exception as exc:
            error = translate(exc, f"list sizes of {arm.name}")
            self.failures.append(Failure(scope=f"compute/vmSizes/{arm.name}", error=str(error)))
        return 1, Decimal(1), family

    def _disk(self, disk: dict[str, Any]) -> Resource:
        sku = str(dig(disk, "sku", "name") or "Standard_LRS")
        size = int(dig(disk, "properties", "diskSizeGB") or 1)
        state = str(dig(disk, "properties", "diskState") or "")
        attached = disk.get("managedBy") if state.lower() != "unattached" else None
        detached = when(dig(disk, "properties", "LastOwnershipUpdateTime")) if attached is None else None
        return Resource(
            **self._base(disk, ResourceKind.DISK, "Storage", sku),
            attributes=DiskAttributes(
                disk_type=sku, size_gb=max(size, 1), attached_to=attached, detached_at=detached
            ),
            monthly_cost=pricing.disk_monthly(sku, size),
            state=ResourceState.AVAILABLE if attached is None else ResourceState.IN_USE,
        )

    def _snapshot(self, snap: dict[str, Any]) -> Resource:
        sku = str(dig(snap, "sku", "name") or "Standard_LRS")
        size = int(dig(snap, "properties", "diskSizeGB") or 1)
        return Resource(
            **self._base(snap, ResourceKind.SNAPSHOT, "Storage", sku),
            attributes=SnapshotAttributes(
                size_gb=max(size, 1),
                source_disk_id=str(dig(snap, "properties", "creationData", "sourceResourceId") or "unknown"),
                storage_tier="premium" if sku.startswith("Premium") else "standard",
            ),
            monthly_cost=pricing.snapshot_monthly(sku, size),
            state=ResourceState.AVAILABLE,
        )

    def _public_ip(self, ip: dict[str, Any], vm_of_ipconfig: dict[str, str]) -> Resource:
        sku = str(dig(ip, "sku", "name") or "Basic")
        config = dig(ip, "properties", "ipConfiguration", "id")
        associated = (vm_of_ipconfig.get(config.lower()) or ids.parent_resource(config)) if config else None
        return Resource(
            **self._base(ip, ResourceKind.PUBLIC_IP, "Virtual Network", sku),
            attributes=PublicIpAttributes(
                address=str(dig(ip, "properties", "ipAddress") or ""), associated_with=associated
            ),
            monthly_cost=pricing.PUBLIC_IP_MONTHLY.get(sku, pricing.PUBLIC_IP_MONTHLY["Standard"]),
            state=ResourceState.IN_USE if associated else ResourceState.AVAILABLE,
        )

    def _load_balancer(self, lb: dict[str, Any], vm_of_ipconfig: dict[str, str]) -> Resource:
        sku = str(dig(lb, "sku", "name") or "Basic")
        targets: list[str] = []
        for pool in dig(lb, "properties", "backendAddressPools") or []:
            for conf in dig(pool, "properties", "backendIPConfigurations") or []:
                target = vm_of_ipconfig.get(str(conf.get("id")).lower()) or ids.parent_resource(
                    str(conf.get("id"))
                )
                if target not in targets:
                    targets.append(target)
        return Resource(
            **self._base(lb, ResourceKind.LOAD_BALANCER, "Load Balancer", sku),
            attributes=LoadBalancerAttributes(lb_type=sku, target_ids=tuple(targets)),
            monthly_cost=pricing.LOAD_BALANCER_MONTHLY.get(sku, Decimal(0)),
            state=ResourceState.IN_USE if targets else ResourceState.AVAILABLE,
        )
