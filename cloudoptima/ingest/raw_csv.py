"""Streaming reader of one CSV or gzip-compressed CSV file into all-string Arrow batches with line numbers.

Contract:
- The header is read and checked before any batch is produced: empty file, non-UTF-8 header, wrong
  delimiter (a single header cell containing ``;``, tab or ``|``) and duplicate column names raise
  ``BillingFileError`` at construction time. A UTF-8 BOM is dropped; header cells are whitespace-trimmed.
- ``batches()`` yields ``RawBatch`` objects of at most ``batch_rows`` rows; every column is ``string``
  (empty cells are ``""``, cleaning happens later). The body is read in ~4 MB pieces cut at record
  boundaries (a newline preceded by an even number of ``"``, i.e. RFC 4180 quoting) and each piece is parsed
  by Arrow; memory is bounded by ``batch_rows`` plus one piece, whatever the file size. (Arrow's own
  streaming CSV reader is not used: it reads ahead without bound, ~the whole file.)
- ``RawBatch.lines`` holds each row's 1-based physical line (header = line 1), counting newlines embedded
  in quoted values. Blank lines are skipped by the parser and are not counted (documented limitation).
- Problems found while streaming (non-UTF-8 bytes, ragged rows, truncated gzip) raise ``BillingFileError``;
  the file is re-scanned in pure Python only on that error path to report the exact line and column.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cloudoptima.ingest.errors import BillingFileError

_BOM = codecs.BOM_UTF8
_HEADER_LIMIT = 4 * 1024 * 1024
_BLOCK_SIZE = 4 * 1024 * 1024
_OTHER_DELIMITERS = (";", "\t", "|")


@dataclass(frozen=True, slots=True)
class RawBatch:
    """Rows of a source file as strings, keyed by the (trimmed) source header names."""

    table: pa.Table
    lines: pa.Int64Array


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes (the extension is not trusted)."""
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _open_binary(path: Path) -> BinaryIO:
    if is_gzip(path):
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def _read_head(path: Path) -> bytes:
    """Up to ``_HEADER_LIMIT`` leading bytes; a corrupt tail is left for the streaming pass to report."""
    chunks: list[bytes] = []
    size = 0
    try:
        with _open_binary(path) as handle:
            while size < _HEADER_LIMIT:
                chunk = handle.read(64 * 1024)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except (OSError, EOFError) as exc:
        if not chunks:
            raise BillingFileError(str(path), f"cannot read file: {exc}", line=1) from exc
        return b"".join(chunks) + b"\n<truncated>"
    return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class CsvHeader:
    """The checked header of a CSV file."""

    names: tuple[str, ...]
    had_bom: bool
    trimmed_cells: int


def read_header(path: Path) -> CsvHeader:
    """Read and check the first line of ``path``; raise ``BillingFileError`` for whole-file defects."""
    name = str(path)
    head = _read_head(path)
    had_bom = head.startswith(_BOM)
    if had_bom:
        head = head[len(_BOM) :]
    if not head.strip():
        raise BillingFileError(name, "empty file: no header and no rows", line=1)
    first_line, _, rest = head.partition(b"\n")
    first_line = first_line.rstrip(b"\r")
    header_only = len(head) < _HEADER_LIMIT and not rest.strip()
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BillingFileError(name, f"header is not UTF-8 ({exc.reason})", line=1) from exc
    cells = next(csv.reader([text]))
    if len(cells) == 1:
        for delimiter in _OTHER_DELIMITERS:
            if delimiter in cells[0]:
                raise BillingFileError(
                    name, f"wrong delimiter: header is split by {delimiter!r}, expected ','", line=1
                )
    names = tuple(cell.strip() for cell in cells)
    seen: set[str] = set()
    for cell in names:
        if cell == "":
            raise BillingFileError(name, "empty column name in header", line=1)
        if cell in seen:
            raise BillingFileError(name, "duplicate column name in header", line=1, column=cell)
        seen.add(cell)
    if header_only:
        raise BillingFileError(name, "header only: the file has no data rows", line=1)
    trimmed = sum(1 for cell, clean in zip(cells, names, strict=True) if cell != clean)
    return CsvHeader(names=names, had_bom=had_bom, trimmed_cells=trimmed)


def _extra_newlines(batch: pa.RecordBatch) -> pa.Array | None:
    """Per-row count of newlines inside quoted values, or None when the batch has none."""
    total: pa.Array | None = None
    for column in batch.columns:
        data = column.buffers()[2]
        if data is None or data.to_pybytes().count(b"\n") == 0:
            continue
        counts = pc.count_substring(column, "\n")
        total = counts if total is None else pc.add(total, counts)
    return total


def _last_record_end(block: bytes) -> int:
    """Index of the last newline in ``block`` outside quotes (``block`` starts on a record), or -1."""
    position = block.rfind(b"\n")
    while position >= 0:
        if block.count(b'"', 0, position) % 2 == 0:
            return position
        position = block.rfind(b"\n", 0, position)
    return -1


def _record_chunks(handle: BinaryIO, size: int) -> Iterator[bytes]:
    """The file body (header line and BOM removed) in pieces of about ``size`` bytes cut between records."""
    handle.readline()  # the header line, already checked by read_header
    carry = b""
    while True:
        data = handle.read(size)
        if not data:
            if carry.strip():
                yield carry
            return
        block = carry + data
        cut = _last_record_end(block)
        if cut < 0:
            carry = block
            continue
        yield block[: cut + 1]
        carry = block[cut + 1 :]


class CsvReader:
    """Streams one CSV/CSV.gz file; see the module docstring for the contract."""

    def __init__(self, path: Path, batch_rows: int) -> None:
        self.path = path
        self.batch_rows = batch_rows
        self.header = read_header(path)
        self.gzip = is_gzip(path)

    def _parse(self, chunk: bytes) -> pa.Table:
        names = list(self.header.names)
        return pcsv.read_csv(
            pa.py_buffer(chunk),
            read_options=pcsv.ReadOptions(column_names=names, block_size=len(chunk) + 1, use_threads=False),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    def batches(self) -> Iterator[RawBatch]:
        """Yield batches of at most ``batch_rows`` rows in file order."""
        next_line = 2
        pending: list[pa.RecordBatch] = []
        pending_lines: list[pa.Array] = []
        pending_rows = 0
        for batch in self._record_batches():
            if batch.num_rows == 0:
                continue
            extra = _extra_newlines(batch)
            ones = pa.repeat(1, batch.num_rows) if extra is None else pc.add(extra, 1)
            ends = pc.cumulative_sum(ones)
            starts = pc.add(pc.subtract(ends, ones), next_line)
            next_line += int(ends[-1].as_py())
            pending.append(batch)
            pending_lines.append(starts)
            pending_rows += batch.num_rows
            while pending_rows >= self.batch_rows:
                table = pa.Table.from_batches(pending)
                lines = pa.chunked_array(pending_lines).combine_chunks()
                yield RawBatch(table.slice(0, self.batch_rows), lines.slice(0, self.batch_rows))
                rest = table.slice(self.batch_rows)
                pending = rest.to_batches()
                pending_lines = [lines.slice(self.batch_rows)]
                pending_rows = rest.num_rows
        if pending_rows:
            table = pa.Table.from_batches(pending)
            yield RawBatch(table, pa.chunked_array(pending_lines).combine_chunks())

    def _record_batches(self) -> Iterator[pa.RecordBatch]:
        """Parse the body chunk by chunk (Arrow's own streaming reader reads ahead without bound)."""
        try:
            with _open_binary(self.path) as handle:
                for chunk in _record_chunks(handle, _BLOCK_SIZE):
                    yield from self._parse(chunk).to_batches()
        except pa.ArrowInvalid as exc:
            raise self._locate(str(exc)) from exc
        except (OSError, EOFError) as exc:
            raise self._locate(str(exc)) from exc

    def _locate(self, arrow_message: str) -> BillingFileError:
        """Re-scan the file in Python to name the line and column of a parse error (error path only)."""
        name = str(self.path)
        header = self.header.names
        line = 1
        try:
            with _open_binary(self.path) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="")
                reader = csv.reader(text)
                next(reader)
                for record in reader:
                    line = reader.line_num
                    if not record:
                        continue
                    if len(record) != len(header):
                        return BillingFileError(
                            name,
                            f"row has {len(record)} fields but the header has {len(header)}",
                            line=reader.line_num,
                        )
                    for column, value in zip(header, record, strict=True):
                        try:
                            value.encode("utf-8")
                        except UnicodeEncodeError:
                            raw_bytes = value.encode("utf-8", "surrogateescape")
                            return BillingFileError(
                                name,
                                f"value is not UTF-8: {raw_bytes!r}",
                                line=reader.line_num,
                                column=column,
                            )
        except (OSError, EOFError) as exc:
            return BillingFileError(
                name, f"corrupt or truncated file after line {line}: {exc}", line=line + 1
            )
        return BillingFileError(name, f"cannot parse CSV: {arrow_message}")
