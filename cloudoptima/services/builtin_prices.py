"""The connectors' built-in price tables as a last price tier: exact table entries only, never an estimate.

Contract (``builtin_monthly(provider, kind, region, sku)``): the monthly price of one unit (one instance
running 730 h, one GB-month, one address or load balancer for a month) from ``clouds/<cloud>/pricing.py``,
or ``None`` when the table has no entry — the tables' vCPU/memory estimates for unlisted sizes are not used.
The table modules are imported on first use (their packages load the cloud SDKs, which a gateway answering
from the store or the sandbox catalogue never needs). Regions: Azure only East US (``eastus``) and GCP only ``us-central1``, the regions their tables were
transcribed for. AWS has no tier here: its table module imports the SDK, which the kernel's services may
not; AWS resources still carry the table's price as their own reported ``monthly_cost``.
"""

from __future__ import annotations

from decimal import Decimal

from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import HOURS_PER_MONTH, PriceKind
from cloudoptima.domain.recommendations import InstanceSize

BUILTIN_LABELS: dict[CloudProvider, str] = {
    CloudProvider.AZURE: "built-in Azure table (East US list prices, 2024)",
    CloudProvider.GCP: "built-in GCP table (us-central1 list prices, 2024)",
}
_GCP_FAMILIES = ("n1", "n2", "n2d", "e2", "c2", "t2d")


def _azure(kind: PriceKind, region: str, sku: str) -> Decimal | None:
    from cloudoptima.clouds.azure import pricing as azure  # on first use: the package loads the Azure SDK

    if region != "eastus":
        return None
    if kind == PriceKind.INSTANCE and sku in azure.VM_SIZES:
        return azure.VM_SIZES[sku][2] * HOURS_PER_MONTH
    if kind == PriceKind.SNAPSHOT:
        return azure.SNAPSHOT_GB_MONTH["Standard_LRS"]
    if kind == PriceKind.PUBLIC_IP:
        return azure.PUBLIC_IP_MONTHLY["Standard"]
    if kind == PriceKind.LOAD_BALANCER:
        return azure.LOAD_BALANCER_MONTHLY.get(sku.capitalize())
    return None


def _gcp(kind: PriceKind, region: str, sku: str) -> Decimal | None:
    from cloudoptima.clouds.gcp import pricing as gcp  # on first use: the package loads the GCP SDK

    if region != "us-central1":
        return None
    if kind == PriceKind.INSTANCE:
        shape = gcp.machine_shape(sku)
        if shape is None or gcp.family_of(sku) not in _GCP_FAMILIES:
            return None
        return gcp.instance_monthly(sku, shape[0], shape[1])
    if kind == PriceKind.DISK:
        return gcp.DISK_GB_MONTH.get(sku)
    if kind == PriceKind.SNAPSHOT:
        return gcp.SNAPSHOT_GB_MONTH["STANDARD"]
    if kind == PriceKind.PUBLIC_IP:
        return (gcp.IP_IN_USE_HOUR if sku == "in_use" else gcp.IP_UNUSED_HOUR) * HOURS_PER_MONTH
    if kind == PriceKind.LOAD_BALANCER:
        return gcp.FORWARDING_RULE_HOUR * HOURS_PER_MONTH
    return None


def builtin_monthly(provider: CloudProvider, kind: PriceKind, region: str, sku: str) -> Decimal | None:
    """See module contract."""
    if provider == CloudProvider.AZURE:
        return _azure(kind, region, sku)
    if provider == CloudProvider.GCP:
        return _gcp(kind, region, sku)
    return None


def builtin_size(provider: CloudProvider, instance_type: str) -> InstanceSize | None:
    """The size of a type the Azure table lists or a GCP predefined/custom type; ``None`` otherwise."""
    from cloudoptima.clouds.azure import pricing as azure
    from cloudoptima.clouds.gcp import pricing as gcp

    if provider == CloudProvider.AZURE and instance_type in azure.VM_SIZES:
        vcpu, memory, _, family = azure.VM_SIZES[instance_type]
        return InstanceSize(name=instance_type, family=family, vcpu=vcpu, memory_gib=memory)
    if provider == CloudProvider.GCP:
        shape = gcp.machine_shape(instance_type)
        if shape is not None:
            return InstanceSize(
                name=instance_type, family=gcp.family_of(instance_type), vcpu=shape[0], memory_gib=shape[1]
            )
    return None
