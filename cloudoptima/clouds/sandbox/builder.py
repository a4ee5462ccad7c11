"""``AccountBuilder``: adds resources to one sandbox account with consistent billing and usage.

Every ``add_*`` method creates the ``Resource`` as it is at the end of the window, its billing segments (from
``pricing.segment_for`` of its live configuration over the periods it billed) and, for metered kinds, its
``UsageProfile``. Randomness comes only from the builder's seeded ``random.Random``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from cloudoptima.clouds.sandbox import catalog, ids
from cloudoptima.clouds.sandbox.estate import BillingSegment, UsageProfile
from cloudoptima.clouds.sandbox.pricing import monthly_cost, segment_for
from cloudoptima.clouds.sandbox.providers import service
from cloudoptima.domain.inventory import (
    BucketAttributes,
    CloudAccount,
    DatabaseAttributes,
    DiskAttributes,
    InstanceAttributes,
    LoadBalancerAttributes,
    PublicIpAttributes,
    Resource,
    ResourceAttributes,
    ResourceKind,
    ResourceState,
    SnapshotAttributes,
)

Period = tuple[datetime, datetime | None]

_PROFILE_DEFAULTS: dict[str, Any] = {
    "cpu_base": 30.0,
    "cpu_cap": 100.0,
    "daily_amplitude": 0.4,
    "weekend_factor": 0.75,
    "growth_per_day": 0.002,
    "noise": 0.15,
    "burst_probability": 0.004,
    "burst_level": 85.0,
    "memory_base": 55.0,
    "memory_cap": 95.0,
    "network_bytes_per_hour": 4.0e8,
    "disk_ops_per_hour": 6.0e4,
    "requests_per_hour": 0.0,
}


@dataclass
class AccountBuilder:
    """Collects one account's resources, billing segments and usage profiles."""

    account: CloudAccount
    rng: random.Random
    window_start: datetime
    window_end: datetime
    resources: list[Resource] = field(default_factory=list)
    segments: dict[str, tuple[BillingSegment, ...]] = field(default_factory=dict)
    profiles: dict[str, UsageProfile] = field(default_factory=dict)
    _names: set[str] = field(default_factory=set)

    def days_before_end(self, low: float, high: float) -> datetime:
        """A whole hour between ``high`` and ``low`` days before the window end."""
        hours = self.rng.randint(int(low * 24), int(high * 24))
        return self.window_end - timedelta(hours=hours)

    def profile(self, **overrides: float) -> UsageProfile:
        """A usage profile with a fresh seed; unspecified parameters take the busy-service defaults."""
        values = {**_PROFILE_DEFAULTS, **overrides}
        return UsageProfile(seed=self.rng.getrandbits(63), **values)

    def _name(self, stem: str) -> str:
        name = stem
        while name in self._names:
            name = f"{stem}-{ids.hex_id(self.rng, 4)}"
        self._names.add(name)
        return name

    def _add(
        self,
        kind: ResourceKind,
        stem: str,
        region: str,
        attributes: ResourceAttributes,
        tags: dict[str, str],
        periods: list[Period],
        *,
        final_state: ResourceState,
        created_at: datetime,
        profile: UsageProfile | None = None,
        group: str = "rg-sandbox",
    ) -> Resource:
        provider = self.account.provider
        name = self._name(stem)
        live_state = ResourceState.RUNNING if kind in _RUNNABLE else ResourceState.IN_USE
        if kind in (ResourceKind.DISK, ResourceKind.PUBLIC_IP) and not _is_attached(attributes):
            live_state = ResourceState.AVAILABLE
        live = Resource(
            resource_id=ids.resource_id(
                provider,
                kind,
                account=self.account.account_id,
                region=region,
                name=name,
                group=group,
                rng=self.rng,
            ),
            name=name,
            kind=kind,
            provider=provider,
            account_id=self.account.account_id,
            region=region,
            service_name=service(provider, kind).name,
            sku_id="",
            attributes=attributes,
            tags=tags,
            monthly_cost=Decimal(0),
            state=live_state,
            created_at=created_at,
            launched_at=created_at if kind in _RUNNABLE else None,
        )
        segments: list[BillingSegment] = []
        for start, end in periods:
            segment = segment_for(live, start)
            if segment is not None:
                segments.append(segment if end is None else segment.closed(end))
        last_end = periods[-1][1] if periods else created_at
        state = live_state if final_state is ResourceState.RUNNING and kind not in _RUNNABLE else final_state
        final = live.model_copy(
            update={
                "state": state,
                "sku_id": segments[-1].sku_id if segments else "",
                "stopped_at": last_end if state is ResourceState.STOPPED else None,
                "deleted_at": last_end if state is ResourceState.DELETED else None,
            }
        )
        final = final.model_copy(update={"monthly_cost": monthly_cost(final)})
        self.resources.append(final)
        self.segments[final.resource_id] = tuple(segments)
        if profile is not None:
            self.profiles[final.resource_id] = profile
        return final

    def instance(
        self,
        stem: str,
        instance_type: str,
        region: str,
        tags: dict[str, str],
        profile: UsageProfile,
        *,
        created_at: datetime,
        stopped_at: datetime | None = None,
        deleted_at: datetime | None = None,
        schedule: Literal["always", "weekdays"] = "always",
        disk_gb: tuple[int, ...] = (30,),
    ) -> tuple[Resource, tuple[Resource, ...]]:
        """An instance with its attached disks (boot disk first); disks outlive a stop, not a delete."""
        provider = self.account.provider
        size = catalog.instance_type(provider, instance_type)
        disks: list[Resource] = []
        disk_type = catalog.disk_types(provider)[0]
        attributes = InstanceAttributes(
            instance_type=instance_type,
            family=size.family,
            vcpu=size.vcpu,
            memory_gib=size.memory_gib,
            schedule=schedule,
        )
        final_state = ResourceState.RUNNING
        if deleted_at is not None:
            final_state = ResourceState.DELETED
        elif stopped_at is not None:
            final_state = ResourceState.STOPPED
        billed_until = deleted_at if deleted_at is not None else stopped_at
        position = len(self.resources)
        vm = self._add(
            ResourceKind.COMPUTE_INSTANCE,
            stem,
            region,
            attributes,
            tags,
            [(created_at, billed_until)],
            final_state=final_state,
            created_at=created_at,
            profile=profile,
            group=f"rg-{tags.get('team', 'shared')}-{tags.get('env', 'prod')}",
        )
        for index, gb in enumerate(disk_gb):
            disk_profile = self.profile(disk_ops_per_hour=profile.disk_ops_per_hour / (index + 1))
            disks.append(
                self.disk(
                    f"{vm.name}-{'boot' if index == 0 else f'data{index}'}",
                    region,
                    gb,
                    tags,
                    created_at=created_at,
                    attached_to=vm.resource_id,
                    deleted_at=deleted_at,
                    disk_type=disk_type,
                    profile=disk_profile,
                )
            )
        attached = attributes.model_copy(update={"attached_disk_ids": tuple(d.resource_id for d in disks)})
        vm = vm.model_copy(update={"attributes": attached})
        self.resources[position] = vm
        return vm, tuple(disks)

    def disk(
        self,
        stem: str,
        region: str,
        size_gb: int,
        tags: dict[str, str],
        *,
        created_at: datetime,
        attached_to: str | None,
        detached_at: datetime | None = None,
        deleted_at: datetime | None = None,
        disk_type: str | None = None,
        profile: UsageProfile | None = None,
    ) -> Resource:
        """A block volume, attached to ``attached_to`` or unattached since ``detached_at``."""
        kind_type = disk_type or catalog.disk_types(self.account.provider)[0]
        attributes = DiskAttributes(
            disk_type=kind_type, size_gb=size_gb, attached_to=attached_to, detached_at=detached_at
        )
        final = ResourceState.DELETED if deleted_at is not None else ResourceState.RUNNING
        return self._add(
            ResourceKind.DISK,
            stem,
            region,
            attributes,
            tags,
            [(created_at, deleted_at)],
            final_state=final,
            created_at=created_at,
            profile=profile or self.profile(disk_ops_per_hour=0.0),
        )

    def snapshot(
        self,
        stem: str,
        region: str,
        size_gb: int,
        source_disk_id: str,
        tags: dict[str, str],
        *,
        created_at: datetime,
    ) -> Resource:
        """A snapshot of ``source_disk_id`` (which may not exist any more)."""
        attributes = SnapshotAttributes(size_gb=size_gb, source_disk_id=source_disk_id)
        return self._add(
            ResourceKind.SNAPSHOT,
            stem,
            region,
            attributes,
            tags,
            [(created_at, None)],
            final_state=ResourceState.RUNNING,
            created_at=created_at,
        )

    def public_ip(
        self,
        stem: str,
        region: str,
        tags: dict[str, str],
        *,
        created_at: datetime,
        associated_with: str | None,
    ) -> Resource:
        """A static public IPv4 address, associated or not."""
        attributes = PublicIpAttributes(address=ids.public_ipv4(self.rng), associated_with=associated_with)
        return self._add(
            ResourceKind.PUBLIC_IP,
            stem,
            region,
            attributes,
            tags,
            [(created_at, None)],
            final_state=ResourceState.RUNNING,
            created_at=created_at,
        )

    def load_balancer(
        self,
        stem: str,
        region: str,
        tags: dict[str, str],
        profile: UsageProfile,
        *,
        created_at: datetime,
        target_ids: tuple[str, ...],
    ) -> Resource:
        """A load balancer in front of ``target_ids`` (empty for an idle one)."""
        attributes = LoadBalancerAttributes(
            lb_type=catalog.load_balancer_type(self.account.provider), target_ids=target_ids
        )
        return self._add(
            ResourceKind.LOAD_BALANCER,
            stem,
            region,
            attributes,
            tags,
            [(created_at, None)],
            final_state=ResourceState.RUNNING,
            created_at=created_at,
            profile=profile,
        )

    def database(
        self,
        stem: str,
        instance_class: str,
        region: str,
        tags: dict[str, str],
        profile: UsageProfile,
        *,
        created_at: datetime,
        storage_gb: int,
    ) -> Resource:
        """A managed PostgreSQL instance."""
        size = catalog.database_class(self.account.provider, instance_class)
        attributes = DatabaseAttributes(
            engine=size.engine,
            instance_class=instance_class,
            vcpu=size.vcpu,
            memory_gib=size.memory_gib,
            storage_gb=storage_gb,
        )
        return self._add(
            ResourceKind.DATABASE,
            stem,
            region,
            attributes,
            tags,
            [(created_at, None)],
            final_state=ResourceState.RUNNING,
            created_at=created_at,
            profile=profile,
        )

    def bucket(
        self,
        stem: str,
        region: str,
        storage_class: str,
        size_gb: int,
        tags: dict[str, str],
        *,
        created_at: datetime,
    ) -> Resource:
        """An object-storage bucket of a fixed size."""
        attributes = BucketAttributes(storage_class=storage_class, size_gb=size_gb)
        return self._add(
            ResourceKind.BUCKET,
            stem,
            region,
            attributes,
            tags,
            [(created_at, None)],
            final_state=ResourceState.RUNNING,
            created_at=created_at,
        )


_RUNNABLE = (ResourceKind.COMPUTE_INSTANCE, ResourceKind.DATABASE)


def _is_attached(attributes: ResourceAttributes) -> bool:
    if isinstance(attributes, DiskAttributes):
        return attributes.attached_to is not None
    if isinstance(attributes, PublicIpAttributes):
        return attributes.associated_with is not None
    return True
