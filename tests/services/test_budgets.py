"""Budgets: periods, GREATER_THAN thresholds, once-per-period alerts, scopes over cost_daily, forecasts."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from cloudoptima.analytics.budgets import evaluate_budget, period_bounds
from cloudoptima.domain.budgets import (
    AlertThreshold,
    BudgetPeriod,
    BudgetScope,
    BudgetSpec,
    BudgetStatus,
    NotificationType,
    ScopeType,
)
from cloudoptima.services.budgets import BudgetService
from cloudoptima.storage.models import CostDaily, Organization
from cloudoptima.storage.tenancy import TenantViolation

NOW = datetime(2026, 1, 20, 12, tzinfo=UTC)
ACTUAL_80 = AlertThreshold(threshold=Decimal(80))


def _evaluate(spend: str, state: dict[str, object] | None = None, start: date = date(2026, 1, 1)) -> object:
    return evaluate_budget(
        amount=Decimal(200),
        period_start=start,
        period_end=date(2026, 2, 1) if start.month == 1 else date(2026, 3, 1),
        as_of=start + timedelta(days=10),
        current_spend=Decimal(spend),
        forecast_remaining=Decimal(0),
        thresholds=[ACTUAL_80],
        alert_state=state,
        now=NOW,
    )


def test_aws_example_fires_above_160_not_at_160() -> None:
    at = evaluate_budget(
        amount=Decimal(200), period_start=date(2026, 1, 1), period_end=date(2026, 2, 1), as_of=date(2026, 1, 20),
        current_spend=Decimal("160.00"), forecast_remaining=Decimal(0), thresholds=[ACTUAL_80], alert_state={},
        now=NOW,
    )  # fmt: skip
    assert at.fired == [] and at.alerts[0].triggered is False
    above = evaluate_budget(
        amount=Decimal(200), period_start=date(2026, 1, 1), period_end=date(2026, 2, 1), as_of=date(2026, 1, 20),
        current_spend=Decimal("160.01"), forecast_remaining=Decimal(0), thresholds=[ACTUAL_80], alert_state={},
        now=NOW,
    )  # fmt: skip
    assert [(e.threshold, e.limit, e.spend) for e in above.fired] == [
        (Decimal(80), Decimal("160.00"), Decimal("160.01"))
    ]
    assert above.utilization_percent == Decimal("80.00")  # 80.005 rounded half-even
    assert above.status is BudgetStatus.ON_TRACK


def test_forecasted_threshold_uses_period_end_forecast_and_status_follows() -> None:
    result = evaluate_budget(
        amount=Decimal(200), period_start=date(2026, 1, 1), period_end=date(2026, 2, 1), as_of=date(2026, 1, 20),
        current_spend=Decimal(120), forecast_remaining=Decimal(100),
        thresholds=[ACTUAL_80, AlertThreshold(threshold=Decimal(100), type=NotificationType.FORECASTED)],
        alert_state={}, now=NOW,
    )  # fmt: skip
    assert result.forecasted_spend == Decimal("220.00")
    assert [e.type for e in result.fired] == [NotificationType.FORECASTED]
    assert result.status is BudgetStatus.AT_RISK
    unavailable = evaluate_budget(
        amount=Decimal(200), period_start=date(2026, 1, 1), period_end=date(2026, 2, 1), as_of=date(2026, 1, 20),
        current_spend=Decimal(250), forecast_remaining=None,
        thresholds=[AlertThreshold(threshold=Decimal(50), type=NotificationType.FORECASTED)],
        alert_state={}, now=NOW,
    )  # fmt: skip
    assert unavailable.fired == [] and unavailable.status is BudgetStatus.EXCEEDED


def test_fires_once_per_period_and_resets_in_the_next() -> None:
    first = _evaluate("170")
    assert len(first.fired) == 1  # type: ignore[attr-defined]
    again = _evaluate("190", first.alert_state)  # type: ignore[attr-defined]
    assert again.fired == [] and again.alerts[0].triggered  # type: ignore[attr-defined]
    next_period = _evaluate("170", again.alert_state, start=date(2026, 2, 1))  # type: ignore[attr-defined]
    assert len(next_period.fired) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("period", "day", "expected"),
    [
        (BudgetPeriod.MONTHLY, date(2026, 2, 14), (date(2026, 2, 1), date(2026, 3, 1))),
        (BudgetPeriod.QUARTERLY, date(2026, 5, 31), (date(2026, 4, 1), date(2026, 7, 1))),
        (BudgetPeriod.QUARTERLY, date(2026, 12, 31), (date(2026, 10, 1), date(2027, 1, 1))),
        (BudgetPeriod.ANNUAL, date(2026, 7, 4), (date(2026, 3, 15), date(2027, 1, 1))),
    ],
)
def test_periods_are_calendar_periods_clipped_to_the_budget(
    period: BudgetPeriod, day: date, expected: tuple[date, date]
) -> None:
    assert period_bounds(period, day, date(2026, 3, 15) if period is BudgetPeriod.ANNUAL else date(2025, 1, 1),
                         date(2030, 1, 1)) == expected  # fmt: skip


@pytest.fixture
def org(db_session: Session) -> uuid.UUID:
    organisation = Organization(name="budgets", subscription_tier="free", settings={})
    db_session.add(organisation)
    db_session.flush()
    days = [date(2025, 10, 1) + timedelta(days=n) for n in range(111)]  # to 2026-01-19 inclusive
    for day in days:
        for service, team, cost in (("Amazon EC2", "web", "10.00"), ("Amazon S3", "data", "2.50")):
            db_session.add(
                CostDaily(
                    organization_id=organisation.id, usage_date=day, provider="aws", sub_account_id="acct-1",
                    service_name=service, billing_currency="USD", tag_values={"team": team},
                    billed_cost=Decimal(cost), effective_cost=Decimal(cost), list_cost=Decimal(cost), row_count=1,
                )
            )  # fmt: skip
    db_session.flush()
    return organisation.id


def test_service_evaluates_scoped_spend_forecast_and_persists_alert_state(
    db_session: Session, org: uuid.UUID
) -> None:
    service = BudgetService(db_session, org, now=lambda: NOW, forecast_model="fast")
    budget = service.create(
        BudgetSpec(
            name="web compute", amount=Decimal(200), start_date=date(2025, 1, 1), end_date=date(2027, 1, 1),
            scope=BudgetScope(type=ScopeType.TEAM, values=["web"]),
            alerts=[ACTUAL_80, AlertThreshold(threshold=Decimal(100), type=NotificationType.FORECASTED)],
        )
    )  # fmt: skip
    result = service.evaluate(budget.id, date(2026, 1, 17))  # 16 days × $10 = $160: not above 160
    assert result.current_spend == Decimal("160.00")
    assert result.forecast_available and Decimal(300) < result.forecasted_spend < Decimal(330)
    assert [e.type for e in result.fired] == [NotificationType.FORECASTED]
    assert result.status is BudgetStatus.AT_RISK
    later = service.evaluate(budget.id, date(2026, 1, 18))  # $170 > $160: the actual alert fires, once
    assert [e.type for e in later.fired] == [NotificationType.ACTUAL]
    assert service.evaluate(budget.id, date(2026, 1, 19)).fired == []
    stored = service.get(budget.id)
    assert set(stored.alert_state["fired"]) == {"actual:80", "forecasted:100"}
    assert stored.last_evaluation is not None and stored.last_evaluation["status"] == "at_risk"


def test_service_scope_by_service_and_all_accounts(db_session: Session, org: uuid.UUID) -> None:
    service = BudgetService(db_session, org, now=lambda: NOW, forecast_model="snaive")
    s3 = service.create(
        BudgetSpec(name="s3", amount=Decimal(100), period=BudgetPeriod.QUARTERLY, start_date=date(2025, 1, 1),
                   end_date=date(2027, 1, 1), scope=BudgetScope(type=ScopeType.SERVICE, values=["Amazon S3"]))
    )  # fmt: skip
    everything = service.create(
        BudgetSpec(name="all", amount=Decimal(1000), start_date=date(2025, 1, 1), end_date=date(2027, 1, 1))
    )
    assert service.evaluate(s3.id, date(2026, 1, 11)).current_spend == Decimal("25.00")
    assert service.evaluate(everything.id, date(2026, 1, 11)).current_spend == Decimal("125.00")
    with pytest.raises(TenantViolation):
        BudgetService(db_session, uuid.uuid4())
