"""A small, documented GCP list-price table used to estimate ``Resource.monthly_cost``.

Prices are on-demand USD list prices for ``us-central1`` (Compute Engine pricing pages, 2024), applied to
every region: an estimate for ranking savings, not an invoice (invoices come from the billing export).
A month is 730 hours. Unknown machine families fall back to the N1 per-vCPU/GiB rates; unknown disk types
to ``pd-standard``.

Machine shapes (vCPU, memory GiB) for predefined types are derived from the family's documented ratio
(``standard`` 4 GiB/vCPU except N1 3.75, ``highmem`` 8 (N1 6.5), ``highcpu`` 1 (N1 0.9)); shared-core and
custom types are listed or parsed. :func:`machine_shape` returns None for anything else, so callers can ask
the API (``machineTypes.get``).
"""

from __future__ import annotations

import re
from decimal import Decimal

HOURS_PER_MONTH = Decimal(730)

# family -> (USD per vCPU hour, USD per GiB hour)
_FAMILY_RATES: dict[str, tuple[Decimal, Decimal]] = {
    "n1": (Decimal("0.031611"), Decimal("0.004237")),
    "n2": (Decimal("0.031611"), Decimal("0.004237")),
    "n2d": (Decimal("0.027502"), Decimal("0.003686")),
    "e2": (Decimal("0.021811"), Decimal("0.002923")),
    "c2": (Decimal("0.03398"), Decimal("0.00455")),
    "t2d": (Decimal("0.027502"), Decimal("0.003686")),
}
# shared-core types: whole-VM USD per hour, vCPU, GiB
_SHARED_CORE: dict[str, tuple[Decimal, int, Decimal]] = {
    "e2-micro": (Decimal("0.008376"), 2, Decimal("1")),
    "e2-small": (Decimal("0.016751"), 2, Decimal("2")),
    "e2-medium": (Decimal("0.033503"), 2, Decimal("4")),
    "f1-micro": (Decimal("0.0076"), 1, Decimal("0.6")),
    "g1-small": (Decimal("0.0257"), 1, Decimal("1.7")),
}
_GIB_PER_VCPU: dict[str, Decimal] = {"standard": Decimal(4), "highmem": Decimal(8), "highcpu": Decimal(1)}
_N1_GIB_PER_VCPU: dict[str, Decimal] = {
    "standard": Decimal("3.75"),
    "highmem": Decimal("6.5"),
    "highcpu": Decimal("0.9"),
}
_PREDEFINED = re.compile(r"^([a-z0-9]+)-(standard|highmem|highcpu)-(\d+)$")
_CUSTOM = re.compile(r"^(?:([a-z0-9]+)-)?custom-(\d+)-(\d+)(?:-ext)?$")

# USD per GB-month
DISK_GB_MONTH: dict[str, Decimal] = {
    "pd-standard": Decimal("0.04"),
    "pd-balanced": Decimal("0.10"),
    "pd-ssd": Decimal("0.17"),
    "pd-extreme": Decimal("0.125"),
    "hyperdisk-balanced": Decimal("0.08"),
}
SNAPSHOT_GB_MONTH: dict[str, Decimal] = {"STANDARD": Decimal("0.05"), "ARCHIVE": Decimal("0.019")}
# static external IPv4: reserved and unused vs in use (USD per hour)
IP_UNUSED_HOUR = Decimal("0.01")
IP_IN_USE_HOUR = Decimal("0.005")
# forwarding rule (first five per project, USD per hour)
FORWARDING_RULE_HOUR = Decimal("0.025")


def family_of(machine_type: str) -> str:
    """The machine family (``e2``, ``n2``...) of a machine type name."""
    if machine_type.startswith("custom-"):
        return "n1"
    return machine_type.split("-", 1)[0]


def machine_shape(machine_type: str) -> tuple[int, Decimal] | None:
    """(vCPU, memory GiB) of a predefined, shared-core or custom type; None when not derivable."""
    if machine_type in _SHARED_CORE:
        _, vcpu, memory = _SHARED_CORE[machine_type]
        return vcpu, memory
    custom = _CUSTOM.match(machine_type)
    if custom:
        return int(custom.group(2)), Decimal(int(custom.group(3))) / Decimal(1024)
    predefined = _PREDEFINED.match(machine_type)
    if predefined:
        family, shape, count = predefined.group(1), predefined.group(2), int(predefined.group(3))
        ratio = (_N1_GIB_PER_VCPU if family == "n1" else _GIB_PER_VCPU)[shape]
        return count, ratio * count
    return None


def instance_monthly(machine_type: str, vcpu: int, memory_gib: Decimal) -> Decimal:
    """List price of running ``machine_type`` for a month."""
    if machine_type in _SHARED_CORE:
        return (_SHARED_CORE[machine_type][0] * HOURS_PER_MONTH).quantize(Decimal("0.01"))
    cpu_rate, mem_rate = _FAMILY_RATES.get(family_of(machine_type), _FAMILY_RATES["n1"])
    hourly = cpu_rate * vcpu + mem_rate * memory_gib
    return (hourly * HOURS_PER_MONTH).quantize(Decimal("0.01"))


def disk_monthly(disk_type: str, size_gb: int) -> Decimal:
    """List price of a persistent disk of ``size_gb`` for a month."""
    rate = DISK_GB_MONTH.get(disk_type, DISK_GB_MONTH["pd-standard"])
    return (rate * size_gb).quantize(Decimal("0.01"))


def snapshot_monthly(storage_gb: int, tier: str) -> Decimal:
    """List price of storing a snapshot of ``storage_gb`` for a month."""
    rate = SNAPSHOT_GB_MONTH.get(tier.upper(), SNAPSHOT_GB_MONTH["STANDARD"])
    return (rate * storage_gb).quantize(Decimal("0.01"))


def address_monthly(in_use: bool) -> Decimal:
    """List price of a static external IPv4 for a month."""
    return ((IP_IN_USE_HOUR if in_use else IP_UNUSED_HOUR) * HOURS_PER_MONTH).quantize(Decimal("0.01"))


def forwarding_rule_monthly() -> Decimal:
    """List price of one forwarding rule (load balancer frontend) for a month."""
    return (FORWARDING_RULE_HOUR * HOURS_PER_MONTH).quantize(Decimal("0.01"))


# Cloud SQL (Enterprise edition, us-central1): USD per vCPU hour and per GB of memory hour; shared-core tiers
# by the instance. High availability (REGIONAL) doubles the instance price.
CLOUD_SQL_VCPU_HOUR = Decimal("0.0413")
CLOUD_SQL_GB_HOUR = Decimal("0.007")
_CLOUD_SQL_SHARED: dict[str, tuple[Decimal, Decimal]] = {
    "db-f1-micro": (Decimal("0.0105"), Decimal("0.6")),
    "db-g1-small": (Decimal("0.035"), Decimal("1.7")),
}
_CLOUD_SQL_CUSTOM = re.compile(r"^db-custom-(\d+)-(\d+)$")
_CLOUD_SQL_N1 = re.compile(r"^db-n1-(standard|highmem)-(\d+)$")


def cloud_sql_shape(tier: str) -> tuple[int, Decimal]:
    """(vCPU, memory GB) of a Cloud SQL tier (``db-custom-2-7680``, ``db-n1-standard-4``, shared core);
    (1, 1) for tiers it cannot read."""
    custom = _CLOUD_SQL_CUSTOM.match(tier)
    if custom:
        return int(custom.group(1)), Decimal(int(custom.group(2))) / Decimal(1024)
    predefined = _CLOUD_SQL_N1.match(tier)
    if predefined:
        vcpu = int(predefined.group(2))
        return vcpu, _N1_GIB_PER_VCPU[predefined.group(1)] * vcpu
    if tier in _CLOUD_SQL_SHARED:
        return 1, _CLOUD_SQL_SHARED[tier][1]
    return 1, Decimal(1)


def cloud_sql_monthly(tier: str, vcpu: int, memory_gb: Decimal, *, regional: bool) -> Decimal:
    """List price of a month of a running Cloud SQL instance (instance only: storage and backups excluded)."""
    shared = _CLOUD_SQL_SHARED.get(tier)
    hourly = shared[0] if shared else CLOUD_SQL_VCPU_HOUR * vcpu + CLOUD_SQL_GB_HOUR * memory_gb
    return (hourly * HOURS_PER_MONTH * (2 if regional else 1)).quantize(Decimal("0.01"))
