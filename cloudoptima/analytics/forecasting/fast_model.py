"""The fast model: an equal-weight combination of damped Holt-Winters and the robust seasonal-level model.

Contract (``fast_forecast(values, start, m, horizon, level)``, ``(S, T)`` values with ``NaN`` = missing,
fitted from ``start``):
- mean = ½ (Holt-Winters ETS(A,Ad,A) mean + seasonal-level mean). Holt-Winters follows a drift and
  weights recent data; the seasonal-level model ignores one-off spikes and never extrapolates a level
  step as a trend. Their errors differ in kind, so the average is rarely worse than the better of the two
  and much better than the worse one (forecast combination; M4 competition) — and, unlike choosing one
  of them on a short backtest, it does not depend on which one happened to win the last few weeks.
- interval half-width per step = the largest of the Holt-Winters interval half-width and the empirical
  ``level`` quantile of past k-step moves (:func:`~.robust_level.empirical_widths`); when the history is
  too short for empirical quantiles, the seasonal-naive half-width stands in for them. Daily cost moves
  in steps (launches, decommissions) that one-step residuals of a smoothing model never see; the
  empirical quantiles do.
"""

from __future__ import annotations

import numpy as np

from cloudoptima.analytics.forecasting.base import BatchForecast
from cloudoptima.analytics.forecasting.baselines import seasonal_naive
from cloudoptima.analytics.forecasting.holt_winters import holt_winters
from cloudoptima.analytics.forecasting.robust_level import empirical_widths, seasonal_level
from cloudoptima.analytics.forecasting.series import FloatArray, IntArray


def fast_forecast(values: FloatArray, start: IntArray, m: int, horizon: int, level: float) -> BatchForecast:
    """Combined point forecast with empirically widened intervals (see module contract)."""
    hw = holt_winters(values, start, m, horizon, level)
    robust = seasonal_level(values, start, m, horizon)
    mean = 0.5 * (hw.mean + np.where(np.isfinite(robust), robust, hw.mean))
    width = hw.upper - hw.mean
    empirical = empirical_widths(values, start, m, horizon, level)
    missing = ~np.isfinite(empirical[:, 0])
    if missing.any():
        naive = seasonal_naive(values[missing], start[missing], m, horizon, level)
        empirical[missing] = naive.upper - naive.mean
    width = np.fmax(width, empirical)
    return BatchForecast(mean=mean, lower=mean - width, upper=mean + width)
