"""``cloudoptima anomalies --csv FILE [--freq F] --out OUT.csv`` behaviour: anomalies on any regular series.

Contract: ``detect_anomalies_csv(csv_path, out_path, ...)`` reads a header + rows CSV (ISO 8601 timestamps,
time zones converted to UTC; an empty value or ``NaN`` is a missing observation; anything else that is
wrong raises :class:`~cloudoptima.analytics.forecasting.CsvInputError` naming ``FILE:LINE`` and the column).
The grid is inferred from the timestamps unless ``freq`` names one (see :mod:`.grid` for the rules on
gaps and duplicate timestamps); the series is scored by the causal detector of :mod:`.stream` with knobs
derived from the step (daily and weekly cycles at sub-daily steps). Every decision at ``t`` uses only
points up to ``t``. One row per grid point is written, in time order:
``timestamp,value,expected,score,is_anomaly,alert`` with ``score`` in ``[0, 1)`` (0.5 at the threshold),
``is_anomaly`` ``true``/``false`` and ``alert`` ``anomaly`` (an event starts), ``change`` (a change of level
starts; the points after it are judged against the new level) or empty. Gaps are written with an empty
value and score 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cloudoptima.analytics.anomalies.grid import Duplicates, Grid, infer_grid, parse_freq, to_grid
from cloudoptima.analytics.anomalies.stream import ANOMALY, CHANGE, Direction, config_for_step, detect_matrix
from cloudoptima.analytics.forecasting.csv_io import CsvInputError
from cloudoptima.analytics.forecasting.series import BoolArray, FloatArray

_ALERT_NAMES = {ANOMALY: "anomaly", CHANGE: "change"}


@dataclass(frozen=True)
class AnomalyCsvResult:
    """Scores of every grid point, in time order, and the grid used."""

    timestamps: pd.DatetimeIndex
    values: FloatArray
    score: FloatArray
    is_anomaly: BoolArray
    alerts: list[tuple[pd.Timestamp, str]]
    grid: Grid


def _read(path: str | Path, date_col: str, value_col: str) -> tuple[pd.DatetimeIndex, FloatArray]:
    where = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except OSError as exc:
        raise CsvInputError(f"{where}: cannot open file: {exc.strerror}") from exc
    except pd.errors.EmptyDataError as exc:
        raise CsvInputError(f"{where}:1: no header") from exc
    for col in (date_col, value_col):
        if col not in frame.columns:
            raise CsvInputError(f"{where}:1: missing column {col!r} (columns: {', '.join(frame.columns)})")
    if frame.empty:
        raise CsvInputError(f"{where}:2: no data rows")
    stamps = pd.to_datetime(frame[date_col].str.strip(), errors="coerce", utc=True, format="ISO8601")
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        raw = frame[date_col].iloc[bad[0]]
        raise CsvInputError(f"{where}:{bad[0] + 2}: column {date_col!r}: cannot parse date {raw!r}")
    text = frame[value_col].str.strip()
    missing = text.str.lower().isin(["", "nan", "na", "null"])
    numbers = pd.to_numeric(text.where(~missing), errors="coerce")
    wrong = np.flatnonzero((~missing & (numbers.isna() | ~np.isfinite(numbers.fillna(0.0)))).to_numpy())
    if wrong.size:
        raw = frame[value_col].iloc[wrong[0]]
        raise CsvInputError(f"{where}:{wrong[0] + 2}: column {value_col!r}: not a finite number: {raw!r}")
    index = pd.DatetimeIndex(stamps).tz_convert("UTC").tz_localize(None)
    order = np.argsort(index.asi8, kind="stable")
    return index[order], numbers.to_numpy(dtype=np.float64)[order]


def detect_anomalies_csv(
    csv_path: str | Path,
    out_path: str | Path,
    *,
    date_col: str = "timestamp",
    value_col: str = "value",
    freq: str | None = None,
    threshold: float = 5.0,
    direction: Direction = "both",
    duplicates: Duplicates = "mean",
) -> AnomalyCsvResult:
    """Score every grid point of ``csv_path`` and write the rows to ``out_path`` (see module contract)."""
    stamps, values = _read(csv_path, date_col, value_col)
    if not np.isfinite(values).any():
        raise CsvInputError(f"{csv_path}: column {value_col!r} has no numeric values")
    try:
        grid = parse_freq(freq) if freq else infer_grid(stamps)
    except ValueError as exc:
        raise CsvInputError(f"{csv_path}: column {date_col!r}: {exc}") from exc
    index, on_grid, _ = to_grid(stamps, values, grid, duplicates)
    config = config_for_step(grid.step, threshold=threshold, direction=direction)
    result = detect_matrix(on_grid[None, :], config)
    score, flags, alert = result.score[0], result.anomalous[0], result.alert[0]
    alerts = [(index[t], _ALERT_NAMES[int(alert[t])]) for t in np.flatnonzero(alert)]
    daily = grid.monthly or grid.step >= pd.Timedelta(days=1)
    fmt = "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M:%S"
    with open(out_path, "w", encoding="utf-8", newline="") as out:
        out.write("timestamp,value,expected,score,is_anomaly,alert\n")
        for t, ts in enumerate(index):
            value, expected = on_grid[t], result.expected[0, t]
            shown = f"{value:.10g}" if np.isfinite(value) else ""
            base = f"{expected:.10g}" if np.isfinite(expected) else ""
            name = _ALERT_NAMES.get(int(alert[t]), "")
            out.write(
                f"{ts.strftime(fmt)},{shown},{base},{score[t]:.6f},{'true' if flags[t] else 'false'},{name}\n"
            )
    return AnomalyCsvResult(
        timestamps=index, values=on_grid, score=score, is_anomaly=flags, alerts=alerts, grid=grid
    )
