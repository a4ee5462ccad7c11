"""Causal anomaly and level-change detection on any regular series, many series at once.

Contract (``detect_matrix(values, season_lengths, config)``), for an ``(S, T)`` matrix on a regular grid
(``NaN`` = missing point):
- Every quantity at ``t`` uses only points before ``t`` (and ``t`` itself for its own score): the same
  answer at ``t`` whether or not later points exist. A cost alert cannot see the future.
- Expected value: per point, the candidate baseline whose recent one-step errors are smallest: the median
  of the last ``level_span`` points (no season) or, for each season length ``m`` (daily and weekly cycles
  at sub-daily steps, the week at daily steps), the median of the same phase over the last ``cycles``
  seasons, each value moved to the current level (the median gap between the last ``level_span``
  points and their own same-phase medians). A candidate competes once its history exists.
- Noise: ``sigma`` is the larger of ``1.4826 × MAD`` and ``tail_quantile``-quantile / ``tail_z`` of the
  absolute residuals of the last ``noise_span`` points (heavy-tailed series are judged against their own
  tail), floored at ``rel_floor × |expected|`` and ``abs_floor``.
- ``z = (y - expected) / sigma``; ``score = z⁺ / (z⁺ + threshold)`` in ``[0, 1)`` in the monitored
  direction (0.5 at the threshold). A point is anomalous when ``score ≥ 0.5``.
- Events: anomalous points separated by fewer than ``quiet`` normal points are one event; an alert is
  raised at an event's first point, and again inside the event only when a point's score escalates to
  ``escalation`` times the event's largest so far (a much bigger excursion is news). An event whose deviation persists with one sign for
  ``persist`` points is a **change of level**: it is reported once, from its first point, and the
  baseline restarts there (points after a change are judged against the new level only, with the noise
  scale from before until enough new points exist, after a fresh warm-up of ``restart_warmup`` points
  during which nothing is flagged). Persisting means: for ``persist`` points, at least 80 % stay beyond
  half the threshold (in the event's direction) from a reference taken before the event — the same phase a
  season earlier, or the pre-event level median for series without a season. The alert itself fires at the
  event's first point; whether it is an anomaly or a change is settled ``persist`` points later, as a live
  alert's label would be (its time never moves).
- Points without enough history (``warmup`` points) and missing points score 0 and are never flagged.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cloudoptima.analytics.forecasting.series import BoolArray, FloatArray

Direction = Literal["up", "down", "both"]
IntArray = npt.NDArray[np.int64]

TAIL_POINTS = 3
NO_ALERT, ANOMALY, CHANGE = 0, 1, 2
"""Alert codes: none, the start of an anomaly, the start of a change of level."""


@dataclass(frozen=True)
class StreamConfig:
    """Detection knobs, in points of the series' own grid (``shape_for`` derives them from the step)."""

    threshold: float = 5.0
    direction: Direction = "both"
    level_span: int = 12
    cycles: int = 3
    noise_span: int = 288
    tail_quantile: float = 0.99
    tail_z: float = 3.0
    quiet: int = 12
    persist: int = 36
    warmup: int = 288
    restart_warmup: int = 36
    escalation: float = 2.0
    rel_floor: float = 0.0
    abs_floor: float = 1e-9
    season_lengths: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class StreamResult:
    """Per-point baseline, noise, score and alerts, all ``(S, T)``."""

    expected: FloatArray
    sigma: FloatArray
    z: FloatArray
    score: FloatArray
    anomalous: BoolArray
    alert: npt.NDArray[np.int8]


def config_for_step(step: pd.Timedelta, **overrides: object) -> StreamConfig:
    """Knobs for a series sampled every ``step``: spans in points of one hour, one day, three days.

    The tail scale uses the quantile beyond which ``TAIL_POINTS`` of the noise window lie, divided by the
    same quantile of a normal |z| (so it equals sigma for Gaussian noise). Seasons: the daily cycle when a day holds at least 4 points, the weekly cycle when the step is at most
    a day. Level median over an hour (≥ 3 points); noise over 3 days (≥ 28 points); a new alert only after
    a quiet day (≥ 3 points); a change persists 3 hours (≥ 3 points); warm-up one day (≥ 28 points).
    """
    hour = max(1, round(pd.Timedelta(hours=1) / step))
    day = round(pd.Timedelta(days=1) / step)
    seasons: list[int] = []
    if day >= 4:
        seasons.append(day)
    if step <= pd.Timedelta(days=1):
        seasons.append(7 * day)
    shape: dict[str, object] = {
        "season_lengths": tuple(seasons),
        "level_span": max(3, hour),
        "noise_span": max(3 * day, 28),
        "quiet": max(day, 3),
        "persist": max(3 * hour, 3),
        "warmup": max(day, 28),
        "restart_warmup": max(3 * hour, 14),
    }
    noise_span = int(shape["noise_span"])  # type: ignore[call-overload]
    tail = 1.0 - TAIL_POINTS / noise_span
    shape.update(tail_quantile=tail, tail_z=NormalDist().inv_cdf(0.5 + tail / 2))
    shape.update(overrides)
    return StreamConfig(**shape)  # type: ignore[arg-type]


def _rolling(frame: pd.DataFrame, span: int, how: str, min_periods: int) -> pd.DataFrame:
    roll = frame.rolling(span, min_periods=min_periods)
    return roll.median() if how == "median" else roll.quantile(float(how))


def _candidates(values: FloatArray, cfg: StreamConfig) -> list[FloatArray]:
    """Expected value of every point under each baseline (columns are time; NaN until available)."""
    frame = pd.DataFrame(values.T)  # (T, S): pandas rolls down columns
    past = frame.shift(1)
    level = _rolling(past, cfg.level_span, "median", max(2, cfg.level_span // 2))
    out = [level.to_numpy().T]
    for m in cfg.season_lengths:
        shifted = [frame.shift(k * m).to_numpy() for k in range(1, cfg.cycles + 1)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN phases stay NaN
            phase = np.nanmedian(np.stack(shifted), axis=0)  # (T, S)
        gap = pd.DataFrame(frame.to_numpy() - phase).shift(1)
        adjust = _rolling(gap, cfg.level_span, "median", max(2, cfg.level_span // 2)).to_numpy()
        out.append((phase + adjust).T)
    return out


def _choose(values: FloatArray, candidates: list[FloatArray], cfg: StreamConfig) -> FloatArray:
    """Per point, the candidate with the smallest median absolute error over the last ``noise_span``."""
    if len(candidates) == 1:
        return candidates[0]
    errors = []
    for cand in candidates:
        err = pd.DataFrame(np.abs(values - cand).T).shift(1)
        errors.append(_rolling(err, cfg.noise_span, "median", cfg.noise_span // 2).to_numpy().T)
    stack = np.stack(errors)  # (C, S, T)
    filled = np.where(np.isnan(stack), np.inf, stack)
    best = np.argmin(filled, axis=0)
    chosen = np.take_along_axis(np.stack(candidates), best[None], axis=0)[0]
    none_ready = np.all(np.isinf(filled), axis=0)
    return np.where(none_ready, candidates[0], chosen)


def _sigma(residual: FloatArray, expected: FloatArray, cfg: StreamConfig) -> FloatArray:
    frame = pd.DataFrame(np.abs(residual).T).shift(1)
    min_periods = max(3, cfg.noise_span // 4)
    mad = 1.4826 * _rolling(frame, cfg.noise_span, "median", min_periods).to_numpy().T
    tail = _rolling(frame, cfg.noise_span, str(cfg.tail_quantile), min_periods).to_numpy().T / cfg.tail_z
    sigma: FloatArray = np.fmax(np.fmax(np.fmax(mad, tail), cfg.rel_floor * np.abs(expected)), cfg.abs_floor)
    return sigma


def _signed(z: FloatArray, direction: Direction) -> FloatArray:
    return {"up": z, "down": -z, "both": np.abs(z)}[direction]


def _baseline(values: FloatArray, cfg: StreamConfig) -> tuple[FloatArray, FloatArray, FloatArray]:
    expected = _choose(values, _candidates(values, cfg), cfg)
    sigma = _sigma(values - expected, expected, cfg)
    z = (values - expected) / sigma
    return expected, sigma, z


def _change(row: FloatArray, first: int, sign: float, scale: float, cfg: StreamConfig) -> float | None:
    """The size of the shift when the ``persist`` points from ``first`` stay shifted against references
    from before it, else ``None``.

    The reference of a point is the same phase one (shortest) season earlier when that lies before the
    event, else the median of the ``level_span`` points before the event: a spike returns, a step stays.
    """
    end = min(row.size, first + cfg.persist)
    if end - first < cfg.persist:
        return None
    before = row[max(0, first - cfg.level_span) : first]
    level = float(np.nanmedian(before)) if np.isfinite(before).any() else np.nan
    moved = np.arange(first, end)
    m = min(cfg.season_lengths, default=0)
    reference = np.full(moved.size, level)
    if m > cfg.persist and first >= m:
        reference = row[moved - m]
    delta = row[first:end] - reference
    kept = np.isfinite(delta)
    if kept.sum() < cfg.persist // 2 or np.mean(sign * delta[kept] >= cfg.threshold / 2 * scale) < 0.8:
        return None
    return float(np.median(delta[kept]))


def _events(
    row: FloatArray, z_row: FloatArray, sigma_row: FloatArray, start: int, cfg: StreamConfig
) -> tuple[list[tuple[int, int]], tuple[int, float] | None]:
    """Alerts ``(t, code)`` of one row from ``start`` on, and the first change (index, shift) if any."""
    signed = np.nan_to_num(_signed(z_row, cfg.direction), nan=0.0)
    flagged = np.flatnonzero(signed >= cfg.threshold)
    flagged = flagged[flagged >= start]
    alerts: list[tuple[int, int]] = []
    i = 0
    while i < flagged.size:
        first = int(flagged[i])
        j = i
        while j + 1 < flagged.size and flagged[j + 1] - flagged[j] <= cfg.quiet:
            j += 1
        shift = _change(row, first, float(np.sign(z_row[first])), float(sigma_row[first]), cfg)
        if shift is not None:
            alerts.append((first, CHANGE))
            return alerts, (first, shift)
        alerts.append((first, ANOMALY))
        if cfg.escalation > 0:
            peak = signed[first]
            for k in flagged[i + 1 : j + 1]:
                if signed[k] >= cfg.escalation * peak:
                    alerts.append((int(k), ANOMALY))
                peak = max(peak, signed[k])
        i = j + 1
    return alerts, None


def detect_matrix(values: FloatArray, config: StreamConfig | None = None) -> StreamResult:
    """Baseline, score and alerts of every point of every row (see module contract)."""
    cfg = config or StreamConfig()
    n_series, n_time = values.shape
    expected, sigma, z = _baseline(values, cfg)
    alert = np.zeros((n_series, n_time), dtype=np.int8)
    valid = np.ones((n_series, n_time), dtype=bool)
    valid[:, : cfg.warmup] = False
    for s in range(n_series):
        start = cfg.warmup
        while start < n_time:
            found, change = _events(values[s], z[s], sigma[s], start, cfg)
            for t, code in found:
                alert[s, t] = code
            if change is None:
                break
            restart, shift = change
            kept = (expected[s, restart], sigma[s, restart], z[s, restart])
            moved = values[s].copy()
            moved[:restart] += shift  # the history, moved onto the new level, keeps its seasons
            e2, s2, z2 = _baseline(moved[None, :], cfg)
            expected[s, restart:], sigma[s, restart:], z[s, restart:] = (
                e2[0, restart:],
                s2[0, restart:],
                z2[0, restart:],
            )
            # the change point keeps its own score; the points that confirmed the change flag nothing
            expected[s, restart], sigma[s, restart], z[s, restart] = kept
            quiet_until = min(n_time, restart + max(cfg.restart_warmup, cfg.persist))
            valid[s, restart + 1 : quiet_until] = False
            start = quiet_until
    observed = np.isfinite(values) & np.isfinite(z) & valid
    signed = np.where(observed, _signed(z, cfg.direction), 0.0)
    positive = np.maximum(np.nan_to_num(signed, nan=0.0), 0.0)
    score = positive / (positive + cfg.threshold)
    anomalous = score >= 0.5
    alert = np.where(observed | (alert > 0), alert, 0).astype(np.int8)
    return StreamResult(expected, sigma, z, score, anomalous, alert)
