"""FOCUS validation of a ``MappedBatch`` into a canonical table of accepted rows.

Rules (each failing cell is a quarantine record; a row with any failing cell is not emitted):
- decimal columns: canonical decimal text (NaN/Inf/text rejected; exponents expanded);
- date/time columns: parsed to UTC (see ``timestamps``); unknown shapes rejected;
- closed value sets (ChargeCategory, ChargeClass, ChargeFrequency, PricingCategory, ServiceCategory,
  CommitmentDiscountStatus/Category, CapacityReservationStatus): case variants normalised, others rejected;
- BillingCurrency / PricingCurrency: three upper-case letters (lower case is normalised);
- money and time must be known: BilledCost, BillingCurrency, ChargeCategory, ChargePeriodStart and
  ChargePeriodEnd must not be null, and ChargePeriodStart < ChargePeriodEnd (likewise for the billing
  period when both ends are present). Other FOCUS nullability rules are not enforced here: the official
  sample itself breaks several, and rejecting those rows would lose real money from the totals;
- negative BilledCost / EffectiveCost is expected for ChargeCategory Credit or Adjustment, for ChargeClass
  Correction and for native line types the mapper flags as negative by nature (AWS discounts, Savings Plan
  negation). Elsewhere it is accepted but recorded as a warning (``negative cost outside
  Credit/Adjustment/Correction``): FOCUS 1.2 does not forbid it, real exports contain it (12 Microsoft
  Usage rows of the official sample) and the invoice includes it, so rejecting it would break totals;
- Tags and SkuPriceDetails must be JSON objects (Tags values must be scalars).

Every quarantine record and finding names the *source* column (``MappedBatch.sources``: e.g.
``lineItem/UnblendedCost`` for BilledCost of a CUR file), or the FOCUS column name when the value was not
read from one column of the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.domain.focus import (
    ALLOWED_VALUES,
    COLUMNS_BY_DB_NAME,
    COLUMNS_BY_NAME,
    NEGATIVE_COST_CATEGORIES,
)
from cloudoptima.ingest.batch_context import BatchContext
from cloudoptima.ingest.cells import canonical_currency, canonical_decimals, canonical_enum, map_distinct
from cloudoptima.ingest.schema import (
    CANONICAL_SCHEMA,
    DATETIME_COLUMNS,
    DECIMAL_COLUMNS,
    FOCUS_DB_COLUMNS,
    TIMESTAMP_TYPE,
)
from cloudoptima.ingest.source_columns import MappedBatch
from cloudoptima.ingest.timestamps import parse_timestamps

_ENUMS = {COLUMNS_BY_NAME[name].db_name: values for name, values in ALLOWED_VALUES.items()}
_REQUIRED = ("billed_cost", "billing_currency", "charge_category", "charge_period_start", "charge_period_end")
_INVALID = "\x00invalid"


def _json_object(text: str, scalars_only: bool) -> str | None:
    try:
        value = json.loads(text)
    except ValueError:
        return _INVALID
    if not isinstance(value, dict):
        return _INVALID
    if scalars_only and any(isinstance(item, dict | list) for item in value.values()):
        return _INVALID
    return text


def _check_json(array: pa.Array, ctx: BatchContext, column: str, scalars_only: bool) -> pa.Array:
    checked = map_distinct(array, lambda text: _json_object(text, scalars_only))
    invalid = pc.equal(checked, _INVALID)
    what = "a JSON object of scalar values" if scalars_only else "a JSON object"
    ctx.reject(invalid, column, f"not {what}", array)
    return pc.if_else(pc.fill_null(invalid, False), pa.scalar(None, pa.string()), checked)


def _negative(array: pa.Array) -> pa.Array:
    return pc.fill_null(pc.starts_with(array, "-"), False)


Label = Callable[[str], str]


def source_label(mapped: MappedBatch) -> Label:
    """FOCUS db column -> the source header it came from (else the FOCUS column name)."""

    def label(name: str) -> str:
        source = mapped.sources.get(name)
        if source is not None:
            return source
        column = COLUMNS_BY_DB_NAME.get(name)
        return column.name if column is not None else name

    return label


def _check_signs(
    columns: dict[str, pa.Array], negative_ok: pa.Array | None, ctx: BatchContext, label: Label
) -> None:
    category = columns.get("charge_category")
    allowed = pc.fill_null(pc.is_in(category, value_set=pa.array(sorted(NEGATIVE_COST_CATEGORIES))), False)
    charge_class = columns.get("charge_class")
    if charge_class is not None:
        allowed = pc.or_(allowed, pc.fill_null(pc.equal(charge_class, "Correction"), False))
    if negative_ok is not None:
        allowed = pc.or_(allowed, pc.fill_null(negative_ok, False))
    for name in ("billed_cost", "effective_cost"):
        values = columns.get(name)
        if values is not None:
            bad = pc.and_(_negative(values), pc.invert(allowed))
            ctx.warn(bad, label(name), "negative cost outside Credit/Adjustment/Correction", values)


def _check_period(
    columns: dict[str, pa.Array],
    raw: dict[str, pa.Array],
    start: str,
    end: str,
    ctx: BatchContext,
    label: Label,
) -> None:
    first, last = columns.get(start), columns.get(end)
    if first is None or last is None:
        return
    message = f"{label(end)} must be after {label(start)}"
    ctx.reject(pc.greater_equal(first, last), label(end), message, raw[end])


def validate(mapped: MappedBatch, ctx: BatchContext) -> dict[str, pa.Array]:
    """Typed, checked FOCUS columns for every row of ``mapped`` (rejections recorded in ``ctx``)."""
    columns: dict[str, pa.Array] = {}
    raw = mapped.columns
    label = source_label(mapped)
    for name, values in raw.items():
        if name in DECIMAL_COLUMNS:
            columns[name] = canonical_decimals(values, ctx, label(name))
        elif name in DATETIME_COLUMNS:
            columns[name] = parse_timestamps(values, ctx, label(name))
        elif name in _ENUMS:
            columns[name] = canonical_enum(values, _ENUMS[name], ctx, label(name))
        elif name in ("billing_currency", "pricing_currency"):
            columns[name] = canonical_currency(values, ctx, label(name))
        elif name in ("tags", "sku_price_details"):
            columns[name] = _check_json(values, ctx, label(name), scalars_only=name == "tags")
        else:
            columns[name] = values.cast(pa.string())
    for name in _REQUIRED:
        values = columns.get(name)
        if values is None:
            ctx.reject(pa.repeat(True, ctx.num_rows), label(name), "missing value (column absent)", None)
        else:
            source = raw[name]
            # A value rejected as malformed is already recorded; only report values absent at the source.
            absent = pc.is_null(source) if pa.types.is_string(source.type) else pc.invert(ctx.bad)
            ctx.reject(pc.and_(pc.is_null(values), absent), label(name), "missing value", source)
    _check_period(columns, raw, "charge_period_start", "charge_period_end", ctx, label)
    _check_period(columns, raw, "billing_period_start", "billing_period_end", ctx, label)
    _check_signs(columns, mapped.negative_ok, ctx, label)
    return columns


def canonical_table(
    columns: dict[str, pa.Array], mapped: MappedBatch, ctx: BatchContext, source_file: str
) -> pa.Table:
    """The accepted rows of a validated batch, in ``CANONICAL_SCHEMA``."""
    length = ctx.num_rows
    arrays: list[pa.Array] = []
    for name in FOCUS_DB_COLUMNS:
        values = columns.get(name)
        kind = TIMESTAMP_TYPE if name in DATETIME_COLUMNS else pa.string()
        arrays.append(pa.nulls(length, kind) if values is None else values)
    extensions = mapped.extensions if mapped.extensions is not None else pa.nulls(length, pa.string())
    arrays += [mapped.provider, extensions, pa.repeat(source_file, length), ctx.lines]
    table = pa.Table.from_arrays(arrays, schema=CANONICAL_SCHEMA)
    return table.filter(pc.invert(ctx.bad)) if pc.any(ctx.bad).as_py() else table
