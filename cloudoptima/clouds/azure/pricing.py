"""A small, documented retail price table for the Azure resources CloudOptima inventories.

Prices are Azure pay-as-you-go list prices in USD for East US (Linux VMs, no reservations or savings
plans), rounded to the cent, as published on the Azure retail prices page in 2024. They are a
*configuration* price used for ``Resource.monthly_cost`` (730 hours per month), not the bill: real costs
come from Cost Management. Sizes not in the table fall back to :data:`FALLBACK_VCPU_HOUR` per vCPU.
"""

from __future__ import annotations

from decimal import Decimal

HOURS_PER_MONTH = Decimal(730)

# size -> (vCPU, memory GiB, USD per hour, family)
VM_SIZES: dict[str, tuple[int, Decimal, Decimal, str]] = {
    "Standard_B1s": (1, Decimal("1"), Decimal("0.0104"), "B"),
    "Standard_B1ms": (1, Decimal("2"), Decimal("0.0207"), "B"),
    "Standard_B2s": (2, Decimal("4"), Decimal("0.0416"), "B"),
    "Standard_B2ms": (2, Decimal("8"), Decimal("0.0832"), "B"),
    "Standard_B4ms": (4, Decimal("16"), Decimal("0.166"), "B"),
    "Standard_D2s_v5": (2, Decimal("8"), Decimal("0.096"), "Dsv5"),
    "Standard_D4s_v5": (4, Decimal("16"), Decimal("0.192"), "Dsv5"),
    "Standard_D8s_v5": (8, Decimal("32"), Decimal("0.384"), "Dsv5"),
    "Standard_D16s_v5": (16, Decimal("64"), Decimal("0.768"), "Dsv5"),
    "Standard_D2as_v5": (2, Decimal("8"), Decimal("0.086"), "Dasv5"),
    "Standard_D4as_v5": (4, Decimal("16"), Decimal("0.172"), "Dasv5"),
    "Standard_E2s_v5": (2, Decimal("16"), Decimal("0.126"), "Esv5"),
    "Standard_E4s_v5": (4, Decimal("32"), Decimal("0.252"), "Esv5"),
    "Standard_E8s_v5": (8, Decimal("64"), Decimal("0.504"), "Esv5"),
    "Standard_F2s_v2": (2, Decimal("4"), Decimal("0.0846"), "Fsv2"),
    "Standard_F4s_v2": (4, Decimal("8"), Decimal("0.169"), "Fsv2"),
}
FALLBACK_VCPU_HOUR = Decimal("0.048")
"""USD per vCPU-hour for sizes not in :data:`VM_SIZES` (the D-series general-purpose rate)."""

# Managed disks are billed by tier: the smallest tier whose size is >= the provisioned size.
DISK_TIERS_GB = (4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)
DISK_TIER_MONTHLY: dict[str, tuple[Decimal, ...]] = {
    "Premium_LRS": tuple(
        Decimal(x)
        for x in (
            "0.60",
            "1.20",
            "2.40",
            "5.28",
            "10.21",
            "19.71",
            "38.01",
            "73.22",
            "135.17",
            "259.05",
            "495.57",
            "946.08",
            "1802.08",
            "3604.16",
        )
    ),
    "StandardSSD_LRS": tuple(
        Decimal(x)
        for x in (
            "0.30",
            "0.60",
            "1.20",
            "2.40",
            "4.80",
            "9.60",
            "19.20",
            "38.40",
            "76.80",
            "153.60",
            "307.20",
            "614.40",
            "1228.80",
            "2457.60",
        )
    ),
    "Standard_LRS": tuple(
        Decimal(x)
        for x in (
            "0.77",
            "0.77",
            "0.77",
            "1.54",
            "3.01",
            "5.89",
            "11.33",
            "21.76",
            "40.96",
            "81.92",
            "163.84",
            "327.68",
            "655.36",
            "1310.72",
        )
    ),
}
SNAPSHOT_GB_MONTH: dict[str, Decimal] = {
    "Standard_LRS": Decimal("0.05"),
    "Standard_ZRS": Decimal("0.0625"),
    "Premium_LRS": Decimal("0.132"),
}
PUBLIC_IP_MONTHLY: dict[str, Decimal] = {"Standard": Decimal("3.65"), "Basic": Decimal("2.63")}
LOAD_BALANCER_MONTHLY: dict[str, Decimal] = {
    "Standard": Decimal("18.25"),
    "Basic": Decimal("0"),
    "Gateway": Decimal("9.13"),
}


def vm_monthly(size: str, vcpu: int) -> Decimal:
    """List price of ``size`` for a month of running (USD); unknown sizes priced per vCPU."""
    known = VM_SIZES.get(size)
    hourly = known[2] if known else FALLBACK_VCPU_HOUR * vcpu
    return (hourly * HOURS_PER_MONTH).quantize(Decimal("0.01"))


def disk_monthly(sku: str, size_gb: int) -> Decimal:
    """Monthly price of a managed disk: the tier that holds ``size_gb`` (Standard HDD for unknown SKUs)."""
    prices = DISK_TIER_MONTHLY.get(sku, DISK_TIER_MONTHLY["Standard_LRS"])
    for tier, price in zip(DISK_TIERS_GB, prices, strict=True):
        if size_gb <= tier:
            return price
    return prices[-1]


def snapshot_monthly(sku: str, size_gb: int) -> Decimal:
    """Monthly price of a full snapshot of ``size_gb`` GB (incremental snapshots cost at most this)."""
    return (SNAPSHOT_GB_MONTH.get(sku, SNAPSHOT_GB_MONTH["Standard_LRS"]) * size_gb).quantize(Decimal("0.01"))


# Azure SQL Database, single database, provisioned, license included, East US.
SQL_VCORE_HOUR: dict[str, Decimal] = {
    "GeneralPurpose": Decimal("0.2522"),
    "BusinessCritical": Decimal("0.6807"),
}
"""USD per vCore-hour of a provisioned vCore database by tier (Gen5 hardware)."""
SQL_DTU_MONTHLY: dict[str, Decimal] = {
    "Basic": Decimal("4.90"),
    "S0": Decimal("14.72"),
    "S1": Decimal("29.43"),
    "S2": Decimal("73.58"),
    "S3": Decimal("147.17"),
    "P1": Decimal("456.25"),
    "P2": Decimal("912.50"),
}
"""USD per month of DTU service objectives."""
SQL_GIB_PER_VCORE = Decimal("5.1")
"""Memory of a Gen5 vCore database per vCore (General Purpose and Business Critical)."""


def sql_database_monthly(tier: str, objective: str, vcores: int) -> Decimal:
    """List price of a month of an Azure SQL database: vCore tiers per vCore, DTU objectives by name;
    0 when neither table knows it (serverless ``*_S_*`` objectives bill per use, not by the month)."""
    if objective in SQL_DTU_MONTHLY:
        return SQL_DTU_MONTHLY[objective]
    hourly = SQL_VCORE_HOUR.get(tier)
    if hourly is None or vcores <= 0 or "_S_" in objective:
        return Decimal(0)
    return (hourly * vcores * HOURS_PER_MONTH).quantize(Decimal("0.01"))


def sql_memory_gib(vcores: int) -> Decimal:
    """Memory of a Gen5 vCore database of ``vcores`` vCores."""
    return SQL_GIB_PER_VCORE * max(vcores, 1)
