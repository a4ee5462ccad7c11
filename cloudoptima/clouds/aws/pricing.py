"""List prices used for ``Resource.monthly_cost``: a small built-in table, refined by the AWS Pricing API.

Source of the table: the public AWS on-demand price pages for US East (N. Virginia), Linux, shared tenancy,
as published in 2024 (https://aws.amazon.com/ec2/pricing/on-demand/, /ebs/pricing/, /rds/pricing/,
/s3/pricing/, /elasticloadbalancing/pricing/, /vpc/pricing/ for public IPv4). Other regions apply an
approximate per-region factor (``REGION_FACTOR``). Instance prices are stored per family for the ``large``
size; AWS prices sizes proportionally (nano = 1/16 … 24xlarge = 48x), which the table reproduces exactly
for the families listed. Unknown instance types are estimated from vCPU and memory.

Contract: every price is a ``Decimal`` in USD; a month is 730 hours. :class:`PriceCatalog` asks the Pricing
API (``pricing:GetProducts``) first when enabled; if that API is unreachable or denied once, the catalog
uses the table for the rest of its life (one failure, not one per resource).
"""

from __future__ import annotations

import json
import logging
import threading
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

HOURS_PER_MONTH = Decimal(730)

SIZE_FACTOR: dict[str, Decimal] = {
    "nano": Decimal("0.0625"),
    "micro": Decimal("0.125"),
    "small": Decimal("0.25"),
    "medium": Decimal("0.5"),
    "large": Decimal(1),
    "xlarge": Decimal(2),
    "2xlarge": Decimal(4),
    "4xlarge": Decimal(8),
    "8xlarge": Decimal(16),
    "9xlarge": Decimal(18),
    "12xlarge": Decimal(24),
    "16xlarge": Decimal(32),
    "18xlarge": Decimal(36),
    "24xlarge": Decimal(48),
}

# USD per hour of the ``large`` size, us-east-1, Linux on-demand.
EC2_LARGE_HOURLY: dict[str, Decimal] = {
    "t2": Decimal("0.0928"),
    "t3": Decimal("0.0832"),
    "t3a": Decimal("0.0752"),
    "t4g": Decimal("0.0672"),
    "m4": Decimal("0.10"),
    "m5": Decimal("0.096"),
    "m5a": Decimal("0.086"),
    "m6i": Decimal("0.096"),
    "m6a": Decimal("0.0864"),
    "m6g": Decimal("0.077"),
    "m7i": Decimal("0.1008"),
    "m7g": Decimal("0.0816"),
    "c5": Decimal("0.085"),
    "c6i": Decimal("0.085"),
    "c6g": Decimal("0.068"),
    "c7g": Decimal("0.0725"),
    "r5": Decimal("0.126"),
    "r6i": Decimal("0.126"),
    "r6g": Decimal("0.1008"),
}
# m1.small is moto's default type; the previous-generation price is kept for it.
EC2_EXACT_HOURLY: dict[str, Decimal] = {"m1.small": Decimal("0.044"), "m1.medium": Decimal("0.087")}

# USD per hour of the ``large`` size, single-AZ MySQL/PostgreSQL.
RDS_LARGE_HOURLY: dict[str, Decimal] = {
    "db.t3": Decimal("0.136"),
    "db.t4g": Decimal("0.129"),
    "db.m5": Decimal("0.171"),
    "db.m6i": Decimal("0.171"),
    "db.m6g": Decimal("0.152"),
    "db.r5": Decimal("0.24"),
    "db.r6g": Decimal("0.215"),
}
RDS_STORAGE_GB_MONTH = Decimal("0.115")

# EBS USD per GB-month, plus provisioned IOPS per IOPS-month.
EBS_GB_MONTH: dict[str, Decimal] = {
    "gp3": Decimal("0.08"),
    "gp2": Decimal("0.10"),
    "io1": Decimal("0.125"),
    "io2": Decimal("0.125"),
    "st1": Decimal("0.045"),
    "sc1": Decimal("0.015"),
    "standard": Decimal("0.05"),
}
EBS_IOPS_MONTH: dict[str, Decimal] = {
    "io1": Decimal("0.065"),
    "io2": Decimal("0.065"),
    "gp3": Decimal("0.005"),
}
GP3_FREE_IOPS = 3000
SNAPSHOT_GB_MONTH: dict[str, Decimal] = {"standard": Decimal("0.05"), "archive": Decimal("0.0125")}

PUBLIC_IPV4_HOURLY = Decimal("0.005")
LOAD_BALANCER_HOURLY: dict[str, Decimal] = {
    "application": Decimal("0.0225"),
    "network": Decimal("0.0225"),
    "gateway": Decimal("0.0125"),
}
S3_GB_MONTH: dict[str, Decimal] = {
    "STANDARD": Decimal("0.023"),
    "INTELLIGENT_TIERING": Decimal("0.023"),
    "STANDARD_IA": Decimal("0.0125"),
    "ONEZONE_IA": Decimal("0.01"),
    "GLACIER_IR": Decimal("0.004"),
    "GLACIER": Decimal("0.0036"),
    "DEEP_ARCHIVE": Decimal("0.00099"),
}

REGION_FACTOR: dict[str, Decimal] = {
    "us-east-1": Decimal("1.00"),
    "us-east-2": Decimal("1.00"),
    "us-west-2": Decimal("1.00"),
    "us-west-1": Decimal("1.17"),
    "ca-central-1": Decimal("1.10"),
    "eu-west-1": Decimal("1.11"),
    "eu-west-2": Decimal("1.16"),
    "eu-west-3": Decimal("1.17"),
    "eu-central-1": Decimal("1.20"),
    "eu-north-1": Decimal("1.05"),
    "ap-south-1": Decimal("1.05"),
    "ap-southeast-1": Decimal("1.25"),
    "ap-southeast-2": Decimal("1.25"),
    "ap-northeast-1": Decimal("1.30"),
    "ap-northeast-2": Decimal("1.23"),
    "sa-east-1": Decimal("1.60"),
}
UNKNOWN_REGION_FACTOR = Decimal("1.20")
# Estimate for types outside the table: fits m5 (2 vCPU, 8 GiB → 0.096/h).
PER_VCPU_HOUR = Decimal("0.024")
PER_GIB_HOUR = Decimal("0.006")
CENT = Decimal("0.01")


def region_factor(region: str) -> Decimal:
    """Price multiplier of ``region`` relative to us-east-1."""
    return REGION_FACTOR.get(region, UNKNOWN_REGION_FACTOR)


def monthly(hourly: Decimal) -> Decimal:
    """A whole month of an hourly price, rounded to the cent."""
    return (hourly * HOURS_PER_MONTH).quantize(CENT)


def _sized(table: dict[str, Decimal], instance_type: str) -> Decimal | None:
    family, _, size = instance_type.rpartition(".")
    base = table.get(family)
    factor = SIZE_FACTOR.get(size)
    if base is None or factor is None:
        return None
    return base * factor


def table_instance_hourly(instance_type: str, region: str, vcpu: int, memory_gib: Decimal) -> Decimal:
    """Hourly on-demand price from the table, or the vCPU/memory estimate for unlisted types."""
    base = EC2_EXACT_HOURLY.get(instance_type) or _sized(EC2_LARGE_HOURLY, instance_type)
    if base is None:
        base = PER_VCPU_HOUR * vcpu + PER_GIB_HOUR * memory_gib
    return base * region_factor(region)


def volume_monthly(volume_type: str, size_gb: int, iops: int | None, region: str) -> Decimal:
    """Monthly price of an EBS volume: storage plus provisioned IOPS (gp3 above its free 3000)."""
    storage = EBS_GB_MONTH.get(volume_type, EBS_GB_MONTH["gp2"]) * size_gb
    billable_iops = iops or 0
    if volume_type == "gp3":
        billable_iops = max(0, billable_iops - GP3_FREE_IOPS)
    elif volume_type not in EBS_IOPS_MONTH:
        billable_iops = 0
    io_cost = EBS_IOPS_MONTH.get(volume_type, Decimal(0)) * billable_iops
    return ((storage + io_cost) * region_factor(region)).quantize(CENT)


def snapshot_monthly(size_gb: int, tier: str, region: str) -> Decimal:
    """Monthly price of a snapshot, charged on its full size (an upper bound: AWS bills changed blocks)."""
    return (
        SNAPSHOT_GB_MONTH.get(tier, SNAPSHOT_GB_MONTH["standard"]) * size_gb * region_factor(region)
    ).quantize(CENT)


def public_ip_monthly(region: str) -> Decimal:
    """Monthly price of one public IPv4 address (charged whether associated or not since Feb 2024)."""
    return monthly(PUBLIC_IPV4_HOURLY * region_factor(region))


def load_balancer_monthly(lb_type: str, region: str) -> Decimal:
    """Monthly fixed price of a load balancer (capacity units not included)."""
    return monthly(
        LOAD_BALANCER_HOURLY.get(lb_type, LOAD_BALANCER_HOURLY["application"]) * region_factor(region)
    )


def database_monthly(
    instance_class: str, vcpu: int, memory_gib: Decimal, storage_gb: int, multi_az: bool, region: str
) -> Decimal:
    """Monthly price of an RDS instance: compute (doubled for Multi-AZ) plus storage."""
    hourly = _sized(RDS_LARGE_HOURLY, instance_class)
    if hourly is None:
        hourly = (PER_VCPU_HOUR * vcpu + PER_GIB_HOUR * memory_gib) * Decimal("1.8")
    compute = hourly * HOURS_PER_MONTH * (2 if multi_az else 1)
    storage = RDS_STORAGE_GB_MONTH * storage_gb
    return ((compute + storage) * region_factor(region)).quantize(CENT)


def bucket_monthly(storage_class: str, size_gb: int, region: str) -> Decimal:
    """Monthly storage price of a bucket's current size."""
    return (
        S3_GB_MONTH.get(storage_class, S3_GB_MONTH["STANDARD"]) * size_gb * region_factor(region)
    ).quantize(CENT)


class PriceCatalog:
    """Instance prices: the Pricing API when reachable (answers cached), else the table.

    ``client`` is a boto3 ``pricing`` client (us-east-1) or None to use the table only.
    """

    def __init__(self, client: Any | None) -> None:
        self._client = client
        self._answers: dict[tuple[str, str], tuple[Decimal, str] | None] = {}
        self._lock = threading.Lock()
        self.api_failures = 0

    def instance_hourly(
        self, instance_type: str, region: str, vcpu: int, memory_gib: Decimal
    ) -> tuple[Decimal, str]:
        """(USD per hour, SKU id) of a Linux on-demand instance of ``instance_type`` in ``region``."""
        quoted = self._from_api(instance_type, region)
        if quoted is not None:
            return quoted
        price = table_instance_hourly(instance_type, region, vcpu, memory_gib)
        return price, f"AmazonEC2/BoxUsage:{instance_type}/{region}"

    def _from_api(self, instance_type: str, region: str) -> tuple[Decimal, str] | None:
        with self._lock:
            if self._client is None:
                return None
            key = (instance_type, region)
            if key in self._answers:
                return self._answers[key]
            try:
                answer = self._ask(instance_type, region)
            except (ClientError, BotoCoreError) as error:
                log.warning("AWS Pricing API unavailable, using the built-in table: %s", type(error).__name__)
                self.api_failures += 1
                self._client = None
                return None
            self._answers[key] = answer
            return answer

    def _ask(self, instance_type: str, region: str) -> tuple[Decimal, str] | None:
        filters = {
            "instanceType": instance_type,
            "regionCode": region,
            "operatingSystem": "Linux",
            "tenancy": "Shared",
            "preInstalledSw": "NA",
            "capacitystatus": "Used",
        }
        assert self._client is not None
        response = self._client.get_products(
            ServiceCode="AmazonEC2",
            Filters=[{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
            MaxResults=1,
        )
        for raw in response.get("PriceList", []):
            product = json.loads(raw) if isinstance(raw, str) else raw
            sku = str(product.get("product", {}).get("sku", ""))
            for term in product.get("terms", {}).get("OnDemand", {}).values():
                for dimension in term.get("priceDimensions", {}).values():
                    usd = dimension.get("pricePerUnit", {}).get("USD")
                    if usd is not None and Decimal(usd) > 0:
                        return Decimal(usd), sku
        return None
