"""Containers: gzip, Parquet, folders (recursive, deterministic order) and batch sizes."""

from __future__ import annotations

import gzip
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from cloudoptima.ingest import open_billing_source
from tests.ingest.conftest import FIXTURES, FOCUS_SAMPLE, oracle_sum, read_all


def test_gzip_csv_reads_like_plain_csv(tmp_path: Path) -> None:
    path = tmp_path / "focus.csv.gz"
    path.write_bytes(gzip.compress(FOCUS_SAMPLE.read_bytes()))
    plain = read_all(FOCUS_SAMPLE).table
    zipped = read_all(path).table
    assert zipped.drop_columns(["source_file"]).equals(plain.drop_columns(["source_file"]))


def test_small_batches_give_the_same_rows(tmp_path: Path) -> None:
    source = open_billing_source(FOCUS_SAMPLE, batch_rows=64)
    sizes = [batch.num_rows for batch in source.batches()]
    assert max(sizes) <= 64
    assert sum(sizes) == 1000
    assert source.summary.total_billed_cost() == oracle_sum(FOCUS_SAMPLE, "BilledCost")


def test_parquet_focus_file(tmp_path: Path) -> None:
    table = pcsv.read_csv(
        FOCUS_SAMPLE,
        convert_options=pcsv.ConvertOptions(
            null_values=["NULL"],
            column_types={"BilledCost": pa.decimal128(20, 11), "ChargePeriodStart": pa.timestamp("s")},
        ),
    )
    path = tmp_path / "focus.parquet"
    pq.write_table(table, path, row_group_size=300)
    result = read_all(path, batch_rows=250)
    assert result.table.num_rows == 1000
    assert result.summary.total_billed_cost() == Decimal("20.52022672899")
    assert result.table.column("source_line").to_pylist()[:3] == [1, 2, 3]
    assert result.table.column("billed_cost")[0].as_py() == "0.00000080000"


def test_folder_is_read_recursively_in_path_order(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep").mkdir(parents=True)
    (tmp_path / "a").mkdir()
    shutil.copy(FIXTURES / "koku" / "aws" / "2023-06-01.csv", tmp_path / "b" / "deep" / "cur.csv")
    shutil.copy(FIXTURES / "koku" / "azure" / "azure_camelCased.csv", tmp_path / "a" / "azure.csv")
    shutil.copy(FOCUS_SAMPLE, tmp_path / "focus.csv")
    (tmp_path / "Manifest.json").write_text("{}", encoding="utf-8")
    source = open_billing_source(tmp_path)
    assert [path.relative_to(tmp_path).as_posix() for path in source.files] == [
        "a/azure.csv",
        "b/deep/cur.csv",
        "focus.csv",
    ]
    list(source.batches())
    formats = list(source.summary.detected_formats.values())
    assert formats == ["azure", "aws_cur", "focus"]
    assert set(source.summary.totals) == {("azure", "USD"), ("aws", "NOK"), ("aws", "USD"), ("oci", "USD")}
