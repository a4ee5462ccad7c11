"""Whole-file defects raise one BillingFileError whose message names the file, line and column."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from cloudoptima.ingest import BillingFileError, open_billing_source
from tests.ingest.conftest import FIXTURES, FOCUS_SAMPLE, read_all

HEADER = FOCUS_SAMPLE.read_text(encoding="utf-8").split("\n", 1)[0]
FIRST_ROWS = FOCUS_SAMPLE.read_text(encoding="utf-8").split("\n")[1:4]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, fmt: str = "auto") -> BillingFileError:
    with pytest.raises(BillingFileError) as caught:
        list(open_billing_source(path, fmt=fmt).batches())
    return caught.value


def test_wrong_delimiter(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "semicolon.csv", HEADER.replace(",", ";") + "\n" + FIRST_ROWS[0].replace(",", ";")
    )
    error = _error(path)
    assert error.line == 1
    assert str(error).startswith(f"{path}, line 1: wrong delimiter")
    assert "';'" in str(error)


def test_missing_mandatory_column_names_the_column(tmp_path: Path) -> None:
    columns = HEADER.split(",")
    index = columns.index('"BillingCurrency"')
    rows = [",".join(cell for i, cell in enumerate(row.split(",")) if i != index) for row in FIRST_ROWS[:1]]
    header = ",".join(cell for i, cell in enumerate(columns) if i != index)
    path = _write(tmp_path / "no_currency.csv", header + "\n" + rows[0] + "\n")
    error = _error(path)
    assert (error.line, error.column) == (1, "BillingCurrency")
    assert str(error) == (
        f"{path}, line 1, column 'BillingCurrency': missing mandatory FOCUS 1.0 column(s): BillingCurrency"
    )


def test_unknown_format(tmp_path: Path) -> None:
    path = _write(tmp_path / "prices.csv", "ds,y\n2024-01-01,3\n")
    error = _error(path)
    assert error.line == 1
    assert str(error).startswith(f"{path}, line 1: unknown billing format")
    assert "ds, y" in str(error)


def test_unknown_format_name(tmp_path: Path) -> None:
    path = _write(tmp_path / "sample.csv", HEADER + "\n" + FIRST_ROWS[0] + "\n")
    assert "unknown format 'cur3'" in str(_error(path, fmt="cur3"))


def test_non_utf8_body_names_line_and_column(tmp_path: Path) -> None:
    row = FIRST_ROWS[1].replace("SunBird", "Sun\udcffBird")
    data = (HEADER + "\n" + FIRST_ROWS[0] + "\n" + row + "\n").encode("utf-8", "surrogateescape")
    path = tmp_path / "latin1.csv"
    path.write_bytes(data)
    error = _error(path)
    assert (error.line, error.column) == (3, "BillingAccountName")
    assert str(error).startswith(f"{path}, line 3, column 'BillingAccountName': value is not UTF-8")


def test_truncated_gzip(tmp_path: Path) -> None:
    payload = gzip.compress(FOCUS_SAMPLE.read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(payload[: len(payload) // 2])
    error = _error(path)
    assert "truncated" in str(error)
    assert str(error).startswith(f"{path}, line ")
    assert error.line is not None
    assert 2 < error.line < 1001


def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.csv", "")
    error = _error(path)
    assert str(error) == f"{path}, line 1: empty file: no header and no rows"


def test_blank_file_is_empty_too(tmp_path: Path) -> None:
    path = _write(tmp_path / "blank.csv", "\n\n  \n")
    assert "empty file" in str(_error(path))


def test_header_only(tmp_path: Path) -> None:
    path = _write(tmp_path / "header.csv", HEADER + "\n")
    error = _error(path)
    assert str(error) == f"{path}, line 1: header only: the file has no data rows"


def test_duplicate_header_names_the_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "dup.csv", HEADER + ',"BilledCost"\n' + FIRST_ROWS[0] + ",1\n")
    error = _error(path)
    assert (error.line, error.column) == (1, "BilledCost")
    assert str(error) == f"{path}, line 1, column 'BilledCost': duplicate column name in header"


def test_ragged_row_in_a_real_koku_file_names_the_line() -> None:
    path = FIXTURES / "koku" / "aws" / "test_cur.csv"
    error = _error(path)
    assert error.line == 2
    assert str(error) == f"{path}, line 2: row has 130 fields but the header has 131"


def test_oci_usage_report_is_named_not_a_cost_file() -> None:
    path = FIXTURES / "koku" / "oci" / "reports_usage-csv_0001000000829494.csv"
    assert "OCI usage report has no cost columns" in str(_error(path))


def test_header_errors_are_raised_before_any_batch(tmp_path: Path) -> None:
    """Pre-pass: a bad second file fails open_billing_source itself, so nothing from the first is loaded."""
    _write(tmp_path / "a.csv", HEADER + "\n" + FIRST_ROWS[0] + "\n")
    _write(tmp_path / "b.csv", HEADER + "\n")
    with pytest.raises(BillingFileError, match=r"b\.csv, line 1: header only"):
        open_billing_source(tmp_path)


def test_missing_native_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "cur.csv", "lineItem/UnblendedCost,lineItem/UsageStartDate\n1,2024-01-01\n")
    error = _error(path)
    assert error.column == "lineItem/CurrencyCode"
    assert "missing required aws_cur column lineItem/CurrencyCode" in str(error)


def test_error_survives_pickling(tmp_path: Path) -> None:
    """Workers (Temporal activities, processes) ship the error across process boundaries."""
    import pickle

    error = BillingFileError("f.csv", "boom", line=3, column="c")
    assert str(pickle.loads(pickle.dumps(error))) == "f.csv, line 3, column 'c': boom"  # noqa: S301


def test_read_all_of_a_good_file_has_no_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "ok.csv", HEADER + "\n" + "\n".join(FIRST_ROWS) + "\n")
    assert read_all(path).table.num_rows == 3
