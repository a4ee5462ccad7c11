"""The monthly cost review builder: its numbers, its order, and inputs that do not tell one story."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from cloudoptima.reports.document import BarChart, ReportDocument, TrendChart
from cloudoptima.reports.templates.monthly_cost_review import (
    DailySpend,
    ForecastDay,
    SpendLine,
    build_monthly_cost_review,
)
from tests.reports.conftest import PREVIOUS_TOTAL, TOTAL, review_input

D = Decimal


def test_the_review_compares_periods_and_breaks_spend_down(review: ReportDocument) -> None:
    assert [s.id for s in review.sections] == ["overview", "by_account", "by_service", "by_region", "by_tag"]
    highlights = {h.label: h.value for h in review.highlights}
    assert highlights["Total cost"] == TOTAL
    assert highlights["Previous period (2026-10-02 – 2026-10-31)"] == PREVIOUS_TOTAL
    assert highlights["Change"] == D("244.225")
    assert highlights["Change %"] == D("24.42")  # 244.225 / 1000.30 = 24.4152…%

    comparison = review.sections[0].tables[0]
    assert comparison.rows == [["Total cost", TOTAL, PREVIOUS_TOTAL, D("244.225"), D("24.42")]]

    services = review.sections[2].tables[0]
    assert services.totals
    assert services.rows == [
        ["Compute", D("1234.10"), D("1000.00"), D("234.10"), D("23.41"), D("99.16")],
        ["Support", D("10.125"), D("0"), D("10.125"), None, D("0.81")],
        ["Network", D("0.20"), D("0.25"), D("-0.05"), D("-20.00"), D("0.02")],
        ["Storage", D("0.10"), D("0.05"), D("0.05"), D("100.00"), D("0.01")],
    ]
    assert services.totals_row() == ["Total", TOTAL, PREVIOUS_TOTAL, D("244.225"), None, None]
    assert review.sections[4].title == "By tag: team"


def test_charts_carry_the_trend_with_its_band_and_the_top_n(review: ReportDocument) -> None:
    trend, top_services, top_accounts = review.sections[0].charts
    assert isinstance(trend, TrendChart) and isinstance(top_services, BarChart)
    assert trend.points[0].date == date(2026, 11, 1) and trend.points[0].forecast is None
    assert trend.points[-1].date == date(2026, 12, 10) and trend.points[-1].actual is None
    nov_20 = trend.points[19]
    assert (nov_20.actual, nov_20.forecast, nov_20.lower, nov_20.upper) == (
        D("41.45"),
        D("41.5"),
        D("38"),
        D("45"),
    )
    assert sum(p.actual for p in trend.points if p.actual is not None) == TOTAL
    assert [(i.label, i.value) for i in top_services.items] == [
        ("Compute", D("1234.10")),
        ("Support", D("10.125")),
        ("Network", D("0.20")),
    ]
    assert isinstance(top_accounts, BarChart) and len(top_accounts.items) == 2


def test_no_tag_key_means_no_tag_section_and_no_trend_without_days() -> None:
    document = build_monthly_cost_review(review_input(tag_key=None, by_tag=[], daily=[], forecast=[]))
    assert [s.id for s in document.sections] == ["overview", "by_account", "by_service", "by_region"]
    assert [c.id for c in document.sections[0].charts] == ["top_services", "top_accounts"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_date": date(2026, 11, 1)}, r"period: end_date 2026-11-01 must be after start_date 2026-11-01"),
        (
            {"by_region": [SpendLine(label="eu", cost=D("1244.52"), previous_cost=PREVIOUS_TOTAL)]},
            r"by_region: costs sum to 1244.52, total_cost is 1244.525",
        ),
        (
            {"by_tag": [SpendLine(label="x", cost=TOTAL, previous_cost=D("1"))]},
            r"by_tag: previous costs sum to 1, previous_total_cost is 1000.30",
        ),
        ({"tag_key": None}, "by_tag: given without a tag_key"),
        (
            {"daily": [DailySpend(date=date(2026, 12, 1), cost=TOTAL)]},
            r"daily: 2026-12-01 is outside the period",
        ),
        (
            {"daily": [DailySpend(date=date(2026, 11, 3), cost=D("1"))]},
            "daily: costs do not sum to total_cost",
        ),
        ({"total_cost": 1244.525}, "total_cost"),
        ({"top_n": 0}, "top_n"),
    ],
)
def test_inputs_that_disagree_are_refused_by_name(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        review_input(**changes)


def test_a_forecast_band_must_contain_its_forecast() -> None:
    with pytest.raises(ValidationError, match=r"forecast 2026-11-20: expected lower ≤ forecast ≤ upper"):
        ForecastDay(date=date(2026, 11, 20), forecast=D("50"), lower=D("38"), upper=D("45"))
