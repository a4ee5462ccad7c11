"""Damped-trend exponential smoothing on seasonally adjusted data, vectorised across series.

The M4 competition's strongest simple benchmark family (Makridakis et al. 2020: "Damped", SES, Holt and
their combination, each on data deseasonalised by classical decomposition when a seasonality test
passes). It complements the fast model: it follows a level and a (damped) drift by least squares and
does not take medians, so on smooth business series it wins where the robust model lags.

Contract (``damped_trend(values, start, m, horizon, level)``, ``(S, T)`` values with ``NaN`` = missing,
each row fitted from its ``start``):
- Seasonality (``m > 1``): a row is seasonal when its autocorrelation at lag ``m`` exceeds the 90 %
  limit ``1.645·sqrt((1 + 2·Σ_{k<m} r_k²) / n)`` (the M4 benchmarks' test) and it has at least ``3m``
  observations. A seasonal row is divided by (all values > 0) or reduced by (otherwise) classical
  decomposition indices — the mean, per phase, of the value over its centred moving average — and the
  forecast is re-seasonalised the same way.
- ETS(A,Ad,N): level ``ℓ``, trend ``b``; ``ŷ = ℓ + φb``; ``ℓ ← ŷ + αe``; ``b ← β*(ℓ_new − ℓ) + (1 − β*)φb``.
  (α, β*, φ) are chosen per series from a fixed grid by in-sample one-step squared error; every grid point
  of every series is filtered in one numpy pass. Missing values do not update the state.
- Interval half-width ``z·σ·sqrt(1 + Σ_{j=1}^{h−1} α²(1 + β*·Σ_{i≤j} φ^i)²)`` (Hyndman et al. 2008, class
  1), σ the one-step residual RMS of the chosen parameters; scaled by the seasonal index for a
  multiplicative row. Deterministic.
"""

from __future__ import annotations

import itertools

import numpy as np

from cloudoptima.analytics.forecasting.base import BatchForecast, z_value
from cloudoptima.analytics.forecasting.series import FloatArray, IntArray

ALPHAS = (0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95)
BETAS = (0.01, 0.05, 0.1, 0.2)
PHIS = (0.8, 0.9, 0.95, 0.98)
SEASONALITY_Z = 1.645


def _masked(values: FloatArray, start: IntArray) -> FloatArray:
    """``values`` with everything before each row's ``start`` set to NaN."""
    before = np.arange(values.shape[1])[None, :] < start[:, None]
    return np.where(before, np.nan, values)


def seasonal_rows(values: FloatArray, m: int) -> np.ndarray:  # type: ignore[type-arg]
    """Which rows pass the lag-``m`` autocorrelation test at 90 % (``values`` already masked)."""
    n_series = values.shape[0]
    seasonal = np.zeros(n_series, dtype=bool)
    if m <= 1:
        return seasonal
    for i in range(n_series):
        obs = values[i][np.isfinite(values[i])]
        if obs.size < 3 * m:
            continue
        dev = obs - obs.mean()
        denom = float(np.dot(dev, dev))
        if denom == 0.0:
            continue
        acf = np.array([np.dot(dev[k:], dev[:-k]) / denom for k in range(1, m + 1)])
        limit = SEASONALITY_Z * np.sqrt((1.0 + 2.0 * np.sum(acf[:-1] ** 2)) / obs.size)
        seasonal[i] = abs(acf[-1]) > limit
    return seasonal


def _indices(row: FloatArray, m: int, multiplicative: bool) -> FloatArray:
    """Classical-decomposition seasonal indices per phase (phase 0 = the row's column 0)."""
    n = row.size
    kernel = np.ones(m + 1) / m
    kernel[0] = kernel[-1] = 0.5 / m
    if m % 2:
        kernel = np.ones(m) / m
    filled = np.where(np.isfinite(row), row, np.nan)
    trend = np.convolve(np.nan_to_num(filled), kernel, mode="same")
    counts = np.convolve(np.isfinite(filled).astype(float), kernel, mode="same")
    half = kernel.size // 2
    valid = np.zeros(n, dtype=bool)
    valid[half : n - half] = True
    valid &= np.isfinite(filled) & (counts > 0.999)
    ratio = np.full(n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio[valid] = filled[valid] / trend[valid] if multiplicative else filled[valid] - trend[valid]
    phase = np.arange(n) % m
    idx = np.array(
        [np.nanmean(ratio[phase == p]) if np.isfinite(ratio[phase == p]).any() else np.nan for p in range(m)]
    )
    neutral = 1.0 if multiplicative else 0.0
    idx = np.where(np.isfinite(idx), idx, neutral)
    if multiplicative:
        idx = np.where(idx > 0, idx, 1.0)
        return np.asarray(idx / idx.mean())
    return np.asarray(idx - idx.mean())


def damped_trend(values: FloatArray, start: IntArray, m: int, horizon: int, level: float) -> BatchForecast:
    """Damped-trend forecasts of every row (see module contract)."""
    data = _masked(values, start)
    n_series, n_time = data.shape
    seasonal = seasonal_rows(data, m)
    mult = np.zeros(n_series, dtype=bool)
    phase_idx = np.zeros((n_series, max(m, 1)))
    adjusted = data.copy()
    for i in np.flatnonzero(seasonal):
        obs = data[i][np.isfinite(data[i])]
        mult[i] = bool(np.all(obs > 0))
        phase_idx[i] = _indices(data[i], m, bool(mult[i]))
        per_column = phase_idx[i][np.arange(n_time) % m]
        adjusted[i] = data[i] / per_column if mult[i] else data[i] - per_column
    mean, sigma, coef, _alpha = _fit(adjusted, horizon)
    width = z_value(level) * sigma[:, None] * coef
    lower, upper = mean - width, mean + width
    if seasonal.any():
        future = phase_idx[:, (n_time + np.arange(horizon)) % max(m, 1)]
        factor = np.where(seasonal[:, None] & mult[:, None], future, 1.0)
        shift = np.where(seasonal[:, None] & ~mult[:, None], future, 0.0)
        mean, lower, upper = mean * factor + shift, lower * factor + shift, upper * factor + shift
    return BatchForecast(mean=mean, lower=lower, upper=upper)


def simple_exponential_smoothing(values: FloatArray, horizon: int) -> tuple[FloatArray, FloatArray]:
    """(mean (S, h), chosen α (S,)) of SES (no trend), α from the same grid by in-sample squared error."""
    mean, _sigma, _coef, alpha = _fit(values, horizon, betas=(0.0,), phis=(0.0,))
    return mean, alpha


def _fit(
    data: FloatArray,
    horizon: int,
    *,
    betas: tuple[float, ...] = BETAS,
    phis: tuple[float, ...] = PHIS,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(mean (S, h), residual σ (S,), interval coefficient (S, h), α (S,)) of the best grid point per series."""
    grid = np.asarray(list(itertools.product(ALPHAS, betas, phis)), dtype=np.float64)
    alpha, beta, phi = grid[:, 0][None, :], grid[:, 1][None, :], grid[:, 2][None, :]
    n_series = data.shape[0]
    lvl = np.full((n_series, grid.shape[0]), np.nan)
    trend = np.zeros_like(lvl)
    sse = np.zeros_like(lvl)
    count = np.zeros((n_series, 1))
    for column in data.T:
        y = column[:, None]
        seen = np.isfinite(y)
        first = seen & np.isnan(lvl)
        update = seen & ~first
        pred = lvl + phi * trend
        err = np.where(update, y - pred, 0.0)
        sse += err**2
        count += update[:, :1]
        new_level = np.where(
            first, y, np.where(update, pred + alpha * err, np.where(np.isnan(lvl), lvl, pred))
        )
        trend = np.where(update, beta * (new_level - lvl) + (1.0 - beta) * phi * trend, phi * trend)
        lvl = new_level
    best = np.argmin(np.where(np.isfinite(sse), sse, np.inf), axis=1)
    rows = np.arange(n_series)
    a, b, p = grid[best, 0], grid[best, 1], grid[best, 2]
    last_level, last_trend = lvl[rows, best], trend[rows, best]
    steps = np.arange(1, horizon + 1)
    cum_phi = np.cumsum(p[:, None] ** steps[None, :], axis=1)  # Σ_{i≤h} φ^i
    mean = last_level[:, None] + last_trend[:, None] * cum_phi
    sigma = np.sqrt(sse[rows, best] / np.maximum(count[:, 0], 1.0))
    c = a[:, None] * (1.0 + b[:, None] * cum_phi)  # c_j for j = 1..h
    var = 1.0 + np.concatenate([np.zeros((n_series, 1)), np.cumsum(c[:, :-1] ** 2, axis=1)], axis=1)
    return mean, sigma, np.sqrt(var), a
