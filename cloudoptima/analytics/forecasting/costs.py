"""Daily cost forecast as ``/costs/forecast`` returns it: Decimal money, accuracy metrics, flags.

Contract: ``forecast_costs(daily_costs, days_ahead, confidence_level, model)`` takes daily amounts (a mapping
date → amount or ``(date, amount)`` pairs; amounts of the same date are added; dates missing between the first
and last one are gaps, not zeros), rejects ``days_ahead`` outside 1..365 and ``confidence_level`` outside
(0, 1) with ``ValueError``, and returns a :class:`~cloudoptima.domain.analytics.ForecastResult` whose money
is Decimal rounded to cents and whose ``total`` is the sum of the rounded daily predictions.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

import pandas as pd

from cloudoptima.analytics.forecasting.backtest import ModelScores
from cloudoptima.analytics.forecasting.engine import forecast_series
from cloudoptima.domain.analytics import (
    MAX_FORECAST_DAYS,
    AccuracyMetrics,
    FittedModelName,
    ForecastModelName,
    ForecastPoint,
    ForecastResult,
    to_money,
)

Amount = Decimal | float | int


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def accuracy_from_scores(scores: ModelScores, row: int = 0) -> AccuracyMetrics:
    """Backtest scores of series ``row`` as the API's accuracy block."""
    name: FittedModelName = scores.model  # type: ignore[assignment]
    return AccuracyMetrics(
        model=name,
        mape=_finite(scores.mape[row]),
        rmse=float(scores.rmse[row]),
        mae=float(scores.mae[row]),
        mase=_finite(scores.mase[row]),
        mase_insample=_finite(scores.mase_insample[row]),
        coverage=float(scores.coverage[row]),
        folds=scores.folds,
        horizon=scores.horizon,
    )


def _collect(daily_costs: Mapping[date, Amount] | Iterable[tuple[date, Amount]]) -> dict[date, float]:
    pairs = daily_costs.items() if isinstance(daily_costs, Mapping) else daily_costs
    totals: dict[date, Decimal] = defaultdict(Decimal)
    for day, amount in pairs:
        totals[day] += amount if isinstance(amount, Decimal) else Decimal(str(amount))
    return {day: float(value) for day, value in totals.items()}


def forecast_costs(
    daily_costs: Mapping[date, Amount] | Iterable[tuple[date, Amount]],
    days_ahead: int = 30,
    confidence_level: float = 0.95,
    model: ForecastModelName = "auto",
) -> ForecastResult:
    """Forecast the next ``days_ahead`` days of a daily cost series (see module contract)."""
    if not 1 <= days_ahead <= MAX_FORECAST_DAYS:
        raise ValueError(f"days_ahead must be between 1 and {MAX_FORECAST_DAYS}, got {days_ahead}")
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level must be strictly between 0 and 1, got {confidence_level}")
    totals = _collect(daily_costs)
    if not totals:
        raise ValueError("no cost history to forecast from")
    days = sorted(totals)
    result = forecast_series(
        pd.DatetimeIndex([pd.Timestamp(d) for d in days]),
        [totals[d] for d in days],
        "D",
        days_ahead,
        level=confidence_level,
        model=model,
    )
    points = [
        ForecastPoint(
            date=ts.date(),
            predicted=to_money(float(mean)),
            lower=to_money(float(low)),
            upper=to_money(float(up)),
        )
        for ts, mean, low, up in zip(result.index, result.mean, result.lower, result.upper, strict=True)
    ]
    candidates = [accuracy_from_scores(s) for s in (result.scores or {}).values()]
    chosen = next((c for c in candidates if c.model == result.model), None)
    return ForecastResult(
        model=result.model,
        requested_model=model,
        days_ahead=days_ahead,
        confidence_level=confidence_level,
        points=points,
        total=sum((p.predicted for p in points), Decimal("0.00")),
        total_lower=sum((p.lower for p in points), Decimal("0.00")),
        total_upper=sum((p.upper for p in points), Decimal("0.00")),
        accuracy=chosen,
        candidates=candidates,
        flags=result.flags,
        history_start=days[0],
        history_end=days[-1],
        fit_start=result.fit_start.date(),
    )
