"""Robust seasonal-level model and empirical forecast-error widths (vectorised across series).

Contract:
- ``seasonal_level(values, start, m, horizon)`` forecasts each row of an ``(S, T)`` matrix (``NaN`` =
  missing, fitting from ``start``) as ``level + profile[phase]``: the seasonal profile is the median, over
  the last ``K ≤ PROFILE_SEASONS`` seasons, of each season's deviations from its own median; the level is
  the median of the last ``level_span(m)`` deseasonalised values. Medians make one-off spikes harmless
  and a level step is followed as soon as it holds for more than half of the level span. Drift: the
  median of the differences between consecutive block medians (blocks of ``max(m, level_span)``
  periods, up to ``DRIFT_BLOCKS`` of them; at least 2 differences) per period, damped by ``DRIFT_PHI``
  per period from the middle of the level span on. A steady trend moves every block and survives the
  median; a level step moves one block and does not.
- ``empirical_widths(values, start, m, horizon, level)`` is the (split-conformal) ``level`` quantile of the absolute
  ``k``-step errors the seasonal-level model made from every past origin (``k = 1 … min(horizon,
  EMPIRICAL_MAX_STEP)``; later steps grow with ``sqrt(k)`` from the last estimated one), non-decreasing in
  ``k``; ``NaN`` for a row with fewer than ``MIN_ORIGINS`` past origins. It measures how far the cost
  really moved within ``k`` periods in this history — steps and spikes included — which one-step
  residuals of a smoothing model do not.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cloudoptima.analytics.forecasting.series import FloatArray, IntArray

PROFILE_SEASONS = 4
DRIFT_BLOCKS = 8
DRIFT_PHI = 0.95
EMPIRICAL_MAX_STEP = 56
MIN_ORIGINS = 10
MAX_ORIGINS = 365
"""Only the most recent origins are used (bounded memory for long hourly series)."""
CHUNK = 256


def _conformal(errors: FloatArray, level: float) -> FloatArray:
    """Split-conformal quantile per row: the ``ceil((n + 1)·level)``-th smallest of the ``n`` finite
    errors (the largest if that rank exceeds ``n``), so few origins give a wider, not a narrower, width."""
    ordered = np.sort(errors, axis=1)  # NaN last
    count = np.isfinite(errors).sum(axis=1)
    rank = np.minimum(np.ceil((count + 1) * level).astype(np.int64), count) - 1
    picked = np.take_along_axis(ordered, np.maximum(rank, 0)[:, None], axis=1)[:, 0]
    out: FloatArray = np.where(count > 0, picked, np.nan)
    return out


def level_span(m: int) -> int:
    """Number of recent deseasonalised values whose median is the level (one season, 7 if no season)."""
    return m if 1 < m <= 24 else 7 if m == 1 else 8


def _fill_by_phase(values: FloatArray, m: int) -> FloatArray:
    filled = values.copy()
    if m <= 1:
        return filled
    for t in range(m, filled.shape[1]):
        col = filled[:, t]
        missing = np.isnan(col)
        if missing.any():
            col[missing] = filled[missing, t - m]
    return filled


def _masked(values: FloatArray, start: IntArray, m: int) -> FloatArray:
    out = _fill_by_phase(values, m)
    before = np.arange(values.shape[1])[None, :] < start[:, None]
    out[before] = np.nan
    return out


def _window_fit(windows: FloatArray, m: int) -> tuple[FloatArray, FloatArray]:
    """Level ``(..)`` and profile ``(.., m)`` from trailing windows ``(.., K·m)`` (oldest first)."""
    seasons = windows.shape[-1] // max(m, 1)
    median = np.nanmedian if np.isnan(windows).any() else np.median
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN
        if m > 1:
            blocks = windows.reshape(*windows.shape[:-1], seasons, m)
            dev = blocks - median(blocks, axis=-1, keepdims=True)
            profile = median(dev, axis=-2)
            profile = np.where(np.isfinite(profile), profile, 0.0)
        else:
            profile = np.zeros((*windows.shape[:-1], 1))
        span = level_span(m)
        recent = windows[..., -span:]
        phases = np.arange(windows.shape[-1] - span, windows.shape[-1]) % max(m, 1)
        level = median(recent - profile[..., phases], axis=-1)
    return level, profile


def _window_width(m: int) -> int:
    return PROFILE_SEASONS * m if m > 1 else level_span(m)


def seasonal_level(values: FloatArray, start: IntArray, m: int, horizon: int) -> FloatArray:
    """Point forecasts ``(S, horizon)`` of the seasonal-level model (see module contract)."""
    n_series, n_time = values.shape
    width = _window_width(m)
    data = _masked(values, start, m)
    if n_time < width:
        data = np.concatenate([np.full((n_series, width - n_time), np.nan), data], axis=1)
    level, profile = _window_fit(data[:, -width:], m)
    fallback = np.array([_last_finite(row) for row in data])
    level = np.where(np.isfinite(level), level, fallback)
    steps = np.arange(horizon)
    lag = (level_span(m) - 1) // 2
    damped = np.cumsum(DRIFT_PHI ** np.arange(horizon + lag + 1))[lag + 1 + steps]
    slope = _drift(data, m)
    out: FloatArray = level[:, None] + profile[:, steps % max(m, 1)] + slope[:, None] * damped[None, :]
    return out


def _drift(data: FloatArray, m: int) -> FloatArray:
    """Robust per-period slope from consecutive block medians (0 where fewer than 2 differences)."""
    block = max(m, level_span(m))
    n_blocks = min(DRIFT_BLOCKS, data.shape[1] // block)
    if n_blocks < 3:
        return np.zeros(data.shape[0])
    tail = data[:, data.shape[1] - n_blocks * block :].reshape(data.shape[0], n_blocks, block)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        diffs = np.diff(np.nanmedian(tail, axis=2), axis=1)
        slope = np.nanmedian(diffs, axis=1) / block
    enough = np.isfinite(diffs).sum(axis=1) >= 2
    out: FloatArray = np.where(enough & np.isfinite(slope), slope, 0.0)
    return out


def _last_finite(row: FloatArray) -> float:
    seen = np.flatnonzero(np.isfinite(row))
    return float(row[seen[-1]]) if seen.size else 0.0


def empirical_widths(values: FloatArray, start: IntArray, m: int, horizon: int, level: float) -> FloatArray:
    """``level`` quantiles of past absolute k-step errors, ``(S, horizon)`` (see module contract)."""
    n_series, n_time = values.shape
    out = np.full((n_series, horizon), np.nan)
    width = _window_width(m)
    steps = min(horizon, EMPIRICAL_MAX_STEP)
    if n_time <= width:
        return out
    data = _masked(values, start, m)[:, -(width + MAX_ORIGINS + steps) :]
    for lo in range(0, n_series, CHUNK):
        hi = min(lo + CHUNK, n_series)
        out[lo:hi] = _chunk_widths(data[lo:hi], m, width, steps, horizon, level)
    return out


def _chunk_widths(data: FloatArray, m: int, width: int, steps: int, horizon: int, level: float) -> FloatArray:
    n_series, n_time = data.shape
    windows = sliding_window_view(data, width, axis=1)[:, : n_time - width]  # origin t = width + i
    lev, prof = _window_fit(windows, m)  # (S, O), (S, O, m)
    n_origins = lev.shape[1]
    q = np.full((n_series, horizon), np.nan)
    last_ok = np.full(n_series, -1)
    for k in range(1, steps + 1):
        usable = n_origins - (k - 1)
        if usable <= 0:
            break
        actual = data[:, width + k - 1 : width + k - 1 + usable]
        pred = lev[:, :usable] + prof[:, :usable, (k - 1) % max(m, 1)]
        err = np.abs(actual - pred)
        count = np.isfinite(err).sum(axis=1)
        ok = count >= MIN_ORIGINS
        if not ok.any():
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            quant = _conformal(err, level)
        q[:, k - 1] = np.where(ok, quant, np.nan)
        last_ok = np.where(ok, k - 1, last_ok)
    rows = np.flatnonzero(last_ok >= 0)
    for r in rows:
        j = int(last_ok[r])
        filled = q[r, : j + 1]
        filled = np.where(np.isfinite(filled), filled, 0.0)
        filled = np.maximum.accumulate(filled)
        q[r, : j + 1] = filled
        if j + 1 < horizon:
            q[r, j + 1 :] = filled[-1] * np.sqrt(np.arange(j + 2, horizon + 1) / (j + 1))
    return q
