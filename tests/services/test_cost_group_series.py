"""Per-group series and filters of the overview when the grouping reads raw rows (a tag key outside the rollup):
weekly buckets from ``charge_period_start``, groups adding up to the rollup's total series to the cent, and
filters narrowing both tables alike."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from cloudoptima.domain.cost_filters import CostFilterError, CostFilters
from cloudoptima.services.cost_analytics import CostAnalytics
from tests.services.test_cost_analytics import loaded, org

__all__ = ["loaded", "org"]  # fixtures, used by name


def test_raw_tag_groups_weekly_add_up_and_filters_narrow(engine: Engine, loaded: uuid.UUID) -> None:
    with engine.connect() as connection:
        analytics = CostAnalytics(connection, loaded)
        # March 2031 starts on a Saturday: the first weekly bucket is Monday 24 February
        by_app = analytics.overview(
            date(2031, 3, 1), date(2031, 3, 11), group_by="tag:app", granularity="weekly", series_groups=1
        )
        assert by_app.source == "raw"
        assert [p.date for p in by_app.time_series] == [
            date(2031, 2, 24),
            date(2031, 3, 3),
            date(2031, 3, 10),
        ]
        [app] = by_app.group_series  # one value ("x") holds everything: no "other" series
        assert app.key == "x" and not app.other
        assert [p.cost for p in app.points] == [p.cost for p in by_app.time_series]
        assert app.total == by_app.total_cost == Decimal("26.50")

        by_service = analytics.overview(
            date(2031, 3, 1), date(2031, 3, 11), group_by="service", series_groups=1
        )
        top, other = by_service.group_series
        assert (top.key, other.key, other.other) == ("EC2", "(other)", True)
        for i, point in enumerate(by_service.time_series):
            assert top.points[i].cost + other.points[i].cost == point.cost.quantize(Decimal("0.01"))

        narrowed = analytics.overview(
            date(2031, 3, 1),
            date(2031, 3, 11),
            group_by="tag:app",
            filters=CostFilters(services=("S3",), regions=("eu-west-1",), tag=("team", "data")),
            series_groups=3,
        )
        assert narrowed.total_cost == Decimal("1.50")
        assert [(b.dimension, b.cost) for b in narrowed.breakdown] == [("x", Decimal("1.50"))]
        assert narrowed.period_comparison.previous_period == 0
        assert analytics.overview(
            date(2031, 3, 1), date(2031, 3, 11), filters=CostFilters(services=("S3",), regions=("us-east-1",))
        ).total_cost == Decimal(0)

        with pytest.raises(CostFilterError) as refused:
            analytics.overview(date(2031, 3, 1), date(2031, 3, 11), filters=CostFilters(tag=("app", "x")))
        assert refused.value.field == "tag"
        with pytest.raises(CostFilterError) as unknown:
            analytics.overview(
                date(2031, 3, 1), date(2031, 3, 11), filters=CostFilters(accounts=(uuid.uuid4(),))
            )
        assert unknown.value.field == "cloud_account_id"
