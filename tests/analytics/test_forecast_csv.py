"""``forecast_csv``: round trip on real and synthetic files, and clear errors for bad input."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from cloudoptima.analytics.forecasting import CsvInputError, forecast_csv
from cloudoptima_evals.data import prophet_csv

FIXTURES = prophet_csv().parent


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_round_trip_on_the_real_example_writes_one_row_per_future_day(tmp_path: Path) -> None:
    source = shutil.copy(FIXTURES / "example_wp_log_peyton_manning.csv", tmp_path / "in.csv")
    out = tmp_path / "out.csv"
    result = forecast_csv(source, out, horizon=30, model="fast")
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["ds", "yhat", "yhat_lower", "yhat_upper"]
    assert len(rows) == 30
    assert rows[0]["ds"] == "2016-01-21"  # the file ends on 2016-01-20
    yhat = np.array([float(r["yhat"]) for r in rows])
    assert np.allclose(yhat, result.mean, rtol=1e-9)
    assert all(float(r["yhat_lower"]) <= float(r["yhat"]) <= float(r["yhat_upper"]) for r in rows)
    assert 6.0 < yhat.mean() < 11.0  # log page views stay in the series' range


def test_hourly_series_with_custom_columns(tmp_path: Path) -> None:
    lines = ["when,amount"] + [
        f"2024-05-{1 + h // 24:02d}T{h % 24:02d}:00:00Z,{10 + 5 * np.sin(h / 24 * 2 * np.pi):.3f}"
        for h in range(24 * 10)
    ]
    source = write(tmp_path / "hourly.csv", "\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    forecast_csv(source, out, horizon=48, date_col="when", value_col="amount", freq="H", model="snaive")
    rows = read_rows(out)
    assert rows[0]["ds"] == "2024-05-11 00:00:00"
    assert float(rows[6]["yhat"]) == pytest.approx(15.0, abs=0.01)  # 06:00 is the daily peak


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("date,y\n2024-01-01,1\n", r"in\.csv:1: missing column 'ds'"),
        ("ds,y\n2024-01-01,1\n2024-13-45,2\n", r"in\.csv:3: column 'ds': cannot parse date '2024-13-45'"),
        ("ds,y\n2024-01-01,1\n2024-01-02,ten\n", r"in\.csv:3: column 'y': not a finite number: 'ten'"),
        ("ds,y\n2024-01-01,1\n2024-01-02,2\n2024-01-01,3\n", r"in\.csv:4: column 'ds': duplicate .*line 2"),
        ("ds,y\n2024-01-01 10:30,1\n", r"in\.csv:2: column 'ds': .* time of day"),
        ("ds,y\n", r"in\.csv:2: no data rows"),
    ],
)
def test_bad_input_names_file_line_and_column(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(CsvInputError, match=message):
        forecast_csv(write(tmp_path / "in.csv", body), tmp_path / "out.csv", horizon=7)


def test_missing_file_and_too_long_horizon(tmp_path: Path) -> None:
    with pytest.raises(CsvInputError, match="cannot open"):
        forecast_csv(tmp_path / "nope.csv", tmp_path / "out.csv", horizon=7)
    source = write(tmp_path / "in.csv", "ds,y\n2024-01-01,1\n")
    with pytest.raises(ValueError, match="365"):
        forecast_csv(source, tmp_path / "out.csv", horizon=366)
    assert not (tmp_path / "out.csv").exists()


def test_empty_values_are_gaps(tmp_path: Path) -> None:
    lines = ["ds,y"] + [f"2024-01-{d:02d},{'' if d == 10 else 5 + d % 7}" for d in range(1, 31)]
    out = tmp_path / "out.csv"
    result = forecast_csv(write(tmp_path / "in.csv", "\n".join(lines)), out, horizon=7, model="fast")
    assert "gaps_filled" in [f.value for f in result.flags]
    assert len(read_rows(out)) == 7
