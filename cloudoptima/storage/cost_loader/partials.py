"""The daily rollup of prepared batches, computed in Arrow: exact decimal sums per day, rollup dimensions and
raw tags text (:func:`partial_rollup`), merged across batches (:func:`combine_partials`) and regrouped by the
projected tag values (:func:`regroup`). Pure; no database.

Sums are exact ``decimal128(38, scale)``; a batch (or a merge) whose sums might need more than 38 digits
yields None, and the caller rebuilds the days from ``cost_data`` in SQL instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

ROLLUP_DIMENSIONS = (
    "provider",
    "billing_account_id",
    "sub_account_id",
    "service_name",
    "service_category",
    "region_id",
    "charge_category",
    "billing_currency",
)
ROLLUP_MONEY = ("billed_cost", "effective_cost", "list_cost")
_ROLLUP_KEYS = ("usage_date", *ROLLUP_DIMENSIONS, "tags")
_MAX_DIGITS = 38


@dataclass(frozen=True)
class Partial:
    """Daily sums of one batch grouped by the rollup dimensions and the raw tags text."""

    table: pa.Table
    scale: int
    digits: int


def _decimal_shape(values: pa.ChunkedArray | pa.Array) -> tuple[int, int]:
    """(scale, integer digits) of plain decimal text ``-?digits[.digits]``; (0, 1) when all null."""
    if values.null_count == len(values):
        return 0, 1
    dot = pc.find_substring(values, ".")
    length = pc.utf8_length(values)
    has_dot = pc.greater_equal(dot, 0)
    scale = pc.max(pc.if_else(has_dot, pc.subtract(pc.subtract(length, dot), 1), 0)).as_py() or 0
    sign = pc.if_else(pc.starts_with(values, "-"), 1, 0)
    digits = pc.max(pc.subtract(pc.if_else(has_dot, dot, length), sign)).as_py() or 1
    return int(scale), int(digits)


def partial_rollup(batch: pa.Table) -> Partial | None:
    """Exact daily sums of ``batch`` by rollup dimensions and raw tags (None when 38 digits may not do)."""
    n = batch.num_rows
    names = set(batch.column_names)
    columns: dict[str, Any] = {"usage_date": pc.cast(batch.column("charge_period_start"), pa.date32())}
    for name in (*ROLLUP_DIMENSIONS, "tags"):
        columns[name] = batch.column(name) if name in names else pa.nulls(n, pa.string())
    shapes = [_decimal_shape(batch.column(name)) if name in names else (0, 1) for name in ROLLUP_MONEY]
    scale = max(shape[0] for shape in shapes)
    digits = max(shape[1] for shape in shapes)
    if scale + digits + len(str(n)) + 1 > _MAX_DIGITS:
        return None
    money_type = pa.decimal128(_MAX_DIGITS, scale)
    for name in ROLLUP_MONEY:
        values = batch.column(name) if name in names else pa.nulls(n, pa.string())
        columns[name] = values.cast(money_type)
    table = pa.table(columns)
    grouped = table.group_by(list(_ROLLUP_KEYS), use_threads=False).aggregate(
        [(name, "sum") for name in ROLLUP_MONEY] + [([], "count_all")]
    )
    renamed = grouped.rename_columns(
        {**{f"{name}_sum": name for name in ROLLUP_MONEY}, "count_all": "row_count"}
    )
    return Partial(renamed, scale, digits)


def combine_partials(partials: list[Partial]) -> pa.Table | None:
    """All partials in one table with one money type; None when their sums may need more than 38 digits."""
    if not partials:
        return None
    scale = max(partial.scale for partial in partials)
    digits = max(partial.digits for partial in partials)
    total_rows = sum(pc.sum(partial.table.column("row_count")).as_py() or 0 for partial in partials)
    if scale + digits + len(str(total_rows)) + 1 > _MAX_DIGITS:
        return None
    money_type = pa.decimal128(_MAX_DIGITS, scale)
    for position, partial in enumerate(partials):
        table = partial.table
        for name in ROLLUP_MONEY:
            if table.schema.field(name).type != money_type:
                index = table.schema.get_field_index(name)
                table = table.set_column(index, name, table.column(name).cast(money_type))
        partials[position] = Partial(table, scale, digits)
    return pa.concat_tables([partial.table for partial in partials])


def regroup(rows: pa.Table) -> pa.Table:
    """``rows`` summed per day, dimensions and projected ``tag_values``; money as decimal text."""
    keys = ["usage_date", *ROLLUP_DIMENSIONS, "tag_values"]
    grouped = rows.group_by(keys, use_threads=False).aggregate(
        [(name, "sum") for name in (*ROLLUP_MONEY, "row_count")]
    )
    columns: dict[str, Any] = {name: grouped.column(name) for name in keys}
    for name in ROLLUP_MONEY:
        total = grouped.column(f"{name}_sum")
        # A group whose EffectiveCost/ListCost were all null sums to 0, as COALESCE(sum(...), 0) in SQL.
        columns[name] = pc.fill_null(total, pa.scalar(0, total.type)).cast(pa.string())
    columns["row_count"] = grouped.column("row_count_sum")
    return pa.table(columns)
