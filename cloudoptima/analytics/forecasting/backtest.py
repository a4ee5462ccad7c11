"""Rolling-origin backtest of forecasting models on many series at once.

Contract:
- ``backtest(models, run, values, start_fn, m, horizon, level, freq)`` holds out the last ``folds × h``
  periods in ``folds`` consecutive windows of ``h`` periods (``h = min(horizon, BACKTEST_HORIZON[freq])``,
  ``folds ≤ 3``); each fold re-prepares and refits every model on the data before its origin only.
- Returns ``None`` when not even one fold fits (history shorter than ``min_train + h``).
- Per model and series: MAE, RMSE, MAPE (percent, zero actuals skipped, ``NaN`` if none), interval coverage,
  ``mase`` = MAE / seasonal-naive MAE on the same folds (< 1 ⇔ better than seasonal naive) and
  ``mase_insample`` = MAE / in-sample MAE of one-season differences (Hyndman's MASE). Undefined → ``NaN``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cloudoptima.analytics.forecasting.base import BatchForecast
from cloudoptima.analytics.forecasting.series import FloatArray, Freq, IntArray

BACKTEST_HORIZON: dict[str, int] = {"D": 28, "H": 72, "W": 13}
MAX_FOLDS = 3

RunModel = Callable[[str, FloatArray, int, int], BatchForecast]
"""``run(model, train_values, train_length, horizon)`` → forecast of ``horizon`` periods after the train."""


@dataclass(frozen=True)
class ModelScores:
    """Backtest metrics of one model, one entry per series (``NaN`` where undefined)."""

    model: str
    mae: FloatArray
    rmse: FloatArray
    mape: FloatArray
    coverage: FloatArray
    mase: FloatArray
    mase_insample: FloatArray
    folds: int
    horizon: int


def backtest_plan(n_time: int, horizon: int, freq: Freq, m: int) -> tuple[int, int] | None:
    """(fold horizon, number of folds) for a history of ``n_time`` periods, or ``None`` if too short."""
    h = min(horizon, BACKTEST_HORIZON[freq])
    min_train = max(3 * m, 14)
    folds = min(MAX_FOLDS, (n_time - min_train) // h)
    return (h, folds) if folds >= 1 else None


def _insample_scale(values: FloatArray, start: IntArray, m: int) -> FloatArray:
    diffs = np.abs(values[:, m:] - values[:, :-m])
    valid = np.isfinite(diffs) & (np.arange(m, values.shape[1])[None, :] >= start[:, None] + m)
    total = np.where(valid, diffs, 0.0).sum(axis=1)
    count = valid.sum(axis=1)
    scale = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return np.where(scale > 0, scale, np.nan)


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(np.isfinite(out), out, np.nan)


def backtest(
    models: Sequence[str],
    run: RunModel,
    values: FloatArray,
    start: IntArray,
    m: int,
    horizon: int,
    freq: Freq,
) -> dict[str, ModelScores] | None:
    """Rolling-origin backtest of ``models`` (``snaive`` is always scored as the MASE reference)."""
    n_series, n_time = values.shape
    plan = backtest_plan(n_time, horizon, freq, m)
    if plan is None:
        return None
    h, folds = plan
    names = list(dict.fromkeys([*models, "snaive"]))
    abs_err = {name: np.zeros(n_series) for name in names}
    sq_err = {name: np.zeros(n_series) for name in names}
    pct_err = {name: np.zeros(n_series) for name in names}
    inside = {name: np.zeros(n_series) for name in names}
    n_obs = np.zeros(n_series)
    n_nonzero = np.zeros(n_series)
    for k in range(folds, 0, -1):
        origin = n_time - k * h
        actual = values[:, origin : origin + h]
        seen = np.isfinite(actual)
        nonzero = seen & (actual != 0)
        n_obs += seen.sum(axis=1)
        n_nonzero += nonzero.sum(axis=1)
        for name in names:
            fc = run(name, values[:, :origin], origin, h)
            err = np.where(seen, actual - fc.mean, 0.0)
            abs_err[name] += np.abs(err).sum(axis=1)
            sq_err[name] += (err**2).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                pct_err[name] += np.where(nonzero, np.abs(err / actual), 0.0).sum(axis=1)
            inside[name] += (seen & (actual >= fc.lower) & (actual <= fc.upper)).sum(axis=1)
    scale = _insample_scale(values, start, m)
    obs = np.where(n_obs > 0, n_obs, np.nan)
    snaive_mae = abs_err["snaive"] / obs
    scores: dict[str, ModelScores] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in names:
            mae = abs_err[name] / obs
            scores[name] = ModelScores(
                model=name,
                mae=mae,
                rmse=np.sqrt(sq_err[name] / obs),
                mape=100.0 * pct_err[name] / np.where(n_nonzero > 0, n_nonzero, np.nan),
                coverage=inside[name] / obs,
                mase=_ratio(mae, snaive_mae),
                mase_insample=_ratio(mae, scale),
                folds=folds,
                horizon=h,
            )
    return scores
