"""The healthy baseline of a sandbox account: applications, dev boxes, databases, buckets, IPs, backups.

Nothing built here is waste: production and staging VMs are busy enough (p99 CPU or memory too high for the
next smaller size), dev VMs are the smallest size of their family and run on a weekday schedule (the source
of the weekday pattern in daily cost), every disk is attached, every IP associated, every load balancer
serves requests, every snapshot is of a live volume and recent. Some applications are launched during the
window, which gives the cost series a growth trend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from cloudoptima.clouds.sandbox import catalog
from cloudoptima.clouds.sandbox.builder import AccountBuilder
from cloudoptima.domain.inventory import Resource

TEAMS = ("payments", "search", "data", "platform", "web", "ml", "identity", "checkout")
APPS = ("api", "worker", "frontend", "ingest", "scheduler", "gateway", "etl", "render")


@dataclass
class Fleet:
    """What the baseline built, for planting and anomalies to refer to."""

    teams: list[str] = field(default_factory=list)
    app_instances: list[Resource] = field(default_factory=list)
    data_disks: list[Resource] = field(default_factory=list)


def tags(builder: AccountBuilder, team: str, env: str) -> dict[str, str]:
    """Standard tags (team, env, cost-center); about one resource in ten misses its cost-center."""
    result = {"team": team, "env": env}
    if builder.rng.random() >= 0.1:
        result["cost-center"] = f"CC-{1000 + TEAMS.index(team) * 10 + (0 if env == 'prod' else 1)}"
    return result


def sized_family(builder: AccountBuilder, *, smallest: bool = False) -> str:
    """A random instance type of the account's provider: the smallest of a family, or a larger one."""
    provider = builder.account.provider
    family = builder.rng.choice(catalog.families(provider))
    sizes = catalog.instance_types(provider, family)
    if smallest:
        return sizes[0].name
    return sizes[builder.rng.randint(1, min(3, len(sizes) - 1))].name


def busy_profile_args(builder: AccountBuilder) -> dict[str, float]:
    """Utilisation of a healthy production service."""
    rng = builder.rng
    return {
        "cpu_base": rng.uniform(34.0, 50.0),
        "memory_base": rng.uniform(58.0, 76.0),
        "growth_per_day": rng.uniform(0.0, 0.004),
        "network_bytes_per_hour": rng.uniform(1.0e8, 2.0e9),
        "disk_ops_per_hour": rng.uniform(2.0e4, 4.0e5),
    }


def build_fleet(builder: AccountBuilder, regions: tuple[str, str]) -> Fleet:
    """Add the account's healthy baseline to ``builder``."""
    rng = builder.rng
    fleet = Fleet(teams=rng.sample(TEAMS, 3))
    window_days = (builder.window_end - builder.window_start).days
    for app_index in range(rng.randint(3, 4)):
        team = fleet.teams[app_index % len(fleet.teams)]
        env = "prod" if app_index < 2 else rng.choice(("prod", "staging"))
        app = rng.choice(APPS)
        region = regions[0] if app_index != 2 else regions[1]
        launched = rng.random() < 0.25 and window_days >= 20
        created = (
            builder.days_before_end(window_days * 0.2, window_days * 0.8)
            if launched
            else builder.days_before_end(window_days + 30, window_days + 400)
        )
        itype = sized_family(builder)
        members = []
        for n in range(rng.randint(2, 4)):
            data = (rng.choice((100, 200, 500, 1000)),) if rng.random() < 0.5 else ()
            vm, disks = builder.instance(
                f"{team}-{app}-{env}-{n + 1}",
                itype,
                region,
                tags(builder, team, env),
                builder.profile(**busy_profile_args(builder)),
                created_at=created,
                disk_gb=(rng.choice((30, 50, 100)), *data),
            )
            members.append(vm)
            fleet.data_disks.extend(disks[1:])
        fleet.app_instances.extend(members)
        builder.load_balancer(
            f"{team}-{app}-{env}-lb",
            region,
            tags(builder, team, env),
            builder.profile(
                requests_per_hour=rng.uniform(2.0e3, 6.0e4), network_bytes_per_hour=rng.uniform(5e7, 5e8)
            ),
            created_at=created,
            target_ids=tuple(vm.resource_id for vm in members),
        )
        if rng.random() < 0.6:
            db_class = rng.choice(catalog.database_classes(builder.account.provider)).name
            builder.database(
                f"{team}-{app}-{env}-db",
                db_class,
                region,
                tags(builder, team, env),
                builder.profile(cpu_base=rng.uniform(20.0, 45.0), memory_base=rng.uniform(60.0, 80.0)),
                created_at=created,
                storage_gb=rng.choice((100, 250, 500)),
            )
        if env == "prod" and rng.random() < 0.5:
            builder.public_ip(
                f"{team}-{app}-ip",
                region,
                tags(builder, team, env),
                created_at=created,
                associated_with=members[0].resource_id,
            )
    for n in range(rng.randint(2, 3)):
        team = rng.choice(fleet.teams)
        builder.instance(
            f"{team}-dev-{n + 1}",
            sized_family(builder, smallest=True),
            regions[0],
            tags(builder, team, "dev"),
            builder.profile(
                cpu_base=rng.uniform(12.0, 25.0), memory_base=rng.uniform(45.0, 60.0), weekend_factor=0.0
            ),
            created_at=builder.days_before_end(window_days + 10, window_days + 200),
            schedule="weekdays",
        )
    for team in fleet.teams[:2]:
        provider = builder.account.provider
        builder.bucket(
            f"{team}-assets",
            regions[0],
            rng.choice(catalog.bucket_classes(provider)[:2]),
            rng.choice((500, 2000, 8000, 20000)),
            tags(builder, team, "prod"),
            created_at=builder.days_before_end(window_days + 100, window_days + 900),
        )
    for disk in fleet.data_disks[:2]:
        size = getattr(disk.attributes, "size_gb", 100)
        builder.snapshot(
            f"{disk.name}-daily",
            disk.region,
            int(size),
            disk.resource_id,
            dict(disk.tags),
            created_at=max(builder.days_before_end(1, 20), disk.created_at + timedelta(hours=12)),
        )
    return fleet
