"""Result models of the forecasting and anomaly engines (what ``/costs/forecast`` and anomaly APIs return).

Contract:
- Money is ``Decimal`` rounded to cents (``quantize(Decimal("0.01"))``, half-even); accuracy metrics and
  scores are ``float``.
- ``CostAnomaly.impact = actual_spend - expected_spend``; ``impact_pct = impact / expected × 100`` and is
  ``None`` when ``expected_spend`` is 0 (AWS Cost Anomaly Detection ``TotalImpactPercentage`` semantics).
- ``CostAnomaly.root_causes`` contributions (after cent rounding) add up exactly to ``impact``; so do the
  contributions listed for each dimension in ``CostAnomaly.contributions``.
- No I/O and no third-party imports besides pydantic.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CENT = Decimal("0.01")
MAX_FORECAST_DAYS = 365
"""Longest horizon ``/costs/forecast`` accepts."""

ForecastModelName = Literal["auto", "prophet", "fast", "damped", "snaive"]
"""Model requested by a caller; ``auto`` picks per series by rolling-origin backtest."""

FittedModelName = Literal["prophet", "fast", "damped", "snaive", "naive"]
"""Model actually used; ``naive`` only for histories too short for anything else."""


def to_money(value: float | Decimal) -> Decimal:
    """Round a float or Decimal to cents (half-even); ``-0.00`` becomes ``0.00``."""
    amount = Decimal(str(value)) if isinstance(value, float) else value
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
    return rounded + Decimal("0.00") if rounded else Decimal("0.00")


class ForecastFlag(StrEnum):
    """Facts about the history that changed how a forecast was made."""

    SHORT_HISTORY = "short_history"
    """Fewer than 14 observations: naive model with deliberately wide intervals."""
    GAPS_FILLED = "gaps_filled"
    """Missing periods inside the history were treated as missing values (not as zeros)."""
    LEADING_ZEROS_TRIMMED = "leading_zeros_trimmed"
    """Zeros before the first non-zero value were dropped (the cost did not exist yet)."""
    LEVEL_SHIFT = "level_shift"
    """A sustained level shift was found; the model was fitted on the segment after it."""
    INTERMITTENT = "intermittent"
    """More than half of the observations are zero."""
    NO_BACKTEST = "no_backtest"
    """History too short for a rolling-origin backtest: no accuracy metrics, default model used."""
    PROPHET_UNAVAILABLE = "prophet_unavailable"
    """Prophet was requested or considered but is not installed or failed to fit."""


class ForecastPoint(BaseModel):
    """One forecast period: point forecast and interval bounds at the requested confidence level."""

    model_config = ConfigDict(frozen=True)

    date: date
    predicted: Decimal
    lower: Decimal
    upper: Decimal


class AccuracyMetrics(BaseModel):
    """Rolling-origin backtest metrics of one model on one series.

    ``mape`` (percent) ignores zero actuals and is ``None`` when all are zero. ``mase`` is the backtest MAE
    scaled by the seasonal-naive forecast's MAE on the same folds, so ``mase < 1`` means better than seasonal
    naive; ``mase_insample`` is Hyndman's MASE (scaled by the in-sample MAE of one-season differences, which
    grows past 1 on long horizons even for good models). ``coverage`` is the share of held-out actuals
    inside the forecast interval (compare with the confidence level).
    """

    model_config = ConfigDict(frozen=True)

    model: FittedModelName
    mape: float | None
    rmse: float
    mae: float
    mase: float | None
    mase_insample: float | None
    coverage: float
    folds: int = Field(ge=1)
    horizon: int = Field(ge=1)


class ForecastResult(BaseModel):
    """A daily cost forecast as ``/costs/forecast`` returns it."""

    model_config = ConfigDict(frozen=True)

    model: FittedModelName
    requested_model: ForecastModelName
    days_ahead: int = Field(ge=1, le=MAX_FORECAST_DAYS)
    confidence_level: float = Field(gt=0, lt=1)
    points: list[ForecastPoint]
    total: Decimal
    total_lower: Decimal
    """Sum of the daily lower bounds: a conservative (wider than nominal) bound on the total."""
    total_upper: Decimal
    accuracy: AccuracyMetrics | None
    """Backtest metrics of the chosen model; ``None`` when no backtest was possible."""
    candidates: list[AccuracyMetrics] = Field(default_factory=list)
    """Backtest metrics of every model compared by ``auto``."""
    flags: list[ForecastFlag] = Field(default_factory=list)
    history_start: date
    history_end: date
    fit_start: date
    """First date of the history the model was fitted on (later than ``history_start`` after a level
    shift or leading zeros)."""


class AnomalySeverity(StrEnum):
    """Severity from absolute and relative impact; thresholds in ``cloudoptima.analytics.anomalies``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class RootCause(BaseModel):
    """One cell of the root-cause grain (e.g. service × account × region × usage type) and its $ share."""

    model_config = ConfigDict(frozen=True)

    dimensions: dict[str, str]
    """Dimension name → value; the value ``"(other)"`` marks the remainder of cells not listed."""
    actual: Decimal
    expected: Decimal
    contribution: Decimal
    """Dollars this cell contributed to the anomaly's total impact (``actual - expected``)."""


class DimensionContribution(BaseModel):
    """Contribution of one value of one dimension (service, account, resource_id, a tag, ...)."""

    model_config = ConfigDict(frozen=True)

    dimension: str
    value: str
    contribution: Decimal


class CostAnomaly(BaseModel):
    """One anomaly incident, deduplicated across monitored levels.

    ``scope`` names the series in which the incident is clearest (``{}`` is the total, ``{"service": "X"}``
    a service); ``related_scopes`` lists the other levels where the same incident was seen.
    """

    model_config = ConfigDict(frozen=True)

    anomaly_id: str
    scope: dict[str, str]
    related_scopes: list[dict[str, str]] = Field(default_factory=list)
    start_date: date
    end_date: date
    """Last anomalous day (inclusive)."""
    actual_spend: Decimal
    expected_spend: Decimal
    impact: Decimal
    impact_pct: float | None
    max_daily_impact: Decimal
    score: float = Field(ge=0, le=1)
    severity: AnomalySeverity
    root_causes: list[RootCause]
    contributions: list[DimensionContribution] = Field(default_factory=list)
    """For every analysed dimension, its values ranked by contribution (plus an ``(other)`` remainder);
    the contributions of one dimension add up to ``impact``."""
    kind: Literal["anomaly", "change"] = "anomaly"
    """``change``: the start of a lasting change of level (reported once, from its first day); the days
    after it are judged against the new level. ``anomaly``: a departure that returns."""
