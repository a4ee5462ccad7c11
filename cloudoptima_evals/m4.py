"""Public forecasting benchmark: the M4 competition's weekly series (Makridakis, Spiliotis & Assimakopoulos,
2020, International Journal of Forecasting), scored as M4 scores them.

Contract:
- ``load_m4(directory, every=1)`` reads ``Weekly-train.csv`` (one row per series: id, then values) and
  ``Weekly-test.csv`` (the next 13 values) from ``directory``; ``every=k`` keeps every k-th series (the
  test suite's subset). A malformed file raises :class:`M4FormatError` naming the file, line and problem.
- ``score_m4(data)`` forecasts 13 weeks from the end of each training series with: naive (last value),
  seasonal naive (season 52 where two seasons fit, else naive), a Theta-like method (SES plus half the
  OLS slope of the whole history as drift, the M4 ``Theta`` benchmark's form without its seasonal
  adjustment) and the product's own ``forecast_matrix(model="auto")`` (weekly grid). Per method: mean
  sMAPE (percent, M4's definition ``200·|F−Y| / (|F| + |Y|)``), mean MASE (scaled by the in-sample MAE of
  one-step differences: M4's weekly guide uses m = 1) and, for the methods with intervals, the share of
  actuals inside the 95 % interval. ``rolling_origins`` > 1 also forecasts from 13 and 26 weeks before the
  end of training (scored against the held-back training values), so interval coverage is measured on
  rolling origins, not one.
- Deterministic; no network; nothing is tuned on these numbers at run time.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cloudoptima.analytics.forecasting import forecast_matrix
from cloudoptima.analytics.forecasting.baselines import seasonal_naive
from cloudoptima.analytics.forecasting.damped_trend import simple_exponential_smoothing
from cloudoptima_evals.data import m4_weekly

HORIZON = 13
SEASON = 52
FloatArray = np.ndarray  # type: ignore[type-arg]


class M4FormatError(ValueError):
    """An M4 file that cannot be read, with the file and line at fault."""


@dataclass(frozen=True)
class M4Data:
    ids: list[str]
    train: list[FloatArray]
    test: FloatArray


@dataclass
class MethodScore:
    smape: list[FloatArray] = field(default_factory=list)
    mase: list[FloatArray] = field(default_factory=list)
    inside: int = 0
    points: int = 0
    has_interval: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "smape": round(float(np.mean(np.concatenate(self.smape))), 3),
            "mase": round(float(np.nanmean(np.concatenate(self.mase))), 3),
            "coverage_95": round(self.inside / self.points, 3) if self.has_interval and self.points else None,
        }


def _read_rows(path: Path) -> list[tuple[str, FloatArray]]:
    if not path.is_file():
        raise M4FormatError(f"{path}: file not found")
    rows: list[tuple[str, FloatArray]] = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or header[0] != "V1":
            raise M4FormatError(f"{path}:1: expected the M4 header V1,V2,…")
        for line, record in enumerate(reader, start=2):
            if not record or not record[0]:
                raise M4FormatError(f"{path}:{line}: missing series id")
            cells = [c for c in record[1:] if c != ""]
            try:
                values = np.asarray([float(c) for c in cells], dtype=np.float64)
            except ValueError as error:
                raise M4FormatError(f"{path}:{line}: {record[0]}: not a number ({error})") from None
            if values.size == 0 or not np.isfinite(values).all():
                raise M4FormatError(f"{path}:{line}: {record[0]}: no values or a non-finite value")
            rows.append((record[0], values))
    return rows


def load_m4(directory: Path, every: int = 1) -> M4Data:
    """The weekly train/test split in ``directory`` (every ``every``-th series; see module contract)."""
    train = _read_rows(directory / "Weekly-train.csv")
    test = _read_rows(directory / "Weekly-test.csv")
    if [i for i, _ in train] != [i for i, _ in test]:
        raise M4FormatError(f"{directory}: Weekly-train.csv and Weekly-test.csv list different series")
    bad = [i for i, v in test if v.size != HORIZON]
    if bad:
        raise M4FormatError(f"{directory / 'Weekly-test.csv'}: {bad[0]} has not {HORIZON} values")
    keep = range(0, len(train), every)
    return M4Data(
        ids=[train[k][0] for k in keep],
        train=[train[k][1] for k in keep],
        test=np.stack([test[k][1] for k in keep]),
    )


def _matrix(series: list[FloatArray]) -> tuple[FloatArray, FloatArray]:
    """Right-aligned ``(S, T)`` matrix (NaN before each series starts) and each row's first index."""
    width = max(s.size for s in series)
    matrix = np.full((len(series), width), np.nan)
    for i, s in enumerate(series):
        matrix[i, width - s.size :] = s
    return matrix, np.asarray([width - s.size for s in series])


def _theta(matrix: FloatArray, start: FloatArray) -> FloatArray:
    ses, alpha = simple_exponential_smoothing(matrix, HORIZON)
    x = np.arange(matrix.shape[1], dtype=np.float64)[None, :]
    seen = np.isfinite(matrix)
    n = seen.sum(axis=1)
    x_mean = np.where(seen, x, 0.0).sum(axis=1) / n
    y_mean = np.nansum(matrix, axis=1) / n
    dx = np.where(seen, x - x_mean[:, None], 0.0)
    slope = (dx * np.nan_to_num(matrix - y_mean[:, None])).sum(axis=1) / (dx**2).sum(axis=1)
    a = np.maximum(alpha, 1e-3)
    steps = np.arange(1, HORIZON + 1)[None, :]
    drift = 0.5 * slope[:, None] * (steps - 1 + 1 / a[:, None] - ((1 - a) ** n / a)[:, None])
    return np.asarray(ses + drift)


def _forecasts(
    series: list[FloatArray], product: bool
) -> dict[str, tuple[FloatArray, FloatArray | None, FloatArray | None]]:
    matrix, start = _matrix(series)
    last = matrix[:, -1:]
    short = np.asarray([s.size < 2 * SEASON for s in series])
    snaive = seasonal_naive(matrix, start.astype(np.int64), SEASON, HORIZON, 0.95)
    naive = seasonal_naive(matrix, start.astype(np.int64), 1, HORIZON, 0.95)
    sn_mean = np.where(short[:, None], naive.mean, snaive.mean)
    sn_lower = np.where(short[:, None], naive.lower, snaive.lower)
    sn_upper = np.where(short[:, None], naive.upper, snaive.upper)
    found: dict[str, tuple[FloatArray, FloatArray | None, FloatArray | None]] = {
        "naive": (np.repeat(last, HORIZON, axis=1), None, None),
        "seasonal naive": (sn_mean, sn_lower, sn_upper),
        "theta-like": (_theta(matrix, start), None, None),
    }
    if product:
        index = pd.date_range("2000-01-02", periods=matrix.shape[1], freq="W-SUN")
        ours = forecast_matrix(matrix, index, "W", HORIZON, model="auto").forecast
        found["cloudoptima"] = (ours.mean, ours.lower, ours.upper)
    return found


def score_m4(data: M4Data, rolling_origins: int = 1, *, product: bool = True) -> dict[str, Any]:
    """Per method: sMAPE, MASE, 95 % coverage over ``rolling_origins`` origins (see module contract);
    ``product=False`` scores the benchmarks only."""
    scores: dict[str, MethodScore] = {}
    for back in range(rolling_origins - 1, -1, -1):
        cut = back * HORIZON
        train = [s[: s.size - cut] if cut else s for s in data.train]
        actual = (
            data.test if not cut else np.stack([s[s.size - cut : s.size - cut + HORIZON] for s in data.train])
        )
        scale = np.asarray([np.mean(np.abs(np.diff(s))) for s in train])
        for name, (mean, lower, upper) in _forecasts(train, product).items():
            score = scores.setdefault(name, MethodScore())
            with np.errstate(divide="ignore", invalid="ignore"):
                smape = 200.0 * np.abs(mean - actual) / (np.abs(mean) + np.abs(actual))
            score.smape.append(np.nanmean(np.where(np.isfinite(smape), smape, 0.0), axis=1))
            score.mase.append(np.mean(np.abs(mean - actual), axis=1) / np.where(scale > 0, scale, np.nan))
            if lower is not None and upper is not None:
                score.has_interval = True
                score.inside += int(((actual >= lower) & (actual <= upper)).sum())
                score.points += actual.size
    return {
        "series": len(data.ids),
        "horizon": HORIZON,
        "rolling_origins": rolling_origins,
        "methods": {name: score.as_dict() for name, score in scores.items()},
    }


M4_SUBSET = m4_weekly()
"""Every 6th M4 weekly series (60), shipped as package data; ``cloudoptima eval --m4-dir`` points at the full set."""


def m4_failures(scores: dict[str, Any]) -> list[str]:
    """What the product must do on M4: beat every benchmark on sMAPE and MASE; cover 0.93–0.97 at 95 %."""
    methods = scores["methods"]
    ours = methods["cloudoptima"]
    failures = [
        f"m4.{metric}: cloudoptima {ours[metric]} does not beat {name} {row[metric]}"
        for name, row in methods.items()
        if name != "cloudoptima"
        for metric in ("smape", "mase")
        if not ours[metric] < row[metric]
    ]
    coverage = ours["coverage_95"]
    if coverage is None or not 0.93 <= coverage <= 0.97:
        failures.append(f"m4.coverage_95 = {coverage} (wanted 0.93-0.97)")
    return failures
