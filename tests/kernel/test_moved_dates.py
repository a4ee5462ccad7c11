"""Date-sensitive paths at pinned awkward dates: 29 February, 31 December late in the day, a year away.

Every function here takes its day from the caller, so these run the same whatever the wall clock says;
``pytest --move-clock`` (tests/moved_clock.py) checks the rest of the suite the other way round.
Covered: budget periods and their forecasts, "month to date vs last month", 30-day spend windows,
collection windows across a year end, monthly partitions, forecast horizons.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from cloudoptima.analytics.budgets import period_bounds
from cloudoptima.analytics.forecasting.costs import forecast_costs
from cloudoptima.domain.budgets import AlertThreshold, BudgetPeriod, BudgetSpec
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.collection import AccountRef, CollectionService, plan_windows
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.storage.models import CostDaily, Organization
from cloudoptima.storage.partitions import months_between, next_month

LEAP_DAY = date(2028, 2, 29)
YEAR_END = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "day", "expected"),
    [
        (BudgetPeriod.MONTHLY, LEAP_DAY, (date(2028, 2, 1), date(2028, 3, 1))),
        (BudgetPeriod.MONTHLY, YEAR_END.date(), (date(2026, 12, 1), date(2027, 1, 1))),
        (BudgetPeriod.MONTHLY, date(2027, 1, 1), (date(2027, 1, 1), date(2027, 2, 1))),
        (BudgetPeriod.QUARTERLY, LEAP_DAY, (date(2028, 1, 1), date(2028, 4, 1))),
        (BudgetPeriod.QUARTERLY, YEAR_END.date(), (date(2026, 10, 1), date(2027, 1, 1))),
        (BudgetPeriod.ANNUAL, LEAP_DAY, (date(2028, 1, 1), date(2029, 1, 1))),
    ],
)
def test_budget_periods_at_awkward_days(period: BudgetPeriod, day: date, expected: tuple[date, date]) -> None:
    assert period_bounds(period, day, date(2020, 1, 1), date(2040, 1, 1)) == expected


def test_months_and_partitions_cross_leap_day_and_year_end() -> None:
    assert next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert months_between(LEAP_DAY, date(2028, 3, 2)) == [date(2028, 2, 1), date(2028, 3, 1)]
    assert months_between(YEAR_END.date(), date(2027, 1, 1)) == [date(2026, 12, 1)]


def test_collection_windows_at_year_end_and_after_leap_day() -> None:
    late = plan_windows(
        YEAR_END.date(), YEAR_END - timedelta(hours=1), initial_days=30, restate_days=3, window_days=7
    )
    assert (late.start, late.end) == (date(2026, 12, 28), date(2027, 1, 1))
    first = plan_windows(date(2028, 3, 1), None, initial_days=30, restate_days=3, window_days=7)
    assert (first.start, first.end) == (date(2028, 2, 1), date(2028, 3, 2))
    days = sum((stop - start).days for start, stop in first.windows)
    assert days == 30 and first.windows[-1][1] == first.end
    # A sync stamped after the pinned day (a clock ahead of the collection's "as of") restates from that day.
    ahead = plan_windows(
        LEAP_DAY, datetime(2029, 6, 1, tzinfo=UTC), initial_days=30, restate_days=3, window_days=7
    )
    assert (ahead.start, ahead.end) == (date(2028, 2, 26), date(2028, 3, 1))


def _daily(org: uuid.UUID, account: uuid.UUID | None, start: date, days: int, cost: str) -> list[CostDaily]:
    return [
        CostDaily(
            organization_id=org, cloud_account_id=account, usage_date=start + timedelta(days=n), provider="aws",
            sub_account_id="acct-1", service_name="Amazon EC2", billing_currency="USD", tag_values={},
            billed_cost=Decimal(cost), effective_cost=Decimal(cost), list_cost=Decimal(cost), row_count=1,
        )
        for n in range(days)
    ]  # fmt: skip


@pytest.fixture
def leap_org(db_session: Session) -> tuple[uuid.UUID, uuid.UUID]:
    """$10 a day from 2027-11-01 through 2028-03-01 inclusive (122 days), on one account."""
    organisation = Organization(name="leap", subscription_tier="free", settings={})
    db_session.add(organisation)
    db_session.flush()
    account = uuid.uuid4()
    db_session.add_all(_daily(organisation.id, account, date(2027, 11, 1), 122, "10.00"))
    db_session.flush()
    return organisation.id, account


def test_budget_on_leap_day_counts_28_days_and_forecasts_the_last(
    db_session: Session, leap_org: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org, _ = leap_org
    service = BudgetService(
        db_session, org, now=lambda: datetime(2028, 2, 29, 12, tzinfo=UTC), forecast_model="snaive"
    )
    budget = service.create(
        BudgetSpec(name="feb", amount=Decimal(280), start_date=date(2027, 1, 1), end_date=date(2029, 1, 1),
                   alerts=[AlertThreshold(threshold=Decimal(100))])
    )  # fmt: skip
    on_leap_day = service.evaluate(budget.id, LEAP_DAY)
    assert on_leap_day.current_spend == Decimal("280.00")  # [Feb 1, Feb 29): 28 days
    assert on_leap_day.forecasted_spend == Decimal("290.00")  # + Feb 29 itself
    assert on_leap_day.fired == []  # 280 is not above 100 % of 280
    march = service.evaluate(budget.id, date(2028, 3, 1))
    assert march.current_spend == Decimal("0.00")
    assert march.alert_state["period_start"] == "2028-03-01"


def test_month_to_date_against_a_leap_february(
    db_session: Session, leap_org: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org, _ = leap_org
    analytics = CostAnalytics(db_session.connection(), org)
    # On 1 March no day of March is complete: month to date is all of the leap February (against 1-29 Jan).
    on_the_first = analytics.by_service(date(2028, 3, 1))
    assert on_the_first.month_start == date(2028, 2, 1) and on_the_first.trend_basis.complete_month
    [ec2] = on_the_first.services
    assert (ec2.current_month, ec2.last_month_same_days, ec2.last_month) == (
        Decimal("290.00"),
        Decimal("290.00"),
        Decimal("310.00"),
    )
    # On 2 March: 1 March (complete) against 1 February.
    result = analytics.by_service(date(2028, 3, 2))
    assert result.month_start == date(2028, 3, 1) and not result.trend_basis.complete_month
    [ec2] = result.services
    assert (ec2.current_month, ec2.last_month_same_days, ec2.last_month) == (
        Decimal("10.00"),
        Decimal("10.00"),
        Decimal("290.00"),
    )


def test_thirty_day_spend_ends_on_the_collection_day_not_the_wall_clock(
    db_session: Session, leap_org: tuple[uuid.UUID, uuid.UUID]
) -> None:
    org, account = leap_org
    ref = AccountRef(org, account)
    assert CollectionService._monthly_spend(db_session, ref, LEAP_DAY) == Decimal("300.00")
    assert CollectionService._monthly_spend(db_session, ref, date(2028, 3, 30)) == Decimal("10.00")
    assert CollectionService._monthly_spend(db_session, ref, date(2029, 3, 1)) is None


@pytest.mark.parametrize(
    ("last", "expected_days"),
    [
        (date(2028, 2, 27), [date(2028, 2, 28), LEAP_DAY, date(2028, 3, 1), date(2028, 3, 2)]),
        (date(2026, 12, 30), [date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)]),
    ],
)
def test_forecast_horizon_dates_cross_leap_day_and_year_end(last: date, expected_days: list[date]) -> None:
    history = [(last - timedelta(days=n), Decimal(100 + n % 7)) for n in range(90)]
    result = forecast_costs(history, days_ahead=4, model="snaive")
    assert [p.date for p in result.points] == expected_days
    assert result.total == sum((p.predicted for p in result.points), Decimal(0))
