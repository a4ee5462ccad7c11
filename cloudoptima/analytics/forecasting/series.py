"""Regular time grids and history preparation shared by every forecasting model.

Contract:
- ``Freq`` is ``"D"`` (season 7), ``"H"`` (season 24) or ``"W"`` (season 52 when ≥ 2 years of history,
  else no seasonality). ``season_length(freq, n)`` returns the season used for ``n`` observations.
- ``regularise(index, values, freq)`` puts observations on a gap-free grid from the first to the last
  timestamp; missing periods become ``NaN`` (a gap is *missing*, not zero).
- ``prepare_matrix(values, m)`` decides, per series, where fitting starts: after leading zeros / leading
  missing values, and after the last sustained level shift when at least ``3 m`` observations follow it
  (otherwise the older segment is shifted onto the new level instead). It never reorders or fills values.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

Freq = Literal["D", "H", "W"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_SEASON: dict[str, int] = {"D": 7, "H": 24, "W": 52}
_STEP: dict[str, pd.Timedelta] = {
    "D": pd.Timedelta(days=1),
    "H": pd.Timedelta(hours=1),
    "W": pd.Timedelta(weeks=1),
}
MAX_HORIZON_DAYS = 365
SHIFT_MIN_SIGMAS = 6.0
"""A block-to-block jump must exceed this many robust sigmas of block differences to count as a shift."""
SHIFT_MIN_RELATIVE = 0.10
"""... and move the level by at least this fraction of the pre-shift level."""


def freq_step(freq: Freq) -> pd.Timedelta:
    """Length of one period of ``freq``."""
    return _STEP[freq]


def max_horizon(freq: Freq) -> int:
    """Largest horizon (in periods of ``freq``) that stays within 365 days."""
    return int(pd.Timedelta(days=MAX_HORIZON_DAYS) / _STEP[freq])


def season_length(freq: Freq, n_obs: int) -> int:
    """Season used for ``n_obs`` observations: the natural season if two full seasons fit, else 1."""
    m = _SEASON[freq]
    return m if n_obs >= 2 * m else 1


def future_index(last: pd.Timestamp, freq: Freq, horizon: int) -> pd.DatetimeIndex:
    """The ``horizon`` timestamps after ``last`` on the ``freq`` grid."""
    step = _STEP[freq]
    return pd.DatetimeIndex([last + step * (i + 1) for i in range(horizon)])


def regularise(
    index: pd.DatetimeIndex, values: FloatArray, freq: Freq
) -> tuple[pd.DatetimeIndex, FloatArray]:
    """Sorted, unique ``index`` → full grid from first to last stamp; absent periods get ``NaN``.

    Raises ``ValueError`` if a timestamp is off the grid anchored at the first timestamp.
    """
    if len(index) == 0:
        raise ValueError("the series is empty")
    step = _STEP[freq]
    first = index[0]
    offsets = (index - first) / step
    positions = np.asarray(offsets, dtype=np.float64)
    if not np.allclose(positions, np.round(positions)):
        bad = index[int(np.argmax(np.abs(positions - np.round(positions))))]
        raise ValueError(f"timestamp {bad} is not on the {freq} grid that starts at {first}")
    pos = np.round(positions).astype(np.int64)
    grid = pd.DatetimeIndex([first + step * i for i in range(int(pos[-1]) + 1)])
    out = np.full(len(grid), np.nan)
    out[pos] = values
    return grid, out


@dataclass(frozen=True)
class Preparation:
    """Per-series fitting window and adjustments decided by :func:`prepare_matrix`."""

    values: FloatArray
    """(S, T) values to fit, with pre-shift segments level-adjusted where the post segment is short."""
    start: IntArray
    """(S,) index of the first observation to fit on."""
    leading_zeros: BoolArray
    """(S,) whether leading zeros were skipped."""
    level_shift: BoolArray
    """(S,) whether a level shift moved ``start`` or adjusted the older segment."""


def _first_valid(values: FloatArray, skip_zeros: bool) -> IntArray:
    """Index of the first finite (and, if ``skip_zeros``, non-zero) value per row; T if none."""
    ok = np.isfinite(values)
    if skip_zeros:
        ok &= values != 0
    has = ok.any(axis=1)
    first = np.argmax(ok, axis=1).astype(np.int64)
    out: IntArray = np.where(has, first, values.shape[1]).astype(np.int64)
    return out


def _block_medians(values: FloatArray, m: int) -> tuple[FloatArray, int]:
    """Medians of consecutive length-``m`` blocks aligned to the end of each row, and the offset of block 0."""
    n_blocks = values.shape[1] // m
    offset = values.shape[1] - n_blocks * m
    blocks = values[:, offset:].reshape(values.shape[0], n_blocks, m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks give NaN medians
        return np.nanmedian(blocks, axis=2), offset


def detect_level_shift(values: FloatArray, start: IntArray, m: int) -> tuple[IntArray, FloatArray]:
    """Most recent sustained level shift per row: (index where the new level starts or -1, size).

    Works on medians of length-``max(m, 7)`` blocks, so a one-off spike does not count. A jump between
    neighbouring blocks is a shift when it is an outlier among block-to-block differences (which absorbs a
    steady trend), at least ``SHIFT_MIN_RELATIVE`` of the level, and held by the next block too.
    """
    block = max(m, 7)
    n_rows = values.shape[0]
    where = np.full(n_rows, -1, dtype=np.int64)
    size = np.zeros(n_rows)
    if values.shape[1] < 6 * block:
        return where, size
    med, offset = _block_medians(values, block)
    n_blocks = med.shape[1]
    first_block = np.maximum(0, (start - offset + block - 1) // block)
    diffs = np.diff(med, axis=1)
    for row in range(n_rows):
        lo = int(first_block[row])
        d = diffs[row, lo:]
        d = d[np.isfinite(d)]
        if d.size < 5:
            continue
        centre = float(np.median(d))
        sigma = 1.4826 * float(np.median(np.abs(d - centre))) + 1e-9
        for j in range(n_blocks - 2, lo, -1):  # jump between block j-1 and block j, newest first
            jump = med[row, j] - med[row, j - 1] - centre
            before = med[row, j - 1]
            if not (np.isfinite(jump) and np.isfinite(before)):
                continue
            if abs(jump) < SHIFT_MIN_SIGMAS * sigma or abs(jump) < SHIFT_MIN_RELATIVE * abs(before):
                continue
            held = med[row, j + 1] - before - 2 * centre
            if np.sign(held) == np.sign(jump) and abs(held) >= 0.5 * abs(jump):
                where[row] = _refine_split(values[row], offset + (j - 1) * block, block)
                size[row] = jump
                break
    return where, size


def _refine_split(row: FloatArray, lo: int, block: int) -> int:
    """Exact first day of the new level within the two blocks starting at ``lo``.

    Each day is labelled old or new by comparing it with the same position two blocks earlier (old level)
    and two blocks later (new level); the split minimises mislabelled days.
    """
    n = row.shape[0]
    labels = []
    for t in range(lo, lo + 2 * block):
        old_i = t - 2 * block
        new_i = t + 2 * block
        while new_i >= n:
            new_i -= block
        old, new, y = row[max(old_i, 0)], row[new_i], row[t]
        if not (np.isfinite(old) and np.isfinite(new) and np.isfinite(y)):
            labels.append(0)
            continue
        labels.append(1 if abs(y - new) < abs(y - old) else -1)
    lab = np.asarray(labels)
    costs = [int(np.sum(lab[:k] == 1) + np.sum(lab[k:] == -1)) for k in range(lab.size + 1)]
    return lo + int(np.argmin(costs))


def prepare_matrix(values: FloatArray, m: int, *, skip_leading_zeros: bool = True) -> Preparation:
    """Choose each row's fitting window: skip leading zeros/NaNs, then handle the latest level shift."""
    out = values.copy()
    first_any = _first_valid(values, skip_zeros=False)
    start = _first_valid(values, skip_zeros=skip_leading_zeros)
    all_zero = start >= values.shape[1]
    start = np.where(all_zero, first_any, start)
    leading_zeros = start > first_any
    shift_at, shift_size = detect_level_shift(values, start, m)
    level_shift = shift_at >= 0
    for row in np.flatnonzero(level_shift):
        at = int(shift_at[row])
        if values.shape[1] - at >= 3 * max(m, 7):
            start[row] = max(at, int(start[row]))
        else:
            out[row, int(start[row]) : at] += shift_size[row]
    return Preparation(values=out, start=start, leading_zeros=leading_zeros, level_shift=level_shift)
