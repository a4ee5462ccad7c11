"""The main model: Prophet, fitted per series (about a second each; for few series).

Contract:
- ``prophet_available()`` tells whether ``prophet`` imports; ``prophet_forecast`` raises
  :class:`ProphetUnavailableError` when it does not, or when Stan fails to fit a series.
- Seasonality: weekly when the fitted history spans ≥ 14 days (daily/hourly data), yearly when it spans
  ≥ 730 days, daily for hourly data spanning ≥ 2 days. Missing values are dropped (Prophet handles gaps).
- Deterministic: the Stan optimiser gets a fixed seed and the uncertainty sampling runs under a fixed numpy
  seed; the caller's global numpy random state is restored afterwards. ``cmdstanpy`` logging is silenced.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from cloudoptima.analytics.forecasting.base import BatchForecast
from cloudoptima.analytics.forecasting.series import FloatArray, Freq, IntArray, future_index

UNCERTAINTY_SAMPLES = 300
SEED = 20240601


class ProphetUnavailableError(RuntimeError):
    """Prophet is not installed or could not fit the series."""


def _silence() -> None:
    """Mute cmdstanpy/prophet chatter; a handler must exist or cmdstanpy installs its own INFO handler."""
    for name in ("cmdstanpy", "prophet", "prophet.plot", "prophet.models"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        logger.propagate = False
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


def _prophet_class() -> Any:
    _silence()
    try:
        from prophet import Prophet
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ProphetUnavailableError("prophet is not installed") from exc
    _silence()
    return Prophet


def prophet_available() -> bool:
    """Whether Prophet can be imported here."""
    try:
        _prophet_class()
    except ProphetUnavailableError:
        return False
    return True


def _fit_one(
    prophet_cls: Any, ds: pd.DatetimeIndex, y: FloatArray, freq: Freq, future: pd.DatetimeIndex, level: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    keep = np.isfinite(y)
    frame = pd.DataFrame({"ds": ds[keep], "y": y[keep]})
    span_days = (frame["ds"].iloc[-1] - frame["ds"].iloc[0]) / pd.Timedelta(days=1)
    model = prophet_cls(
        interval_width=level,
        uncertainty_samples=UNCERTAINTY_SAMPLES,
        weekly_seasonality=bool(freq in ("D", "H") and span_days >= 14),
        yearly_seasonality=bool(span_days >= 730),
        daily_seasonality=bool(freq == "H" and span_days >= 2),
    )
    state = np.random.get_state()
    try:
        np.random.seed(SEED)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # prophet's own pandas deprecation warnings
            model.fit(frame, seed=SEED)
            pred = model.predict(pd.DataFrame({"ds": future}))
    except Exception as exc:  # Stan and Prophet raise assorted errors on degenerate input
        raise ProphetUnavailableError(f"prophet failed to fit: {exc}") from exc
    finally:
        np.random.set_state(state)
    return (
        pred["yhat"].to_numpy(dtype=np.float64),
        pred["yhat_lower"].to_numpy(dtype=np.float64),
        pred["yhat_upper"].to_numpy(dtype=np.float64),
    )


def prophet_forecast(
    values: FloatArray,
    start: IntArray,
    index: pd.DatetimeIndex,
    freq: Freq,
    horizon: int,
    level: float,
) -> BatchForecast:
    """Fit Prophet to each row of ``values`` (on ``index[start:]``) and forecast ``horizon`` periods."""
    prophet_cls = _prophet_class()
    future = future_index(index[-1], freq, horizon)
    means, lowers, uppers = [], [], []
    for row, first in zip(values, start, strict=True):
        mean, lower, upper = _fit_one(
            prophet_cls, index[int(first) :], row[int(first) :], freq, future, level
        )
        means.append(mean)
        lowers.append(np.minimum(lower, mean))
        uppers.append(np.maximum(upper, mean))
    return BatchForecast(mean=np.stack(means), lower=np.stack(lowers), upper=np.stack(uppers))
