"""Planted anomalies show up in the cost rows at their dates, explained by their root cause."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cloudoptima.clouds.sandbox import AnomalyKind, Estate, PlantedAnomaly, read_cost_rows

Series = dict[date, Decimal]


@pytest.fixture(scope="module")
def series(
    written: Path,
) -> tuple[dict[str, Series], dict[tuple[str, str, str, str], Series], dict[str, Series]]:
    """Daily totals per account, per (account, service, region, sku), per resource."""
    per_account: dict[str, Series] = defaultdict(lambda: defaultdict(Decimal))
    per_dims: dict[tuple[str, str, str, str], Series] = defaultdict(lambda: defaultdict(Decimal))
    per_resource: dict[str, Series] = defaultdict(lambda: defaultdict(Decimal))
    for row in read_cost_rows(written):
        day, cost = date.fromisoformat(row["ChargePeriodStart"][:10]), Decimal(row["BilledCost"])
        per_account[row["SubAccountId"]][day] += cost
        per_dims[(row["SubAccountId"], row["ServiceName"], row["RegionId"], row["SkuId"])][day] += cost
        per_resource[row["ResourceId"]][day] += cost
    return per_account, per_dims, per_resource


def _days(anomaly: PlantedAnomaly) -> list[date]:
    return [anomaly.start + timedelta(days=n) for n in range((anomaly.end - anomaly.start).days)]


def _reference(day: date, start: date) -> date:
    """The same weekday in the week before ``start``."""
    weeks = (day - start).days // 7 + 1
    return day - timedelta(weeks=weeks)


def test_both_kinds_and_a_range_of_magnitudes_are_planted(estate: Estate) -> None:
    anomalies = estate.manifest.anomalies
    assert {a.kind for a in anomalies} == set(AnomalyKind)
    assert len({a.magnitude for a in anomalies}) >= 3
    for anomaly in anomalies:
        assert estate.spec.start < anomaly.start < anomaly.end <= estate.spec.end
        if anomaly.kind is AnomalyKind.SPIKE:
            assert 1 <= (anomaly.end - anomaly.start).days <= 3


def test_impact_is_exactly_the_root_cause_cost_inside_the_window(estate: Estate, series: tuple) -> None:
    _, _, per_resource = series
    for anomaly in estate.manifest.anomalies:
        inside = Decimal(0)
        for resource_id in anomaly.root_cause.resource_ids:
            for day, cost in per_resource[resource_id].items():
                assert anomaly.start <= day < anomaly.end, (anomaly.id, day)
                inside += cost
        assert inside == anomaly.impact


def test_anomalies_are_visible_and_mostly_explained_by_their_root_cause(
    estate: Estate, series: tuple
) -> None:
    per_account, per_dims, _ = series
    for anomaly in estate.manifest.anomalies:
        cause = anomaly.root_cause
        totals = per_account[cause.account_id]
        dims = per_dims[(cause.account_id, cause.service_name, cause.region_id, cause.sku_id)]
        days = _days(anomaly)
        mean = sum((totals[d] for d in days), Decimal(0)) / len(days)
        assert mean >= anomaly.baseline_daily * (1 + anomaly.magnitude_ratio / 2), anomaly.id
        if anomaly.magnitude == "small":
            continue
        shares = []
        for day in days:
            reference = _reference(day, anomaly.start)
            delta_total = totals[day] - totals[reference]
            delta_cause = dims[day] - dims.get(reference, Decimal(0))
            shares.append(delta_cause / delta_total)
        shares.sort()
        assert shares[len(shares) // 2] >= Decimal("0.7"), anomaly.id


def test_spikes_end_when_planted(estate: Estate, series: tuple) -> None:
    _, _, per_resource = series
    for anomaly in estate.manifest.anomalies:
        if anomaly.kind is AnomalyKind.SPIKE and anomaly.end < estate.spec.end:
            for resource_id in anomaly.root_cause.resource_ids:
                assert anomaly.end not in per_resource[resource_id]
                assert anomaly.end - timedelta(days=1) in per_resource[resource_id]
