"""Grid rules of the any-frequency anomaly path: forced and inferred frequencies, gaps, duplicates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cloudoptima.analytics.anomalies import infer_grid, parse_freq, to_grid


@pytest.mark.parametrize(
    ("text", "label", "step"),
    [
        ("1min", "1min", pd.Timedelta(minutes=1)),
        ("5min", "5min", pd.Timedelta(minutes=5)),
        ("15T", "15min", pd.Timedelta(minutes=15)),
        ("H", "1h", pd.Timedelta(hours=1)),
        ("6h", "6h", pd.Timedelta(hours=6)),
        ("D", "1D", pd.Timedelta(days=1)),
        ("1D", "1D", pd.Timedelta(days=1)),
        ("W", "W", pd.Timedelta(weeks=1)),
    ],
)
def test_forced_frequencies(text: str, label: str, step: pd.Timedelta) -> None:
    grid = parse_freq(text)
    assert (grid.label, grid.step, grid.monthly) == (label, step, False)


@pytest.mark.parametrize("text", ["0min", "60min", "24h", "2D", "fortnight", ""])
def test_unknown_frequencies_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="1min"):
        parse_freq(text)


def test_inferred_frequency_is_the_most_common_gap_and_survives_gaps_and_jitter() -> None:
    stamps = pd.date_range("2024-01-01", periods=500, freq="5min")
    kept = stamps.delete(range(100, 160))  # a five-hour gap
    assert infer_grid(kept).label == "5min"
    weekly = pd.date_range("2024-01-07", periods=30, freq="W")
    assert infer_grid(weekly).label == "W"
    monthly = pd.date_range("2023-01-01", periods=24, freq="MS")
    assert infer_grid(monthly).monthly
    with pytest.raises(ValueError, match="fewer than 2"):
        infer_grid(pd.DatetimeIndex(["2024-01-01", "2024-01-01"]))


def test_duplicates_merge_by_the_stated_rule_and_gaps_stay_missing() -> None:
    stamps = pd.DatetimeIndex(
        ["2024-01-01 00:00", "2024-01-01 00:05", "2024-01-01 00:05", "2024-01-01 00:20"]
    )
    values = np.array([1.0, 2.0, 4.0, 8.0])
    grid = parse_freq("5min")
    index, mean, positions = to_grid(stamps, values, grid)
    assert len(index) == 5
    assert mean[:2].tolist() == [1.0, 3.0]
    assert np.isnan(mean[2]) and np.isnan(mean[3])  # a gap is missing, never zero
    assert positions.tolist() == [0, 1, 1, 4]
    assert to_grid(stamps, values, grid, "sum")[1][1] == 6.0
    assert to_grid(stamps, values, grid, "last")[1][1] == 4.0


def test_monthly_grid_puts_each_observation_in_its_month() -> None:
    stamps = pd.DatetimeIndex(["2024-01-31", "2024-02-29", "2024-04-30"])
    index, values, _ = to_grid(stamps, np.array([1.0, 2.0, 3.0]), parse_freq("M"))
    assert len(index) == 4
    assert np.isnan(values[2]) and values[3] == 3.0
