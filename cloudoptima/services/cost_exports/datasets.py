"""The datasets a cost export can write: what each one selects, its columns and how its rows become values.

Contract:
- :data:`DATASETS` maps a dataset name to its :class:`ExportDataset`; adding a dataset is one more
  entry built like those below.
- ``focus_raw``: the organisation's ``cost_data`` rows whose ``ChargePeriodStart`` lies in the period, as the
  57 FOCUS 1.2 columns named as the specification names them (``BilledCost``, ``ChargePeriodStart``...).
  :data:`FOCUS_13_DATASET` is the same rows as FOCUS 1.3: the 57 columns, then the 8 columns 1.3 added
  (:data:`~cloudoptima.domain.focus_13.COST_AND_USAGE_13`), read from the row's ``extensions`` where the
  ingest keeps them under their FOCUS names (JSON columns as JSON text); ``ServiceProviderName`` and
  ``HostProviderName`` fall back to ``ProviderName`` and ``PublisherName`` (their 1.2 predecessors, which
  the ingest fills from them when a 1.3 file lacks the deprecated columns).
- ``allocated_daily``: ``cost_allocated_daily`` at each dimension's active version, summed by day, dimension
  (its name), value, account, provider, service, region, currency and the shared flag.
- ``daily``: the ``cost_daily`` rollup summed by day, account, provider, billing and sub account, service,
  category, region, charge category and currency (``usage_date`` in the period).
- Every statement filters on the organisation (the exports read with Core on a plain connection, so the
  filter is explicit) and orders by the partition day so the writer meets partitions one after the other.
- Values: money and quantities are exact plain decimal text (never float; cast by the database), date-times
  UTC, JSON columns JSON object text, ids text; the statement returns them so, ready to write. The partition day of a row is :attr:`ExportDataset.day_column`'s UTC date.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy import BigInteger, ColumnElement, Select, Text, case, cast, func, literal, select

from cloudoptima.domain.focus import FOCUS_COLUMNS, ColumnType
from cloudoptima.domain.focus_13 import COST_AND_USAGE_13, DEPRECATED_13, FOCUS_13
from cloudoptima.storage.models import AllocationDimensionRow, CostAllocatedDaily, CostDaily, CostRow

FOCUS_EXPORT_VERSION = "1.2"
"""The FOCUS version whose column names ``focus_raw`` files carry by default (stated in every manifest)."""
FOCUS_VERSIONS = (FOCUS_EXPORT_VERSION, FOCUS_13)

TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class ExportDataset:
    """One exportable dataset (module contract)."""

    name: str
    description: str
    schema: pa.Schema
    """The output columns and their Arrow types (Parquet keeps them; CSV writes their text)."""
    query: Callable[[uuid.UUID, date, date], Select[Any]]
    """The statement for an organisation and an end-exclusive day period; its result columns are named as
    :attr:`schema` names them, in that order."""
    day_column: str
    """The output column whose UTC date is a row's partition day."""
    cost_column: str
    currency_column: str
    version: str | None = None
    """The FOCUS version of the column names, when the dataset is FOCUS."""


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _as_text(column: ColumnElement[Any], kind: ColumnType) -> ColumnElement[Any]:
    """Decimal and JSON columns cast to text by the database (``numeric::text`` is plain decimal text with
    exactly the stored digits, never an exponent), so no per-value Python conversion is needed."""
    return cast(column, Text) if kind in (ColumnType.DECIMAL, ColumnType.JSON) else column


def _focus_query(organization_id: uuid.UUID, start: date, end: date) -> Select[Any]:
    table = CostRow.__table__
    columns = [_as_text(table.c[column.db_name], column.type).label(column.name) for column in FOCUS_COLUMNS]
    return (
        select(*columns)
        .where(
            table.c.organization_id == organization_id,
            table.c.charge_period_start >= _start(start),
            table.c.charge_period_start < _start(end),
        )
        .order_by(table.c.charge_period_start, table.c.id)
    )


_FOCUS_SCHEMA = pa.schema(
    [
        pa.field(column.name, TIMESTAMP if column.type is ColumnType.DATETIME else pa.string())
        for column in FOCUS_COLUMNS
    ]
)
_REPLACED_BY_13 = {replacement: deprecated for deprecated, replacement in DEPRECATED_13.items()}


def _extension(name: str, kind: ColumnType) -> ColumnElement[Any]:
    """A 1.3 column from ``extensions``: its text, JSON text for a JSON column that holds an object (one
    read from CSV holds the JSON text already), its 1.2 predecessor's value when absent."""
    table = CostRow.__table__
    value = table.c.extensions[name]
    text: ColumnElement[Any] = table.c.extensions[name].astext
    if kind is ColumnType.JSON:
        text = case(
            (func.jsonb_typeof(value) == literal("string"), value.astext),
            (func.jsonb_typeof(value) == literal("null"), None),
            else_=cast(value, Text),
        )
    predecessor = _REPLACED_BY_13.get(name)
    if predecessor is not None:
        column = next(column for column in FOCUS_COLUMNS if column.name == predecessor)
        text = func.coalesce(text, table.c[column.db_name])
    return text.label(name)


def _focus_13_query(organization_id: uuid.UUID, start: date, end: date) -> Select[Any]:
    additions = [_extension(column.name, column.type) for column in COST_AND_USAGE_13]
    return _focus_query(organization_id, start, end).add_columns(*additions)


_FOCUS_13_SCHEMA = pa.schema(
    list(_FOCUS_SCHEMA) + [pa.field(column.name, pa.string()) for column in COST_AND_USAGE_13]
)

_DAILY_KEYS = (
    "usage_date",
    "cloud_account_id",
    "provider",
    "billing_account_id",
    "sub_account_id",
    "service_name",
    "service_category",
    "region_id",
    "charge_category",
    "billing_currency",
)
_DAILY_SUMS = ("billed_cost", "effective_cost", "list_cost", "row_count")


def _daily_query(organization_id: uuid.UUID, start: date, end: date) -> Select[Any]:
    table = CostDaily.__table__
    keys = [table.c[name] for name in _DAILY_KEYS]
    sums = [cast(func.sum(table.c[name]), Text).label(name) for name in _DAILY_SUMS[:-1]]
    count = func.sum(table.c.row_count).cast(BigInteger).label("row_count")
    output = [cast(key, Text).label(key.name) if key.name == "cloud_account_id" else key for key in keys]
    return (
        select(*output, *sums, count)
        .where(
            table.c.organization_id == organization_id,
            table.c.usage_date >= start,
            table.c.usage_date < end,
        )
        .group_by(*keys)
        .order_by(*keys)
    )


_DAILY_SCHEMA = pa.schema(
    [pa.field("usage_date", pa.date32())]
    + [pa.field(name, pa.string()) for name in _DAILY_KEYS[1:]]
    + [pa.field(name, pa.string()) for name in _DAILY_SUMS[:-1]]
    + [pa.field("row_count", pa.int64())]
)

_ALLOCATED_KEYS = (
    "usage_date",
    "dimension",
    "value",
    "cloud_account_id",
    "provider",
    "service_name",
    "region_id",
    "billing_currency",
    "shared",
)


def _allocated_query(organization_id: uuid.UUID, start: date, end: date) -> Select[Any]:
    table, dimensions = CostAllocatedDaily.__table__, AllocationDimensionRow.__table__
    keys: list[ColumnElement[Any]] = [
        table.c.usage_date,
        dimensions.c.name.label("dimension"),
        table.c.value,
        cast(table.c.cloud_account_id, Text).label("cloud_account_id"),
        table.c.provider,
        table.c.service_name,
        table.c.region_id,
        table.c.billing_currency,
        table.c.shared,
    ]
    return (
        select(*keys, cast(func.sum(table.c.billed_cost), Text).label("billed_cost"))
        .join(dimensions, dimensions.c.id == table.c.dimension_id)
        .where(
            table.c.organization_id == organization_id,
            dimensions.c.organization_id == organization_id,
            table.c.version == dimensions.c.active_version,
            table.c.usage_date >= start,
            table.c.usage_date < end,
        )
        .group_by(*keys)
        .order_by(*keys)
    )


_ALLOCATED_SCHEMA = pa.schema(
    [pa.field("usage_date", pa.date32())]
    + [pa.field(name, pa.string()) for name in _ALLOCATED_KEYS[1:-1]]
    + [pa.field("shared", pa.bool_()), pa.field("billed_cost", pa.string())]
)

DATASETS: Mapping[str, ExportDataset] = {
    "focus_raw": ExportDataset(
        name="focus_raw",
        description="Raw cost rows as FOCUS 1.2 columns",
        schema=_FOCUS_SCHEMA,
        query=_focus_query,
        day_column="ChargePeriodStart",
        cost_column="BilledCost",
        currency_column="BillingCurrency",
        version=FOCUS_EXPORT_VERSION,
    ),
    "daily": ExportDataset(
        name="daily",
        description="Daily cost by account, service, region and currency",
        schema=_DAILY_SCHEMA,
        query=_daily_query,
        day_column="usage_date",
        cost_column="billed_cost",
        currency_column="billing_currency",
    ),
    "allocated_daily": ExportDataset(
        name="allocated_daily",
        description="Daily cost by allocation dimension and value (each dimension's active rule-set version)",
        schema=_ALLOCATED_SCHEMA,
        query=_allocated_query,
        day_column="usage_date",
        cost_column="billed_cost",
        currency_column="billing_currency",
    ),
}

DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)

FOCUS_13_DATASET = ExportDataset(
    name="focus_raw",
    description="Raw cost rows as FOCUS 1.3 columns",
    schema=_FOCUS_13_SCHEMA,
    query=_focus_13_query,
    day_column="ChargePeriodStart",
    cost_column="BilledCost",
    currency_column="BillingCurrency",
    version=FOCUS_13,
)
"""``focus_raw`` with ``focus_version="1.3"`` (module contract)."""


def plain_decimal(value: Decimal) -> str:
    """``value`` as plain decimal text, exactly its digits (no exponent): ``1E-7`` -> ``0.0000001``."""
    return format(value, "f")


def partition_day(value: date | datetime) -> date:
    """The UTC day of a row's :attr:`ExportDataset.day_column` value."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    return value
