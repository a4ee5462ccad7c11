"""Preparing a canonical cost batch for ``COPY``: :func:`prepare_batch` turns a ``pyarrow.Table`` into a
:class:`PreparedBatch` (the CSV payload, the replacement keys, months and days it touches, its partial daily
rollup). Pure: no database, safe to run in a producer thread while the server ingests the previous batch."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cloudoptima.storage.cost_loader.partials import Partial, partial_rollup
from cloudoptima.storage.cost_loader.target import CostLoadError, LoadTarget
from cloudoptima.storage.partitions import months_between

CONSTANT_COLUMNS = ("organization_id", "cloud_account_id", "import_id")
KEY_COLUMNS = ("provider", "billing_account_id", "billing_period_start")

Key = tuple[str, str | None, datetime]
"""A replacement key: provider, billing account, billing period start."""


@dataclass(frozen=True)
class PreparedBatch:
    """A batch ready to COPY (see :func:`prepare_batch`); carries no database state."""

    rows: int
    columns: tuple[str, ...]
    payload: bytes
    first: datetime | None
    last: datetime | None
    months: frozenset[date]
    keys: frozenset[Key]
    files: tuple[tuple[str, int], ...]
    partial: Partial | None


def prepare_batch(target: LoadTarget, batch: pa.Table) -> PreparedBatch:
    """The CSV payload, keys, months and partial rollup of ``batch`` for ``target``; pure, safe to run in a
    thread (no partial rollup for a day-window replacement, whose rollup is rebuilt in SQL)."""
    n = batch.num_rows
    if n == 0:
        return PreparedBatch(0, (), b"", None, None, frozenset(), frozenset(), (), None)
    for required in (*KEY_COLUMNS, "charge_period_start", "billed_cost", "billing_currency"):
        if required not in batch.column_names:
            raise CostLoadError(f"batch has no column {required!r}")
    bounds = pc.min_max(batch.column("charge_period_start")).as_py()
    low, high = bounds["min"], bounds["max"]
    if low is None or high is None or batch.column("charge_period_start").null_count:
        raise CostLoadError("charge_period_start is null in a batch that reached the loader")
    groups = batch.select(list(KEY_COLUMNS)).group_by(list(KEY_COLUMNS)).aggregate([])
    keys = frozenset(
        zip(
            groups.column("provider").to_pylist(),
            groups.column("billing_account_id").to_pylist(),
            groups.column("billing_period_start").to_pylist(),
            strict=True,
        )
    )
    files: tuple[tuple[str, int], ...] = ()
    if "source_file" in batch.column_names:
        counted = batch.select(["source_file"]).group_by("source_file").aggregate([([], "count_all")])
        files = tuple(
            zip(
                (str(name) for name in counted.column("source_file").to_pylist()),
                counted.column("count_all").to_pylist(),
                strict=True,
            )
        )
    partial = None if target.replace_days is not None else partial_rollup(batch)
    return PreparedBatch(
        rows=n,
        columns=(*CONSTANT_COLUMNS, *batch.column_names),
        payload=_csv(target, batch),
        first=low,
        last=high,
        months=frozenset(months_between(low.date(), high.date() + timedelta(days=1))),
        keys=keys,
        files=files,
        partial=partial,
    )


def _csv(target: LoadTarget, batch: pa.Table) -> bytes:
    """``batch`` as headerless CSV rows of ``cost_data``, led by the target's constant columns."""
    n = batch.num_rows
    constants = [
        pa.repeat(str(target.organization_id), n),
        pa.repeat(str(target.cloud_account_id) if target.cloud_account_id else None, n).cast(pa.string()),
        pa.repeat(str(target.batch_id), n),
    ]
    columns = [_timestamp_text(column) for column in batch.columns]
    table = pa.table(constants + columns, names=[*CONSTANT_COLUMNS, *batch.column_names])
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, batch_size=8192))
    return buffer.getvalue()


# -- finish -------------------------------------------------------------------------------------------


def _timestamp_text(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Timestamps as text, formatted once per distinct value (billing data repeats a few instants).

    Arrow's timestamp formatting is most of the cost of writing the CSV otherwise; other columns pass.
    """
    if not pa.types.is_timestamp(column.type):
        return column
    encoded = pc.dictionary_encode(column.combine_chunks())
    return pc.take(encoded.dictionary.cast(pa.string()), encoded.indices)
