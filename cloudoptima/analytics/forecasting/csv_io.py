"""CSV in, CSV out: ``cloudoptima forecast --csv FILE ... --out OUT.csv`` and the shared series reader.

Contract:
- ``read_series_csv(path, date_col, value_col, freq)`` reads a header + rows CSV and returns the rows sorted by
  timestamp. Timestamps are ISO 8601 (time zones are converted to UTC and dropped); an empty value or
  ``NaN`` is a missing observation. Anything else that is wrong raises :class:`CsvInputError` whose message
  starts with ``FILE:LINE:`` and names the column: missing column, unparsable date, non-numeric or infinite
  value, duplicate timestamp (naming the earlier line), a timestamp off the ``freq`` grid, no data rows.
- ``forecast_csv(...)`` forecasts ``horizon`` periods and writes ``ds,yhat,yhat_lower,yhat_upper``
  (dates as ``YYYY-MM-DD`` for D/W, ``YYYY-MM-DD HH:MM:SS`` for H; numbers with 10 significant digits).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cloudoptima.analytics.forecasting.engine import SeriesForecast, check_horizon, forecast_series
from cloudoptima.analytics.forecasting.series import FloatArray, Freq, freq_step
from cloudoptima.domain.analytics import ForecastModelName

_FREQS = ("D", "H", "W")


class CsvInputError(ValueError):
    """Bad CSV input; the message names the file, the line and the column."""


@dataclass(frozen=True)
class SeriesCsv:
    """A series read from CSV, sorted by timestamp, with the source line of every row."""

    timestamps: pd.DatetimeIndex
    values: FloatArray
    lines: list[int]


def check_freq(freq: str) -> Freq:
    """``freq`` if it is D, H or W, else ``ValueError``."""
    if freq not in _FREQS:
        raise ValueError(f"freq must be one of {', '.join(_FREQS)}, got {freq!r}")
    return freq  # type: ignore[return-value]


def _parse_time(raw: str) -> pd.Timestamp | None:
    try:
        ts = pd.Timestamp(raw.strip())
    except (ValueError, TypeError, OverflowError):
        return None
    if ts is pd.NaT or pd.isna(ts):
        return None
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _parse_value(raw: str) -> float | None:
    """Float value, ``nan`` for missing, ``None`` if not a number or infinite."""
    text = raw.strip()
    if text == "" or text.lower() in ("nan", "na", "null"):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_series_csv(path: str | Path, date_col: str, value_col: str, freq: str) -> SeriesCsv:
    """Read and validate one series from ``path`` (see module contract)."""
    grid = check_freq(freq)
    where = str(path)
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CsvInputError(f"{where}: cannot open file: {exc.strerror}") from exc
    stamps: list[pd.Timestamp] = []
    values: list[float] = []
    lines: list[int] = []
    seen: dict[pd.Timestamp, int] = {}
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for col in (date_col, value_col):
            if col not in header:
                raise CsvInputError(
                    f"{where}:1: missing column {col!r} (columns: {', '.join(header) or 'none'})"
                )
        for row in reader:
            line = reader.line_num
            raw_ts, raw_val = row.get(date_col) or "", row.get(value_col) or ""
            ts = _parse_time(raw_ts)
            if ts is None:
                raise CsvInputError(f"{where}:{line}: column {date_col!r}: cannot parse date {raw_ts!r}")
            if grid == "D" and ts != ts.normalize():
                raise CsvInputError(
                    f"{where}:{line}: column {date_col!r}: {raw_ts!r} has a time of day (freq D)"
                )
            if grid == "H" and ts != ts.floor("h"):
                raise CsvInputError(
                    f"{where}:{line}: column {date_col!r}: {raw_ts!r} is not on the hour (freq H)"
                )
            value = _parse_value(raw_val)
            if value is None:
                raise CsvInputError(f"{where}:{line}: column {value_col!r}: not a finite number: {raw_val!r}")
            if ts in seen:
                raise CsvInputError(
                    f"{where}:{line}: column {date_col!r}: duplicate timestamp {ts} (first on line {seen[ts]})"
                )
            seen[ts] = line
            stamps.append(ts)
            values.append(value)
            lines.append(line)
    if not stamps:
        raise CsvInputError(f"{where}:2: no data rows")
    order = np.argsort(np.asarray([s.value for s in stamps]), kind="stable")
    sorted_stamps = pd.DatetimeIndex([stamps[i] for i in order])
    if grid == "W":
        offsets = (sorted_stamps - sorted_stamps[0]) / freq_step("W")
        off = np.flatnonzero(np.abs(offsets - np.round(offsets)) > 1e-9)
        if off.size:
            bad = int(order[off[0]])
            raise CsvInputError(
                f"{where}:{lines[bad]}: column {date_col!r}: {stamps[bad]} is not a whole number of weeks "
                f"after {sorted_stamps[0]} (freq W)"
            )
    return SeriesCsv(
        timestamps=sorted_stamps,
        values=np.asarray([values[i] for i in order], dtype=np.float64),
        lines=[lines[i] for i in order],
    )


def format_stamp(ts: pd.Timestamp, freq: Freq) -> str:
    """Timestamp as written to output CSVs."""
    return str(ts.strftime("%Y-%m-%d %H:%M:%S" if freq == "H" else "%Y-%m-%d"))


def forecast_csv(
    csv_path: str | Path,
    out_path: str | Path,
    *,
    horizon: int,
    date_col: str = "ds",
    value_col: str = "y",
    freq: str = "D",
    model: ForecastModelName = "auto",
    confidence_level: float = 0.95,
) -> SeriesForecast:
    """Forecast the series in ``csv_path`` and write ``ds,yhat,yhat_lower,yhat_upper`` to ``out_path``."""
    grid = check_freq(freq)
    check_horizon(horizon, grid)
    series = read_series_csv(csv_path, date_col, value_col, grid)
    if not np.isfinite(series.values).any():
        raise CsvInputError(f"{csv_path}: column {value_col!r} has no numeric values")
    result = forecast_series(
        series.timestamps, series.values, grid, horizon, level=confidence_level, model=model
    )
    with open(out_path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["ds", "yhat", "yhat_lower", "yhat_upper"])
        for ts, mean, low, up in zip(result.index, result.mean, result.lower, result.upper, strict=True):
            writer.writerow([format_stamp(ts, grid), f"{mean:.10g}", f"{low:.10g}", f"{up:.10g}"])
    return result
