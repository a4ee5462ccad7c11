"""``cloudoptima anomalies --csv FILE --date-col timestamp --value-col value --out OUT.csv`` behaviour.

Contract: ``detect_anomalies_csv(csv_path, out_path, ...)`` reads one series with the same validation and
error messages as ``forecast_csv`` (file:line:column), scores it with the weekday/trend-aware baseline of
:func:`~cloudoptima.analytics.anomalies.baseline.score_matrix` (season 7 for D, 24 for H, none for W), and
writes one row per input row, sorted by time: ``timestamp,value,score,is_anomaly`` with ``score`` in
``[0, 1)`` (0.5 at the threshold) and ``is_anomaly`` ``true``/``false``. Missing values are interpolated for
the baseline only; they are written empty with score 0. Points without enough history (the first
``(weeks + residual weeks)`` seasons) score 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cloudoptima.analytics.anomalies.baseline import Direction, score_matrix
from cloudoptima.analytics.forecasting.csv_io import CsvInputError, check_freq, format_stamp, read_series_csv
from cloudoptima.analytics.forecasting.series import BoolArray, FloatArray, regularise

# freq -> (season m, seasons in the baseline window, points in the residual window)
_SHAPES: dict[str, tuple[int, int, int]] = {"D": (7, 4, 28), "H": (24, 4, 96), "W": (1, 8, 16)}


@dataclass(frozen=True)
class AnomalyCsvResult:
    """Scores of the input rows, in time order."""

    timestamps: pd.DatetimeIndex
    values: FloatArray
    score: FloatArray
    is_anomaly: BoolArray


def detect_anomalies_csv(
    csv_path: str | Path,
    out_path: str | Path,
    *,
    date_col: str = "timestamp",
    value_col: str = "value",
    freq: str = "D",
    threshold: float = 5.0,
    direction: Direction = "both",
) -> AnomalyCsvResult:
    """Score every row of ``csv_path`` and write ``timestamp,value,score,is_anomaly`` to ``out_path``."""
    series = read_series_csv(csv_path, date_col, value_col, freq)
    grid_freq = check_freq(freq)
    if not np.isfinite(series.values).any():
        raise CsvInputError(f"{csv_path}: column {value_col!r} has no numeric values")
    grid, filled = regularise(series.timestamps, series.values, grid_freq)
    interpolated = pd.Series(filled).interpolate(limit_direction="both").to_numpy(dtype=np.float64)
    m, weeks, span = _SHAPES[grid_freq]
    scores = score_matrix(
        interpolated[None, :], m=m, weeks=weeks, residual_span=span, threshold=threshold, direction=direction
    )
    positions = grid.get_indexer(series.timestamps)
    observed = np.isfinite(series.values)
    score = np.where(observed, scores.score[0, positions], 0.0)
    flags = score >= 0.5
    with open(out_path, "w", encoding="utf-8", newline="") as out:
        out.write("timestamp,value,score,is_anomaly\n")
        for ts, value, sc, flag in zip(series.timestamps, series.values, score, flags, strict=True):
            shown = f"{value:.10g}" if np.isfinite(value) else ""
            out.write(f"{format_stamp(ts, grid_freq)},{shown},{sc:.6f},{'true' if flag else 'false'}\n")
    return AnomalyCsvResult(timestamps=series.timestamps, values=series.values, score=score, is_anomaly=flags)
