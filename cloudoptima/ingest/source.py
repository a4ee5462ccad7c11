"""The public entry point: ``open_billing_source(path)`` -> ``BillingSource`` streaming canonical batches.

Contract:
- ``path`` is a file or a folder; folders are searched recursively for ``*.csv``, ``*.csv.gz``, ``*.gz`` and
  ``*.parquet`` files, read in the order of their relative POSIX paths (deterministic).
- Pre-pass (at ``open_billing_source`` time, before any batch exists): every file's header is read and
  checked; empty file, header-only file, wrong delimiter, duplicate header, non-UTF-8 header, unknown
  format and missing required column raise ``BillingFileError``.
- While streaming: non-UTF-8 bytes in the body, ragged rows and truncated gzip raise ``BillingFileError``
  mid-stream. A loader must therefore wrap each file in one transaction (batches carry ``source_file``).
- ``batches()`` yields ``pyarrow.Table`` objects in ``CANONICAL_SCHEMA`` holding accepted rows only (at most
  ``batch_rows`` source rows each, plus derived rows), never empty. Memory is bounded by ``batch_rows``.
- FOCUS files are also checked against the FOCUS requirements model (``focus_conformance``): a blocking
  violation raises ``BillingFileError`` mid-stream; other violations become ``summary.findings``.
- FOCUS 1.3 split cost allocation rows keep their allocated resource and tags, and an origin charge repeated
  beside its allocated charges is quarantined, not counted twice (``split_cost``; a pre-pass over such files).
- ``summary`` is updated as batches are consumed; it is complete once ``batches()`` is exhausted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from cloudoptima.ingest.batch_context import BatchContext
from cloudoptima.ingest.errors import BillingFileError
from cloudoptima.ingest.focus_conformance import check_batch
from cloudoptima.ingest.formats import BillingFormat, check_required, detect_format
from cloudoptima.ingest.mappers import aws_cur, azure, focus, gcp, oci, opencost
from cloudoptima.ingest.opencost import OpenCostReader, is_json
from cloudoptima.ingest.raw_csv import CsvReader
from cloudoptima.ingest.raw_parquet import ParquetReader, is_parquet
from cloudoptima.ingest.requirements_model import load_model
from cloudoptima.ingest.source_columns import MappedBatch, SourceColumns
from cloudoptima.ingest.split_cost import allocated_keys, apply_split_cost, carries_split_cost
from cloudoptima.ingest.summary import FileReport, IngestSummary
from cloudoptima.ingest.validation import canonical_table, validate

Mapper = Callable[[SourceColumns], MappedBatch]

MAPPERS: dict[BillingFormat, Mapper] = {
    BillingFormat.FOCUS: focus.map_batch,
    BillingFormat.AWS_CUR: aws_cur.map_batch,
    BillingFormat.AWS_CUR2: aws_cur.map_batch,
    BillingFormat.AZURE: azure.map_batch,
    BillingFormat.GCP: gcp.map_batch,
    BillingFormat.OCI: oci.map_batch,
    BillingFormat.OPENCOST: opencost.map_batch,
}
_SUFFIXES = (".csv", ".csv.gz", ".gz", ".parquet")


def discover_files(path: Path, json_files: bool = False) -> list[Path]:
    """The billing files under ``path`` (itself when it is a file), in deterministic order; ``json_files``
    adds ``*.json`` (OpenCost allocation API answers) to the suffixes searched in a folder."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise BillingFileError(str(path), "no such file or folder")
    files = [
        child
        for child in path.rglob("*")
        if child.is_file()
        and child.name.lower().endswith(_SUFFIXES + ((".json",) if json_files else ()))
        and not child.name.startswith(".")
    ]
    if not files:
        raise BillingFileError(str(path), "folder contains no .csv, .csv.gz or .parquet billing file")
    return sorted(files, key=lambda child: child.relative_to(path).as_posix())


@dataclass(slots=True)
class _OpenFile:
    path: Path
    reader: CsvReader | ParquetReader | OpenCostReader
    fmt: BillingFormat
    version: str | None


def _open_file(path: Path, fmt: str, batch_rows: int, currency: str = "USD") -> _OpenFile:
    name = str(path)
    if path.stat().st_size == 0:
        raise BillingFileError(name, "empty file: no header and no rows", line=1)
    if fmt == BillingFormat.OPENCOST.value or (fmt == "auto" and is_json(path)):
        return _OpenFile(path, OpenCostReader(path, batch_rows, currency), BillingFormat.OPENCOST, None)
    reader: CsvReader | ParquetReader | OpenCostReader
    if is_parquet(path):
        reader = ParquetReader(path, batch_rows)
        header = reader.names
        if reader.num_rows == 0:
            raise BillingFileError(name, "file has a schema but no rows", line=1)
    else:
        reader = CsvReader(path, batch_rows)
        header = reader.header.names
    detected = detect_format(header, name) if fmt == "auto" else _parse_format(fmt, name)
    version = check_required(detected, header, name)
    if detected is BillingFormat.OPENCOST:
        reader = OpenCostReader(path, batch_rows, currency)
    return _OpenFile(path, reader, detected, version)


def _parse_format(fmt: str, file: str) -> BillingFormat:
    try:
        return BillingFormat(fmt)
    except ValueError:
        known = ", ".join(["auto", *(member.value for member in BillingFormat)])
        raise BillingFileError(file, f"unknown format {fmt!r}; expected one of {known}") from None


def _header_of(reader: CsvReader | ParquetReader | OpenCostReader) -> tuple[str, ...]:
    return reader.header.names if isinstance(reader, CsvReader) else tuple(reader.names)


class BillingSource:
    """Canonical batches of one file or folder; see the module docstring."""

    def __init__(self, files: list[_OpenFile], summary: IngestSummary) -> None:
        self._files = files
        self.summary = summary

    @property
    def files(self) -> list[Path]:
        """The files that will be read, in order."""
        return [opened.path for opened in self._files]

    def __iter__(self) -> Iterator[pa.Table]:
        return self.batches()

    def batches(self) -> Iterator[pa.Table]:
        """Accepted rows as ``CANONICAL_SCHEMA`` tables, file after file."""
        for opened in self._files:
            yield from self._file_batches(opened)

    def _file_batches(self, opened: _OpenFile) -> Iterator[pa.Table]:
        name = str(opened.path)
        self.summary.files.append(FileReport(name, opened.fmt.value, opened.version))
        if isinstance(opened.reader, CsvReader):
            header = opened.reader.header
            if header.had_bom:
                self.summary.normalisations["utf8_bom"] += 1
            if header.trimmed_cells:
                self.summary.normalisations["whitespace"] += header.trimmed_cells
        mapper = MAPPERS[opened.fmt]
        rows = 0
        split = opened.fmt is BillingFormat.FOCUS and carries_split_cost(_header_of(opened.reader))
        # FOCUS 1.3 split cost allocation: a pre-pass finds the allocated charges' origins (see split_cost)
        origins = allocated_keys(opened.reader.batches()) if split else frozenset()
        for raw in opened.reader.batches():
            rows += raw.table.num_rows
            ctx = BatchContext(name, raw.lines)
            mapped = mapper(SourceColumns(raw.table, ctx))
            validated = validate(mapped, ctx)
            if opened.fmt is BillingFormat.FOCUS:
                findings = check_batch(
                    load_model(), validated, mapped.sources, raw.table, ctx, opened.version
                )
                self.summary.add_findings(findings.records, findings.counts)
            if split:
                apply_split_cost(raw.table, validated, ctx, origins)
            table = canonical_table(validated, mapped, ctx, name)
            self.summary.add_batch(ctx, table)
            if table.num_rows:
                yield table
        if rows == 0:
            raise BillingFileError(name, "header only: the file has no data rows", line=1)


def open_billing_source(
    path: str | Path,
    fmt: str = "auto",
    batch_rows: int = 50_000,
    max_quarantine_records: int = 100_000,
    currency: str = "USD",
) -> BillingSource:
    """Check every file's header (pre-pass) and return a source that streams canonical batches.

    ``fmt`` is ``auto`` (detect per file from its header) or one of ``BillingFormat``'s values
    (``focus``, ``aws_cur``, ``aws_cur2``, ``azure``, ``gcp``, ``oci``, ``opencost``) applied to every file.
    ``currency`` is the currency of files that carry none (OpenCost allocation exports): an ISO 4217 code.
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be positive")
    root = Path(path)
    json_files = fmt == BillingFormat.OPENCOST.value
    opened = [_open_file(file, fmt, batch_rows, currency) for file in discover_files(root, json_files)]
    return BillingSource(opened, IngestSummary(max_quarantine_records=max_quarantine_records))
