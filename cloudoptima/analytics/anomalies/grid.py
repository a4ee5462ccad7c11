"""Put any regularly sampled series on its grid: frequency inference, gaps and duplicate timestamps.

Contract:
- ``parse_freq(text)``: ``1min``…``59min``, ``1h``…``23h`` (also ``H``), ``1D`` (also ``D``), ``W``, ``M``
  → a :class:`Grid`; anything else raises ``ValueError`` naming the accepted forms.
- ``infer_grid(timestamps)``: the step is the most common gap between consecutive distinct timestamps
  (ties: the smaller); 28–31 days is ``M``, 7 days ``W``. Fewer than 2 distinct timestamps raise.
- ``to_grid(timestamps, values, grid)``: the grid runs from the first to the last timestamp in steps of
  the grid (calendar months for ``M``: an observation belongs to its month; anchored on the first timestamp otherwise). Every observation goes
  to the nearest grid point; **duplicates** (several observations on one grid point) become their mean
  (``"sum"`` for additive series such as cost); grid points without an observation are **gaps**: ``NaN``,
  never scored and never filled with zero. Returns the grid index, the values and, per observation, its
  grid position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cloudoptima.analytics.forecasting.series import FloatArray, IntArray

Duplicates = Literal["mean", "sum", "last"]
_FORMS = "1min…59min, 1h…23h (or H), 1D (or D), W or M"


@dataclass(frozen=True)
class Grid:
    """A sampling grid: a fixed ``step`` or calendar months (``monthly``)."""

    label: str
    step: pd.Timedelta
    monthly: bool = False


def parse_freq(text: str) -> Grid:
    """The grid named by ``text`` (see module contract)."""
    raw = text.strip()
    if raw in ("M", "MS", "ME"):
        return Grid("M", pd.Timedelta(days=30), monthly=True)
    if raw == "W":
        return Grid("W", pd.Timedelta(weeks=1))
    if raw in ("D", "1D", "1d"):
        return Grid("1D", pd.Timedelta(days=1))
    if raw in ("H", "h"):
        return Grid("1h", pd.Timedelta(hours=1))
    match = re.fullmatch(r"(\d+)\s*(min|T|h|H)", raw)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        minutes = count if unit in ("min", "T") else 60 * count
        if 1 <= minutes < 24 * 60 and ((unit in ("min", "T") and count < 60) or unit in ("h", "H")):
            step = pd.Timedelta(minutes=minutes)
            return Grid(f"{minutes}min" if minutes < 60 else f"{minutes // 60}h", step)
    raise ValueError(f"freq must be one of {_FORMS}, got {text!r}")


def infer_grid(timestamps: pd.DatetimeIndex) -> Grid:
    """The grid of a series from its own timestamps (see module contract)."""
    distinct = timestamps.unique().sort_values()
    if len(distinct) < 2:
        raise ValueError("cannot infer the frequency of fewer than 2 distinct timestamps")
    gaps = pd.Series(np.diff(distinct.values)).value_counts()
    top = gaps[gaps == gaps.max()].index.min()
    step = pd.Timedelta(top)
    if pd.Timedelta(days=28) <= step <= pd.Timedelta(days=31):
        return Grid("M", pd.Timedelta(days=30), monthly=True)
    if step == pd.Timedelta(weeks=1):
        return Grid("W", step)
    if step == pd.Timedelta(days=1):
        return Grid("1D", step)
    minutes = step / pd.Timedelta(minutes=1)
    label = f"{step.total_seconds():g}s" if minutes != int(minutes) else f"{int(minutes)}min"
    return Grid(label, step)


def to_grid(
    timestamps: pd.DatetimeIndex, values: FloatArray, grid: Grid, duplicates: Duplicates = "mean"
) -> tuple[pd.DatetimeIndex, FloatArray, IntArray]:
    """Values on the grid, gaps as ``NaN``, and each observation's grid position (see module contract)."""
    if len(timestamps) == 0:
        raise ValueError("the series is empty")
    first = timestamps.min()
    if grid.monthly:
        months = (timestamps.year - first.year) * 12 + (timestamps.month - first.month)
        position = np.asarray(months, dtype=np.int64)
        index = pd.DatetimeIndex(
            [first + pd.DateOffset(months=int(k)) for k in range(int(position.max()) + 1)]
        )
    else:
        offsets = np.asarray((timestamps - first) / grid.step, dtype=np.float64)
        position = np.round(offsets).astype(np.int64)
        index = pd.DatetimeIndex([first + grid.step * k for k in range(int(position.max()) + 1)])
    frame = pd.DataFrame({"pos": position, "value": values})
    observed = frame.dropna(subset=["value"]).groupby("pos")["value"]
    merged = {"mean": observed.mean, "sum": observed.sum, "last": observed.last}[duplicates]()
    out = np.full(len(index), np.nan)
    out[merged.index.to_numpy()] = merged.to_numpy()
    return index, out, np.asarray(position, dtype=np.int64)
