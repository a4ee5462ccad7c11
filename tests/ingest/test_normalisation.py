"""Normalisation of real-world defects (counted by kind) and quarantine of rows that fail FOCUS rules."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from cloudoptima.ingest import CANONICAL_SCHEMA
from tests.ingest.conftest import FOCUS_SAMPLE, read_all

HEADER = FOCUS_SAMPLE.read_text(encoding="utf-8").split("\n", 1)[0]
COLUMNS = [cell.strip('"') for cell in HEADER.split(",")]
ROW = FOCUS_SAMPLE.read_text(encoding="utf-8").split("\n")[1]


def _row(**overrides: str) -> str:
    """The sample's first row with some cells replaced (values are written as given, CSV-quoted)."""
    cells = next(csv.reader([ROW]))
    for name, value in overrides.items():
        cells[COLUMNS.index(name)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue().removesuffix("\n")


def _file(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "focus.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_official_sample_defects_are_normalised_and_counted() -> None:
    result = read_all(FOCUS_SAMPLE)
    summary = result.summary
    assert summary.normalisations["enum_spelling"] == 7  # Usage-based -> Usage-Based
    assert summary.normalisations["timestamp_format"] == 4000  # 4 date columns x 1,000 rows
    assert summary.normalisations["null_literal"] > 0
    assert summary.rows_normalised == 1000
    assert set(result.table.column("charge_frequency").to_pylist()) <= {
        "Usage-Based",
        "One-Time",
        "Recurring",
        None,
    }
    assert result.table.schema == CANONICAL_SCHEMA
    assert result.summary.files[0].focus_version == "1.0"


def test_official_sample_rows_keep_line_numbers_and_values() -> None:
    table = read_all(FOCUS_SAMPLE).table
    first = table.slice(0, 1).to_pylist()[0]
    assert first["source_line"] == 2
    assert first["billed_cost"] == "0.00000080000"  # exactly the source digits
    assert first["charge_period_start"] == datetime(2024, 9, 18, 22, tzinfo=UTC)
    assert first["availability_zone"] is None  # literal NULL
    assert first["provider"] == "aws"
    assert json.loads(first["extensions"]) == {"Id": "11472"}
    assert table.column("source_line").to_pylist() == list(range(2, 1002))
    tags = [json.loads(text) for text in table.column("tags").to_pylist() if text is not None]
    assert len(tags) == 711
    assert all(isinstance(tag, dict) for tag in tags)


def test_negative_usage_cost_is_kept_with_a_warning() -> None:
    summary = read_all(FOCUS_SAMPLE).summary
    reason = "negative cost outside Credit/Adjustment/Correction"
    # 12 Microsoft Usage rows, BilledCost and EffectiveCost each; the AWS Credit row is not flagged.
    assert summary.warnings_by_reason[reason] == 24
    assert {record.line for record in summary.warnings} >= {956, 1001}
    assert 458 not in {record.line for record in summary.warnings}


def test_bad_cells_are_quarantined_with_file_line_column_reason_and_raw_value(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        _row(BilledCost="NaN"),
        _row(EffectiveCost="Infinity"),
        _row(ChargePeriodStart="2024-09-18 23:00:00"),
        _row(ChargeCategory="Bogus"),
        _row(BillingCurrency="US$"),
        _row(ChargePeriodEnd="yesterday"),
        _row(Tags="[1, 2]"),
        _row(),
    )
    result = read_all(path)
    found = {(q.line, q.column, q.reason.split(" (")[0], q.raw_value) for q in result.summary.quarantine}
    assert found == {
        (2, "BilledCost", "not a finite decimal number", "NaN"),
        (3, "EffectiveCost", "not a finite decimal number", "Infinity"),
        (
            4,
            "ChargePeriodEnd",
            "ChargePeriodEnd must be after ChargePeriodStart",
            "2024-09-18 23:00:00",
        ),
        (5, "ChargeCategory", "not an allowed value", "Bogus"),
        (6, "BillingCurrency", "not an ISO-4217 currency code", "US$"),
        (7, "ChargePeriodEnd", "not a recognised date/time", "yesterday"),
        (8, "Tags", "not a JSON object of scalar values", "[1, 2]"),
    }
    assert all(q.file == str(path) for q in result.summary.quarantine)
    assert result.table.column("source_line").to_pylist() == [9]
    assert (result.summary.rows_read, result.summary.rows_accepted, result.summary.rows_quarantined) == (
        8,
        1,
        7,
    )


def test_whitespace_case_exponent_and_date_shapes_are_normalised(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        _row(BilledCost=" 1.50 ", BillingCurrency="usd", ChargeCategory="usage"),
        _row(BilledCost="5.64902E-05", ChargePeriodStart="9/18/2024", ChargePeriodEnd="2024-09-19T00:00Z"),
        _row(BilledCost="+.5", ChargePeriodStart="2024-09-18T22:00:00+02:00"),
    )
    result = read_all(path)
    assert result.summary.rows_quarantined == 0
    assert result.table.column("billed_cost").to_pylist() == ["1.50", "0.0000564902", "0.5"]
    assert result.table.column("billing_currency").to_pylist()[0] == "USD"
    assert result.table.column("charge_category").to_pylist()[0] == "Usage"
    starts = result.table.column("charge_period_start").to_pylist()
    assert starts[1] == datetime(2024, 9, 18, tzinfo=UTC)
    assert starts[2] == datetime(2024, 9, 18, 20, tzinfo=UTC)
    counts = result.summary.normalisations
    assert counts["whitespace"] == 1
    assert counts["currency_case"] == 1
    assert counts["enum_spelling"] == 1
    assert counts["scientific_notation"] == 1
    assert counts["decimal_format"] == 1


def test_bom_and_padded_header_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    header = HEADER.replace('"BilledCost"', '" BilledCost "')
    path.write_bytes(b"\xef\xbb\xbf" + (header + "\n" + ROW + "\n").encode())
    result = read_all(path)
    assert result.table.num_rows == 1
    assert result.summary.normalisations["utf8_bom"] == 1
    assert result.summary.normalisations["whitespace"] >= 1


def test_line_numbers_count_newlines_inside_quoted_values(tmp_path: Path) -> None:
    multi = _row(ChargeDescription="first line\nsecond line\nthird")
    path = _file(tmp_path, multi, _row(BilledCost="NaN"), _row())
    result = read_all(path)
    assert result.table.column("source_line").to_pylist() == [2, 6]
    assert [q.line for q in result.summary.quarantine] == [5]
    assert result.table.column("charge_description").to_pylist()[0] == "first line\nsecond line\nthird"
