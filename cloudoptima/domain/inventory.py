"""Inventory domain models: cloud accounts, resources, utilisation series, principals and credentials.

Contract shared by every producer (cloud adapters, the sandbox estate) and consumer (storage, analytics):

- Money is ``Decimal`` (USD unless a field says otherwise); never float.
- Every datetime is timezone-aware UTC; naive datetimes are rejected.
- Periods are end-exclusive: ``[start, end)``.
- ``Resource.monthly_cost`` is the list price of the resource's *current* configuration for one whole
  month of being billable (0 for a stopped instance or a deleted resource: the compute charge stops; the
  disks of a stopped instance are separate resources and keep their own cost).
- Utilisation is hourly: ``UtilisationSeries.values[i]`` is the mean over ``[start + i h, start + (i+1) h)``;
  ``None`` marks an hour with no sample (resource not running or not existing).

This module imports nothing of ours and no SDK, ORM or framework.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _require_utc(value: datetime) -> datetime:
    """Reject naive datetimes and normalise aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware (UTC)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]
"""A timezone-aware datetime normalised to UTC."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CloudProvider(StrEnum):
    """The clouds CloudOptima knows. The value is our short code, not the FOCUS ProviderName."""

    AWS = "aws"
    AZURE = "azure"
    GCP = "gcp"


class CloudAccount(_Model):
    """One billable scope: an AWS account, an Azure subscription or a GCP project.

    ``account_id`` is the FOCUS SubAccountId; ``billing_account_id`` the FOCUS BillingAccountId.
    """

    account_id: str
    provider: CloudProvider
    name: str
    billing_account_id: str
    billing_account_name: str
    regions: tuple[str, ...]
    created_at: UtcDatetime


class ResourceKind(StrEnum):
    """What a resource is, independent of the cloud."""

    COMPUTE_INSTANCE = "compute_instance"
    DISK = "disk"
    SNAPSHOT = "snapshot"
    PUBLIC_IP = "public_ip"
    LOAD_BALANCER = "load_balancer"
    DATABASE = "database"
    BUCKET = "bucket"


class ResourceState(StrEnum):
    """Lifecycle state. ``AVAILABLE`` = exists but is not attached/associated (disks, IPs)."""

    RUNNING = "running"
    STOPPED = "stopped"
    IN_USE = "in_use"
    AVAILABLE = "available"
    DELETED = "deleted"


class InstanceAttributes(_Model):
    """A virtual machine. ``schedule`` is ``always`` (24x7) or ``weekdays`` (off Saturday and Sunday UTC)."""

    kind: Literal[ResourceKind.COMPUTE_INSTANCE] = ResourceKind.COMPUTE_INSTANCE
    instance_type: str
    family: str
    vcpu: int = Field(gt=0)
    memory_gib: Decimal = Field(gt=0)
    platform: str = "linux"
    schedule: Literal["always", "weekdays"] = "always"
    attached_disk_ids: tuple[str, ...] = ()


class DiskAttributes(_Model):
    """A block volume. ``attached_to`` is the instance id or ``None`` when unattached."""

    kind: Literal[ResourceKind.DISK] = ResourceKind.DISK
    disk_type: str
    size_gb: int = Field(gt=0)
    attached_to: str | None = None
    detached_at: UtcDatetime | None = None


class SnapshotAttributes(_Model):
    """A point-in-time copy of a disk. The source disk may no longer exist."""

    kind: Literal[ResourceKind.SNAPSHOT] = ResourceKind.SNAPSHOT
    size_gb: int = Field(gt=0)
    source_disk_id: str
    storage_tier: str = "standard"


class PublicIpAttributes(_Model):
    """A reserved public IPv4 address; ``associated_with`` is a resource id or ``None``."""

    kind: Literal[ResourceKind.PUBLIC_IP] = ResourceKind.PUBLIC_IP
    address: str
    associated_with: str | None = None


class LoadBalancerAttributes(_Model):
    """A load balancer and the instances behind it."""

    kind: Literal[ResourceKind.LOAD_BALANCER] = ResourceKind.LOAD_BALANCER
    lb_type: str
    target_ids: tuple[str, ...] = ()


class DatabaseAttributes(_Model):
    """A managed database instance."""

    kind: Literal[ResourceKind.DATABASE] = ResourceKind.DATABASE
    engine: str
    instance_class: str
    vcpu: int = Field(gt=0)
    memory_gib: Decimal = Field(gt=0)
    storage_gb: int = Field(gt=0)


class BucketAttributes(_Model):
    """An object-storage bucket."""

    kind: Literal[ResourceKind.BUCKET] = ResourceKind.BUCKET
    storage_class: str
    size_gb: int = Field(ge=0)


ResourceAttributes = Annotated[
    InstanceAttributes
    | DiskAttributes
    | SnapshotAttributes
    | PublicIpAttributes
    | LoadBalancerAttributes
    | DatabaseAttributes
    | BucketAttributes,
    Field(discriminator="kind"),
]


class Resource(_Model):
    """A billable cloud resource as it is now (its history lives with whoever produced it).

    ``resource_id`` is the FOCUS ResourceId (unique within the provider). ``sku_id`` is the price-list
    SKU of the current configuration. ``stopped_at`` is set only while ``state`` is ``STOPPED``.
    """

    resource_id: str
    name: str
    kind: ResourceKind
    provider: CloudProvider
    account_id: str
    region: str
    service_name: str
    sku_id: str
    attributes: ResourceAttributes
    tags: dict[str, str] = Field(default_factory=dict)
    monthly_cost: Decimal = Field(ge=0)
    state: ResourceState
    created_at: UtcDatetime
    launched_at: UtcDatetime | None = None
    stopped_at: UtcDatetime | None = None
    deleted_at: UtcDatetime | None = None


class MetricName(StrEnum):
    """Utilisation metrics. Percentages are 0–100; bytes and operations are per hour.

    ``connections`` is the peak number of client connections to a database in the hour (AWS RDS
    ``DatabaseConnections`` Maximum, Cloud SQL ``network/connections`` max); Azure SQL reports successful
    connections opened in the hour (``connection_successful`` Total). 0 means no client connected.
    """

    CPU_PERCENT = "cpu_percent"
    MEMORY_PERCENT = "memory_percent"
    NETWORK_IN_BYTES = "network_in_bytes"
    NETWORK_OUT_BYTES = "network_out_bytes"
    DISK_IO_OPS = "disk_io_ops"
    REQUESTS = "requests"
    CONNECTIONS = "connections"


class UtilisationPoint(_Model):
    """One hourly sample: the mean over ``[ts, ts + 1 h)``."""

    ts: UtcDatetime
    value: float


class UtilisationSeries(_Model):
    """Hourly samples of one metric of one resource, starting at ``start`` (on the hour)."""

    resource_id: str
    metric: MetricName
    start: UtcDatetime
    values: tuple[float | None, ...]

    def points(self) -> Iterator[UtilisationPoint]:
        """The present samples, oldest first (hours with ``None`` are skipped)."""
        for index, value in enumerate(self.values):
            if value is not None:
                yield UtilisationPoint(ts=self.start + timedelta(hours=index), value=value)

    def present(self) -> list[float]:
        """The present sample values, in time order."""
        return [value for value in self.values if value is not None]


class PrincipalKind(StrEnum):
    """Who or what holds credentials."""

    USER = "user"
    SERVICE_ACCOUNT = "service_account"
    ROLE = "role"


class CredentialKind(StrEnum):
    """Long-lived secrets we track (never the secret material itself)."""

    ACCESS_KEY = "access_key"
    CLIENT_SECRET = "client_secret"
    SERVICE_ACCOUNT_KEY = "service_account_key"
    PASSWORD = "password"


class Credential(_Model):
    """A key or secret of a principal: identifier and dates only. ``last_used_at`` is None if never used."""

    credential_id: str
    kind: CredentialKind
    active: bool
    created_at: UtcDatetime
    last_used_at: UtcDatetime | None = None
    expires_at: UtcDatetime | None = None


class Grant(_Model):
    """A role granted to a principal on a scope; ``privileged`` marks admin/owner-level roles."""

    role: str
    scope: str
    privileged: bool


class Principal(_Model):
    """An IAM identity in one account with its grants and credentials."""

    principal_id: str
    provider: CloudProvider
    account_id: str
    name: str
    kind: PrincipalKind
    created_at: UtcDatetime
    last_activity_at: UtcDatetime | None = None
    grants: tuple[Grant, ...] = ()
    credentials: tuple[Credential, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)
