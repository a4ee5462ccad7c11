"""Seasonal-naive and short-history naive forecasts (vectorised across series).

Contract:
- ``seasonal_naive``: ``ŷ[T+h] = y[T+h-m·ceil(h/m)]`` exactly (the last observed season repeated); a missing
  value is replaced by the same phase one season earlier. Interval: ``± z·σ·sqrt(ceil(h/m))`` with σ the RMS
  of in-sample seasonal differences (Hyndman's snaive interval).
- ``short_history_naive``: for fewer than 14 observations; the mean of the last ≤ 7 observations, with a
  deliberately wide interval ``± 2·z·sd·sqrt(1 + h/7)`` where ``sd`` is the sample standard deviation,
  at least 25 % of the level (and 1.0 for a single observation at level 0).
"""

from __future__ import annotations

import numpy as np

from cloudoptima.analytics.forecasting.base import BatchForecast, z_value
from cloudoptima.analytics.forecasting.series import FloatArray, IntArray


def _fill_by_phase(values: FloatArray, m: int) -> FloatArray:
    """Replace NaN by the value one season earlier (repeatedly), leaving leading NaNs alone."""
    filled = values.copy()
    for t in range(m, filled.shape[1]):
        col = filled[:, t]
        missing = np.isnan(col)
        if missing.any():
            col[missing] = filled[missing, t - m]
    return filled


def seasonal_naive(values: FloatArray, start: IntArray, m: int, horizon: int, level: float) -> BatchForecast:
    """Seasonal-naive forecast with season ``m`` (``m = 1`` is the plain naive forecast)."""
    n_time = values.shape[1]
    filled = _fill_by_phase(values, m)
    steps = np.arange(1, horizon + 1)
    source = n_time - m + ((steps - 1) % m)
    mean = filled[:, source]
    diffs = filled[:, m:] - filled[:, :-m]
    valid = np.isfinite(diffs) & (np.arange(m, n_time)[None, :] >= (start[:, None] + m))
    sq = np.where(valid, diffs, 0.0) ** 2
    count = valid.sum(axis=1)
    sigma = np.sqrt(sq.sum(axis=1) / np.maximum(count, 1))
    sigma = np.where(count > 0, sigma, np.nanstd(values, axis=1))
    width = z_value(level) * sigma[:, None] * np.sqrt(np.ceil(steps / m))[None, :]
    return BatchForecast(mean=mean, lower=mean - width, upper=mean + width)


def short_history_naive(values: FloatArray, horizon: int, level: float) -> BatchForecast:
    """Naive forecast for very short histories, with intervals wide on purpose."""
    means = np.empty(values.shape[0])
    sds = np.empty(values.shape[0])
    for i, row in enumerate(values):
        obs = row[np.isfinite(row)]
        if obs.size == 0:
            raise ValueError("cannot forecast a series without observations")
        means[i] = float(np.mean(obs[-7:]))
        spread = float(np.std(obs, ddof=1)) if obs.size >= 2 else 0.0
        sds[i] = max(spread, 0.25 * abs(means[i]))
        if obs.size == 1 and means[i] == 0:
            sds[i] = 1.0
    steps = np.arange(1, horizon + 1)
    mean = np.repeat(means[:, None], horizon, axis=1)
    width = 2.0 * z_value(level) * sds[:, None] * np.sqrt(1.0 + steps / 7.0)[None, :]
    return BatchForecast(mean=mean, lower=mean - width, upper=mean + width)
