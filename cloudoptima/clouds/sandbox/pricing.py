"""Pricing of one resource configuration: which SKU it bills, at what unit price, in which unit.

``segment_for(resource, start)`` is the single place that turns a resource's attributes into a
``BillingSegment``; the generator and the action applier both use it, so regenerated cost rows always agree
with the inventory. A stopped instance or database and a deleted resource bill nothing (``None``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cloudoptima.clouds.sandbox import catalog
from cloudoptima.clouds.sandbox.estate import BillingSegment
from cloudoptima.clouds.sandbox.providers import sku_id
from cloudoptima.domain.inventory import (
    BucketAttributes,
    DatabaseAttributes,
    DiskAttributes,
    InstanceAttributes,
    LoadBalancerAttributes,
    PublicIpAttributes,
    Resource,
    ResourceState,
    SnapshotAttributes,
)

_ONE = Decimal(1)


def segment_for(resource: Resource, start: datetime) -> BillingSegment | None:
    """The open billing segment of ``resource``'s current configuration from ``start``, or ``None``."""
    if resource.state in (ResourceState.STOPPED, ResourceState.DELETED):
        return None
    p, region, a = resource.provider, resource.region, resource.attributes
    if isinstance(a, InstanceAttributes):
        price = catalog.instance_hourly(p, a.instance_type, region)
        return BillingSegment(
            start=start,
            sku_id=sku_id(p, "instance", a.instance_type, region),
            unit="Hours",
            unit_price=price,
            size=_ONE,
            usage_type=f"BoxUsage:{a.instance_type}",
            description=f"${price} per On Demand Linux {a.instance_type} Instance Hour",
            schedule=a.schedule,
        )
    if isinstance(a, DiskAttributes):
        price = catalog.disk_gb_month(p, a.disk_type, region)
        return BillingSegment(
            start=start,
            sku_id=sku_id(p, "disk", a.disk_type, region),
            unit="GB-Mo",
            unit_price=price,
            size=Decimal(a.size_gb),
            usage_type=f"VolumeUsage.{a.disk_type}",
            description=f"${price} per GB-month of {a.disk_type} provisioned storage",
        )
    if isinstance(a, SnapshotAttributes):
        price = catalog.snapshot_gb_month(p, region)
        return BillingSegment(
            start=start,
            sku_id=sku_id(p, "snapshot", region),
            unit="GB-Mo",
            unit_price=price,
            size=Decimal(a.size_gb),
            usage_type="SnapshotUsage",
            description=f"${price} per GB-month of snapshot data stored",
        )
    if isinstance(a, PublicIpAttributes):
        associated = a.associated_with is not None
        price = catalog.public_ip_hourly(p, region, associated=associated)
        state = "InUse" if associated else "Idle"
        return BillingSegment(
            start=start,
            sku_id=sku_id(p, "ip", state, region),
            unit="Hours",
            unit_price=price,
            size=_ONE,
            usage_type=f"PublicIPv4:{state}Address",
            description=f"${price} per {state} public IPv4 address per hour",
        )
    if isinstance(a, LoadBalancerAttributes):
        price = catalog.load_balancer_hourly(p, region)
        return BillingSegment(
            start=start,
            sku_id=sku_id(p, "lb", a.lb_type, region),
            unit="Hours",
            unit_price=price,
            size=_ONE,
            usage_type=f"LoadBalancerUsage:{a.lb_type}",
            description=f"${price} per {a.lb_type} load balancer hour (or partial hour)",
        )
    if isinstance(a, DatabaseAttributes):
        price = catalog.database_hourly(p, a.instance_class, region)
        return BillingSegment(
            start=start,
            sku_id=sku_id(p, "db", a.engine, a.instance_class, region),
            unit="Hours",
            unit_price=price,
            size=_ONE,
            usage_type=f"InstanceUsage:{a.instance_class}",
            description=f"${price} per {a.instance_class} {a.engine} instance hour",
        )
    if isinstance(a, BucketAttributes):
        price = catalog.bucket_gb_month(p, a.storage_class, region)
        return BillingSegment(
            start=start,
            sku_id=sku_id(p, "bucket", a.storage_class, region),
            unit="GB-Mo",
            unit_price=price,
            size=Decimal(a.size_gb),
            usage_type=f"TimedStorage-{a.storage_class}",
            description=f"${price} per GB-month of {a.storage_class} storage",
        )
    raise TypeError(f"no pricing for {type(a).__name__}")


def monthly_cost(resource: Resource) -> Decimal:
    """The list price of a whole month of ``resource`` as it is now (0 when it bills nothing)."""
    segment = segment_for(resource, resource.created_at)
    return segment.monthly_cost() if segment is not None else Decimal(0)
