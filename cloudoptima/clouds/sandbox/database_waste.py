"""Planted database waste and its look-alikes for one sandbox account.

Waste (each with the exact monthly saving of its fix): an idle database (no client connection in the whole
window, CPU ≤ 5 %) → stop, saving its class price; an oversized database (clients connected, CPU ≤ 18 % and
memory ≤ 28 % on a class with a smaller sibling, so the smaller class runs at CPU ≤ 36 % and memory ≤ 56 %)
→ resize to that sibling, saving the price difference.

Look-alike: an idle database tagged ``do-not-optimize``/``cloudoptima:ignore``. (A database created days
before the window ends is not planted: its spend step is a real, unplanted anomaly that the anomaly eval
would count against the detector; the rules' young-resource guard is tested on hand-built inventories.)

Every database here is created before the window starts, so it adds a constant to the account's daily
cost (no spend step for the anomaly detector to find). Planting runs after every other
planting of the account, so the rest of the estate is what it was without it.
"""

from __future__ import annotations

from datetime import datetime

from cloudoptima.clouds.sandbox import catalog
from cloudoptima.clouds.sandbox.builder import AccountBuilder
from cloudoptima.clouds.sandbox.fleet import Fleet, tags
from cloudoptima.clouds.sandbox.manifest import LookAlikeKind, WasteKind
from cloudoptima.clouds.sandbox.waste import IGNORE_TAGS, Planter, Plants
from cloudoptima.domain.inventory import Resource


def _idle_profile() -> dict[str, float]:
    return {
        "cpu_base": 1.5,
        "cpu_cap": 5.0,
        "daily_amplitude": 0.2,
        "noise": 0.2,
        "burst_probability": 0.0,
        "memory_base": 30.0,
        "memory_cap": 40.0,
        "network_bytes_per_hour": 1.0e4,
        "disk_ops_per_hour": 200.0,
        "connections": 0.0,
    }


def plant_databases(
    builder: AccountBuilder, region: str, prefix: str, fleet: Fleet, plants: Plants
) -> Plants:
    """Plant the database waste and look-alikes in ``region``, numbered after ``plants`` (returns the new ones)."""
    planter = Planter(builder, region, prefix, fleet)
    planter.plants = Plants(waste=list(plants.waste), look_alikes=list(plants.look_alikes))
    b, rng, provider = builder, builder.rng, builder.account.provider
    before_window = (b.window_end - b.window_start).days + 1
    classes = catalog.database_classes(provider)
    smallest = min(classes, key=lambda d: d.hourly_usd)

    def unused(stem: str, instance_class: str, labels: dict[str, str], created_at: datetime) -> Resource:
        profile = b.profile(**_idle_profile())
        return b.database(
            stem, instance_class, region, labels, profile, created_at=created_at, storage_gb=100
        )

    idle_class = rng.choice(classes)
    idle = unused(
        f"{planter.team}-legacy-reporting-db",
        idle_class.name,
        tags(b, planter.team, "staging"),
        b.days_before_end(before_window + 10, before_window + 300),
    )
    planter.waste(
        WasteKind.IDLE_DATABASE,
        [idle],
        "stop",
        catalog.monthly(catalog.database_hourly(provider, idle_class.name, region)),
        "no client connection in the window, CPU ≤ 5 %",
    )

    resizable = [d for d in classes if catalog.next_smaller_database(provider, d.name) is not None]
    current = rng.choice(resizable)
    smaller = catalog.next_smaller_database(provider, current.name)
    assert smaller is not None
    cpu_cap = 36.0 * smaller.vcpu / current.vcpu
    memory_cap = 56.0 * float(smaller.memory_gib / current.memory_gib)
    oversized = b.database(
        f"{planter.team}-catalog-db",
        current.name,
        region,
        tags(b, planter.team, "prod"),
        b.profile(
            cpu_base=cpu_cap * 0.4,
            cpu_cap=cpu_cap,
            daily_amplitude=0.3,
            burst_probability=0.0,
            memory_base=memory_cap * 0.8,
            memory_cap=memory_cap,
            connections=25.0,
        ),
        created_at=b.days_before_end(before_window + 10, before_window + 300),
        storage_gb=rng.choice((100, 250)),
    )
    delta = catalog.database_hourly(provider, current.name, region) - catalog.database_hourly(
        provider, smaller.name, region
    )
    planter.waste(
        WasteKind.OVERSIZED_DATABASE,
        [oversized],
        "resize",
        catalog.monthly(delta),
        f"CPU ≤ {cpu_cap:.0f} %, memory ≤ {memory_cap:.0f} %: {smaller.name} fits at CPU ≤ 36 %",
        params={"target_type": smaller.name},
    )

    ignore = dict(rng.choice(IGNORE_TAGS))
    kept = unused(
        f"{planter.team}-dr-replica-db",
        smallest.name,
        {**tags(b, planter.team, "prod"), **ignore},
        b.days_before_end(before_window + 10, before_window + 300),
    )
    planter.look_alike(
        LookAlikeKind.IGNORE_TAGGED_DATABASE,
        [kept],
        WasteKind.IDLE_DATABASE,
        f"tagged {next(iter(ignore))}=true",
    )

    return Plants(
        waste=planter.plants.waste[len(plants.waste) :],
        look_alikes=planter.plants.look_alikes[len(plants.look_alikes) :],
    )
