"""Budget periods and evaluation: spend, forecast, utilisation, status and once-per-period alerts.

Contract:
- ``period_bounds(period, day, start_date, end_date)``: the calendar month / quarter / year containing
  ``day`` (UTC dates), clipped to the budget's ``[start_date, end_date)``; end-exclusive.
- ``evaluate_budget(...)``: ``current_spend`` is the spend of ``[period_start, as_of)``;
  ``forecasted_spend = current_spend + forecast_remaining`` (the forecast of ``[as_of, period_end)``; when
  it is ``None`` the forecast is unavailable and equals the current spend). A threshold fires when its spend
  is strictly greater than ``amount × threshold / 100`` (AWS ``GREATER_THAN``, finops-facts BU-1/BU-2) and
  it has not fired yet in this period; ``alert_state = {"period_start": ISO date, "fired": {key: ISO ts}}``
  and a state of another period is reset. Pure: the caller passes ``now`` and persists the new state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from cloudoptima.domain.budgets import (
    AlertEvent,
    AlertStatus,
    AlertThreshold,
    BudgetEvaluation,
    BudgetPeriod,
    BudgetStatus,
    NotificationType,
)

_CENT = Decimal("0.01")
_MONTHS = {BudgetPeriod.MONTHLY: 1, BudgetPeriod.QUARTERLY: 3, BudgetPeriod.ANNUAL: 12}


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_bounds(period: BudgetPeriod, day: date, start_date: date, end_date: date) -> tuple[date, date]:
    """The budget period containing ``day`` (see module contract)."""
    if not start_date <= day < end_date:
        raise ValueError(f"{day} is outside the budget's [{start_date}, {end_date})")
    length = _MONTHS[BudgetPeriod(period)]
    first_month = ((day.month - 1) // length) * length + 1 if length < 12 else 1
    start = date(day.year, first_month, 1)
    end = _add_months(start, length)
    return max(start, start_date), min(end, end_date)


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole * 100).quantize(_CENT, rounding=ROUND_HALF_EVEN)


def evaluate_budget(
    *,
    amount: Decimal,
    period_start: date,
    period_end: date,
    as_of: date,
    current_spend: Decimal,
    forecast_remaining: Decimal | None,
    thresholds: Sequence[AlertThreshold],
    alert_state: Mapping[str, Any] | None,
    now: datetime,
) -> BudgetEvaluation:
    """Evaluate one budget period (see module contract)."""
    if amount <= 0:
        raise ValueError("budget amount must be positive")
    if not period_start <= as_of <= period_end:
        raise ValueError(f"as_of {as_of} is outside the period [{period_start}, {period_end}]")
    current = current_spend.quantize(_CENT, rounding=ROUND_HALF_EVEN)
    available = forecast_remaining is not None
    remaining = max(Decimal(0), forecast_remaining) if forecast_remaining is not None else Decimal(0)
    forecasted = (current + remaining).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    state = dict(alert_state or {})
    fired_before: dict[str, str] = dict(state.get("fired", {}))
    if state.get("period_start") != period_start.isoformat():
        fired_before = {}
    statuses: list[AlertStatus] = []
    fired: list[AlertEvent] = []
    for threshold in thresholds:
        spend = current if threshold.type is NotificationType.ACTUAL else forecasted
        limit = (amount * threshold.threshold / 100).quantize(_CENT, rounding=ROUND_HALF_EVEN)
        usable = available or threshold.type is NotificationType.ACTUAL
        crossed = usable and spend > limit
        if crossed and threshold.key not in fired_before:
            fired_before[threshold.key] = now.isoformat()
            fired.append(
                AlertEvent(
                    threshold=threshold.threshold,
                    type=threshold.type,
                    spend=spend,
                    limit=limit,
                    fired_at=now,
                    channels=threshold.channels,
                )
            )
        last = fired_before.get(threshold.key)
        statuses.append(
            AlertStatus(
                threshold=threshold.threshold,
                type=threshold.type,
                triggered=last is not None,
                last_triggered_at=datetime.fromisoformat(last) if last else None,
            )
        )
    if current > amount:
        status = BudgetStatus.EXCEEDED
    elif forecasted > amount:
        status = BudgetStatus.AT_RISK
    else:
        status = BudgetStatus.ON_TRACK
    return BudgetEvaluation(
        period_start=period_start,
        period_end=period_end,
        amount=amount,
        current_spend=current,
        forecasted_spend=forecasted,
        forecast_available=available,
        utilization_percent=_percent(current, amount),
        forecast_utilization_percent=_percent(forecasted, amount),
        status=status,
        alerts=statuses,
        fired=fired,
        alert_state={"period_start": period_start.isoformat(), "fired": fired_before},
    )
