"""The canonical Arrow schema of every batch produced by ingest (what the ``cost_data`` loader COPYs).

Contract:
- One column per FOCUS 1.2 column, named by its snake_case ``db_name``, in catalogue order.
- Decimal columns (costs, prices, quantities) are ``string``: a canonical plain decimal
  (``-?digits[.digits]``, no exponent, no ``+``), exactly the source digits, or null. Never float.
- Date/time columns are ``timestamp[us, tz=UTC]``.
- ``tags`` and ``sku_price_details`` are JSON object text; ``extensions`` is JSON object text holding the
  source's ``x_`` and unmapped columns as strings (or null when there are none).
- ``provider`` is one of ``aws | azure | gcp | oci | other``.
- ``source_file`` is the path as given to the reader; ``source_line`` is the 1-based physical line of the
  row in a CSV file (header = line 1) or the 1-based row number in a Parquet file.
"""

from __future__ import annotations

import pyarrow as pa

from cloudoptima.domain.focus import FOCUS_COLUMNS, ColumnType

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

DECIMAL_COLUMNS: tuple[str, ...] = tuple(c.db_name for c in FOCUS_COLUMNS if c.type is ColumnType.DECIMAL)
DATETIME_COLUMNS: tuple[str, ...] = tuple(c.db_name for c in FOCUS_COLUMNS if c.type is ColumnType.DATETIME)
JSON_COLUMNS: tuple[str, ...] = tuple(c.db_name for c in FOCUS_COLUMNS if c.type is ColumnType.JSON)
FOCUS_DB_COLUMNS: tuple[str, ...] = tuple(c.db_name for c in FOCUS_COLUMNS)

EXTRA_COLUMNS: tuple[str, ...] = ("provider", "extensions", "source_file", "source_line")
PROVIDERS: tuple[str, ...] = ("aws", "azure", "gcp", "oci", "other")


def _field(db_name: str) -> pa.Field:
    return pa.field(db_name, TIMESTAMP_TYPE if db_name in DATETIME_COLUMNS else pa.string())


CANONICAL_SCHEMA: pa.Schema = pa.schema(
    [_field(name) for name in FOCUS_DB_COLUMNS]
    + [
        pa.field("provider", pa.string(), nullable=False),
        pa.field("extensions", pa.string()),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_line", pa.int64(), nullable=False),
    ]
)
"""Schema of every ``pyarrow.Table`` yielded by ``BillingSource.batches()``."""

CANONICAL_COLUMNS: tuple[str, ...] = tuple(CANONICAL_SCHEMA.names)
