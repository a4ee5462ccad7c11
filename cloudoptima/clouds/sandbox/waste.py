"""Planted waste and its look-alikes for one sandbox account.

Waste (each with the exact monthly saving of its fix): an idle VM (CPU capped at 4 %, < 1 MB network a day),
an oversized VM (CPU and memory capped so the next smaller size of the family stays ≤ 60 %), an unattached
disk (detached 35–59 days ago), an orphaned snapshot (> 100 days old, source volume gone), an unassociated
IP, an idle load balancer (no targets, no requests) and a VM stopped 35–90 days ago still paying for its disks.

Look-alikes a careless rule would flag: a bursty VM (low average CPU, p99 ≥ 85 %), an idle VM tagged
``cloudoptima:ignore=true`` or ``do-not-optimize=true``, a disk created < 7 days ago and not yet attached,
an old snapshot of a live volume, and a VM stopped < 30 days ago.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from cloudoptima.clouds.sandbox import catalog, ids
from cloudoptima.clouds.sandbox.builder import AccountBuilder
from cloudoptima.clouds.sandbox.fleet import Fleet, sized_family, tags
from cloudoptima.clouds.sandbox.manifest import LookAlike, LookAlikeKind, WasteItem, WasteKind
from cloudoptima.domain.inventory import Resource, ResourceKind

IGNORE_TAGS = ({"cloudoptima:ignore": "true"}, {"do-not-optimize": "true"})
"""Tags that mark a resource as excluded from optimisation."""


@dataclass
class Plants:
    """Waste and look-alikes planted in one account."""

    waste: list[WasteItem] = field(default_factory=list)
    look_alikes: list[LookAlike] = field(default_factory=list)


def idle_profile_args() -> dict[str, float]:
    """Utilisation of a VM nobody uses: CPU ≤ 4 %, tiny network and disk I/O."""
    return {
        "cpu_base": 1.2,
        "cpu_cap": 4.0,
        "daily_amplitude": 0.3,
        "noise": 0.25,
        "burst_probability": 0.0,
        "memory_base": 12.0,
        "memory_cap": 20.0,
        "network_bytes_per_hour": 2.0e4,
        "disk_ops_per_hour": 50.0,
    }


class Planter:
    """Plants waste and look-alikes of one account into ``plants`` (ids numbered in planting order)."""

    def __init__(self, builder: AccountBuilder, region: str, prefix: str, fleet: Fleet) -> None:
        self.b = builder
        self.region = region
        self.prefix = prefix
        self.team = builder.rng.choice(fleet.teams)
        self.plants = Plants()

    def _tags(self, env: str = "staging") -> dict[str, str]:
        return tags(self.b, self.team, env)

    def waste(
        self,
        kind: WasteKind,
        resources: list[Resource],
        action: str,
        savings: Decimal,
        detail: str,
        *,
        targets: list[Resource] | None = None,
        params: dict[str, str] | None = None,
    ) -> None:
        self.plants.waste.append(
            WasteItem(
                id=f"{self.prefix}-w{len(self.plants.waste) + 1:02d}",
                kind=kind,
                provider=self.b.account.provider,
                account_id=self.b.account.account_id,
                region=resources[0].region,
                resource_ids=tuple(r.resource_id for r in resources),
                action=action,
                action_resource_ids=tuple(r.resource_id for r in (targets or resources[:1])),
                action_params=params or {},
                monthly_savings=savings,
                detail=detail,
            )
        )

    def look_alike(
        self, kind: LookAlikeKind, resources: list[Resource], resembles: WasteKind, reason: str
    ) -> None:
        self.plants.look_alikes.append(
            LookAlike(
                id=f"{self.prefix}-n{len(self.plants.look_alikes) + 1:02d}",
                kind=kind,
                provider=self.b.account.provider,
                account_id=self.b.account.account_id,
                resource_ids=tuple(r.resource_id for r in resources),
                resembles=resembles,
                reason=reason,
            )
        )

    def plant_vm_waste(self) -> None:
        b, rng, region = self.b, self.b.rng, self.region
        vm, _ = b.instance(
            f"{self.team}-legacy-report",
            sized_family(b),
            region,
            self._tags(),
            b.profile(**idle_profile_args()),
            created_at=b.days_before_end(60, 300),
        )
        self.waste(WasteKind.IDLE_VM, [vm], "stop", vm.monthly_cost, "p95 CPU < 5 %, network < 1 MB/day")

        provider = b.account.provider
        family = rng.choice(
            [f for f in catalog.families(provider) if len(catalog.instance_types(provider, f)) > 2]
        )
        sizes = catalog.instance_types(provider, family)
        current = sizes[rng.randint(1, len(sizes) - 1)]
        smaller = sizes[sizes.index(current) - 1]
        cpu_cap = 60.0 * smaller.vcpu / current.vcpu
        memory_cap = 60.0 * float(smaller.memory_gib / current.memory_gib)
        vm, _ = b.instance(
            f"{self.team}-oversized-api",
            current.name,
            region,
            self._tags("prod"),
            b.profile(
                cpu_base=cpu_cap * 0.45,
                cpu_cap=cpu_cap,
                daily_amplitude=0.35,
                noise=0.12,
                burst_probability=0.01,
                burst_level=cpu_cap,
                memory_base=memory_cap * 0.8,
                memory_cap=memory_cap,
            ),
            created_at=b.days_before_end(90, 400),
        )
        hourly_delta = catalog.instance_hourly(provider, current.name, region) - catalog.instance_hourly(
            provider, smaller.name, region
        )
        self.waste(
            WasteKind.OVERSIZED_VM,
            [vm],
            "resize",
            catalog.monthly(hourly_delta),
            f"p99 CPU ≤ {cpu_cap:.0f} %, memory ≤ {memory_cap:.0f} %: {smaller.name} fits at ≤ 60 %",
            params={"target_type": smaller.name},
        )

        stopped_at = b.days_before_end(35, 90)
        vm, disks = b.instance(
            f"{self.team}-old-build-agent",
            sized_family(b),
            region,
            self._tags(),
            b.profile(cpu_base=20.0),
            created_at=b.days_before_end(150, 400),
            stopped_at=stopped_at,
            disk_gb=(50, rng.choice((200, 500))),
        )
        savings = sum((d.monthly_cost for d in disks), Decimal(0))
        self.waste(
            WasteKind.STOPPED_VM_WITH_DISKS,
            [vm, *disks],
            "terminate",
            savings,
            "stopped > 30 days; its disks still bill",
            targets=[vm],
        )

    def plant_storage_and_network_waste(self) -> None:
        b, rng, region = self.b, self.b.rng, self.region
        disk = b.disk(
            f"{self.team}-scratch-vol",
            region,
            rng.choice((100, 250, 500, 1000)),
            self._tags(),
            created_at=b.days_before_end(60, 200),
            attached_to=None,
            detached_at=b.days_before_end(35, 59),
        )
        self.waste(
            WasteKind.UNATTACHED_DISK, [disk], "delete_disk", disk.monthly_cost, "unattached > 30 days"
        )

        gone = ids.resource_id(
            b.account.provider,
            ResourceKind.DISK,
            account=b.account.account_id,
            region=region,
            name=f"{self.team}-deleted-vol-{ids.hex_id(rng, 6)}",
            group="rg-deleted",
            rng=rng,
        )
        snap = b.snapshot(
            f"{self.team}-pre-migration-snap",
            region,
            rng.choice((50, 200, 500)),
            gone,
            self._tags(),
            created_at=b.days_before_end(100, 400),
        )
        self.waste(
            WasteKind.ORPHANED_SNAPSHOT,
            [snap],
            "delete_snapshot",
            snap.monthly_cost,
            "older than 90 days; source volume deleted",
        )

        ip = b.public_ip(
            f"{self.team}-old-ip",
            region,
            self._tags(),
            created_at=b.days_before_end(20, 200),
            associated_with=None,
        )
        self.waste(
            WasteKind.UNASSOCIATED_IP, [ip], "release_ip", ip.monthly_cost, "not associated with anything"
        )

        lb = b.load_balancer(
            f"{self.team}-canary-lb",
            region,
            self._tags(),
            b.profile(requests_per_hour=0.0, network_bytes_per_hour=0.0),
            created_at=b.days_before_end(30, 300),
            target_ids=(),
        )
        self.waste(
            WasteKind.IDLE_LOAD_BALANCER,
            [lb],
            "delete_load_balancer",
            lb.monthly_cost,
            "no targets, no requests",
        )

    def plant_look_alikes(self) -> None:
        b, rng, region = self.b, self.b.rng, self.region
        vm, _ = b.instance(
            f"{self.team}-nightly-batch",
            sized_family(b),
            region,
            self._tags("prod"),
            b.profile(
                cpu_base=3.0,
                daily_amplitude=0.2,
                noise=0.3,
                burst_probability=0.05,
                burst_level=97.0,
                memory_base=55.0,
                network_bytes_per_hour=3.0e8,
            ),
            created_at=b.days_before_end(120, 400),
        )
        self.look_alike(
            LookAlikeKind.BUSY_LOW_AVERAGE_VM,
            [vm],
            WasteKind.IDLE_VM,
            "average CPU is low but p99 is above 85 %",
        )

        ignore = dict(rng.choice(IGNORE_TAGS))
        vm, _ = b.instance(
            f"{self.team}-dr-standby",
            sized_family(b),
            region,
            {**self._tags("prod"), **ignore},
            b.profile(**idle_profile_args()),
            created_at=b.days_before_end(60, 300),
        )
        self.look_alike(
            LookAlikeKind.IGNORE_TAGGED_VM, [vm], WasteKind.IDLE_VM, f"tagged {next(iter(ignore))}=true"
        )

        disk = b.disk(
            f"{self.team}-new-data-vol",
            region,
            rng.choice((100, 200)),
            self._tags("prod"),
            created_at=b.days_before_end(1, 5),
            attached_to=None,
        )
        self.look_alike(
            LookAlikeKind.RECENT_UNATTACHED_DISK, [disk], WasteKind.UNATTACHED_DISK, "created < 7 days ago"
        )

        vm, disks = b.instance(
            f"{self.team}-ledger-db",
            sized_family(b),
            region,
            self._tags("prod"),
            b.profile(**_steady()),
            created_at=b.days_before_end(200, 400),
            disk_gb=(50, 500),
        )
        snap = b.snapshot(
            f"{self.team}-ledger-quarterly",
            region,
            500,
            disks[1].resource_id,
            self._tags("prod"),
            created_at=b.days_before_end(95, 180),
        )
        self.look_alike(
            LookAlikeKind.LIVE_VOLUME_SNAPSHOT,
            [snap],
            WasteKind.ORPHANED_SNAPSHOT,
            "old, but its source volume exists and is attached",
        )

        vm, disks = b.instance(
            f"{self.team}-maintenance-box",
            sized_family(b),
            region,
            self._tags(),
            b.profile(cpu_base=20.0),
            created_at=b.days_before_end(60, 300),
            stopped_at=b.days_before_end(3, 20),
        )
        self.look_alike(
            LookAlikeKind.RECENTLY_STOPPED_VM,
            [vm, *disks],
            WasteKind.STOPPED_VM_WITH_DISKS,
            "stopped less than 30 days ago",
        )


def _steady() -> dict[str, float]:
    return {"cpu_base": 40.0, "memory_base": 70.0, "weekend_factor": 1.0, "daily_amplitude": 0.1}


def plant(builder: AccountBuilder, region: str, prefix: str, fleet: Fleet) -> Plants:
    """Plant one of each waste kind (except commitments) and each look-alike in ``region``."""
    planter = Planter(builder, region, prefix, fleet)
    planter.plant_vm_waste()
    planter.plant_storage_and_network_waste()
    planter.plant_look_alikes()
    return planter.plants
