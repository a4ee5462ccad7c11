"""Per file and billing period totals of the accepted rows: the file's own "invoice-level" numbers.

Contract: :func:`fold_period_totals` adds one accepted batch (canonical schema) into ``totals``, keyed by
``(source_file, provider, billing_account_id, billing_period_start, billing_period_end, billing_currency)``.
Each :class:`PeriodTotal` holds the exact ``Decimal`` ΣBilledCost, ΣEffectiveCost and ΣListCost (null adds
nothing), the row count, the first and last charge day (UTC ``date``, inclusive) and the invoice ids seen.
FOCUS: BilledCost per InvoiceId sums to the invoice's payable amount, so these are the numbers the provider
bills for that period, as the file states them. Used by cost-data reconciliation (``services.data_trust``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.summary import _decimal_type

_GROUP = (
    "source_file",
    "provider",
    "billing_account_id",
    "billing_period_start",
    "billing_period_end",
    "billing_currency",
)
_MONEY = ("billed_cost", "effective_cost", "list_cost")

PeriodKey = tuple[str, str, str, datetime, datetime, str]


@dataclass(slots=True)
class PeriodTotal:
    """See the module docstring."""

    billed_cost: Decimal = Decimal(0)
    effective_cost: Decimal = Decimal(0)
    list_cost: Decimal = Decimal(0)
    rows: int = 0
    first_day: date | None = None
    last_day: date | None = None
    invoice_ids: set[str] = field(default_factory=set)


def _exact_sum(values: list[str | None]) -> Decimal:
    return sum((Decimal(v) for v in values if v not in (None, "")), Decimal(0))


def _money_column(values: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """``values`` as exact decimal128 (nulls as 0), or None when 38 digits do not hold them."""
    if values.null_count == len(values):
        return pa.chunked_array([pa.array([0] * len(values), pa.decimal128(38, 0))])
    decimal_type = _decimal_type(values)
    if decimal_type is None:
        return None
    return pc.fill_null(values.cast(decimal_type), pa.scalar(0, decimal_type))


def fold_period_totals(totals: dict[PeriodKey, PeriodTotal], table: pa.Table) -> None:
    """Add the accepted rows of ``table`` to ``totals`` (see the module docstring)."""
    if table.num_rows == 0:
        return
    columns: dict[str, pa.ChunkedArray | pa.Array] = {
        "source_file": table.column("source_file"),
        "provider": table.column("provider"),
        "billing_account_id": pc.fill_null(table.column("billing_account_id"), ""),
        "billing_period_start": table.column("billing_period_start"),
        "billing_period_end": table.column("billing_period_end"),
        "billing_currency": pc.fill_null(table.column("billing_currency"), ""),
        "day": table.column("charge_period_start"),
        "invoice": table.column("invoice_id").cast(pa.string()),  # a null-typed column crashes group_by
        "row": pa.array(range(table.num_rows), pa.int64()),
    }
    exact: list[str] = []
    for money in _MONEY:
        cast = _money_column(table.column(money))
        if cast is not None:
            columns[money] = cast
            exact.append(money)
    aggregates = [("row", "count"), ("day", "min"), ("day", "max"), ("invoice", "distinct")]
    aggregates += [(money, "sum") for money in exact]
    grouped = pa.table(columns).group_by(list(_GROUP)).aggregate(aggregates)
    for group in grouped.to_pylist():
        key: PeriodKey = (
            group["source_file"],
            group["provider"],
            group["billing_account_id"],
            group["billing_period_start"],
            group["billing_period_end"],
            group["billing_currency"],
        )
        total = totals.setdefault(key, PeriodTotal())
        for money in _MONEY:
            if money in exact:
                amount = Decimal(group[f"{money}_sum"] or 0)
            else:  # more than 38 digits: exact Python sum over this group's rows
                mask = _group_mask(table, key)
                amount = _exact_sum(table.column(money).filter(mask).to_pylist())
            setattr(total, money, getattr(total, money) + amount)
        total.rows += int(group["row_count"])
        first, last = group["day_min"].date(), group["day_max"].date()
        total.first_day = first if total.first_day is None else min(total.first_day, first)
        total.last_day = last if total.last_day is None else max(total.last_day, last)
        total.invoice_ids.update(v for v in group["invoice_distinct"] if v not in (None, ""))


def _group_mask(table: pa.Table, key: PeriodKey) -> pa.ChunkedArray:
    mask = None
    for name, value in zip(_GROUP, key, strict=True):
        column = table.column(name)
        if name in ("billing_account_id", "billing_currency"):
            column = pc.fill_null(column, "")
        equal = pc.equal(column, pa.scalar(value, column.type))
        mask = equal if mask is None else pc.and_(mask, equal)
    assert mask is not None
    return mask
