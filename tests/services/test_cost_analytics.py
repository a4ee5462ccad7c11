"""Cost analytics over the rollup: totals, comparison, breakdown, series, tags, currencies, by-service."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete

from cloudoptima.domain.costs import CostQueryError
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.ingestion import ingest_path
from cloudoptima.storage.models import CostDaily, CostRow, IngestRun, Organization, QuarantinedRow

HEADER = [
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingAccountId", "BillingAccountName",
    "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodStart", "ChargePeriodEnd", "InvoiceIssuerName",
    "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId",
    "ServiceCategory", "ServiceName", "SubAccountId", "Tags", "ConsumedQuantity", "ConsumedUnit",
]  # fmt: skip


def _row(
    day: date, cost: str, service: str, region: str, resource: str, currency: str = "USD", team: str = "web"
) -> list[str]:
    start, end = day, day + timedelta(days=1)
    period = day.replace(day=1)
    period_end = (period + timedelta(days=32)).replace(day=1)
    return [
        cost, cost, cost, cost, "billing-1", "Billing", currency, f"{period}T00:00:00Z", f"{period_end}T00:00:00Z",
        "Usage", "", "usage", "Usage-Based", f"{start}T00:00:00Z", f"{end}T00:00:00Z", "AWS", "1", "Hours", "AWS",
        "AWS", region, region, resource, "Compute", service, "acct-1", json.dumps({"team": team, "app": "x"}), "1",
        "Hours",
    ]  # fmt: skip


@pytest.fixture
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org_id, name="analytics", subscription_tier="free", settings={}
            )
        )
    yield org_id
    with engine.begin() as connection:
        for model in (QuarantinedRow, IngestRun, CostDaily, CostRow):
            connection.execute(delete(model).where(model.organization_id == org_id))
        connection.execute(delete(Organization).where(Organization.id == org_id))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture
def loaded(engine: Engine, org: uuid.UUID, tmp_path: Path) -> uuid.UUID:
    rows = []
    for offset in range(28):  # 2031-02-01 .. 2031-02-28 (previous period) and March
        day = date(2031, 2, 1) + timedelta(days=offset)
        rows.append(_row(day, "1.00", "EC2", "us-east-1", "i-1"))
    for offset in range(10):  # 2031-03-01 .. 03-10
        day = date(2031, 3, 1) + timedelta(days=offset)
        rows.append(_row(day, "2.50", "EC2", "us-east-1", "i-1"))
        rows.append(_row(day, "0.10", "S3", "eu-west-1", "bucket-1", team="data"))
        rows.append(_row(day, "0.05", "S3", "eu-west-1", "bucket-2", team="data"))
    ingest_path(engine, _write(tmp_path / "usd.csv", rows), org)
    return org


def test_overview_totals_breakdown_and_comparison(engine: Engine, loaded: uuid.UUID) -> None:
    with engine.connect() as connection:
        result = CostAnalytics(connection, loaded).overview(
            date(2031, 3, 1), date(2031, 3, 11), group_by="service"
        )
    assert result.total_cost == Decimal("26.50")
    assert [(b.dimension, b.cost, b.percentage) for b in result.breakdown] == [
        ("EC2", Decimal("25.00"), Decimal("94.34")),
        ("S3", Decimal("1.50"), Decimal("5.66")),
    ]
    comparison = result.period_comparison
    assert (comparison.previous_start, comparison.previous_end) == (date(2031, 2, 19), date(2031, 3, 1))
    assert comparison.previous_period == Decimal("10.00")
    assert comparison.change_percent == Decimal("165.00")
    assert len(result.time_series) == 10
    assert result.time_series[0].cost == Decimal("2.65")
    assert result.source == "rollup"


def test_change_is_the_difference_of_the_totals_in_cents(
    engine: Engine, org: uuid.UUID, tmp_path: Path
) -> None:
    """1.004 before and 2.006 now read 1.00 and 2.01: the change says 1.01 (not 1.002 rounded to 1.00)."""
    rows = [
        _row(date(2031, 5, 1), "1.004", "EC2", "us-east-1", "i-1"),
        _row(date(2031, 5, 2), "2.006", "EC2", "us-east-1", "i-1"),
    ]
    ingest_path(engine, _write(tmp_path / "cents.csv", rows), org)
    with engine.connect() as connection:
        result = CostAnalytics(connection, org).overview(date(2031, 5, 2), date(2031, 5, 3))
    comparison = result.period_comparison
    assert (result.total_cost, comparison.previous_period) == (Decimal("2.006"), Decimal("1.004"))
    assert comparison.change_amount == Decimal("1.01")


def test_granularities_and_provider_filter(engine: Engine, loaded: uuid.UUID) -> None:
    with engine.connect() as connection:
        analytics = CostAnalytics(connection, loaded)
        monthly = analytics.overview(date(2031, 2, 1), date(2031, 3, 11), granularity="monthly")
        weekly = analytics.overview(date(2031, 3, 1), date(2031, 3, 11), granularity="weekly")
        other = analytics.overview(date(2031, 3, 1), date(2031, 3, 11), provider="azure")
    assert [(p.date, p.cost) for p in monthly.time_series] == [
        (date(2031, 2, 1), Decimal("28.00")),
        (date(2031, 3, 1), Decimal("26.50")),
    ]
    assert sum(p.cost for p in weekly.time_series) == Decimal("26.50")
    assert weekly.time_series[0].date.weekday() == 0
    assert other.total_cost == 0
    assert other.period_comparison.change_percent is None


def test_group_by_tag_and_region_and_account(engine: Engine, loaded: uuid.UUID) -> None:
    with engine.connect() as connection:
        analytics = CostAnalytics(connection, loaded)
        by_team = analytics.overview(date(2031, 3, 1), date(2031, 3, 11), group_by="tag:team")
        by_app = analytics.overview(date(2031, 3, 1), date(2031, 3, 11), group_by="tag:app")
        by_region = analytics.overview(date(2031, 3, 1), date(2031, 3, 11), group_by="region")
    assert {b.dimension: b.cost for b in by_team.breakdown} == {
        "web": Decimal("25.00"),
        "data": Decimal("1.50"),
    }
    assert by_team.source == "rollup"
    assert by_app.source == "raw" and by_app.breakdown[0].cost == Decimal("26.50")
    assert {b.dimension for b in by_region.breakdown} == {"us-east-1", "eu-west-1"}


def test_mixed_currencies_are_never_summed(engine: Engine, loaded: uuid.UUID, tmp_path: Path) -> None:
    eur = [_row(date(2031, 3, 2), "7.00", "VM", "westeurope", "vm-1", currency="EUR")]
    eur[0][4] = "billing-eur"
    ingest_path(engine, _write(tmp_path / "eur.csv", eur), loaded)
    with engine.connect() as connection:
        analytics = CostAnalytics(connection, loaded)
        with pytest.raises(CostQueryError, match=r"EUR, USD"):
            analytics.overview(date(2031, 3, 1), date(2031, 3, 11))
        assert analytics.overview(date(2031, 3, 1), date(2031, 3, 11), currency="eur").total_cost == Decimal(
            "7.00"
        )
        assert analytics.overview(date(2031, 3, 1), date(2031, 3, 11), currency="USD").total_cost == Decimal(
            "26.50"
        )


@pytest.mark.parametrize(
    ("start", "end", "group_by", "message"),
    [
        (date(2031, 3, 5), date(2031, 3, 5), "service", "must be after"),
        (date(2030, 1, 1), date(2031, 3, 5), "service", "exceeds the maximum"),
        (date(2031, 3, 1), date(2031, 3, 5), "colour", "group_by must be one of"),
    ],
)
def test_bad_questions_are_named(
    engine: Engine, loaded: uuid.UUID, start: date, end: date, group_by: str, message: str
) -> None:
    with engine.connect() as connection, pytest.raises(CostQueryError, match=message):
        CostAnalytics(connection, loaded).overview(start, end, group_by=group_by)


def test_by_service_current_vs_last_month_with_top_resources(engine: Engine, loaded: uuid.UUID) -> None:
    with engine.connect() as connection:
        # on 11 March, month to date is its complete days 1-10 March
        result = CostAnalytics(connection, loaded).by_service(date(2031, 3, 11))
    services = {s.service_name: s for s in result.services}
    assert services["EC2"].current_month == Decimal("25.00")
    assert services["EC2"].last_month == Decimal("28.00")
    assert services["EC2"].last_month_same_days == Decimal("10.00")  # 1-10 February
    assert services["EC2"].trend == Decimal("150.00")  # 25 vs 10, not vs all of February
    assert services["S3"].trend is None
    assert [r.resource_id for r in services["S3"].top_resources] == ["bucket-1", "bucket-2"]


def test_other_organisations_data_is_invisible(engine: Engine, loaded: uuid.UUID) -> None:
    with engine.connect() as connection:
        result = CostAnalytics(connection, uuid.uuid4()).overview(date(2031, 3, 1), date(2031, 3, 11))
    assert result.total_cost == 0 and result.breakdown == []
