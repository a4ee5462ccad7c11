"""Running one cost export: stream the dataset's rows, write partition files, publish them, manifest last.

Contract of :func:`run_export`:
- Rows are read with a server-side cursor in batches of ``batch_rows`` and written as they come (memory is
  bounded by the batch, not the period); each partition (UTC month or day of the dataset's day column)
  becomes one file ``part-<yyyy-mm | yyyy-mm-dd>.<csv | parquet>``.
- Files are staged privately, then published one by one (rename or S3 put); the manifest is published last
  and the old manifest is removed first, so a reader who sees ``manifest.json`` sees a complete export. A
  re-run of the same request replaces the files and the manifest and prunes files the new manifest does not
  list (idempotent: same rows, same bytes, same checksums).
- A failure raises :class:`ExportError` (destination errors included) and publishes no manifest.
- ``now`` is the manifest's ``generated_at`` (the caller's clock).
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from cloudoptima.domain.cost_exports import ExportFile, ExportManifest, ExportRequest
from cloudoptima.services.cost_exports.datasets import (
    DATASETS,
    FOCUS_13_DATASET,
    ExportDataset,
    partition_day,
    plain_decimal,
)
from cloudoptima.services.cost_exports.destinations import ExportDestination, ExportDestinationError

DEFAULT_BATCH_ROWS = 10_000


class ExportError(RuntimeError):
    """The export failed; the text says why (no manifest was published)."""


class UnknownDatasetError(ValueError):
    """The request names a dataset that does not exist."""


def dataset_for(name: str, focus_version: str | None = None) -> ExportDataset:
    """The dataset called ``name`` (``focus_raw`` in FOCUS ``focus_version``, 1.2 when None) or
    :class:`UnknownDatasetError` listing the known ones."""
    if focus_version == FOCUS_13_DATASET.version and name == FOCUS_13_DATASET.name:
        return FOCUS_13_DATASET
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"dataset: unknown dataset {name!r} (known: {', '.join(DATASETS)})"
        ) from None


def partition_key(day: date, partition: str) -> str:
    """``2025-03`` (month) or ``2025-03-07`` (day)."""
    return day.isoformat()[:7] if partition == "month" else day.isoformat()


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class _PartFile:
    """One partition file being written."""

    dataset: ExportDataset
    request: ExportRequest
    key: str
    path: Path
    rows: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)
    _parquet: pq.ParquetWriter | None = None
    _csv: io.TextIOWrapper | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def open(self) -> None:
        if self.request.format == "parquet":
            self._parquet = pq.ParquetWriter(self.path, self.dataset.schema, compression="zstd")
        else:
            self._csv = self.path.open("w", encoding="utf-8", newline="")
            csv.writer(self._csv).writerow(self.dataset.schema.names)

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        """Append ``rows`` (values as the dataset's statement returns them), column by column."""
        if not rows:
            return
        schema = self.dataset.schema
        columns = list(zip(*rows, strict=True))
        costs = columns[schema.get_field_index(self.dataset.cost_column)]
        currencies = columns[schema.get_field_index(self.dataset.currency_column)]
        for cost, currency in zip(costs, currencies, strict=True):
            if cost is not None:
                self.totals[currency] = self.totals.get(currency, Decimal(0)) + Decimal(cost)
        self.rows += len(rows)
        if self._parquet is not None:
            arrays = [pa.array(values, type=schema.field(i).type) for i, values in enumerate(columns)]
            self._parquet.write_table(pa.Table.from_arrays(arrays, schema=schema))
        elif self._csv is not None:
            temporal = {i for i, f in enumerate(schema) if pa.types.is_temporal(f.type)}
            text = [
                [_csv_text(v) for v in values] if i in temporal else values
                for i, values in enumerate(columns)
            ]
            csv.writer(self._csv).writerows(zip(*text, strict=True))

    def close(self) -> ExportFile:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._csv is not None:
            self._csv.close()
            self._csv = None
        return ExportFile(
            path=self.name,
            partition=self.key,
            rows=self.rows,
            bytes=self.path.stat().st_size,
            sha256=file_sha256(self.path),
            billed_cost={currency: plain_decimal(total) for currency, total in sorted(self.totals.items())},
        )

    def abandon(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_partitions(
    engine: Engine,
    organization_id: uuid.UUID,
    request: ExportRequest,
    dataset: ExportDataset,
    staged: Path,
    batch_rows: int,
) -> list[tuple[ExportFile, Path]]:
    day_at = dataset.schema.get_field_index(dataset.day_column)
    written: list[tuple[ExportFile, Path]] = []
    current: _PartFile | None = None
    statement = dataset.query(organization_id, request.start, request.end)
    try:
        with engine.connect() as connection:
            result = connection.execution_options(stream_results=True, max_row_buffer=batch_rows).execute(
                statement
            )
            for batch in result.partitions(batch_rows):
                pending: list[Sequence[Any]] = []
                for row in batch:
                    key = partition_key(partition_day(row[day_at]), request.partition)
                    if current is None or current.key != key:
                        if current is not None:
                            current.write(pending)
                            pending = []
                            written.append((current.close(), current.path))
                        suffix = "parquet" if request.format == "parquet" else "csv"
                        current = _PartFile(dataset, request, key, staged / f"part-{key}.{suffix}")
                        current.open()
                    pending.append(tuple(row))
                if current is not None and pending:
                    current.write(pending)
        if current is not None:
            written.append((current.close(), current.path))
            current = None
    finally:
        if current is not None:
            current.abandon()
    return written


def run_export(
    engine: Engine,
    organization_id: uuid.UUID,
    request: ExportRequest,
    destination: ExportDestination,
    *,
    now: datetime,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> ExportManifest:
    """Export ``request`` of ``organization_id`` to ``destination``; the published manifest (module contract)."""
    dataset = dataset_for(request.dataset, request.focus_version)
    try:
        with destination.staging() as staged:
            written = _write_partitions(engine, organization_id, request, dataset, staged, batch_rows)
            totals: dict[str, Decimal] = {}
            for file, _ in written:
                for currency, amount in file.billed_cost.items():
                    totals[currency] = totals.get(currency, Decimal(0)) + Decimal(amount)
            manifest = ExportManifest(
                organization_id=organization_id,
                dataset=dataset.name,
                description=dataset.description,
                focus_version=dataset.version,
                format=request.format,
                partition=request.partition,
                period_start=request.start,
                period_end=request.end,
                generated_at=now.astimezone(UTC),
                columns=list(dataset.schema.names),
                cost_column=dataset.cost_column,
                currency_column=dataset.currency_column,
                files=[file for file, _ in written],
                rows=sum(file.rows for file, _ in written),
                billed_cost={currency: plain_decimal(total) for currency, total in sorted(totals.items())},
            )
            destination.withdraw(request.folder)
            for file, path in written:
                destination.publish(request.folder, file.path, path)
            destination.publish_manifest(request.folder, manifest_bytes(manifest))
            destination.prune(request.folder, {file.path for file, _ in written})
    except ExportDestinationError as exc:
        raise ExportError(str(exc)) from exc
    except OSError as exc:
        raise ExportError(f"writing the export failed: {exc}") from exc
    return manifest


def manifest_bytes(manifest: ExportManifest) -> bytes:
    """The manifest's JSON text (indented, UTF-8, trailing newline)."""
    return (manifest.model_dump_json(indent=2) + "\n").encode()
