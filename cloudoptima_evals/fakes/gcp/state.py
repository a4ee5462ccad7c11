"""The state behind the strict GCP fakes: one project's Compute resources, IAM, billing rows and metrics.

Objects are stored in the API's JSON shape (camelCase) so the REST fake can return them as they are.
``throttle[route] = n`` makes the next ``n`` calls of ``route`` answer 429 / RESOURCE_EXHAUSTED (``-1``:
always). ``calls`` records every (route, page token) so tests can prove paging happened.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

BASE = "https://www.googleapis.com/compute/v1/"
TOKEN = "fake-token-123"
MACHINE_TYPES: dict[str, tuple[int, int]] = {  # name -> (guestCpus, memoryMb)
    "e2-standard-2": (2, 8192),
    "e2-standard-4": (4, 16384),
    "n2-standard-8": (8, 32768),
    "m3-weird-7": (7, 12288),  # not in the price table: forces machineTypes.get
}
READ_PERMISSIONS = {
    "compute.instances.list",
    "compute.instances.get",
    "compute.disks.list",
    "compute.disks.get",
    "compute.snapshots.list",
    "compute.snapshots.get",
    "compute.addresses.list",
    "compute.addresses.get",
    "compute.forwardingRules.list",
    "compute.commitments.list",
    "compute.machineTypes.get",
    "monitoring.timeSeries.list",
    "resourcemanager.projects.get",
    "resourcemanager.projects.getIamPolicy",
    "iam.serviceAccounts.list",
    "iam.serviceAccountKeys.list",
    "recommender.computeInstanceIdleResourceRecommendations.list",
    "recommender.computeInstanceMachineTypeRecommendations.list",
    "cloudasset.assets.listResource",
    "cloudsql.instances.list",
    "bigquery.jobs.create",
    "bigquery.tables.getData",
}
ACTION_PERMISSIONS = {
    "compute.instances.stop",
    "compute.instances.start",
    "compute.instances.setMachineType",
    "compute.instances.setLabels",
    "compute.disks.createSnapshot",
    "compute.snapshots.create",
    "compute.disks.delete",
    "compute.disks.create",
    "compute.snapshots.useReadOnly",
    "compute.disks.setLabels",
    "compute.snapshots.delete",
    "compute.snapshots.setLabels",
    "compute.addresses.delete",
    "compute.addresses.setLabels",
}


def stamp(value: datetime) -> str:
    """RFC 3339 as Compute writes it (with a non-UTC offset, to prove we normalise)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


@dataclass
class FakeGcp:
    """Mutable state of one fake project; every mutation holds ``lock``."""

    project: str = "finops-demo"
    page_size: int = 2
    permissions: set[str] = field(default_factory=lambda: READ_PERMISSIONS | ACTION_PERMISSIONS)
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    disks: dict[str, dict[str, Any]] = field(default_factory=dict)
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    addresses: dict[str, dict[str, Any]] = field(default_factory=dict)
    forwarding_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    commitments: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Committed-use discounts (``compute#commitment`` JSON) by ``<region>/<name>``."""
    sql_instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Cloud SQL ``DatabaseInstance`` JSON by instance name (Cloud SQL Admin v1)."""
    zones: list[str] = field(default_factory=lambda: ["us-central1-a", "us-central1-b", "europe-west1-b"])
    unreachable: set[str] = field(default_factory=set)
    bindings: list[dict[str, Any]] = field(default_factory=list)
    service_accounts: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    recommendations: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    billing_rows: list[dict[str, Any]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    throttle: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_account_keys: dict[str, str] = field(default_factory=dict)
    """client_email → PEM public key of a service-account key the project accepts (see ``authorised``)."""
    issued_tokens: set[str] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def next_id(self) -> str:
        return str(next(self._ids))

    def link(self, path: str) -> str:
        return f"{BASE}projects/{self.project}/{path}"

    def authorised(self, header: str | None) -> bool:
        """True for ``Bearer`` + the fixed test token, a token the fake's token endpoint issued, or a
        self-signed JWT of a registered service-account key (what Google's client libraries send for
        service accounts), signed, unexpired and scoped to cloud-platform."""
        if not header or not header.startswith("Bearer "):
            return False
        token = header[len("Bearer ") :]
        if token == TOKEN or token in self.issued_tokens:
            return True
        claims = self.verified_jwt(token)
        return claims is not None and "cloud-platform" in str(claims.get("scope", ""))

    def verified_jwt(self, token: str, audience: str | list[str] | None = None) -> dict[str, Any] | None:
        """The claims of a JWT signed by the key of its issuer (a registered service account), else None."""
        from google.auth import exceptions, jwt

        try:
            issuer = jwt.decode(token, verify=False).get("iss", "")  # type: ignore[no-untyped-call]
            key = self.service_account_keys.get(str(issuer))
            if key is None:
                return None
            claims: dict[str, Any] = jwt.decode(  # type: ignore[no-untyped-call]
                token, certs=key, audience=audience, clock_skew_in_seconds=60
            )
        except (ValueError, exceptions.GoogleAuthError):
            return None
        return claims

    def take_throttle(self, route: str) -> bool:
        """True when ``route`` must answer 429 now (consumes one injected fault)."""
        with self.lock:
            remaining = self.throttle.get(route, 0)
            if remaining == 0:
                return False
            if remaining > 0:
                self.throttle[route] = remaining - 1
            return True

    # ----- seeding -------------------------------------------------------------------------------

    def add_instance(
        self,
        name: str,
        zone: str,
        machine_type: str,
        status: str = "RUNNING",
        disks: tuple[str, ...] = (),
        *,
        created: datetime | None = None,
        labels: dict[str, str] | None = None,
    ) -> str:
        created = created or datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        self.instances[f"{zone}/{name}"] = {
            "kind": "compute#instance",
            "id": self.next_id(),
            "name": name,
            "zone": self.link(f"zones/{zone}"),
            "machineType": self.link(f"zones/{zone}/machineTypes/{machine_type}"),
            "status": status,
            "creationTimestamp": stamp(created),
            "lastStartTimestamp": stamp(created),
            "labels": {"env": "prod"} if labels is None else dict(labels),
            "labelFingerprint": "fp-0",
            "disks": [
                {"source": self.link(f"zones/{zone}/disks/{d}"), "boot": i == 0} for i, d in enumerate(disks)
            ],
            "selfLink": self.link(f"zones/{zone}/instances/{name}"),
        }
        for disk in disks:
            self.disks[f"{zone}/{disk}"]["users"] = [self.link(f"zones/{zone}/instances/{name}")]
        return f"projects/{self.project}/zones/{zone}/instances/{name}"

    def add_disk(
        self,
        name: str,
        zone: str,
        size_gb: int = 100,
        disk_type: str = "pd-balanced",
        *,
        created: datetime | None = None,
        last_detach: datetime | None = None,
        never_attached: bool = False,
    ) -> str:
        """A persistent disk; Compute reports ``lastDetachTimestamp`` only once a disk was detached."""
        self.disks[f"{zone}/{name}"] = {
            "kind": "compute#disk",
            "id": self.next_id(),
            "name": name,
            "zone": self.link(f"zones/{zone}"),
            "type": self.link(f"zones/{zone}/diskTypes/{disk_type}"),
            "sizeGb": str(size_gb),
            "status": "READY",
            "users": [],
            "labels": {},
            "labelFingerprint": "fp-0",
            "creationTimestamp": stamp(created or datetime(2024, 2, 1, tzinfo=UTC)),
            "lastDetachTimestamp": stamp(last_detach or datetime(2024, 3, 1, tzinfo=UTC)),
            "selfLink": self.link(f"zones/{zone}/disks/{name}"),
        }
        if never_attached:
            del self.disks[f"{zone}/{name}"]["lastDetachTimestamp"]
        return f"projects/{self.project}/zones/{zone}/disks/{name}"

    def add_snapshot(
        self,
        name: str,
        source_disk: str,
        size_gb: int = 100,
        *,
        created: datetime | None = None,
        location: str = "us",
    ) -> str:
        """A standard snapshot of a ``size_gb`` disk storing a quarter of it, in ``location`` (a multi-region
        by default, as Compute chooses; a region when the owner pins one)."""
        self.snapshots[name] = {
            "kind": "compute#snapshot",
            "id": self.next_id(),
            "name": name,
            "sourceDisk": self.link(source_disk),
            "diskSizeGb": str(size_gb),
            "storageBytes": str(size_gb * 1024**3 // 4),
            "storageLocations": [location],
            "snapshotType": "STANDARD",
            "status": "READY",
            "labels": {},
            "labelFingerprint": "fp-0",
            "creationTimestamp": stamp(created or datetime(2024, 3, 5, tzinfo=UTC)),
            "selfLink": self.link(f"global/snapshots/{name}"),
        }
        return f"projects/{self.project}/global/snapshots/{name}"

    def add_address(
        self, name: str, region: str, ip: str, user: str | None = None, *, created: datetime | None = None
    ) -> str:
        self.addresses[f"{region}/{name}"] = {
            "kind": "compute#address",
            "id": self.next_id(),
            "name": name,
            "address": ip,
            "addressType": "EXTERNAL",
            "region": self.link(f"regions/{region}"),
            "status": "IN_USE" if user else "RESERVED",
            "users": [self.link(user)] if user else [],
            "labels": {},
            "labelFingerprint": "fp-0",
            "creationTimestamp": stamp(created or datetime(2024, 1, 10, tzinfo=UTC)),
            "selfLink": self.link(f"regions/{region}/addresses/{name}"),
        }
        return f"projects/{self.project}/regions/{region}/addresses/{name}"

    def add_forwarding_rule(self, name: str, region: str, target_pool: str) -> str:
        self.forwarding_rules[f"{region}/{name}"] = {
            "kind": "compute#forwardingRule",
            "id": self.next_id(),
            "name": name,
            "region": self.link(f"regions/{region}"),
            "IPAddress": "34.1.2.3",
            "target": self.link(f"regions/{region}/targetPools/{target_pool}"),
            "loadBalancingScheme": "EXTERNAL",
            "creationTimestamp": stamp(datetime(2024, 1, 11, tzinfo=UTC)),
            "selfLink": self.link(f"regions/{region}/forwardingRules/{name}"),
        }
        return f"projects/{self.project}/regions/{region}/forwardingRules/{name}"

    def add_commitment(
        self,
        name: str,
        region: str,
        commitment_type: str,
        vcpus: int,
        memory_mb: int,
        start: datetime,
        end: datetime,
        plan: str = "TWELVE_MONTH",
        status: str = "ACTIVE",
    ) -> str:
        """A committed-use discount of ``vcpus`` vCPUs and ``memory_mb`` MB; returns its numeric id."""
        ident = self.next_id()
        self.commitments[f"{region}/{name}"] = {
            "kind": "compute#commitment",
            "id": ident,
            "name": name,
            "region": self.link(f"regions/{region}"),
            "status": status,
            "plan": plan,
            "type": commitment_type,
            "category": "MACHINE",
            "startTimestamp": stamp(start),
            "endTimestamp": stamp(end),
            "resources": [
                {"type": "VCPU", "amount": str(vcpus)},
                {"type": "MEMORY", "amount": str(memory_mb)},
            ],
            "selfLink": self.link(f"regions/{region}/commitments/{name}"),
        }
        return ident

    def add_cost(
        self,
        day: date,
        service: str,
        sku: str,
        cost: str,
        credits: str = "0",
        resource: str = "",
        labels: dict[str, str] | None = None,
        resource_name: str | None = None,
    ) -> None:
        """One row of the detailed export: ``resource`` is ``resource.global_name`` and ``resource_name``
        ``resource.name`` (by default the global name's last segment)."""
        self.billing_rows.append(
            {
                "day": day.isoformat(),
                "billing_account_id": "0123AB-4567CD-89EF01",
                "project_id": self.project,
                "service": service,
                "region": "us-central1",
                "sku": sku,
                "resource": resource or None,
                "resource_name": resource_name or (resource.rsplit("/", 1)[-1] if resource else None),
                "labels": json.dumps([{"key": k, "value": v} for k, v in sorted(labels.items())])
                if labels
                else None,
                "cost_type": "regular",
                "currency": "USD",
                "cost": cost,
                "credits": credits,
                "usage_amount": "24",
                "usage_unit": "hour",
            }
        )

    def add_hourly_series(
        self,
        zone: str,
        instance: str,
        metric: str,
        start: datetime,
        values: list[float | None],
        integer: bool = False,
    ) -> None:
        """Aligned points: the point for hour i ends at ``start + (i+1) h`` (as Monitoring reports)."""
        points = [(start + timedelta(hours=i + 1), v) for i, v in enumerate(values) if v is not None]
        self.series.append(
            {"zone": zone, "instance": instance, "metric": metric, "points": points, "integer": integer}
        )

    def add_sql_instance(
        self,
        name: str,
        region: str,
        tier: str,
        *,
        state: str = "RUNNABLE",
        activation: str = "ALWAYS",
        availability: str = "ZONAL",
        labels: dict[str, str] | None = None,
        created: datetime | None = None,
    ) -> str:
        """A Cloud SQL instance; returns its ``projects/p/instances/name`` id."""
        created = created or datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        self.sql_instances[name] = {
            "kind": "sql#instance",
            "name": name,
            "project": self.project,
            "region": region,
            "gceZone": f"{region}-a",
            "databaseVersion": "POSTGRES_15",
            "instanceType": "CLOUD_SQL_INSTANCE",
            "state": state,
            "createTime": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "connectionName": f"{self.project}:{region}:{name}",
            "settings": {
                "tier": tier,
                "activationPolicy": activation,
                "availabilityType": availability,
                "dataDiskSizeGb": "100",
                "userLabels": dict(labels or {}),
            },
            "selfLink": f"https://sqladmin.googleapis.com/v1/projects/{self.project}/instances/{name}",
        }
        return f"projects/{self.project}/instances/{name}"

    def add_cloud_sql_series(
        self, instance: str, metric: str, start: datetime, values: list[float | None], integer: bool = False
    ) -> None:
        """Aligned points of a ``cloudsql_database`` metric (``database_id`` = ``project:instance``)."""
        points = [(start + timedelta(hours=i + 1), v) for i, v in enumerate(values) if v is not None]
        self.series.append(
            {
                "resource_type": "cloudsql_database",
                "database_id": f"{self.project}:{instance}",
                "metric": metric,
                "points": points,
                "integer": integer,
            }
        )

    def expected_total(self, start: date, end: date) -> Decimal:
        return sum(
            (
                Decimal(r["cost"]) + Decimal(r["credits"])
                for r in self.billing_rows
                if start.isoformat() <= r["day"] < end.isoformat()
            ),
            Decimal(0),
        )
