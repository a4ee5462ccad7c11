"""The damped-trend model: seasonality test, deseasonalised ETS(A,Ad,N), intervals, and auto's panel default."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cloudoptima.analytics.forecasting import forecast_matrix
from cloudoptima.analytics.forecasting.damped_trend import damped_trend, seasonal_rows
from cloudoptima.analytics.forecasting.engine import PANEL_MIN_SERIES, SWITCH_RATIO


def _smooth_trend(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 500.0 + 2.0 * np.arange(n) + np.cumsum(rng.normal(0.0, 3.0, n))


def test_the_seasonality_test_separates_seasonal_from_random_walk_rows() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(260)
    seasonal = 100.0 + 20.0 * np.sin(2 * np.pi * t / 52) + rng.normal(0.0, 2.0, t.size)
    walk = 100.0 + np.cumsum(rng.normal(0.0, 1.0, t.size))
    short = np.full(t.size, np.nan)
    short[-100:] = seasonal[-100:]  # fewer than 3 seasons: never called seasonal
    assert seasonal_rows(np.stack([seasonal, walk, short]), 52).tolist() == [True, False, False]


def test_a_linear_trend_is_extrapolated_and_damped() -> None:
    values = (10.0 + 3.0 * np.arange(120))[None, :]
    fc = damped_trend(values, np.array([0]), 1, 12, 0.95)
    last = values[0, -1]
    steps = fc.mean[0] - last
    assert np.all(np.diff(steps) > 0)  # it keeps rising ...
    assert steps[0] > 2.0 and steps[-1] < 3.0 * 12  # ... but by less than the undamped slope
    assert np.all(fc.lower[0] <= fc.mean[0]) and np.all(fc.mean[0] <= fc.upper[0])


def test_a_multiplicative_season_is_put_back_on_the_forecast() -> None:
    t = np.arange(52 * 4)
    pattern = 1.0 + 0.5 * np.sin(2 * np.pi * t / 52)
    values = (200.0 * pattern)[None, :]
    fc = damped_trend(values, np.array([0]), 52, 26, 0.95)
    future = 200.0 * (1.0 + 0.5 * np.sin(2 * np.pi * (t[-1] + 1 + np.arange(26)) / 52))
    assert np.max(np.abs(fc.mean[0] - future)) < 0.05 * 200.0


def test_missing_values_and_late_starts_do_not_break_the_fit() -> None:
    values = np.stack([_smooth_trend(1, 150), _smooth_trend(2, 150)])
    values[0, 40:45] = np.nan
    values[1, :60] = np.nan
    fc = damped_trend(values, np.array([0, 60]), 1, 10, 0.9)
    assert np.isfinite(fc.mean).all() and np.isfinite(fc.lower).all() and np.isfinite(fc.upper).all()
    # Intervals widen with the horizon.
    assert np.all(np.diff(fc.upper - fc.mean, axis=1) >= 0)


def test_auto_defaults_to_the_panel_winner_for_many_series() -> None:
    n = 200  # 3 seasons of fitting + 3 folds of 13 weeks
    matrix = np.stack([_smooth_trend(seed, n) for seed in range(PANEL_MIN_SERIES)])
    result = forecast_matrix(matrix, pd.date_range("2020-01-05", periods=n, freq="W-SUN"), "W", 13)
    assert result.scores is not None
    medians = {
        name: float(np.nanmedian(score.mase_insample))
        for name, score in result.scores.items()
        if name in ("fast", "damped", "snaive")
    }
    default = min(medians, key=lambda k: medians[k])
    for row, chosen in enumerate(result.chosen):
        maes = {name: float(result.scores[name].mae[row]) for name in medians}
        best = min(maes, key=lambda k: maes[k])
        assert chosen == (best if maes[best] < SWITCH_RATIO * maes[default] else default)
    # On smooth trending series the damped trend wins the panel (the robust median model lags a trend).
    assert default == "damped"
