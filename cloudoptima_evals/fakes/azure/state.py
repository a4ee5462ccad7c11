"""State of the fake Azure tenant: ARM resources, power states, costs, metrics, RBAC and Graph objects.

Everything is keyed by lower-cased ARM id (ARM ids are case-insensitive). The HTTP layer in
``fake_arm.py`` reads and mutates this state so that actions change what later reads return.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

OWNER_ROLE_ID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR_ROLE_ID = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER_ROLE_ID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
ROLE_NAMES = {OWNER_ROLE_ID: "Owner", CONTRIBUTOR_ROLE_ID: "Contributor", READER_ROLE_ID: "Reader"}

# size -> (vCPU, memory MiB); "available" sizes for every VM in the fake region
VM_SIZES: dict[str, tuple[int, int]] = {
    "Standard_B2s": (2, 4096),
    "Standard_D2s_v5": (2, 8192),
    "Standard_D4s_v5": (4, 16384),
    "Standard_D8s_v5": (8, 32768),
    "Standard_E2bs_v5": (2, 16384),
}


@dataclass
class Client:
    """An app registration that can get tokens; ``actions`` are its effective RBAC action patterns."""

    client_id: str
    secret: str
    object_id: str
    actions: list[str]
    not_actions: list[str] = field(default_factory=list)
    graph_allowed: bool = True


@dataclass
class CostRow:
    day: date
    service: str
    location: str
    resource_group: str
    resource_id: str
    cost: Decimal


class FakeTenant:
    """The whole fake cloud. All public methods are thread-safe (one lock)."""

    def __init__(self, tenant_id: str, subscription_id: str) -> None:
        self.tenant_id = tenant_id
        self.subscription_id = subscription_id
        self.lock = threading.RLock()
        self.clients: dict[str, Client] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.power: dict[str, str] = {}
        self.costs: list[CostRow] = []
        self.forecast_daily: Decimal | None = None
        """A fixed daily forecast; None: the run-rate of the last 7 days of cost before the forecast."""
        self.role_assignments: list[dict[str, Any]] = []
        self.graph: dict[str, dict[str, Any]] = {}
        self.applications: dict[str, dict[str, Any]] = {}
        self.location_failures: set[str] = set()
        self.reservations: list[dict[str, Any]] = []
        """``Microsoft.Capacity`` reservations as ARM lists them (tenant-level, any subscription's)."""
        self.savings_plans: list[dict[str, Any]] = []
        """``Microsoft.BillingBenefits`` savings plans as ARM lists them (tenant-level)."""
        self.metric_points: dict[str, dict[str, dict[datetime, float]]] = {}
        """Planted Azure Monitor data: lower-cased resource id → metric name → hour start → hourly value
        (the hour's average for a percentage or a rate, its total for a ``... Total`` byte counter)."""
        self.now = datetime.now(UTC).replace(microsecond=0)

    # -- seeding -----------------------------------------------------------------------------------
    def sub(self) -> str:
        return f"/subscriptions/{self.subscription_id}"

    def rid(self, rg: str, provider: str, rtype: str, name: str) -> str:
        return f"{self.sub()}/resourceGroups/{rg}/providers/{provider}/{rtype}/{name}"

    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.resources[body["id"].lower()] = body
            return body

    def add_vm(
        self,
        rg: str,
        name: str,
        location: str,
        size: str,
        disk_ids: list[str],
        nic_id: str,
        running: bool,
        *,
        tags: dict[str, str] | None = None,
        age_days: float = 90,
    ) -> str:
        vm_id = self.rid(rg, "Microsoft.Compute", "virtualMachines", name)
        os_disk, *data = disk_ids
        self.put(
            {
                "id": vm_id,
                "name": name,
                "type": "Microsoft.Compute/virtualMachines",
                "location": location,
                "tags": {"env": "prod"} if tags is None else dict(tags),
                "properties": {
                    "vmId": f"vm-{name}",
                    "hardwareProfile": {"vmSize": size},
                    "storageProfile": {
                        "osDisk": {
                            "osType": "Linux",
                            "name": os_disk.rsplit("/", 1)[1],
                            "managedDisk": {"id": os_disk},
                        },
                        "dataDisks": [
                            {"lun": i, "name": d.rsplit("/", 1)[1], "managedDisk": {"id": d}}
                            for i, d in enumerate(data)
                        ],
                    },
                    "networkProfile": {"networkInterfaces": [{"id": nic_id}]},
                    "provisioningState": "Succeeded",
                    "timeCreated": _iso(self.now - timedelta(days=age_days)),
                },
            }
        )
        self.power[vm_id.lower()] = "running" if running else "deallocated"
        for disk_id in disk_ids:
            disk = self.get(disk_id)
            if disk is not None:
                disk["managedBy"] = vm_id
                disk["properties"]["diskState"] = "Attached"
        nic = self.get(nic_id)
        if nic is not None:
            nic["properties"]["virtualMachine"] = {"id": vm_id}
        return vm_id

    def add_disk(
        self,
        rg: str,
        name: str,
        location: str,
        size_gb: int,
        sku: str,
        age_days: int = 60,
        *,
        never_attached: bool = False,
    ) -> str:
        """A managed disk; ARM reports ``LastOwnershipUpdateTime`` only once a disk was attached."""
        disk_id = self.rid(rg, "Microsoft.Compute", "disks", name)
        self.put(
            {
                "id": disk_id,
                "name": name,
                "type": "Microsoft.Compute/disks",
                "location": location,
                "tags": {},
                "sku": {"name": sku},
                "properties": {
                    "diskSizeGB": size_gb,
                    "diskState": "Unattached",
                    "timeCreated": _iso(self.now - timedelta(days=age_days)),
                    "LastOwnershipUpdateTime": _iso(self.now - timedelta(days=age_days // 2)),
                    "provisioningState": "Succeeded",
                    "creationData": {"createOption": "Empty"},
                },
            }
        )
        if never_attached:
            del self.resources[disk_id.lower()]["properties"]["LastOwnershipUpdateTime"]
        return disk_id

    def add_snapshot(
        self, rg: str, name: str, location: str, source_id: str, size_gb: int, age_days: float = 200
    ) -> str:
        snap_id = self.rid(rg, "Microsoft.Compute", "snapshots", name)
        self.put(
            {
                "id": snap_id,
                "name": name,
                "type": "Microsoft.Compute/snapshots",
                "location": location,
                "tags": {},
                "sku": {"name": "Standard_LRS"},
                "properties": {
                    "diskSizeGB": size_gb,
                    "incremental": False,
                    "timeCreated": _iso(self.now - timedelta(days=age_days)),
                    "provisioningState": "Succeeded",
                    "creationData": {"createOption": "Copy", "sourceResourceId": source_id},
                },
            }
        )
        return snap_id

    def add_nic(self, rg: str, name: str, location: str, public_ip_id: str | None) -> str:
        nic_id = self.rid(rg, "Microsoft.Network", "networkInterfaces", name)
        ipconf: dict[str, Any] = {
            "id": f"{nic_id}/ipConfigurations/ipconfig1",
            "name": "ipconfig1",
            "properties": {"privateIPAddress": "10.0.0.4", "privateIPAllocationMethod": "Dynamic"},
        }
        if public_ip_id:
            ipconf["properties"]["publicIPAddress"] = {"id": public_ip_id}
            ip = self.get(public_ip_id)
            if ip is not None:
                ip["properties"]["ipConfiguration"] = {"id": ipconf["id"]}
        self.put(
            {
                "id": nic_id,
                "name": name,
                "type": "Microsoft.Network/networkInterfaces",
                "location": location,
                "properties": {"ipConfigurations": [ipconf], "provisioningState": "Succeeded"},
            }
        )
        return nic_id

    def add_public_ip(self, rg: str, name: str, location: str, address: str) -> str:
        ip_id = self.rid(rg, "Microsoft.Network", "publicIPAddresses", name)
        self.put(
            {
                "id": ip_id,
                "name": name,
                "type": "Microsoft.Network/publicIPAddresses",
                "location": location,
                "tags": {},
                "sku": {"name": "Standard"},
                "properties": {
                    "ipAddress": address,
                    "publicIPAllocationMethod": "Static",
                    "provisioningState": "Succeeded",
                },
            }
        )
        return ip_id

    def add_load_balancer(self, rg: str, name: str, location: str, ipconfig_ids: list[str]) -> str:
        lb_id = self.rid(rg, "Microsoft.Network", "loadBalancers", name)
        self.put(
            {
                "id": lb_id,
                "name": name,
                "type": "Microsoft.Network/loadBalancers",
                "location": location,
                "tags": {},
                "sku": {"name": "Standard"},
                "properties": {
                    "provisioningState": "Succeeded",
                    "backendAddressPools": [
                        {
                            "id": f"{lb_id}/backendAddressPools/pool1",
                            "name": "pool1",
                            "properties": {"backendIPConfigurations": [{"id": i} for i in ipconfig_ids]},
                        }
                    ],
                },
            }
        )
        return lb_id

    def add_service_principal(
        self,
        object_id: str,
        app_id: str,
        name: str,
        secrets: list[tuple[str, datetime, datetime]],
        role_id: str,
    ) -> None:
        with self.lock:
            self.graph[object_id] = {
                "@odata.type": "#microsoft.graph.servicePrincipal",
                "id": object_id,
                "appId": app_id,
                "displayName": name,
                "servicePrincipalType": "Application",
            }
            self.applications[app_id] = {
                "id": f"app-{object_id}",
                "appId": app_id,
                "displayName": name,
                "createdDateTime": _iso(self.now - timedelta(days=400)),
                "passwordCredentials": [
                    {
                        "keyId": key_id,
                        "displayName": f"{key_id}-secret",
                        "hint": "abc",
                        "startDateTime": _iso(start),
                        "endDateTime": _iso(end),
                        "secretText": None,
                    }
                    for key_id, start, end in secrets
                ],
            }
            self.assign(object_id, "ServicePrincipal", role_id)

    def add_user(self, object_id: str, upn: str, role_id: str) -> None:
        with self.lock:
            self.graph[object_id] = {
                "@odata.type": "#microsoft.graph.user",
                "id": object_id,
                "displayName": upn.split("@")[0],
                "userPrincipalName": upn,
                "createdDateTime": _iso(self.now - timedelta(days=700)),
            }
            self.assign(object_id, "User", role_id)

    def assign(self, principal_id: str, principal_type: str, role_id: str) -> None:
        name = f"ra-{len(self.role_assignments) + 1:04d}"
        self.role_assignments.append(
            {
                "id": f"{self.sub()}/providers/Microsoft.Authorization/roleAssignments/{name}",
                "name": name,
                "type": "Microsoft.Authorization/roleAssignments",
                "properties": {
                    "roleDefinitionId": f"{self.sub()}/providers/Microsoft.Authorization/roleDefinitions/{role_id}",
                    "principalId": principal_id,
                    "principalType": principal_type,
                    "scope": self.sub(),
                    "createdOn": _iso(self.now - timedelta(days=300)),
                },
            }
        )

    def add_metric(self, resource_id: str, metric: str, start: datetime, values: list[float]) -> None:
        """Plant hourly values of one platform metric from the hour ``start`` on (see ``metric_points``)."""
        with self.lock:
            points = self.metric_points.setdefault(resource_id.lower(), {}).setdefault(metric, {})
            for hour, value in enumerate(values):
                points[start + timedelta(hours=hour)] = float(value)

    # -- reads ---------------------------------------------------------------------------------------
    def get(self, resource_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.resources.get(resource_id.lower())

    def of_type(self, rtype: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.resources.values() if r["type"].lower() == rtype.lower()]

    def allowed(self, client: Client, action: str) -> bool:
        def hit(patterns: list[str]) -> bool:
            return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)

        return hit(client.actions) and not hit(client.not_actions)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def iso(value: datetime) -> str:
    """ISO-8601 UTC the way ARM writes it."""
    return _iso(value)
