"""Planted cost anomalies with a known root cause.

Each account of a window of at least 30 days gets a spike (a fleet of one instance type launched in one region
for 1–3 days, then terminated: a forgotten load test) and a level shift (a lasting fleet of one instance type
or database class from a given day on). The fleet size is chosen so that the extra daily cost is close to a
target ratio of the account's baseline (small 0.1, medium 0.35, large 1.0, extreme 3.0). The manifest records
the exact impact: the sum of the fleet's cost over the anomaly window, which is all the extra cost there is.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from cloudoptima.clouds.sandbox import catalog
from cloudoptima.clouds.sandbox.billing import charge, day_start
from cloudoptima.clouds.sandbox.builder import AccountBuilder
from cloudoptima.clouds.sandbox.fleet import Fleet, tags
from cloudoptima.clouds.sandbox.manifest import AnomalyKind, PlantedAnomaly, RootCause
from cloudoptima.clouds.sandbox.providers import IDENTITIES
from cloudoptima.domain.inventory import Resource

MAGNITUDES: tuple[tuple[str, Decimal], ...] = (
    ("small", Decimal("0.1")),
    ("medium", Decimal("0.35")),
    ("large", Decimal("1.0")),
    ("extreme", Decimal("3.0")),
)
MIN_WINDOW_DAYS = 30
_MAX_FLEET = 12


def _daily_total(builder: AccountBuilder, day: date, exclude: set[str] | None = None) -> Decimal:
    total = Decimal(0)
    for resource_id, segments in builder.segments.items():
        if exclude and resource_id in exclude:
            continue
        for segment in segments:
            item = charge(resource_id, segment, day)
            if item is not None:
                total += item.cost
    return total


def _baseline(builder: AccountBuilder, start: date, exclude: set[str]) -> Decimal:
    days = [start - timedelta(days=n) for n in range(1, 15)]
    total = sum((_daily_total(builder, d, exclude) for d in days), Decimal(0))
    return (total / len(days)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


def _fit(options: list[tuple[str, Decimal]], target: Decimal) -> tuple[str, int]:
    """The (size, count ≤ 12) whose total daily cost is closest to ``target``."""
    best = (options[0][0], 1)
    best_error: Decimal | None = None
    for name, hourly in options:
        daily = hourly * 24
        count = max(1, min(_MAX_FLEET, int((target / daily).to_integral_value(rounding=ROUND_HALF_EVEN))))
        error = abs(count * daily - target)
        if best_error is None or error < best_error:
            best, best_error = (name, count), error
    return best


def _fleet_impact(builder: AccountBuilder, members: list[Resource], start: date, end: date) -> Decimal:
    total = Decimal(0)
    day = start
    while day < end:
        for member in members:
            for segment in builder.segments[member.resource_id]:
                item = charge(member.resource_id, segment, day)
                total += item.cost if item is not None else Decimal(0)
        day += timedelta(days=1)
    return total


def plant_anomalies(
    builder: AccountBuilder, regions: tuple[str, str], fleet: Fleet, prefix: str
) -> list[PlantedAnomaly]:
    """Plant a spike and a level shift in the account (none when the window is under 30 days)."""
    rng = builder.rng
    window_start = builder.window_start.date()
    window_days = (builder.window_end - builder.window_start).days
    if window_days < MIN_WINDOW_DAYS:
        return []
    provider = builder.account.provider
    spike_start = window_start + timedelta(
        days=rng.randint(int(window_days * 0.3), int(window_days * 0.85) - 3)
    )
    spike_end = spike_start + timedelta(days=rng.randint(1, 3))
    shift_candidates = [
        window_start + timedelta(days=n)
        for n in range(int(window_days * 0.35), int(window_days * 0.8))
        if abs((window_start + timedelta(days=n) - spike_start).days) >= 10
    ]
    shift_start = rng.choice(shift_candidates) if shift_candidates else spike_end + timedelta(days=5)
    team = rng.choice(fleet.teams)
    planted: list[PlantedAnomaly] = []
    planted_ids: set[str] = set()
    for kind, start, end in (
        (AnomalyKind.SPIKE, spike_start, spike_end),
        (AnomalyKind.LEVEL_SHIFT, shift_start, builder.window_end.date()),
    ):
        magnitude, ratio = rng.choice(MAGNITUDES)
        baseline = _baseline(builder, start, planted_ids)
        target = baseline * ratio
        region = rng.choice(regions)
        use_database = kind is AnomalyKind.LEVEL_SHIFT and rng.random() < 0.5
        members: list[Resource] = []
        created = day_start(start)
        deleted = day_start(end) if kind is AnomalyKind.SPIKE and end < builder.window_end.date() else None
        stem = f"{team}-{'loadtest' if kind is AnomalyKind.SPIKE else 'expansion'}"
        if use_database:
            options = [
                (d.name, catalog.database_hourly(provider, d.name, region))
                for d in catalog.database_classes(provider)
            ]
            name, count = _fit(options, target)
            for n in range(count):
                members.append(
                    builder.database(
                        f"{stem}-db-{n + 1}",
                        name,
                        region,
                        tags(builder, team, "prod"),
                        builder.profile(cpu_base=45.0),
                        created_at=created,
                        storage_gb=200,
                    )
                )
        else:
            options = [
                (t.name, catalog.instance_hourly(provider, t.name, region))
                for t in catalog.instance_types(provider)
            ]
            name, count = _fit(options, target)
            for n in range(count):
                vm, _ = builder.instance(
                    f"{stem}-{n + 1}",
                    name,
                    region,
                    tags(builder, team, "prod"),
                    builder.profile(cpu_base=65.0, weekend_factor=1.0),
                    created_at=created,
                    deleted_at=deleted,
                    disk_gb=(),
                )
                members.append(vm)
        planted_ids.update(m.resource_id for m in members)
        segment = builder.segments[members[0].resource_id][0]
        impact = _fleet_impact(builder, members, start, end)
        daily_extra = impact / max(1, (end - start).days)
        planted.append(
            PlantedAnomaly(
                id=f"{prefix}-a{len(planted) + 1:02d}",
                kind=kind,
                start=start,
                end=end,
                magnitude=magnitude,
                magnitude_ratio=(daily_extra / baseline).quantize(Decimal("0.001"))
                if baseline
                else Decimal(0),
                root_cause=RootCause(
                    provider=provider,
                    provider_name=IDENTITIES[provider].provider_name,
                    service_name=members[0].service_name,
                    account_id=builder.account.account_id,
                    region_id=region,
                    sku_id=segment.sku_id,
                    usage_type=segment.usage_type,
                    resource_ids=tuple(m.resource_id for m in members),
                ),
                impact=impact,
                baseline_daily=baseline,
            )
        )
    return planted
