"""Model choice and forecasting of one or many aligned series.

Contract:
- ``forecast_matrix(values, index, freq, horizon, ...)`` forecasts every row of an ``(S, T)`` matrix whose
  columns are the regular grid ``index`` (``NaN`` = missing). ``model="auto"`` backtests (rolling origin)
  ``fast`` (damped Holt-Winters combined with the robust seasonal-level model), ``damped`` (damped-trend
  ETS on seasonally adjusted data, the M4 benchmark family), ``snaive`` and, for at most
  ``prophet_max_series`` series whose grid spans at least ``PROPHET_AUTO_MIN_DAYS`` (where Prophet's
  yearly seasonality is on; on shorter histories its changepoint trend extrapolated cost steps and lost to
  seasonal naive on held-out months), ``prophet``. Each series keeps a default model unless another
  candidate's backtest MAE is below ``SWITCH_RATIO`` × the default's (a clear win: with three folds, the
  argmin mostly picks whichever model got lucky on the last few level steps). The default is ``fast`` for
  fewer than ``PANEL_MIN_SERIES`` series, else the candidate with the lowest median backtest MASE over the
  batch (on M4's weekly series that is ``damped``; on daily cloud cost it is mostly ``fast``). Without a
  possible backtest ``auto`` uses ``fast``.
- Rows with fewer than ``SHORT_HISTORY_MIN`` observations in their fitting window use the short-history
  naive model (flag ``SHORT_HISTORY``); rows whose observations are all ≥ 0 get forecasts clipped at 0.
- ``horizon`` must be between 1 and the number of periods in 365 days, else ``ValueError``.
- ``forecast_series`` does the same for one series given as timestamps + values (any order, unique).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cloudoptima.analytics.forecasting.backtest import ModelScores, RunModel, backtest
from cloudoptima.analytics.forecasting.base import BatchForecast, nonnegative_rows
from cloudoptima.analytics.forecasting.baselines import seasonal_naive, short_history_naive
from cloudoptima.analytics.forecasting.damped_trend import damped_trend
from cloudoptima.analytics.forecasting.fast_model import fast_forecast
from cloudoptima.analytics.forecasting.prophet_model import (
    ProphetUnavailableError,
    prophet_available,
    prophet_forecast,
)
from cloudoptima.analytics.forecasting.series import (
    FloatArray,
    Freq,
    future_index,
    max_horizon,
    prepare_matrix,
    regularise,
    season_length,
)
from cloudoptima.domain.analytics import FittedModelName, ForecastFlag, ForecastModelName

SHORT_HISTORY_MIN = 14
PROPHET_AUTO_MAX_SERIES = 5
PROPHET_AUTO_MIN_DAYS = 730
SWITCH_RATIO = 0.8
"""``auto`` replaces the default model of a series only by a candidate whose backtest MAE is below this
share of the default's."""
PANEL_MIN_SERIES = 10
"""From this many series on, ``auto``'s default is the candidate with the lowest median backtest MASE
across the batch (a choice over many series is not luck); below it the default is ``fast``."""
_MODELS = ("auto", "prophet", "fast", "damped", "snaive")


@dataclass(frozen=True)
class MatrixForecast:
    """Forecasts of S series: chosen model, flags and backtest scores per series."""

    index: pd.DatetimeIndex
    """The ``horizon`` future timestamps."""
    forecast: BatchForecast
    chosen: list[FittedModelName]
    flags: list[list[ForecastFlag]]
    fit_start: list[int]
    """Per series, index into the history grid of the first value fitted on."""
    scores: dict[str, ModelScores] | None
    """Backtest scores per compared model (``None`` when no backtest ran)."""


@dataclass(frozen=True)
class SeriesForecast:
    """Forecast of one series (float values; the cost API converts money to Decimal)."""

    history_index: pd.DatetimeIndex
    index: pd.DatetimeIndex
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    model: FittedModelName
    flags: list[ForecastFlag]
    fit_start: pd.Timestamp
    scores: dict[str, ModelScores] | None = field(default=None)


def check_horizon(horizon: int, freq: Freq) -> None:
    """Raise ``ValueError`` unless ``1 ≤ horizon ≤`` the periods of ``freq`` in 365 days."""
    limit = max_horizon(freq)
    if not 1 <= horizon <= limit:
        raise ValueError(f"horizon must be between 1 and {limit} periods of {freq} (365 days), got {horizon}")


def _row_flags(values: FloatArray, start: int, leading: bool, shifted: bool) -> list[ForecastFlag]:
    flags: list[ForecastFlag] = []
    window = values[start:]
    seen = np.flatnonzero(np.isfinite(window))
    if seen.size and np.isnan(window[seen[0] : seen[-1] + 1]).any():
        flags.append(ForecastFlag.GAPS_FILLED)
    if leading:
        flags.append(ForecastFlag.LEADING_ZEROS_TRIMMED)
    if shifted:
        flags.append(ForecastFlag.LEVEL_SHIFT)
    obs = window[np.isfinite(window)]
    if obs.size and np.mean(obs == 0) > 0.5:
        flags.append(ForecastFlag.INTERMITTENT)
    return flags


def _runner(index: pd.DatetimeIndex, freq: Freq, m: int, level: float) -> RunModel:
    def run(name: str, train: FloatArray, length: int, horizon: int) -> BatchForecast:
        prep = prepare_matrix(train, m)
        if name == "snaive":
            fc = seasonal_naive(prep.values, prep.start, m, horizon, level)
        elif name == "fast":
            fc = fast_forecast(prep.values, prep.start, m, horizon, level)
        elif name == "damped":
            fc = damped_trend(prep.values, prep.start, m, horizon, level)
        elif name == "prophet":
            fc = prophet_forecast(prep.values, prep.start, index[:length], freq, horizon, level)
        else:  # pragma: no cover - names are internal
            raise ValueError(name)
        return fc.clipped(nonnegative_rows(train))

    return run


def forecast_matrix(
    values: FloatArray,
    index: pd.DatetimeIndex,
    freq: Freq,
    horizon: int,
    *,
    level: float = 0.95,
    model: ForecastModelName = "auto",
    run_backtest: bool = True,
    prophet_max_series: int = PROPHET_AUTO_MAX_SERIES,
) -> MatrixForecast:
    """Forecast every row of ``values`` ``horizon`` periods past ``index[-1]`` (see module contract)."""
    if model not in _MODELS:
        raise ValueError(f"model must be one of {', '.join(_MODELS)}, got {model!r}")
    check_horizon(horizon, freq)
    if values.ndim != 2 or values.shape[1] != len(index):
        raise ValueError("values must be (series, len(index))")
    n_series, n_time = values.shape
    m = season_length(freq, n_time)
    prep = prepare_matrix(values, m)
    flags = [
        _row_flags(values[i], int(prep.start[i]), bool(prep.leading_zeros[i]), bool(prep.level_shift[i]))
        for i in range(n_series)
    ]
    run = _runner(index, freq, m, level)
    if model == "auto":
        candidates = ["fast", "damped", "snaive"]
        span_days = (index[-1] - index[0]) / pd.Timedelta(days=1)
        if n_series <= prophet_max_series and n_time >= 28 and span_days >= PROPHET_AUTO_MIN_DAYS:
            if prophet_available():
                candidates.append("prophet")
            else:
                for f in flags:
                    f.append(ForecastFlag.PROPHET_UNAVAILABLE)
    else:
        candidates = [model]
    scores = None
    if run_backtest:
        try:
            scores = backtest(candidates, run, values, prep.start, m, horizon, freq)
        except ProphetUnavailableError:
            candidates = [c for c in candidates if c != "prophet"] or ["fast"]
            for f in flags:
                f.append(ForecastFlag.PROPHET_UNAVAILABLE)
            scores = backtest(candidates, run, values, prep.start, m, horizon, freq)
    if scores is None:
        for f in flags:
            f.append(ForecastFlag.NO_BACKTEST)
    chosen = _choose(candidates, scores, n_series)
    mean = np.empty((n_series, horizon))
    lower, upper = np.empty_like(mean), np.empty_like(mean)
    for name in dict.fromkeys(chosen):
        rows = [i for i, c in enumerate(chosen) if c == name]
        try:
            fc = run(name, values[rows], n_time, horizon)
        except ProphetUnavailableError:
            fc = run("fast", values[rows], n_time, horizon)
            for i in rows:
                chosen[i] = "fast"
                flags[i].append(ForecastFlag.PROPHET_UNAVAILABLE)
        mean[rows], lower[rows], upper[rows] = fc.mean, fc.lower, fc.upper
    n_fit = np.isfinite(prep.values).sum(axis=1) - np.array(
        [np.isfinite(prep.values[i, : prep.start[i]]).sum() for i in range(n_series)]
    )
    short = np.flatnonzero(n_fit < SHORT_HISTORY_MIN)
    if short.size:
        fc = short_history_naive(prep.values[short], horizon, level).clipped(nonnegative_rows(values[short]))
        mean[short], lower[short], upper[short] = fc.mean, fc.lower, fc.upper
        for row in short.tolist():
            chosen[row] = "naive"
            flags[row].append(ForecastFlag.SHORT_HISTORY)
    return MatrixForecast(
        index=future_index(index[-1], freq, horizon),
        forecast=BatchForecast(mean, lower, upper),
        chosen=chosen,
        flags=[list(dict.fromkeys(f)) for f in flags],
        fit_start=[int(s) for s in prep.start],
        scores=scores,
    )


def _choose(
    candidates: Sequence[str], scores: dict[str, ModelScores] | None, n: int
) -> list[FittedModelName]:
    names: list[FittedModelName] = [c for c in ("fast", "damped", "snaive", "prophet") if c in candidates]  # type: ignore[misc]
    if len(names) == 1:
        return [names[0]] * n
    if scores is None:
        return ["fast" if "fast" in names else names[0]] * n
    default = _default_model(names, scores, n)
    mae = np.stack([np.nan_to_num(scores[c].mae, nan=np.inf) for c in names])
    best = np.argmin(mae, axis=0)
    reference = mae[names.index(default)]
    keep = ~(mae[best, np.arange(n)] < SWITCH_RATIO * reference)
    return [default if k else names[int(b)] for b, k in zip(best, keep, strict=True)]


def _default_model(
    names: Sequence[FittedModelName], scores: dict[str, ModelScores], n: int
) -> FittedModelName:
    """``fast`` for a small batch; from ``PANEL_MIN_SERIES`` series on, the lowest median backtest MASE."""
    if n < PANEL_MIN_SERIES or "prophet" in names:
        return "fast" if "fast" in names else names[0]
    medians = []
    for name in names:
        scaled = scores[name].mase_insample
        finite = scaled[np.isfinite(scaled)]
        medians.append(float(np.median(finite)) if finite.size else np.inf)
    return names[int(np.argmin(medians))]


def forecast_series(
    timestamps: Sequence[pd.Timestamp] | pd.DatetimeIndex,
    values: Sequence[float] | FloatArray,
    freq: Freq,
    horizon: int,
    *,
    level: float = 0.95,
    model: ForecastModelName = "auto",
) -> SeriesForecast:
    """Forecast one series; timestamps must be unique and on the ``freq`` grid (order does not matter)."""
    check_horizon(horizon, freq)
    idx = pd.DatetimeIndex(timestamps)
    vals = np.asarray(values, dtype=np.float64)
    if idx.has_duplicates:
        raise ValueError("timestamps must be unique")
    order = np.argsort(idx.asi8)
    grid, filled = regularise(idx[order], vals[order], freq)
    if not np.isfinite(filled).any():
        raise ValueError("the series has no numeric values")
    result = forecast_matrix(filled[None, :], grid, freq, horizon, level=level, model=model)
    return SeriesForecast(
        history_index=grid,
        index=result.index,
        mean=result.forecast.mean[0],
        lower=result.forecast.lower[0],
        upper=result.forecast.upper[0],
        model=result.chosen[0],
        flags=result.flags[0],
        fit_start=grid[result.fit_start[0]],
        scores=result.scores,
    )
