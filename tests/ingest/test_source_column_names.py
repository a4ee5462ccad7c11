"""Quarantine records name the source file's own header (``lineItem/UnblendedCost``), never a database column."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cloudoptima.ingest import BillingFileError, open_billing_source
from tests.ingest.conftest import FIXTURES, read_all

AWS_CUR = FIXTURES / "focus_converters" / "aws_cur_v1_anonymized_2023-11.csv"
GCP = FIXTURES / "koku" / "gcp" / "2022-08-01_5.csv"


def _broken_copy(source: Path, target: Path, edits: dict[int, dict[str, str]]) -> Path:
    """``source`` with cells replaced: ``{physical line: {header: value}}`` (header = line 1)."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for line, cells in edits.items():
        for column, value in cells.items():
            rows[line - 1][header.index(column)] = value
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return target


def test_cur_quarantine_names_cur_columns(tmp_path: Path) -> None:
    path = _broken_copy(
        AWS_CUR,
        tmp_path / "cur.csv",
        {
            2: {"lineItem/UnblendedCost": "12,5"},
            3: {"lineItem/UsageStartDate": "someday"},
            4: {"lineItem/CurrencyCode": ""},
        },
    )
    summary = read_all(path).summary
    found = {(q.file, q.line, q.column, q.reason.split(" (")[0]) for q in summary.quarantine}
    assert found == {
        (str(path), 2, "lineItem/UnblendedCost", "not a finite decimal number"),
        (str(path), 3, "lineItem/UsageStartDate", "not a recognised date/time"),
        (str(path), 4, "lineItem/CurrencyCode", "missing value"),
    }
    assert not {"billed_cost", "charge_period_start", "billing_currency"} & {
        q.column for q in summary.quarantine
    }


def test_gcp_quarantine_names_gcp_columns(tmp_path: Path) -> None:
    path = _broken_copy(GCP, tmp_path / "gcp.csv", {2: {"cost": "NaN"}, 3: {"currency": "dollars"}})
    summary = read_all(path).summary
    found = {(q.line, q.column, q.raw_value) for q in summary.quarantine}
    assert (2, "cost", "NaN") in found
    assert (3, "currency", "dollars") in found
    assert all(q.file == str(path) for q in summary.quarantine)


def test_missing_native_column_error_names_file_line_and_source_column(tmp_path: Path) -> None:
    with AWS_CUR.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    drop = rows[0].index("lineItem/UnblendedCost")
    path = tmp_path / "no_cost.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([row[:drop] + row[drop + 1 :] for row in rows])
    with pytest.raises(BillingFileError) as raised:
        open_billing_source(path, fmt="aws_cur")
    error = raised.value
    assert (error.file, error.line, error.column) == (str(path), 1, "lineItem/UnblendedCost")
    assert str(error).startswith(f"{path}, line 1, column 'lineItem/UnblendedCost'")
