"""Expected value, noise scale and anomaly score of every point of many series at once.

Contract (``score_matrix``): for an ``(S, T)`` matrix of finite values and season ``m`` (7 for daily data),
the point ``t`` is compared with the ``K = weeks`` seasons before it (``W = K·m`` periods, ``t`` excluded):
- trend: difference of the medians of season-block medians of the newer and older half of the window,
  divided by their distance (a one-day spike barely moves it);
- expected: median of the ``K`` same-phase values (same weekday), each moved to ``t`` along the trend;
- sigma: ``1.4826 ×`` median absolute residual ``y - expected`` of the ``residual_span`` points before
  ``t`` (so trend-estimation noise is part of the scale), floored at ``rel_floor·|expected|`` and
  ``abs_floor``;
- ``z = (y - expected) / sigma``; ``score = z⁺ / (z⁺ + threshold)`` in ``[0, 1)`` with ``z⁺`` the
  positive part of ``z`` in the monitored ``direction`` (0.5 exactly at the threshold);
- the first ``W`` points of each row have no expected value and the first ``W + residual_span`` no sigma:
  there z is ``NaN`` and the score 0 (56 days for daily data with the defaults).
Expected values of rows whose window is all ≥ 0 are clipped at 0. Rows are processed in chunks, so memory
stays bounded for 10k+ series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cloudoptima.analytics.forecasting.series import FloatArray

Direction = Literal["up", "down", "both"]
CHUNK = 256


@dataclass(frozen=True)
class ScoreMatrix:
    """Per-point baseline and score, all ``(S, T)``."""

    expected: FloatArray
    sigma: FloatArray
    z: FloatArray
    score: FloatArray


def _expected_chunk(y: FloatArray, m: int, weeks: int) -> FloatArray:
    """Expected value of every point from the ``weeks·m`` points before it (NaN for the first ones)."""
    n_series, n_time = y.shape
    width = weeks * m
    win = sliding_window_view(y, width, axis=1)[:, : n_time - width]  # (S, T', W) windows before t
    blocks = win.reshape(n_series, -1, weeks, m)
    block_med = np.median(blocks, axis=3)  # (S, T', K)
    half = weeks // 2
    slope = (np.median(block_med[:, :, half:], axis=2) - np.median(block_med[:, :, :half], axis=2)) / (
        (weeks - half) * m
    )
    distance = np.arange(weeks, 0, -1, dtype=np.float64) * m  # same-phase points sit K·m, …, m before t
    expected = np.median(blocks[:, :, :, 0] + slope[:, :, None] * distance[None, None, :], axis=2)
    expected = np.where(win.min(axis=2) >= 0, np.maximum(expected, 0.0), expected)
    return np.concatenate([np.full((n_series, width), np.nan), expected], axis=1)


def _sigma_chunk(residual: FloatArray, first: int, span: int) -> FloatArray:
    """1.4826 × median |residual| over the ``span`` points before each point (NaN until available)."""
    n_series, n_time = residual.shape
    out = np.full((n_series, n_time), np.nan)
    start = first + span
    if n_time > start:
        win = sliding_window_view(np.abs(residual[:, first:]), span, axis=1)[:, : n_time - start]
        out[:, start:] = 1.4826 * np.median(win, axis=2)
    return out


def score_matrix(
    values: FloatArray,
    *,
    m: int = 7,
    weeks: int = 4,
    residual_span: int = 28,
    threshold: float = 4.0,
    direction: Direction = "both",
    rel_floor: float = 0.02,
    abs_floor: float = 1e-6,
) -> ScoreMatrix:
    """Baseline and anomaly score of every point (see module contract)."""
    if weeks < 2:
        raise ValueError("weeks must be at least 2")
    if not np.isfinite(values).all():
        raise ValueError("values must be finite (fill missing periods first)")
    n_series, n_time = values.shape
    expected = np.full((n_series, n_time), np.nan)
    sigma = np.full((n_series, n_time), np.nan)
    width = weeks * m
    if n_time > width:
        for lo in range(0, n_series, CHUNK):
            hi = min(lo + CHUNK, n_series)
            expected[lo:hi] = _expected_chunk(values[lo:hi], m, weeks)
            sigma[lo:hi] = _sigma_chunk(values[lo:hi] - expected[lo:hi], width, residual_span)
    sigma = np.maximum(np.maximum(sigma, rel_floor * np.abs(expected)), abs_floor)
    z = (values - expected) / sigma
    signed = {"up": z, "down": -z, "both": np.abs(z)}[direction]
    positive = np.where(np.isnan(signed), 0.0, np.maximum(signed, 0.0))
    score = positive / (positive + threshold)
    return ScoreMatrix(expected=expected, sigma=sigma, z=z, score=score)
