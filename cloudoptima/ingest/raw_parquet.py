"""Streaming reader of one Parquet file into all-string Arrow batches, like ``raw_csv``.

Contract: batches of at most ``batch_rows`` rows, read row group by row group (bounded memory). Every column
is converted to ``string`` so the mappers see one representation whatever the writer chose:
decimals and integers by Arrow's exact cast, floats by their shortest round-trip text, timestamps as
RFC 3339 UTC (naive timestamps are taken as UTC), dates as ``YYYY-MM-DD``, nested values (maps, structs,
lists) as JSON text. ``RawBatch.lines`` holds 1-based row numbers (Parquet has no header line).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cloudoptima.ingest.errors import BillingFileError
from cloudoptima.ingest.raw_csv import RawBatch


def is_parquet(path: Path) -> bool:
    """True when the file starts with the Parquet magic bytes."""
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _nested_to_json(value: object) -> object:
    if isinstance(value, list) and all(isinstance(item, tuple) and len(item) == 2 for item in value):
        return {str(key): item for key, item in value}
    return value


def _as_string(array: pa.Array) -> pa.Array:
    kind = array.type
    if pa.types.is_string(kind):
        return array
    if pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        return array.cast(pa.string())
    if pa.types.is_timestamp(kind):
        utc = array if kind.tz is not None else pc.assume_timezone(array, "UTC")
        return pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ")
    if pa.types.is_date(kind):
        return pc.strftime(array, format="%Y-%m-%d")
    if pa.types.is_nested(kind):
        texts = [
            None if value is None else json.dumps(_nested_to_json(value), default=str)
            for value in array.to_pylist()
        ]
        return pa.array(texts, pa.string())
    return array.cast(pa.string())


class ParquetReader:
    """Streams one Parquet file; see the module docstring for the contract."""

    def __init__(self, path: Path, batch_rows: int) -> None:
        self.path = path
        self.batch_rows = batch_rows
        try:
            self._file = pq.ParquetFile(str(path))
        except (pa.ArrowInvalid, OSError) as exc:
            raise BillingFileError(str(path), f"unreadable Parquet file: {exc}") from exc
        names = tuple(self._file.schema_arrow.names)
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise BillingFileError(str(path), "duplicate column name", line=1, column=name)
            seen.add(name)
        self.names = names
        self.num_rows: int = self._file.metadata.num_rows

    def batches(self) -> Iterator[RawBatch]:
        """Yield batches of at most ``batch_rows`` rows in file order."""
        first = 1
        try:
            for batch in self._file.iter_batches(batch_size=self.batch_rows):
                columns = [_as_string(column) for column in batch.columns]
                table = pa.Table.from_arrays(columns, names=list(self.names))
                lines = pa.array(range(first, first + batch.num_rows), pa.int64())
                first += batch.num_rows
                yield RawBatch(table, lines)
        except (pa.ArrowInvalid, OSError) as exc:
            raise BillingFileError(str(self.path), f"corrupt Parquet file near row {first}: {exc}") from exc
