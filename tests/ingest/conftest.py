"""Helpers for ingest tests: fixture paths, a whole-source reader and an independent Decimal oracle."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from cloudoptima.ingest import CANONICAL_SCHEMA, BillingSource, IngestSummary, open_billing_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FOCUS_SAMPLE = FIXTURES / "focus_official_sample" / "focus_1.0_sample_1000.csv"


@dataclass
class ReadResult:
    """Everything one source produced."""

    source: BillingSource
    table: pa.Table

    @property
    def summary(self) -> IngestSummary:
        return self.source.summary


def read_all(path: Path, **options: object) -> ReadResult:
    """Stream every batch of ``path`` and concatenate them."""
    source = open_billing_source(path, **options)  # type: ignore[arg-type]
    batches = list(source.batches())
    table = pa.Table.from_batches(
        [batch for table in batches for batch in table.to_batches()], schema=CANONICAL_SCHEMA
    )
    return ReadResult(source, table)


def oracle_sum(path: Path, column: str, where: dict[str, str] | None = None) -> Decimal:
    """Σ of a source column computed with the csv module and Decimal, independently of the ingest code."""
    total = Decimal(0)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if where and any(row[key] != value for key, value in where.items()):
                continue
            value = row[column].strip()
            if value and value != "NULL":
                total += Decimal(value)
    return total


def decimal_sum(table: pa.Table, column: str) -> Decimal:
    """Σ of a canonical decimal-string column."""
    return sum(
        (Decimal(value) for value in table.column(column).to_pylist() if value is not None), Decimal(0)
    )
