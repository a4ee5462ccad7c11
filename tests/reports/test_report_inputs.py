"""The monthly cost review's input from real rollup rows equals what the cost API's service answers, to the
cent; its comparison period is right at month and year boundaries; bad input is refused naming the field."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from cloudoptima.reports.templates.spend import SpendLine
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.report_inputs import (
    ReportInputError,
    last_full_month,
    monthly_cost_review_input,
    previous_period,
)
from tests.reports.cost_seeding import Cost, add_costs, make_organisation, remove_organisation, two_months

START, END = date(2026, 11, 1), date(2026, 12, 1)
PREVIOUS_START = date(2026, 10, 2)
AT = datetime(2026, 12, 3, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[uuid.UUID]:
    org_id, _name = make_organisation(engine)
    add_costs(engine, org_id, two_months(PREVIOUS_START, START, END))
    # outside both periods: never counted
    add_costs(engine, org_id, [Cost(date(2026, 10, 1), Decimal("999")), Cost(END, Decimal("999"))])
    yield org_id
    remove_organisation(engine, org_id)


def _by_label(lines: list[SpendLine]) -> dict[str, tuple[Decimal, Decimal]]:
    return {line.label: (line.cost, line.previous_cost) for line in lines}


def test_breakdowns_equal_the_cost_api_to_the_cent(engine: Engine, org: uuid.UUID) -> None:
    with engine.connect() as connection:
        data = monthly_cost_review_input(
            connection, org, start=START, end=END, generated_at=AT, tag_key="team"
        )
        api = CostAnalytics.for_organisation(connection, org)
        overview = api.overview(START, END)
        assert (data.total_cost, data.previous_total_cost) == (
            overview.total_cost,
            overview.period_comparison.previous_period,
        )
        for group_by, lines in (
            ("account", data.by_account),
            ("service", data.by_service),
            ("region", data.by_region),
            ("tag:team", data.by_tag),
        ):
            now = {b.dimension: b.cost for b in api.overview(START, END, group_by=group_by).breakdown}
            before = {
                b.dimension: b.cost for b in api.overview(PREVIOUS_START, START, group_by=group_by).breakdown
            }
            expected = {key: (now.get(key, Decimal(0)), before.get(key, Decimal(0))) for key in now | before}
            assert _by_label(lines) == expected, group_by
    # the numbers themselves, worked out by hand: 30 days of 10.10/10.11/10.12 + 0.20, RDS 3.125 on 4 days (n = 35, 42, 49, 56)
    ec2 = sum(Decimal("10.10") + Decimal(n % 3) / 100 for n in range(30, 60))
    assert _by_label(data.by_service)["AmazonS3"] == (Decimal("6.00"), Decimal("3.00"))
    assert _by_label(data.by_service)["AmazonRDS"][0] == Decimal("12.500")
    assert data.total_cost == ec2 + Decimal("6.00") + Decimal("12.500")
    assert _by_label(data.by_tag)["(untagged)"] == (Decimal("6.00"), Decimal("3.00"))
    assert [d.date for d in data.daily][0::29] == [START, date(2026, 11, 30)]
    assert sum(d.cost for d in data.daily) == data.total_cost


def test_forecast_with_its_interval_starts_where_the_period_ends(engine: Engine, org: uuid.UUID) -> None:
    with engine.connect() as connection:
        data = monthly_cost_review_input(connection, org, start=START, end=END, generated_at=AT)
    assert len(data.forecast) == 30
    assert data.forecast[0].date == END
    assert all(f.lower <= f.forecast <= f.upper for f in data.forecast)
    assert any(f.lower < f.upper for f in data.forecast)


def test_the_comparison_period_at_month_and_year_boundaries() -> None:
    assert previous_period(date(2026, 3, 1), date(2026, 4, 1)) == (date(2026, 1, 29), date(2026, 3, 1))
    assert previous_period(date(2027, 1, 1), date(2027, 2, 1)) == (date(2026, 12, 1), date(2027, 1, 1))
    assert last_full_month(date(2027, 1, 15)) == (date(2026, 12, 1), date(2027, 1, 1))
    assert last_full_month(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 3, 1))


def test_previous_period_across_a_year_boundary_counts_only_its_days(engine: Engine) -> None:
    org_id, _ = make_organisation(engine)
    try:
        add_costs(
            engine,
            org_id,
            [
                Cost(date(2026, 11, 30), Decimal("100")),  # before the previous period
                Cost(date(2026, 12, 1), Decimal("1.10")),
                Cost(date(2026, 12, 31), Decimal("2.20")),
                Cost(date(2027, 1, 1), Decimal("0.30"), service="AmazonS3"),
                Cost(date(2027, 1, 31), Decimal("0.40")),
                Cost(date(2027, 2, 1), Decimal("100")),  # after the period
            ],
        )
        with engine.connect() as connection:
            data = monthly_cost_review_input(
                connection, org_id, start=date(2027, 1, 1), end=date(2027, 2, 1), generated_at=AT
            )
        assert (data.total_cost, data.previous_total_cost) == (Decimal("0.70"), Decimal("3.30"))
        assert _by_label(data.by_service) == {
            "AmazonEC2": (Decimal("0.40"), Decimal("3.30")),
            "AmazonS3": (Decimal("0.30"), Decimal(0)),
        }
    finally:
        remove_organisation(engine, org_id)


@pytest.mark.parametrize(
    ("start", "end", "tag_key", "message"),
    [
        (START, START, None, "end_date: 2026-11-01 must be after start_date 2026-11-01"),
        (END, START, None, "end_date: 2026-11-01 must be after start_date 2026-12-01"),
        (
            date(2026, 1, 1),
            date(2027, 1, 3),
            None,
            "end_date: the period 2026-01-01 – 2027-01-03 is 367 days",
        ),
        (START, END, "colour", "tag_key: 'colour' is not one of the organisation's rollup tag keys (team"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    engine: Engine, org: uuid.UUID, start: date, end: date, tag_key: str | None, message: str
) -> None:
    with engine.connect() as connection, pytest.raises(ReportInputError) as caught:
        monthly_cost_review_input(connection, org, start=start, end=end, generated_at=AT, tag_key=tag_key)
    assert str(caught.value).startswith(message)


def test_an_unknown_organisation_is_refused(engine: Engine) -> None:
    missing = uuid.uuid4()
    with engine.connect() as connection, pytest.raises(ReportInputError, match=f"organisation: .*{missing}"):
        monthly_cost_review_input(connection, missing, start=START, end=END, generated_at=AT)


def test_mixed_currencies_are_never_summed(engine: Engine) -> None:
    org_id, _ = make_organisation(engine)
    try:
        add_costs(
            engine,
            org_id,
            [
                Cost(date(2026, 11, 2), Decimal("5.00")),
                Cost(date(2026, 11, 3), Decimal("7.00"), currency="EUR"),
                Cost(date(2026, 10, 20), Decimal("1.00"), currency="EUR"),
            ],
        )
        with engine.connect() as connection:
            with pytest.raises(ReportInputError) as caught:
                monthly_cost_review_input(connection, org_id, start=START, end=END, generated_at=AT)
            assert str(caught.value).startswith("currency: ")
            assert "(EUR, USD)" in str(caught.value)
            euros = monthly_cost_review_input(
                connection, org_id, start=START, end=END, generated_at=AT, currency="eur"
            )
            with pytest.raises(ReportInputError, match=r"currency: no costs in GBP .* costs are in EUR, USD"):
                monthly_cost_review_input(
                    connection, org_id, start=START, end=END, generated_at=AT, currency="GBP"
                )
        assert (euros.currency, euros.total_cost, euros.previous_total_cost) == (
            "EUR",
            Decimal("7.00"),
            Decimal("1.00"),
        )
    finally:
        remove_organisation(engine, org_id)


def test_a_naive_clock_is_refused(engine: Engine, org: uuid.UUID) -> None:
    with engine.connect() as connection, pytest.raises(ReportInputError, match=r"^generated_at: "):
        monthly_cost_review_input(connection, org, start=START, end=END, generated_at=datetime(2026, 12, 3))  # noqa: DTZ001
