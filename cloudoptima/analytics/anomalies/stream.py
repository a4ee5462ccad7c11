"""Causal anomaly and level-change detection on any regular series, many series at once.

Contract (``detect_matrix(values, config)``), for an ``(S, T)`` matrix on a regular grid
(``NaN`` = missing point):
- Every quantity at ``t`` uses only points before ``t`` (and ``t`` itself for its own score): the same
  answer at ``t`` whether or not later points exist. A cost alert cannot see the future.
- Expected value: per point, the candidate baseline with the smallest mean absolute error over the last
  ``noise_span`` points (a mean, so a cycle that matters at a few hours of the day still counts): the median
  of the last ``level_span`` points (no season) or, for each season length ``m`` (daily and weekly cycles
  at sub-daily steps, the week at daily steps), the median of the same phase over the last ``cycles``
  seasons, each value moved to the current level (the median gap between the last ``level_span``
  points and their own same-phase medians). A candidate competes once its history exists.
- Noise: ``sigma`` is the larger of ``1.4826 × MAD`` and ``tail_quantile``-quantile / ``tail_z`` of the
  absolute residuals of the last ``noise_span`` points (heavy-tailed series are judged against their own
  tail), floored at ``rel_floor × |expected|`` and ``abs_floor``. With ``relative_noise`` (cost: noise grows
  with spend) the same statistics of ``|residual| / |expected|`` times ``|expected|`` also bound it below,
  so a busy weekday is not judged by the quiet weekend's noise.
- ``z = (y - expected) / sigma``. With ``burst_span > 0`` (sub-daily series) a second statistic watches
  sustained bursts that no single point reveals (spikes growing denser, a jittery stretch): the mean of
  the last ``burst_span`` points against the median of the same means over the ``noise_span`` points
  before that stretch, scaled like ``sigma`` (``1.4826 × MAD`` or the tail quantile of their deviations).
  A point's judgement is the larger of the two in the monitored direction; ``score = j⁺ / (j⁺ +
  threshold)`` in ``[0, 1)`` (0.5 at the threshold). A point is anomalous when ``score ≥ 0.5``.
- Events: anomalous points separated by at most ``quiet`` normal points are one event; an alert is
  raised at an event's first point, and again inside the event only when a point's score escalates to
  ``escalation`` times the event's largest so far (a much bigger excursion is news).
- Changes of level: when, for the ``persist`` points from an event's first point, at least 80 % stay
  beyond half the threshold (in the event's direction) from references taken before the event (the same
  phase one season earlier; the pre-event median of ``level_span`` points without a season), the event is
  a **change**: reported once, from its first point (the alert's time never moves; its label settles
  ``persist`` points later, as a live alert's would). Those ``persist`` points keep their judgement
  against the old level; after them the history is moved by the shift (the median gap over those points)
  and the baseline goes on from the new level with its seasons intact: a launch is one change, not a run
  of anomalies.
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

from cloudoptima.analytics.forecasting.series import BoolArray, FloatArray, IntArray

Direction = Literal["up", "down", "both"]

TAIL_POINTS = 3
NO_ALERT, ANOMALY, CHANGE = 0, 1, 2
"""Alert codes: none, the start of an anomaly, the start of a change of level."""


@dataclass(frozen=True)
class StreamConfig:
    """Detection knobs, in points of the series' own grid (``config_for_step`` derives them from the step;
    the module contract says what each one does)."""

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
    escalation: float = 2.0
    rel_floor: float = 0.0
    relative_noise: bool = False
    abs_floor: float = 1e-9
    burst_span: int = 0
    season_lengths: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class StreamResult:
    """Per-point baseline, noise, score and alerts, all ``(S, T)``."""

    expected: FloatArray
    sigma: FloatArray
    z: FloatArray
    burst: FloatArray
    score: FloatArray
    anomalous: BoolArray
    alert: npt.NDArray[np.int8]


def config_for_step(step: pd.Timedelta, **overrides: object) -> StreamConfig:
    """Knobs for a series sampled every ``step``: spans in points of one hour, one day, three days.

    The tail scale uses the quantile beyond which ``TAIL_POINTS`` of the noise window lie, divided by the
    same quantile of a normal |z| (so it equals sigma for Gaussian noise). Seasons: the daily cycle when a
    day holds at least 4 points, the weekly cycle when the step is at most a day. Level median over an hour
    (≥ 3 points); noise over 3 days (≥ 28 points); a new alert only after a quiet day (≥ 3 points); a
    change persists 3 hours (≥ 5 points); warm-up one day (≥ 28 points); bursts over three level spans (3 hours,
    9 points at an hourly step) below a daily step, none at daily and longer steps. These are the only defaults: the
    same for every series (they were chosen on the NAB dev split and the sandbox, never per file).
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
        "persist": max(3 * hour, 5),
        "warmup": max(day, 28),
        "burst_span": 3 * max(3, hour) if step < pd.Timedelta(days=1) else 0,
    }
    noise_span = int(shape["noise_span"])  # type: ignore[call-overload]
    tail = 1.0 - TAIL_POINTS / noise_span
    shape.update(tail_quantile=tail, tail_z=NormalDist().inv_cdf(0.5 + tail / 2))
    shape.update(overrides)
    return StreamConfig(**shape)  # type: ignore[arg-type]


def _median(frame: pd.DataFrame, span: int, min_periods: int) -> pd.DataFrame:
    """Rolling median down the columns (time) of a ``(T, S)`` frame."""
    return frame.rolling(span, min_periods=min_periods).median()


def _candidates(values: FloatArray, cfg: StreamConfig) -> list[FloatArray]:
    """Expected value of every point under each baseline (columns are time; NaN until available)."""
    frame = pd.DataFrame(values.T)  # (T, S): pandas rolls down columns
    past = frame.shift(1)
    level = _median(past, cfg.level_span, max(2, cfg.level_span // 2))
    out = [level.to_numpy().T]
    for m in cfg.season_lengths:
        shifted = [frame.shift(k * m).to_numpy() for k in range(1, cfg.cycles + 1)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN phases stay NaN
            phase = np.nanmedian(np.stack(shifted), axis=0)  # (T, S)
        gap = pd.DataFrame(frame.to_numpy() - phase).shift(1)
        adjust = _median(gap, cfg.level_span, max(2, cfg.level_span // 2)).to_numpy()
        out.append((phase + adjust).T)
    return out


def _choose(values: FloatArray, candidates: list[FloatArray], cfg: StreamConfig) -> FloatArray:
    """Per point, the candidate with the smallest mean absolute error over the last ``noise_span``."""
    if len(candidates) == 1:
        return candidates[0]
    errors = []
    for cand in candidates:
        err = pd.DataFrame(np.abs(values - cand).T).shift(1)
        errors.append(err.rolling(cfg.noise_span, min_periods=cfg.noise_span // 2).mean().to_numpy().T)
    stack = np.stack(errors)  # (C, S, T)
    filled = np.where(np.isnan(stack), np.inf, stack)
    best = np.argmin(filled, axis=0)
    chosen = np.take_along_axis(np.stack(candidates), best[None], axis=0)[0]
    none_ready = np.all(np.isinf(filled), axis=0)
    return np.where(none_ready, candidates[0], chosen)


def _scale(deviation: FloatArray, cfg: StreamConfig) -> FloatArray:
    """max(1.4826 × MAD, tail quantile / tail z) of the last ``noise_span`` deviations before each point."""
    frame = pd.DataFrame(deviation.T).shift(1)
    min_periods = max(3, cfg.noise_span // 4)
    mad = 1.4826 * _median(frame, cfg.noise_span, min_periods).to_numpy().T
    roll = frame.rolling(cfg.noise_span, min_periods=min_periods)
    tail = roll.quantile(cfg.tail_quantile).to_numpy().T / cfg.tail_z
    scale: FloatArray = np.fmax(mad, tail)
    return scale


def _sigma(residual: FloatArray, expected: FloatArray, cfg: StreamConfig) -> FloatArray:
    sigma = _scale(np.abs(residual), cfg)
    if cfg.relative_noise:
        size = np.abs(expected)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(size > 0, np.abs(residual) / size, np.nan)
        sigma = np.fmax(sigma, _scale(relative, cfg) * size)
    floored: FloatArray = np.fmax(np.fmax(sigma, cfg.rel_floor * np.abs(expected)), cfg.abs_floor)
    return floored


def _signed(z: FloatArray, direction: Direction) -> FloatArray:
    return {"up": z, "down": -z, "both": np.abs(z)}[direction]


def _burst(values: FloatArray, cfg: StreamConfig) -> FloatArray:
    """The burst statistic of every point (module contract); zeros when ``burst_span`` is 0."""
    if cfg.burst_span <= 0:
        return np.zeros_like(values)
    span = cfg.burst_span
    recent = pd.DataFrame(values.T).rolling(span, min_periods=span // 2 + 1).mean()
    history = recent.shift(span)  # the means of stretches that ended before the current one began
    centre = _median(history, cfg.noise_span, cfg.noise_span // 2)
    scale = np.maximum(_scale(np.abs((history - centre).to_numpy().T), cfg), cfg.abs_floor)  # NaN stays
    burst: FloatArray = (recent - centre).to_numpy().T / scale
    return burst


def _baseline(values: FloatArray, cfg: StreamConfig) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    expected = _choose(values, _candidates(values, cfg), cfg)
    past_min = pd.DataFrame(values.T).shift(1).expanding().min().to_numpy().T
    expected = np.where(past_min >= 0, np.maximum(expected, 0.0), expected)  # costs, counts: never < 0
    sigma = _sigma(values - expected, expected, cfg)
    z = (values - expected) / sigma
    return expected, sigma, z, _burst(values, cfg)


def _judged(z: FloatArray, burst: FloatArray, direction: Direction) -> FloatArray:
    """The larger of the point and burst statistics in ``direction``, signed as ``z`` is when it wins."""
    point = np.nan_to_num(_signed(z, direction), nan=0.0)
    sustained = np.nan_to_num(_signed(burst, direction), nan=0.0)
    return np.where(sustained > point, np.nan_to_num(burst, nan=0.0), np.nan_to_num(z, nan=0.0))


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


def _starts(flagged: IntArray, quiet: int) -> list[tuple[int, int]]:
    """``(first, last)`` positions in ``flagged`` of runs whose points are at most ``quiet`` apart."""
    runs = []
    i = 0
    while i < flagged.size:
        j = i
        while j + 1 < flagged.size and flagged[j + 1] - flagged[j] <= quiet:
            j += 1
        runs.append((i, j))
        i = j + 1
    return runs


def _silent_change(
    row: FloatArray, z_row: FloatArray, sigma_row: FloatArray, start: int, cfg: StreamConfig
) -> tuple[int, float] | None:
    """The first lasting change in the direction that is not monitored (the baseline must follow it too)."""
    if cfg.direction == "both":
        return None
    other: Direction = "down" if cfg.direction == "up" else "up"
    signed = np.nan_to_num(_signed(z_row, other), nan=0.0)
    flagged = np.flatnonzero(signed >= cfg.threshold)
    flagged = flagged[flagged >= start]
    for i, _ in _starts(flagged, cfg.quiet):
        first = int(flagged[i])
        shift = _change(row, first, float(np.sign(z_row[first])), float(sigma_row[first]), cfg)
        if shift is not None:
            return first, shift
    return None


def _events(
    row: FloatArray, z_row: FloatArray, sigma_row: FloatArray, start: int, cfg: StreamConfig
) -> tuple[list[tuple[int, int]], tuple[int, float] | None]:
    """Alerts ``(t, code)`` of one row from ``start`` on, and the first change (index, shift) if any.

    A lasting change against the monitored direction raises no alert but still restarts the baseline.
    """
    signed = np.nan_to_num(_signed(z_row, cfg.direction), nan=0.0)
    flagged = np.flatnonzero(signed >= cfg.threshold)
    flagged = flagged[flagged >= start]
    silent = _silent_change(row, z_row, sigma_row, start, cfg)
    alerts: list[tuple[int, int]] = []
    for i, j in _starts(flagged, cfg.quiet):
        first = int(flagged[i])
        if silent is not None and silent[0] <= first:
            break
        shift = _change(row, first, float(np.sign(z_row[first])), float(sigma_row[first]), cfg)
        if shift is not None:
            alerts.append((first, CHANGE))
            return alerts, (first, shift)
        alerts.append((first, ANOMALY))
        if cfg.escalation > 0:
            peak = signed[first]
            for k in flagged[i + 1 : j + 1]:
                if silent is not None and k >= silent[0]:
                    break
                if signed[k] >= cfg.escalation * peak:
                    alerts.append((int(k), ANOMALY))
                peak = max(peak, signed[k])
    return alerts, silent


def detect_matrix(values: FloatArray, config: StreamConfig | None = None) -> StreamResult:
    """Baseline, score and alerts of every point of every row (see module contract)."""
    cfg = config or StreamConfig()
    n_series, n_time = values.shape
    expected, sigma, z, burst = _baseline(values, cfg)
    judged = _judged(z, burst, cfg.direction)
    alert = np.zeros((n_series, n_time), dtype=np.int8)
    valid = np.ones((n_series, n_time), dtype=bool)
    valid[:, : cfg.warmup] = False
    for s in range(n_series):
        start = cfg.warmup
        row = values[s].copy()  # the history as seen from the current level
        while start < n_time:
            found, change = _events(row, judged[s], sigma[s], start, cfg)
            for t, code in found:
                alert[s, t] = code
            if change is None:
                break
            restart, shift = change
            # the points that confirmed the change keep their (pre-change) judgement; from the next one
            # on, the history is moved onto the new level, so its seasons survive the restart
            quiet_until = min(n_time, restart + cfg.persist)
            row[:restart] += shift
            e2, s2, z2, b2 = _baseline(row[None, :], cfg)
            expected[s, quiet_until:] = e2[0, quiet_until:]
            sigma[s, quiet_until:] = s2[0, quiet_until:]
            z[s, quiet_until:] = z2[0, quiet_until:]
            burst[s, quiet_until:] = b2[0, quiet_until:]
            judged[s, quiet_until:] = _judged(z2, b2, cfg.direction)[0, quiet_until:]
            start = quiet_until
    observed = np.isfinite(values) & np.isfinite(z) & valid
    signed = np.where(observed, _signed(judged, cfg.direction), 0.0)
    positive = np.maximum(np.nan_to_num(signed, nan=0.0), 0.0)
    score = positive / (positive + cfg.threshold)
    anomalous = score >= 0.5
    alert = np.where(observed | (alert > 0), alert, 0).astype(np.int8)
    return StreamResult(expected, sigma, z, burst, score, anomalous, alert)
