"""Cost rows agree with the inventory: daily = monthly price prorated, monthly sums, schedules, stops."""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from cloudoptima.clouds.sandbox import Estate, WasteKind, daily_costs, read_cost_rows
from cloudoptima.clouds.sandbox.billing import day_start
from cloudoptima.domain.inventory import InstanceAttributes, ResourceKind

FULL_MONTHS = ((2025, 10), (2025, 11), (2025, 12))
TOLERANCE = Decimal("0.000001")


def _steady_resources(estate: Estate) -> list[str]:
    """Resources billing one price configuration over the whole window, 24x7."""
    window_start = day_start(estate.spec.start)
    steady = []
    for resource in estate.resources:
        segments = estate.segments[resource.resource_id]
        attributes = resource.attributes
        weekdays = isinstance(attributes, InstanceAttributes) and attributes.schedule == "weekdays"
        if (
            len(segments) == 1
            and segments[0].end is None
            and segments[0].start <= window_start
            and not weekdays
        ):
            steady.append(resource.resource_id)
    return steady


def test_daily_cost_is_the_monthly_price_prorated(estate: Estate) -> None:
    steady = _steady_resources(estate)
    assert len(steady) > 100
    for resource_id in steady:
        resource = estate.resource(resource_id)
        unit = estate.segments[resource_id][0].unit
        for day, cost in daily_costs(estate, resource_id).items():
            if unit == "Hours":
                expected = resource.monthly_cost * 24 / Decimal(730)
            else:
                expected = resource.monthly_cost / calendar.monthrange(day.year, day.month)[1]
            assert abs(cost - expected) <= TOLERANCE, (resource_id, day)


def test_month_sums_match_the_monthly_price(estate: Estate) -> None:
    for resource_id in _steady_resources(estate):
        resource = estate.resource(resource_id)
        unit = estate.segments[resource_id][0].unit
        per_month: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        for day, cost in daily_costs(estate, resource_id).items():
            per_month[(day.year, day.month)] += cost
        for year, month in FULL_MONTHS:
            days = calendar.monthrange(year, month)[1]
            if unit == "Hours":
                expected = resource.monthly_cost * 24 * days / Decimal(730)
            else:
                expected = resource.monthly_cost
            assert abs(per_month[(year, month)] - expected) <= TOLERANCE * days, (resource_id, month)


def test_file_totals_equal_the_estate_billing_exactly(estate: Estate, written: Path) -> None:
    from_files: dict[str, Decimal] = defaultdict(Decimal)
    for row in read_cost_rows(written):
        from_files[row["ResourceId"]] += Decimal(row["BilledCost"])
    expected = {
        r.resource_id: sum(daily_costs(estate, r.resource_id).values(), Decimal(0)) for r in estate.resources
    }
    assert from_files == {k: v for k, v in expected.items() if v}


def test_weekday_scheduled_vms_bill_nothing_on_weekends(estate: Estate) -> None:
    scheduled = [
        r
        for r in estate.resources
        if isinstance(r.attributes, InstanceAttributes) and r.attributes.schedule == "weekdays"
    ]
    assert scheduled
    for resource in scheduled:
        days = daily_costs(estate, resource.resource_id)
        assert days
        assert all(day.weekday() < 5 for day in days)


def test_stopped_vm_stops_billing_but_its_disks_do_not(estate: Estate) -> None:
    items = [w for w in estate.manifest.waste if w.kind is WasteKind.STOPPED_VM_WITH_DISKS]
    assert items
    for item in items:
        vm = estate.resource(item.resource_ids[0])
        assert vm.stopped_at is not None and vm.monthly_cost == 0
        vm_days = daily_costs(estate, vm.resource_id)
        assert all(day <= vm.stopped_at.date() for day in vm_days)
        last_day = estate.spec.end - timedelta(days=1)
        for disk_id in item.resource_ids[1:]:
            assert estate.resource(disk_id).kind is ResourceKind.DISK
            assert last_day in daily_costs(estate, disk_id)


def test_cost_has_a_weekday_pattern(estate: Estate, written: Path) -> None:
    per_weekday: dict[int, list[Decimal]] = defaultdict(list)
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for row in read_cost_rows(written):
        per_day[date.fromisoformat(row["ChargePeriodStart"][:10])] += Decimal(row["BilledCost"])
    first_anomaly = min(a.start for a in estate.manifest.anomalies)
    for day, total in per_day.items():
        if day < first_anomaly:
            per_weekday[day.weekday()].append(total)
    weekday = sum(sum(per_weekday[d]) / len(per_weekday[d]) for d in range(5)) / 5
    weekend = sum(sum(per_weekday[d]) / len(per_weekday[d]) for d in (5, 6)) / 2
    assert weekend < weekday
