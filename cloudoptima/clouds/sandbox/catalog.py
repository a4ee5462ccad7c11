"""The sandbox price catalogue: real instance families and sizes with on-demand list prices per region.

Prices are public list prices in USD, Linux, on-demand, transcribed by hand from the providers' pages
(values as published 2024–2025; verify before using them for anything but a sandbox):

- AWS EC2 on-demand: https://aws.amazon.com/ec2/pricing/on-demand/ (us-east-1);
  EBS https://aws.amazon.com/ebs/pricing/; public IPv4 ($0.005/h since 2024-02-01)
  https://aws.amazon.com/vpc/pricing/; ALB https://aws.amazon.com/elasticloadbalancing/pricing/;
  RDS for PostgreSQL https://aws.amazon.com/rds/postgresql/pricing/; S3 https://aws.amazon.com/s3/pricing/.
- Azure Linux VMs pay-as-you-go: https://azure.microsoft.com/pricing/details/virtual-machines/linux/ (East US);
  managed disks https://azure.microsoft.com/pricing/details/managed-disks/ (per-GB equivalents of the
  P10/E10/S10 tiers: monthly tier price / 128 GiB); public IP, load balancer, PostgreSQL flexible server
  and blob storage from the matching azure.microsoft.com/pricing/details pages.
- GCP Compute Engine: https://cloud.google.com/compute/vm-instance-pricing (us-central1); disks and
  snapshots https://cloud.google.com/compute/disks-image-pricing; IP addresses and forwarding rules
  https://cloud.google.com/vpc/network-pricing; Cloud SQL https://cloud.google.com/sql/pricing (per vCPU
  $0.0413/h + per GB RAM $0.007/h); Cloud Storage https://cloud.google.com/storage/pricing.

Within a family the providers price sizes linearly, so each family is listed at its reference region.
Other regions use one ratio per region (the published price of the family's smallest general-purpose size
in that region divided by the reference-region price, e.g. m5.large 0.107/0.096 in eu-west-1); this is an
approximation for the other families and for storage, documented here rather than hidden.
Commitment rates are approximate 1-year no-upfront discounts (AWS Savings Plans ≈ 37 %, Azure 1-year
reservations ≈ 40 %, GCP 1-year resource-based committed use = 37 % as published by Google).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from cloudoptima.domain.inventory import CloudProvider

HOURS_PER_MONTH = Decimal(730)
"""The providers' calculator convention for a month of 24x7 running."""

_P = CloudProvider
_SIX = Decimal("0.000001")


@dataclass(frozen=True)
class InstanceType:
    """A VM size: ``hourly_usd`` is the on-demand list price in the provider's reference region."""

    provider: CloudProvider
    family: str
    name: str
    vcpu: int
    memory_gib: Decimal
    hourly_usd: Decimal


@dataclass(frozen=True)
class DatabaseClass:
    """A managed database size with its on-demand hourly list price in the reference region.

    ``family`` groups classes that differ only in size (same offering, same memory per vCPU), smallest first.
    """

    provider: CloudProvider
    engine: str
    name: str
    vcpu: int
    memory_gib: Decimal
    hourly_usd: Decimal
    family: str


def _sizes(provider: CloudProvider, family: str, rows: list[tuple[str, int, str, str]]) -> list[InstanceType]:
    return [InstanceType(provider, family, n, c, Decimal(m), Decimal(p)) for n, c, m, p in rows]


# fmt: off
_INSTANCE_TYPES: tuple[InstanceType, ...] = tuple(
    _sizes(_P.AWS, "t3", [
        ("t3.small", 2, "2", "0.0208"), ("t3.medium", 2, "4", "0.0416"), ("t3.large", 2, "8", "0.0832"),
        ("t3.xlarge", 4, "16", "0.1664"), ("t3.2xlarge", 8, "32", "0.3328"),
    ])
    + _sizes(_P.AWS, "m5", [
        ("m5.large", 2, "8", "0.096"), ("m5.xlarge", 4, "16", "0.192"), ("m5.2xlarge", 8, "32", "0.384"),
        ("m5.4xlarge", 16, "64", "0.768"), ("m5.8xlarge", 32, "128", "1.536"),
    ])
    + _sizes(_P.AWS, "m6i", [
        ("m6i.large", 2, "8", "0.096"), ("m6i.xlarge", 4, "16", "0.192"), ("m6i.2xlarge", 8, "32", "0.384"),
        ("m6i.4xlarge", 16, "64", "0.768"),
    ])
    + _sizes(_P.AWS, "c5", [
        ("c5.large", 2, "4", "0.085"), ("c5.xlarge", 4, "8", "0.17"), ("c5.2xlarge", 8, "16", "0.34"),
        ("c5.4xlarge", 16, "32", "0.68"),
    ])
    + _sizes(_P.AWS, "r5", [
        ("r5.large", 2, "16", "0.126"), ("r5.xlarge", 4, "32", "0.252"), ("r5.2xlarge", 8, "64", "0.504"),
        ("r5.4xlarge", 16, "128", "1.008"),
    ])
    + _sizes(_P.AZURE, "B", [
        ("Standard_B1ms", 1, "2", "0.0207"), ("Standard_B2s", 2, "4", "0.0416"),
        ("Standard_B2ms", 2, "8", "0.0832"), ("Standard_B4ms", 4, "16", "0.166"),
        ("Standard_B8ms", 8, "32", "0.333"),
    ])
    + _sizes(_P.AZURE, "Dsv5", [
        ("Standard_D2s_v5", 2, "8", "0.096"), ("Standard_D4s_v5", 4, "16", "0.192"),
        ("Standard_D8s_v5", 8, "32", "0.384"), ("Standard_D16s_v5", 16, "64", "0.768"),
        ("Standard_D32s_v5", 32, "128", "1.536"),
    ])
    + _sizes(_P.AZURE, "Esv5", [
        ("Standard_E2s_v5", 2, "16", "0.126"), ("Standard_E4s_v5", 4, "32", "0.252"),
        ("Standard_E8s_v5", 8, "64", "0.504"), ("Standard_E16s_v5", 16, "128", "1.008"),
    ])
    + _sizes(_P.AZURE, "Fsv2", [
        ("Standard_F2s_v2", 2, "4", "0.0846"), ("Standard_F4s_v2", 4, "8", "0.169"),
        ("Standard_F8s_v2", 8, "16", "0.338"), ("Standard_F16s_v2", 16, "32", "0.677"),
    ])
    + _sizes(_P.GCP, "e2", [
        ("e2-standard-2", 2, "8", "0.067006"), ("e2-standard-4", 4, "16", "0.134012"),
        ("e2-standard-8", 8, "32", "0.268024"), ("e2-standard-16", 16, "64", "0.536048"),
    ])
    + _sizes(_P.GCP, "n2", [
        ("n2-standard-2", 2, "8", "0.097118"), ("n2-standard-4", 4, "16", "0.194236"),
        ("n2-standard-8", 8, "32", "0.388472"), ("n2-standard-16", 16, "64", "0.776944"),
        ("n2-standard-32", 32, "128", "1.553888"),
    ])
    + _sizes(_P.GCP, "n2-highmem", [
        ("n2-highmem-2", 2, "16", "0.131014"), ("n2-highmem-4", 4, "32", "0.262028"),
        ("n2-highmem-8", 8, "64", "0.524056"),
    ])
    + _sizes(_P.GCP, "c2", [
        ("c2-standard-4", 4, "16", "0.2088"), ("c2-standard-8", 8, "32", "0.4176"),
        ("c2-standard-16", 16, "64", "0.8352"), ("c2-standard-30", 30, "120", "1.566"),
    ])
)
# fmt: on

_DATABASE_CLASSES: tuple[DatabaseClass, ...] = tuple(
    DatabaseClass(p, e, n, c, Decimal(m), Decimal(h), f)
    for p, e, n, c, m, h, f in [
        (_P.AWS, "postgres", "db.t3.medium", 2, "4", "0.072", "db.t3"),
        (_P.AWS, "postgres", "db.m5.large", 2, "8", "0.178", "db.m5"),
        (_P.AWS, "postgres", "db.m5.xlarge", 4, "16", "0.356", "db.m5"),
        (_P.AWS, "postgres", "db.r5.large", 2, "16", "0.25", "db.r5"),
        (_P.AWS, "postgres", "db.r5.xlarge", 4, "32", "0.5", "db.r5"),
        (_P.AZURE, "postgres", "GP_Standard_D2ds_v4", 2, "8", "0.178", "GP_Ddsv4"),
        (_P.AZURE, "postgres", "GP_Standard_D4ds_v4", 4, "16", "0.356", "GP_Ddsv4"),
        (_P.AZURE, "postgres", "MO_Standard_E2ds_v4", 2, "16", "0.2455", "MO_Edsv4"),
        (_P.GCP, "postgres", "db-custom-2-7680", 2, "7.5", "0.1351", "custom-3.75"),
        (_P.GCP, "postgres", "db-custom-4-15360", 4, "15", "0.2702", "custom-3.75"),
        (_P.GCP, "postgres", "db-custom-2-13312", 2, "13", "0.1736", "custom-6.5"),
    ]
)

_DISK_GB_MONTH: dict[CloudProvider, dict[str, Decimal]] = {
    _P.AWS: {
        "gp3": Decimal("0.08"),
        "gp2": Decimal("0.10"),
        "st1": Decimal("0.045"),
        "sc1": Decimal("0.015"),
    },
    _P.AZURE: {
        "Premium_LRS": Decimal("0.154"),
        "StandardSSD_LRS": Decimal("0.075"),
        "Standard_LRS": Decimal("0.046"),
    },
    _P.GCP: {"pd-balanced": Decimal("0.10"), "pd-ssd": Decimal("0.17"), "pd-standard": Decimal("0.04")},
}
_SNAPSHOT_GB_MONTH: dict[CloudProvider, Decimal] = {
    _P.AWS: Decimal("0.05"),
    _P.AZURE: Decimal("0.05"),
    _P.GCP: Decimal("0.05"),
}
_BUCKET_GB_MONTH: dict[CloudProvider, dict[str, Decimal]] = {
    _P.AWS: {"STANDARD": Decimal("0.023"), "STANDARD_IA": Decimal("0.0125"), "GLACIER_IR": Decimal("0.004")},
    _P.AZURE: {"Hot": Decimal("0.0184"), "Cool": Decimal("0.01"), "Archive": Decimal("0.00099")},
    _P.GCP: {"STANDARD": Decimal("0.020"), "NEARLINE": Decimal("0.010"), "COLDLINE": Decimal("0.004")},
}
_LB_HOURLY: dict[CloudProvider, tuple[str, Decimal]] = {
    _P.AWS: ("application", Decimal("0.0225")),
    _P.AZURE: ("standard", Decimal("0.025")),
    _P.GCP: ("forwarding-rule", Decimal("0.025")),
}
_IP_HOURLY_IN_USE: dict[CloudProvider, Decimal] = {
    _P.AWS: Decimal("0.005"),
    _P.AZURE: Decimal("0.005"),
    _P.GCP: Decimal("0.005"),
}
_IP_HOURLY_IDLE: dict[CloudProvider, Decimal] = {
    _P.AWS: Decimal("0.005"),
    _P.AZURE: Decimal("0.005"),
    _P.GCP: Decimal("0.01"),
}
_REGION_FACTOR: dict[CloudProvider, dict[str, Decimal]] = {
    _P.AWS: {
        "us-east-1": Decimal("1"),
        "us-west-2": Decimal("1"),
        "eu-west-1": Decimal("1.1146"),
        "eu-central-1": Decimal("1.1979"),
        "ap-southeast-1": Decimal("1.25"),
    },
    _P.AZURE: {
        "eastus": Decimal("1"),
        "westus2": Decimal("1"),
        "northeurope": Decimal("1.1042"),
        "westeurope": Decimal("1.1979"),
    },
    _P.GCP: {
        "us-central1": Decimal("1"),
        "us-east1": Decimal("1"),
        "europe-west1": Decimal("1.1"),
        "asia-southeast1": Decimal("1.2335"),
    },
}
COMMITMENT_RATE: dict[CloudProvider, Decimal] = {
    _P.AWS: Decimal("0.63"),
    _P.AZURE: Decimal("0.60"),
    _P.GCP: Decimal("0.63"),
}
"""Fraction of the on-demand price paid under a 1-year no-upfront commitment."""


def _regional(provider: CloudProvider, region: str, price: Decimal) -> Decimal:
    return (price * _REGION_FACTOR[provider][region]).quantize(_SIX, rounding=ROUND_HALF_EVEN)


def regions(provider: CloudProvider) -> tuple[str, ...]:
    """The regions the catalogue prices for ``provider``; the first is the reference region."""
    return tuple(_REGION_FACTOR[provider])


def instance_types(provider: CloudProvider, family: str | None = None) -> tuple[InstanceType, ...]:
    """All sizes of ``provider`` (of one ``family`` if given), smallest first within a family."""
    return tuple(
        t for t in _INSTANCE_TYPES if t.provider == provider and (family is None or t.family == family)
    )


def families(provider: CloudProvider) -> tuple[str, ...]:
    """The instance families of ``provider`` in catalogue order."""
    return tuple(dict.fromkeys(t.family for t in instance_types(provider)))


def instance_type(provider: CloudProvider, name: str) -> InstanceType:
    """The size called ``name``; raises ``KeyError`` for an unknown size."""
    for candidate in _INSTANCE_TYPES:
        if candidate.provider == provider and candidate.name == name:
            return candidate
    raise KeyError(f"unknown {provider} instance type {name!r}")


def next_smaller(provider: CloudProvider, name: str) -> InstanceType | None:
    """The next smaller size in the same family, or ``None`` for the smallest."""
    current = instance_type(provider, name)
    sizes = instance_types(provider, current.family)
    index = sizes.index(current)
    return sizes[index - 1] if index > 0 else None


def instance_hourly(provider: CloudProvider, name: str, region: str) -> Decimal:
    """On-demand hourly list price of a size in a region (6 decimals)."""
    return _regional(provider, region, instance_type(provider, name).hourly_usd)


def database_classes(provider: CloudProvider) -> tuple[DatabaseClass, ...]:
    """Managed database sizes of ``provider``."""
    return tuple(d for d in _DATABASE_CLASSES if d.provider == provider)


def database_class(provider: CloudProvider, name: str) -> DatabaseClass:
    """The database size called ``name``; raises ``KeyError`` when unknown."""
    for candidate in _DATABASE_CLASSES:
        if candidate.provider == provider and candidate.name == name:
            return candidate
    raise KeyError(f"unknown {provider} database class {name!r}")


def next_smaller_database(provider: CloudProvider, name: str) -> DatabaseClass | None:
    """The next smaller class of the same family, or ``None`` for the smallest (``KeyError`` when unknown)."""
    current = database_class(provider, name)
    family = [d for d in database_classes(provider) if d.family == current.family]
    family.sort(key=lambda d: (d.vcpu, d.memory_gib))
    index = family.index(current)
    return family[index - 1] if index > 0 else None


def database_hourly(provider: CloudProvider, name: str, region: str) -> Decimal:
    """On-demand hourly list price of a database size in a region."""
    return _regional(provider, region, database_class(provider, name).hourly_usd)


def disk_types(provider: CloudProvider) -> tuple[str, ...]:
    """Block-storage types of ``provider``; the first is the default general-purpose SSD."""
    return tuple(_DISK_GB_MONTH[provider])


def disk_gb_month(provider: CloudProvider, disk_type: str, region: str) -> Decimal:
    """List price per GB-month of a disk type in a region."""
    return _regional(provider, region, _DISK_GB_MONTH[provider][disk_type])


def snapshot_gb_month(provider: CloudProvider, region: str) -> Decimal:
    """List price per GB-month of standard snapshot storage in a region."""
    return _regional(provider, region, _SNAPSHOT_GB_MONTH[provider])


def bucket_classes(provider: CloudProvider) -> tuple[str, ...]:
    """Object-storage classes of ``provider``, hottest first."""
    return tuple(_BUCKET_GB_MONTH[provider])


def bucket_gb_month(provider: CloudProvider, storage_class: str, region: str) -> Decimal:
    """List price per GB-month of an object-storage class in a region (first pricing tier)."""
    return _regional(provider, region, _BUCKET_GB_MONTH[provider][storage_class])


def load_balancer_type(provider: CloudProvider) -> str:
    """The load-balancer product the sandbox uses for ``provider``."""
    return _LB_HOURLY[provider][0]


def load_balancer_hourly(provider: CloudProvider, region: str) -> Decimal:
    """Hourly list price of one load balancer (fixed part; capacity units are not modelled)."""
    return _regional(provider, region, _LB_HOURLY[provider][1])


def public_ip_hourly(provider: CloudProvider, region: str, *, associated: bool) -> Decimal:
    """Hourly list price of a static public IPv4 address (GCP charges more for an unused one)."""
    table = _IP_HOURLY_IN_USE if associated else _IP_HOURLY_IDLE
    return _regional(provider, region, table[provider])


def monthly(hourly: Decimal) -> Decimal:
    """Monthly list price of something billed by the hour: ``hourly × 730``."""
    return hourly * HOURS_PER_MONTH
