"""Damped additive Holt-Winters, ETS(A,Ad,A), vectorised across series (one half of the fast model).

Contract:
- ``holt_winters(values, start, m, horizon, level)`` fits every row of ``values`` (``(S, T)``, ``NaN`` =
  missing) from its ``start`` index, with season ``m`` (``m = 1``: damped Holt, no season).
- Smoothing parameters (α, β, γ, φ) are chosen per series from a fixed grid by in-sample one-step squared
  error; every grid point of every series is filtered in the same numpy pass (a time loop over ``(G, S)``
  arrays), so 1,000 series cost about as much as a few.
- Missing observations do not update the state (the one-step forecast stands in for them).
- Outlier-robust (after Gelper, Fried & Croux 2010): the one-step error that updates the state, and that
  the grid search scores, is clipped at ``ROBUST_K`` times a running scale (an exponentially weighted mean
  of absolute errors with weight ``SCALE_LAMBDA``, started at the spread of the first ``2m`` values and
  at least 1 % of the level). A one-day spike therefore barely moves level, trend or season, while a
  lasting step raises the scale within days and is followed. ``ROBUST_K = None`` turns this off.
- Interval half-width ``z·σ·sqrt(1 + Σ_{j<h} (α + βφ_j + γ·[j mod m = 0])²)`` (Hyndman et al. 2008, class 1),
  ``σ²`` the one-step residual variance. Deterministic: no randomness anywhere.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np

from cloudoptima.analytics.forecasting.base import BatchForecast, z_value
from cloudoptima.analytics.forecasting.series import FloatArray, IntArray

ALPHAS = (0.03, 0.1, 0.2, 0.35, 0.55, 0.8)
BETA_FRACTIONS = (0.0, 0.05)
"""β as a fraction of α (ETS admissibility needs 0 ≤ β ≤ α); small, so a level step is not read as a trend."""
GAMMAS = (0.0, 0.05, 0.15, 0.3)
PHIS = (0.9,)
ROBUST_K: float | None = 3.0
"""Errors beyond this many running scales are clipped before they update the state (None: no clipping)."""
SCALE_LAMBDA = 0.1
"""Strongly damped trend only: a trend adds at most φ/(1-φ) = 9 periods of the last slope. Undamped and
lightly damped trends won on one-step in-sample error but extrapolated cost steps (a launch, a new fleet)
as lasting growth and lost to seasonal naive on held-out months of the sandbox estates."""


@dataclass(frozen=True)
class _Grid:
    alpha: FloatArray
    beta: FloatArray
    gamma: FloatArray
    phi: FloatArray


def _grid(m: int) -> _Grid:
    gammas = GAMMAS if m > 1 else (0.0,)
    rows = [
        (a, a * bf, g, p)
        for a, bf, g, p in itertools.product(ALPHAS, BETA_FRACTIONS, gammas, PHIS)
        if g <= 1.0 - a
    ]
    arr = np.asarray(rows, dtype=np.float64)
    return _Grid(arr[:, 0:1], arr[:, 1:2], arr[:, 2:3], arr[:, 3:4])


def _initial_states(values: FloatArray, start: IntArray, m: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Level (at ``start - 1``), trend and seasonal indices (by absolute phase) from the first 2m values."""
    n_series, n_time = values.shape
    width = 2 * m if m > 1 else min(4, n_time)
    raw = start[:, None] + np.arange(width)[None, :]
    window = np.take_along_axis(values, np.clip(raw, 0, n_time - 1), axis=1)
    window = np.where(raw <= n_time - 1, window, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first = np.nanmean(window[:, : width // 2], axis=1)
        second = np.nanmean(window[:, width // 2 :], axis=1)
        overall = np.nanmean(window, axis=1)
    overall = np.where(np.isfinite(overall), overall, 0.0)
    first = np.where(np.isfinite(first), first, overall)
    second = np.where(np.isfinite(second), second, overall)
    half = width // 2
    trend = (second - first) / max(half, 1)
    level = overall - trend * (half + 0.5)
    season = np.zeros((n_series, max(m, 1)))
    if m > 1:
        ramp = overall[:, None] + trend[:, None] * (np.arange(width)[None, :] - (width - 1) / 2.0)
        dev = (window - ramp).reshape(n_series, 2, m)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            phase_dev = np.nanmean(dev, axis=1)
        phase_dev = np.where(np.isfinite(phase_dev), phase_dev, 0.0)
        phase_dev -= phase_dev.mean(axis=1, keepdims=True)
        phases = (start[:, None] + np.arange(m)[None, :]) % m
        np.put_along_axis(season, phases, phase_dev, axis=1)
    return level, trend, season


def _initial_scale(values: FloatArray, start: IntArray, m: int, level: FloatArray) -> FloatArray:
    """Mean absolute deviation of the first ``2m`` fitted values from their mean, floored at 1 % of the level."""
    width = 2 * m if m > 1 else min(4, values.shape[1])
    raw = start[:, None] + np.arange(width)[None, :]
    window = np.take_along_axis(values, np.clip(raw, 0, values.shape[1] - 1), axis=1)
    window = np.where(raw <= values.shape[1] - 1, window, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmean(np.abs(window - np.nanmean(window, axis=1, keepdims=True)), axis=1)
    spread = np.where(np.isfinite(spread), spread, 0.0)
    out: FloatArray = np.maximum(spread, np.maximum(0.01 * np.abs(level), 1e-9))
    return out


def holt_winters(values: FloatArray, start: IntArray, m: int, horizon: int, level: float) -> BatchForecast:
    """Fit ETS(A,Ad,A) per row by grid search and forecast ``horizon`` steps with intervals."""
    n_series, n_time = values.shape
    grid = _grid(m)
    n_grid = grid.alpha.shape[0]
    lvl0, trd0, sea0 = _initial_states(values, start, m)
    lvl = np.repeat(lvl0[None, :], n_grid, axis=0)
    trd = np.repeat(trd0[None, :], n_grid, axis=0)
    sea = np.repeat(sea0[None, :, :], n_grid, axis=0)
    sse = np.zeros((n_grid, n_series))
    count = np.zeros(n_series)
    burn_in = start + max(m, 2)
    scale = np.repeat(_initial_scale(values, start, m, lvl0)[None, :], n_grid, axis=0)
    for t in range(n_time):
        active = t >= start
        if not active.any():
            continue
        k = t % m
        y = values[:, t]
        observed = np.isfinite(y) & active
        pred = lvl + grid.phi * trd + sea[:, :, k]
        raw = np.where(observed, np.nan_to_num(y) - pred, 0.0)
        if ROBUST_K is not None:
            bound = ROBUST_K * scale
            err = np.clip(raw, -bound, bound)
            scale = np.where(observed, (1.0 - SCALE_LAMBDA) * scale + SCALE_LAMBDA * np.abs(raw), scale)
        else:
            err = raw
        scored = observed & (t >= burn_in)
        sse += np.where(scored, err * err, 0.0)
        count += scored
        lvl = np.where(active, lvl + grid.phi * trd + grid.alpha * err, lvl)
        trd = np.where(active, grid.phi * trd + grid.beta * err, trd)
        sea[:, :, k] = np.where(active, sea[:, :, k] + grid.gamma * err, sea[:, :, k])
    best = np.argmin(sse, axis=0)
    cols = np.arange(n_series)
    alpha, beta = grid.alpha[best, 0], grid.beta[best, 0]
    gamma, phi = grid.gamma[best, 0], grid.phi[best, 0]
    l_end, b_end, s_end = lvl[best, cols], trd[best, cols], sea[best, cols, :]
    sigma = np.sqrt(sse[best, cols] / np.maximum(count - 1, 1))
    steps = np.arange(1, horizon + 1)
    phi_pow = phi[:, None] ** steps[None, :]
    phi_cum = np.cumsum(phi_pow, axis=1)  # φ_h = φ + … + φ^h
    phases = (n_time + steps - 1) % m
    mean = l_end[:, None] + phi_cum * b_end[:, None] + s_end[:, phases]
    season_hit = ((steps % m) == 0).astype(np.float64) if m > 1 else np.zeros(horizon)
    c = alpha[:, None] + beta[:, None] * phi_cum + gamma[:, None] * season_hit[None, :]
    c_sq = np.concatenate([np.zeros((n_series, 1)), np.cumsum(c[:, :-1] ** 2, axis=1)], axis=1)
    width = z_value(level) * sigma[:, None] * np.sqrt(1.0 + c_sq)
    return BatchForecast(mean=mean, lower=mean - width, upper=mean + width)
