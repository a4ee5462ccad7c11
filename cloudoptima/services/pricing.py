"""The sandbox price catalogue behind the :class:`~cloudoptima.domain.recommendations.PriceCatalog` protocol.

``SandboxPriceCatalog`` answers from ``cloudoptima.clouds.sandbox.catalog`` (public list prices, on-demand,
Linux; see that module for sources). Unknown providers, regions, sizes or classes give ``None`` (never a
guess), so a rule without a price makes no recommendation. Monthly = hourly × 730, as the providers'
calculators count. Live price lists will implement the same protocol.
"""

from __future__ import annotations

from decimal import Decimal

from cloudoptima.clouds.sandbox import catalog
from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.recommendations import InstanceSize


def _size(item: catalog.InstanceType) -> InstanceSize:
    return InstanceSize(name=item.name, family=item.family, vcpu=item.vcpu, memory_gib=item.memory_gib)


class SandboxPriceCatalog:
    """List prices of the sandbox catalogue (implements ``PriceCatalog``)."""

    def instance_size(self, provider: CloudProvider, instance_type: str) -> InstanceSize | None:
        try:
            return _size(catalog.instance_type(provider, instance_type))
        except KeyError:
            return None

    def next_smaller_instance(self, provider: CloudProvider, instance_type: str) -> InstanceSize | None:
        try:
            smaller = catalog.next_smaller(provider, instance_type)
        except (KeyError, ValueError):
            return None
        return _size(smaller) if smaller is not None else None

    def instance_monthly(self, provider: CloudProvider, region: str, instance_type: str) -> Decimal | None:
        try:
            return catalog.monthly(catalog.instance_hourly(provider, instance_type, region))
        except KeyError:
            return None

    def disk_monthly(
        self, provider: CloudProvider, region: str, disk_type: str, size_gb: int
    ) -> Decimal | None:
        try:
            return catalog.disk_gb_month(provider, disk_type, region) * size_gb
        except KeyError:
            return None

    def database_monthly(self, provider: CloudProvider, region: str, instance_class: str) -> Decimal | None:
        try:
            return catalog.monthly(catalog.database_hourly(provider, instance_class, region))
        except KeyError:
            return None

    def next_smaller_database(self, provider: CloudProvider, instance_class: str) -> InstanceSize | None:
        try:
            smaller = catalog.next_smaller_database(provider, instance_class)
        except KeyError:
            return None
        if smaller is None:
            return None
        return InstanceSize(
            name=smaller.name, family=smaller.family, vcpu=smaller.vcpu, memory_gib=smaller.memory_gib
        )

    def snapshot_monthly(self, provider: CloudProvider, region: str, size_gb: int) -> Decimal | None:
        try:
            return catalog.snapshot_gb_month(provider, region) * size_gb
        except KeyError:
            return None

    def public_ip_monthly(self, provider: CloudProvider, region: str, *, associated: bool) -> Decimal | None:
        try:
            return catalog.monthly(catalog.public_ip_hourly(provider, region, associated=associated))
        except KeyError:
            return None

    def load_balancer_monthly(self, provider: CloudProvider, region: str) -> Decimal | None:
        try:
            return catalog.monthly(catalog.load_balancer_hourly(provider, region))
        except KeyError:
            return None

    def storage_classes(self, provider: CloudProvider) -> tuple[str, ...]:
        try:
            return catalog.bucket_classes(provider)
        except KeyError:
            return ()

    def bucket_monthly(
        self, provider: CloudProvider, region: str, storage_class: str, size_gb: int
    ) -> Decimal | None:
        try:
            return catalog.bucket_gb_month(provider, storage_class, region) * size_gb
        except KeyError:
            return None

    def commitment_rate(self, provider: CloudProvider) -> Decimal | None:
        return catalog.COMMITMENT_RATE.get(provider)
