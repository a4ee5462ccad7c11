"""Forecasting engine: baselines, fast model accuracy, intervals, odd histories, the cost API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from cloudoptima.analytics.forecasting import forecast_costs, forecast_matrix, forecast_series
from cloudoptima.analytics.forecasting.backtest import backtest
from cloudoptima.analytics.forecasting.baselines import seasonal_naive
from cloudoptima.analytics.forecasting.engine import SWITCH_RATIO, _runner
from cloudoptima.analytics.forecasting.prophet_model import prophet_available
from cloudoptima.analytics.forecasting.series import prepare_matrix, regularise
from cloudoptima.domain.analytics import ForecastFlag
from cloudoptima_evals.data import prophet_csv

FIXTURES = prophet_csv().parent
SEEDS = range(6)


def weekly_series(seed: int, n: int, slope: float = 0.25, noise: float = 4.0) -> np.ndarray:
    """Trend × weekday pattern + Gaussian noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    pattern = np.array([1.0, 1.1, 1.05, 1.0, 0.95, 0.6, 0.5])
    return (100.0 + slope * t) * pattern[t % 7] + rng.normal(0.0, noise, n)


def daily_index(n: int, start: str = "2023-01-02") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="D")


def test_seasonal_naive_repeats_the_last_week_exactly() -> None:
    values = np.arange(1.0, 31.0)[None, :]
    fc = seasonal_naive(values, np.array([0]), 7, 17, 0.95)
    expected = np.tile(values[0, -7:], 3)[:17]
    assert np.array_equal(fc.mean[0], expected)
    assert np.all(fc.lower[0] < fc.mean[0])
    # the interval widens once per season (sqrt of the number of seasons ahead)
    width = fc.upper[0] - fc.mean[0]
    assert width[7] == pytest.approx(width[0] * np.sqrt(2))


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_model_beats_seasonal_naive_on_weekly_pattern_with_trend(seed: int) -> None:
    values = weekly_series(seed, 300)[None, :]
    result = forecast_matrix(values, daily_index(300), "D", 28, model="fast")
    assert result.scores is not None
    assert result.scores["fast"].mase[0] < 1.0
    assert result.scores["fast"].mae[0] < result.scores["snaive"].mae[0]


def test_fast_model_beats_seasonal_naive_on_the_real_prophet_example() -> None:
    frame = pd.read_csv(FIXTURES / "example_wp_log_peyton_manning.csv")
    grid, values = regularise(pd.DatetimeIndex(pd.to_datetime(frame["ds"])), frame["y"].to_numpy(float), "D")
    run = _runner(grid, "D", 7, 0.95)
    ratios = []
    for end in range(len(grid) - 600, len(grid) + 1, 120):  # six rolling windows of history
        scores = backtest(
            ["fast"], run, values[None, :end], prepare_matrix(values[None, :end], 7).start, 7, 28, "D"
        )
        assert scores is not None
        ratios.append(float(scores["fast"].mase[0]))
    assert np.mean(ratios) < 0.99, ratios
    assert np.median(ratios) < 1.0, ratios


def test_intervals_cover_about_the_nominal_share_of_future_values() -> None:
    horizon, inside, total = 28, 0, 0
    matrix = np.stack([weekly_series(seed, 300 + horizon, slope=0.1) for seed in range(40)])
    history, future = matrix[:, :300], matrix[:, 300:]
    for level in (0.8, 0.95):
        fc = forecast_matrix(
            history, daily_index(300), "D", horizon, level=level, model="fast", run_backtest=False
        )
        inside = int(((future >= fc.forecast.lower) & (future <= fc.forecast.upper)).sum())
        total = future.size
        assert abs(inside / total - level) < 0.06, (level, inside / total)


def test_short_history_uses_naive_with_wide_intervals_and_a_flag() -> None:
    history = {date(2024, 3, 1) + timedelta(days=i): 10.0 + i % 3 for i in range(9)}
    result = forecast_costs(history, days_ahead=14)
    assert result.model == "naive"
    assert ForecastFlag.SHORT_HISTORY in result.flags
    first = result.points[0]
    assert first.upper - first.lower >= Decimal("10")  # ±2.5 around a level of 11 at least
    assert result.points[-1].upper - result.points[-1].lower > first.upper - first.lower


def test_gaps_are_missing_values_not_zeros() -> None:
    values = weekly_series(3, 200)
    index = daily_index(200)
    keep = np.ones(200, dtype=bool)
    keep[[50, 51, 52, 120, 180]] = False
    result = forecast_series(index[keep], values[keep], "D", 14, model="fast")
    assert ForecastFlag.GAPS_FILLED in result.flags
    full = forecast_series(index, values, "D", 14, model="fast")
    assert np.max(np.abs(result.mean - full.mean)) < 0.1 * np.mean(full.mean)


def test_leading_zeros_are_trimmed_and_forecasts_stay_nonnegative() -> None:
    values = np.concatenate([np.zeros(60), weekly_series(1, 120, slope=-0.7, noise=8.0)])
    result = forecast_series(daily_index(180), values, "D", 120, model="fast")
    assert ForecastFlag.LEADING_ZEROS_TRIMMED in result.flags
    assert result.fit_start == daily_index(180)[60]
    assert np.all(result.lower >= 0)
    assert np.all(result.mean >= 0)


def test_forecast_after_a_level_shift_follows_the_new_level() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(240)
    pattern = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.7])
    values = 100.0 * pattern[t % 7] + rng.normal(0, 3, 240) + np.where(t >= 150, 80.0, 0.0)
    result = forecast_series(daily_index(240), values, "D", 28)
    assert ForecastFlag.LEVEL_SHIFT in result.flags
    assert abs((result.fit_start - daily_index(240)[150]).days) <= 1
    new_level = np.mean(100.0 * pattern[np.arange(240, 268) % 7] + 80.0)
    assert abs(np.mean(result.mean) - new_level) < 0.05 * new_level


def test_no_level_shift_flag_on_a_steady_trend() -> None:
    result = forecast_series(daily_index(240), weekly_series(2, 240, slope=0.5), "D", 14, model="fast")
    assert ForecastFlag.LEVEL_SHIFT not in result.flags


def test_horizon_beyond_365_days_is_rejected() -> None:
    history = {date(2024, 1, 1) + timedelta(days=i): 5.0 for i in range(60)}
    with pytest.raises(ValueError, match="between 1 and 365"):
        forecast_costs(history, days_ahead=366)
    with pytest.raises(ValueError, match="between 1 and 365"):
        forecast_series(daily_index(60), np.ones(60), "D", 400)


def test_forecast_costs_returns_cents_and_a_consistent_total() -> None:
    values = weekly_series(4, 120)
    history = [(date(2024, 1, 1) + timedelta(days=i), Decimal(f"{v:.2f}")) for i, v in enumerate(values)]
    result = forecast_costs(history, days_ahead=45, confidence_level=0.9, model="fast")
    assert len(result.points) == 45
    assert result.points[0].date == date(2024, 1, 1) + timedelta(days=120)
    assert all(p.predicted.as_tuple().exponent == -2 for p in result.points)
    assert result.total == sum(p.predicted for p in result.points)
    assert all(p.lower <= p.predicted <= p.upper for p in result.points)
    assert result.accuracy is not None
    assert result.accuracy.model == "fast"
    assert result.accuracy.mase is not None
    assert result.accuracy.mase < 1.5
    assert 0.0 <= result.accuracy.coverage <= 1.0


def test_auto_keeps_fast_unless_another_model_is_clearly_better_in_the_backtest() -> None:
    matrix = np.stack([weekly_series(5, 200), np.tile([50.0, 10.0, 90.0, 20.0, 70.0, 5.0, 60.0], 29)[:200]])
    result = forecast_matrix(matrix, daily_index(200), "D", 28, prophet_max_series=0)
    assert result.scores is not None
    for row, chosen in enumerate(result.chosen):
        maes = {name: float(s.mae[row]) for name, s in result.scores.items()}
        best = min(maes, key=lambda k: maes[k])
        expected = best if maes[best] < SWITCH_RATIO * maes["fast"] else "fast"  # two series: default fast
        assert chosen == expected, (row, maes)


def step_series(seed: int, n: int) -> np.ndarray:
    """Noise-free daily cost that moves in steps (launches), with one-day spikes, like a cloud estate."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    level = 1000.0 + np.cumsum(np.where(rng.random(n) < 0.02, rng.uniform(-60, 250, n), 0.0))
    weekday = np.where(t % 7 >= 5, -40.0, 0.0)
    spike = np.where(rng.random(n) < 0.01, rng.uniform(200, 800, n), 0.0)
    return level + weekday + spike


def test_fast_model_beats_seasonal_naive_on_step_shaped_cost() -> None:
    """Level steps are not extrapolated as a trend and a spike in the last week is not repeated."""
    model_err = naive_err = 0.0
    for seed in range(30):
        values = step_series(seed, 178)
        for origin in (94, 122, 150):
            history, actual = values[None, :origin], values[origin : origin + 28]
            index = daily_index(origin)
            fast = forecast_matrix(history, index, "D", 28, model="fast", run_backtest=False)
            naive = forecast_matrix(history, index, "D", 28, model="snaive", run_backtest=False)
            model_err += float(np.abs(actual - fast.forecast.mean[0]).sum())
            naive_err += float(np.abs(actual - naive.forecast.mean[0]).sum())
    assert model_err < 0.92 * naive_err, model_err / naive_err


def test_fast_model_ignores_a_spike_on_the_last_day() -> None:
    values = np.tile([100.0, 100.0, 100.0, 100.0, 100.0, 80.0, 80.0], 20)
    values[-1] = 900.0
    result = forecast_series(daily_index(140), values, "D", 14, model="fast")
    assert np.max(np.abs(result.mean - np.tile([100.0] * 5 + [80.0] * 2, 2))) < 0.1 * 100.0 + 60.0
    assert float(np.mean(result.mean)) < 0.5 * (94.3 + 900.0 / 7 + 94.3)


def test_auto_leaves_prophet_out_below_two_years_of_history() -> None:
    values = weekly_series(1, 200)
    result = forecast_matrix(values[None, :], daily_index(200), "D", 14)
    assert result.scores is not None
    assert "prophet" not in result.scores


def test_many_series_are_forecast_in_one_call() -> None:
    matrix = np.stack([weekly_series(seed, 150) for seed in range(50)])
    result = forecast_matrix(matrix, daily_index(150), "D", 365, model="auto")
    assert result.forecast.mean.shape == (50, 365)
    assert set(result.chosen) <= {"fast", "damped", "snaive"}


@pytest.mark.skipif(not prophet_available(), reason="prophet not installed")
def test_prophet_fits_a_weekly_series_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    values = weekly_series(0, 180)
    result = forecast_series(daily_index(180), values, "D", 14, model="prophet")
    assert result.model == "prophet"
    truth = weekly_series(0, 194)[180:]
    assert np.mean(np.abs(result.mean - truth)) < 12.0
    assert np.all(result.lower <= result.mean)
    assert np.all(result.mean <= result.upper)
    captured = capfd.readouterr()
    assert "cmdstanpy" not in captured.out + captured.err
