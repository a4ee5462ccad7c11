"""Reader of the FOCUS 1.3 Contract Commitment dataset (a supporting file beside Cost and Usage files).

Contract:
- ``is_contract_commitment_header(header)``: the header carries ContractCommitmentId and
  ContractCommitmentCategory and no BilledCost (so it is not a Cost and Usage file).
- ``read_contract_commitments(path)`` reads one CSV/CSV.gz/Parquet file and returns every row as a
  ``ContractCommitment``. The file is all-or-nothing: a missing column (all 13 are Mandatory) raises
  ``BillingFileError`` at line 1 naming it; a row breaking a MUST of the dataset raises ``BillingFileError``
  naming file, line, column and rule: a null in a column that allows none, a non-decimal cost or quantity,
  an unreadable date/time, a ContractCommitmentCategory outside Spend/Usage, a BillingCurrency that is not
  a national currency (the requirements model's ISO 4217 list), or a period that does not end after it
  starts. Headers match like every FOCUS header (case, ``_``, spaces ignored); extra columns are ignored.
- Storage is not part of this module (no table yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.domain.contract_commitment import ContractCommitment
from cloudoptima.domain.focus import ColumnType, snake_case
from cloudoptima.domain.focus_13 import CONTRACT_COMMITMENT_CATEGORIES, CONTRACT_COMMITMENT_COLUMNS
from cloudoptima.ingest.batch_context import BatchContext
from cloudoptima.ingest.cells import canonical_decimals, clean_strings
from cloudoptima.ingest.errors import BillingFileError
from cloudoptima.ingest.raw_csv import CsvReader
from cloudoptima.ingest.raw_parquet import ParquetReader, is_parquet
from cloudoptima.ingest.requirements_model import load_model
from cloudoptima.ingest.source_columns import column_key
from cloudoptima.ingest.timestamps import parse_timestamps

_PERIODS = (
    ("ContractCommitmentPeriodStart", "ContractCommitmentPeriodEnd"),
    ("ContractPeriodStart", "ContractPeriodEnd"),
)


def is_contract_commitment_header(header: Sequence[str]) -> bool:
    """See the module docstring."""
    keys = {column_key(name) for name in header}
    return {"contractcommitmentid", "contractcommitmentcategory"} <= keys and "billedcost" not in keys


def _header_names(header: Sequence[str], file: str) -> dict[str, str]:
    by_key = {column_key(name): name for name in header}
    found: dict[str, str] = {}
    for column in CONTRACT_COMMITMENT_COLUMNS:
        name = by_key.get(column_key(column.name))
        if name is None:
            raise BillingFileError(
                file,
                f"missing mandatory FOCUS 1.3 Contract Commitment column {column.name}",
                line=1,
                column=column.name,
            )
        found[column.name] = name
    return found


def _first_bad(ctx: BatchContext, mask: pa.Array, column: str, reason: str, raw: pa.Array) -> None:
    """Raise for the first row where ``mask`` holds."""
    mask = pc.fill_null(mask, False)
    if pc.any(mask).as_py():
        index = pc.indices_nonzero(mask)[0].as_py()
        value = raw[index].as_py()
        raise BillingFileError(
            ctx.file, f"{reason} (value {value!r})", line=int(ctx.lines[index].as_py()), column=column
        )


def _typed_batch(
    table: pa.Table, lines: pa.Int64Array, names: dict[str, str], file: str
) -> dict[str, pa.Array]:
    ctx = BatchContext(file, lines)
    typed: dict[str, pa.Array] = {}
    cleaned: dict[str, pa.Array] = {}
    for column in CONTRACT_COMMITMENT_COLUMNS:
        header = names[column.name]
        raw = table.column(header).combine_chunks()
        values = clean_strings(raw.cast(pa.string()), ctx) if not pa.types.is_timestamp(raw.type) else raw
        cleaned[column.name] = values
        if column.type is ColumnType.DECIMAL:
            typed[column.name] = canonical_decimals(values, ctx, header)
        elif column.type is ColumnType.DATETIME:
            typed[column.name] = parse_timestamps(values, ctx, header)
        else:
            typed[column.name] = values
        if ctx.quarantine:
            first = ctx.quarantine[0]
            raise BillingFileError(
                file, f"{first.reason} (value {first.raw_value!r})", line=first.line, column=first.column
            )
        if not column.nullable:
            _first_bad(ctx, pc.is_null(values), header, f"{column.name} MUST NOT be null", values)
    category = cleaned["ContractCommitmentCategory"]
    allowed = pc.is_in(category, value_set=pa.array(CONTRACT_COMMITMENT_CATEGORIES))
    _first_bad(
        ctx,
        pc.and_(pc.is_valid(category), pc.invert(allowed)),
        names["ContractCommitmentCategory"],
        "ContractCommitmentCategory MUST be one of Spend, Usage",
        category,
    )
    currency = cleaned["BillingCurrency"]
    known = pc.is_in(currency, value_set=pa.array(sorted(load_model().currencies)))
    _first_bad(
        ctx,
        pc.and_(pc.is_valid(currency), pc.invert(known)),
        names["BillingCurrency"],
        "BillingCurrency MUST be a national currency (ISO 4217)",
        currency,
    )
    for start, end in _PERIODS:
        _first_bad(
            ctx,
            pc.greater_equal(typed[start], typed[end]),
            names[end],
            f"{end} MUST be after {start}",
            cleaned[end],
        )
    return typed


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _rows(typed: dict[str, pa.Array], lines: pa.Int64Array) -> list[ContractCommitment]:
    columns = {snake_case(name): values.to_pylist() for name, values in typed.items()}
    rows: list[ContractCommitment] = []
    for index, line in enumerate(lines.to_pylist()):
        values = {name: column[index] for name, column in columns.items()}
        for name in ("contract_commitment_cost", "contract_commitment_quantity"):
            values[name] = _decimal(values[name])
        rows.append(ContractCommitment(**values, source_line=int(line)))
    return rows


def read_contract_commitments(path: str | Path, batch_rows: int = 50_000) -> list[ContractCommitment]:
    """Every row of one Contract Commitment file (see the module docstring)."""
    file = Path(path)
    name = str(file)
    if not file.is_file():
        raise BillingFileError(name, "no such file")
    if file.stat().st_size == 0:
        raise BillingFileError(name, "empty file: no header and no rows", line=1)
    reader: CsvReader | ParquetReader
    if is_parquet(file):
        reader = ParquetReader(file, batch_rows)
        header: Sequence[str] = reader.names
    else:
        reader = CsvReader(file, batch_rows)
        header = reader.header.names
    names = _header_names(header, name)
    rows: list[ContractCommitment] = []
    for raw in reader.batches():
        typed = _typed_batch(raw.table, raw.lines, names, name)
        rows.extend(_rows(typed, raw.lines))
    if not rows:
        raise BillingFileError(name, "header only: the file has no data rows", line=1)
    return rows
