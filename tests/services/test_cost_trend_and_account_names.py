"""By-service ``trend`` compares month to date with the same days of the previous month (clamped to that
month's last day), at pinned awkward dates; by-account answers carry the cloud account's name beside its id."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.cost_analytics.dashboard import trend_basis
from cloudoptima.storage.models import CloudAccount, CostDaily, CostRow, Organization
from cloudoptima.storage.partitions import ensure_cost_partitions


@pytest.mark.parametrize(
    ("today", "current_start", "previous_end", "complete_month"),
    [
        (date(2026, 12, 7), date(2026, 12, 1), date(2026, 11, 7), False),  # 1-6 Dec vs 1-6 Nov
        (date(2026, 12, 2), date(2026, 12, 1), date(2026, 11, 2), False),  # one complete day vs one day
        (date(2026, 12, 1), date(2026, 11, 1), date(2026, 10, 31), True),  # the 1st: all Nov vs 1-30 Oct
        (date(2027, 1, 1), date(2026, 12, 1), date(2026, 12, 1), True),  # the 1st: all Dec vs all Nov
        (date(2027, 1, 31), date(2027, 1, 1), date(2026, 12, 31), False),  # across the year end
        (date(2027, 3, 31), date(2027, 3, 1), date(2027, 3, 1), False),  # 1-30 March vs all 28 days of Feb
        (date(2027, 3, 29), date(2027, 3, 1), date(2027, 3, 1), False),  # 1-28 March: exactly all of Feb
        (date(2027, 3, 28), date(2027, 3, 1), date(2027, 2, 28), False),  # 1-27 March vs 1-27 Feb
        (date(2028, 3, 31), date(2028, 3, 1), date(2028, 3, 1), False),  # leap year: all 29 days of Feb
        (date(2028, 3, 1), date(2028, 2, 1), date(2028, 1, 30), True),  # the 1st: all 29 Feb days vs 1-29 Jan
        (date(2028, 2, 29), date(2028, 2, 1), date(2028, 1, 29), False),  # leap day: 1-28 Feb vs 1-28 Jan
        (date(2027, 5, 31), date(2027, 5, 1), date(2027, 5, 1), False),  # 1-30 May vs all of a 30-day April
    ],
)
def test_month_to_date_is_its_complete_days_against_the_same_days_of_last_month(
    today: date, current_start: date, previous_end: date, complete_month: bool
) -> None:
    basis = trend_basis(today)
    assert basis.current_start == current_start
    assert basis.current_end == today  # today's unfinished day never counts
    assert basis.previous_start == (current_start - timedelta(days=1)).replace(day=1)
    assert basis.previous_end == previous_end
    assert basis.complete_month is complete_month
    assert basis.rule == "complete_days_of_month_to_date_vs_same_days_of_previous_month"


def _day(
    org: uuid.UUID, day: date, cost: str, *, account: str = "111111111111", service: str = "EC2"
) -> CostDaily:
    return CostDaily(
        organization_id=org, usage_date=day, provider="aws", sub_account_id=account, billing_account_id=account,
        service_name=service, region_id="us-east-1", billing_currency="USD", tag_values={},
        billed_cost=Decimal(cost), effective_cost=Decimal(cost), list_cost=Decimal(cost), row_count=1,
    )  # fmt: skip


@pytest.fixture
def org(db_session: Session) -> uuid.UUID:
    """$10 a day from 2028-01-01 through 2028-03-31 on one account (EC2), and $1 a day on another (S3)."""
    organisation = Organization(name="trend", subscription_tier="free", settings={})
    db_session.add(organisation)
    db_session.flush()
    start = date(2028, 1, 1)
    for n in range(91):
        db_session.add(_day(organisation.id, start + timedelta(days=n), "10.00"))
        db_session.add(
            _day(organisation.id, start + timedelta(days=n), "1.00", account="222222222222", service="S3")
        )
    db_session.add(
        CloudAccount(
            organization_id=organisation.id, provider="aws", account_identifier="111111111111",
            account_name="Production", credentials_encrypted="x",
        )
    )  # fmt: skip
    db_session.flush()
    return organisation.id


@pytest.mark.parametrize(
    ("today", "current", "same_days", "whole"),
    [
        (date(2028, 3, 1), "290.00", "290.00", "310.00"),  # the 1st: all of February vs 1-29 January
        (date(2028, 3, 31), "300.00", "290.00", "290.00"),  # 1-30 March vs all 29 days of February
        (date(2028, 2, 6), "50.00", "50.00", "310.00"),  # 1-5 Feb: no -80 % against a whole month
    ],
)
def test_by_service_trend_compares_like_with_like(
    db_session: Session, org: uuid.UUID, today: date, current: str, same_days: str, whole: str
) -> None:
    result = CostAnalytics(db_session.connection(), org).by_service(today)
    assert result.trend_basis == trend_basis(today)
    ec2 = next(s for s in result.services if s.service_name == "EC2")
    assert (ec2.current_month, ec2.last_month_same_days, ec2.last_month) == (
        Decimal(current),
        Decimal(same_days),
        Decimal(whole),
    )
    expected = (Decimal(current) - Decimal(same_days)) / Decimal(same_days) * 100
    assert ec2.trend == expected.quantize(Decimal("0.01"))


def test_by_account_answers_name_the_account_and_keep_the_id(db_session: Session, org: uuid.UUID) -> None:
    analytics = CostAnalytics(db_session.connection(), org)
    start, end = date(2028, 3, 1), date(2028, 3, 11)
    overview = analytics.overview(start, end, group_by="account")
    assert [(b.dimension, b.name) for b in overview.breakdown] == [
        ("111111111111", "Production"),
        ("222222222222", None),  # no cloud_accounts row: the id alone
    ]
    page = analytics.groups(start, end, group_by="account")
    assert [(g.key, g.name) for g in page.groups] == [("111111111111", "Production"), ("222222222222", None)]
    drivers = analytics.compare(start, end, date(2028, 2, 1), group_by="account").drivers
    assert {(d.key, d.name) for d in drivers} == {("111111111111", "Production"), ("222222222222", None)}
    by_service = analytics.overview(start, end, group_by="service")
    assert all(b.name is None for b in by_service.breakdown)  # names are for accounts only


def test_top_spenders_carry_the_account_name(db_session: Session, org: uuid.UUID) -> None:
    day = datetime(2028, 3, 2, tzinfo=UTC)
    ensure_cost_partitions(db_session.connection(), [date(2028, 3, 1)])
    db_session.add(
        CostRow(
            organization_id=org, provider="aws", billing_account_id="111111111111", sub_account_id="111111111111",
            billing_currency="USD", charge_period_start=day, charge_period_end=day + timedelta(days=1),
            billing_period_start=datetime(2028, 3, 1, tzinfo=UTC), billing_period_end=datetime(2028, 4, 1, tzinfo=UTC),
            charge_category="Usage", provider_name="AWS",
            billed_cost=Decimal("7.00"), effective_cost=Decimal("7.00"), list_cost=Decimal("7.00"),
            resource_id="i-1", service_name="EC2", region_id="us-east-1",
        )
    )  # fmt: skip
    db_session.flush()
    page = CostAnalytics(db_session.connection(), org).top_resources(date(2028, 3, 1), date(2028, 3, 11))
    assert [(r.resource_id, r.account, r.account_name) for r in page.resources] == [
        ("i-1", "111111111111", "Production")
    ]
