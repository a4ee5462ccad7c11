"""GCP BigQuery detailed billing export flattened to CSV (``service.description``, ``usage_start_time``...).

Follows the FinOps Foundation focus_converters rules (``conversion_rules/gcp.csv``) with one structural
choice: ``credits`` (a list, written as JSON or as a Python repr by common exporters) become **separate
Credit rows** rather than being netted into EffectiveCost. Each credit row copies its parent's dimensions
and line number, with ChargeCategory ``Credit``, BilledCost = EffectiveCost = the credit amount, no
quantities, ChargeDescription = the credit's name, and ``x_credit_id`` / ``x_credit_type`` /
``x_credit_full_name`` in ``extensions``. So Σ BilledCost = Σ cost + Σ credits (the invoice), while the
parent rows keep BilledCost = EffectiveCost = ``cost`` (no double counting). Other choices:
- BillingPeriodStart/End = the ``invoice.month`` (YYYYMM) in America/Los_Angeles, converted to UTC.
- ChargeCategory from ``cost_type``: regular -> Usage, tax -> Tax, credit -> Credit,
  adjustment/rounding_error -> Adjustment.
- Tags = ``labels`` + ``system_labels`` + ``project.labels`` (keys prefixed ``project:``).
- ListCost = ``cost_at_list`` when present. Credit amounts keep their shortest text form.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.schema import TIMESTAMP_TYPE
from cloudoptima.ingest.service_categories import GCP_SERVICE_CATEGORIES
from cloudoptima.ingest.source_columns import MappedBatch, SourceColumns, constant, lookup

_CATEGORY = {
    "regular": "Usage",
    "tax": "Tax",
    "credit": "Credit",
    "adjustment": "Adjustment",
    "rounding_error": "Adjustment",
}
_PACIFIC = ZoneInfo("America/Los_Angeles")
_SOURCES: dict[str, tuple[str, ...]] = {
    "billed_cost": ("cost",),
    "effective_cost": ("cost",),
    "billing_account_id": ("billing_account_id",),
    "billing_currency": ("currency",),
    "billing_period_start": ("invoice.month",),
    "billing_period_end": ("invoice.month",),
    "charge_category": ("cost_type",),
    "charge_period_start": ("usage_start_time",),
    "charge_period_end": ("usage_end_time",),
    "consumed_quantity": ("usage.amount",),
    "pricing_quantity": ("usage.amount_in_pricing_units",),
    "list_cost": ("cost_at_list",),
    "sub_account_id": ("project.id",),
    "tags": ("labels",),
}
_CREDIT_BLANKS = ("consumed_quantity", "consumed_unit", "pricing_quantity", "pricing_unit", "list_cost")


def parse_list(text: str | None) -> list[dict[str, object]]:
    """A list of dicts from JSON or Python-repr text; [] when empty or unreadable."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _month_start(month: int, year: int) -> datetime:
    return datetime(year, month, 1, tzinfo=_PACIFIC).astimezone(UTC)


def _invoice_months(months: pa.Array) -> tuple[pa.Array, pa.Array]:
    encoded = pc.dictionary_encode(months)
    starts: list[datetime | None] = []
    ends: list[datetime | None] = []
    for value in encoded.dictionary.to_pylist():
        if value is None or len(value) != 6 or not value.isdigit() or not 1 <= int(value[4:]) <= 12:
            starts.append(None)
            ends.append(None)
            continue
        year, month = int(value[:4]), int(value[4:])
        starts.append(_month_start(month, year))
        ends.append(_month_start(month % 12 + 1, year + month // 12))
    indices = encoded.indices
    return (
        pc.take(pa.array(starts, TIMESTAMP_TYPE), indices),
        pc.take(pa.array(ends, TIMESTAMP_TYPE), indices),
    )


def _labels(arrays: Sequence[pa.Array], prefixes: Sequence[str]) -> pa.Array:
    cache: dict[tuple[str | None, ...], str | None] = {}
    out: list[str | None] = []
    for row in zip(*(array.to_pylist() for array in arrays), strict=True):
        if row not in cache:
            merged: dict[str, str] = {}
            for text, prefix in zip(row, prefixes, strict=True):
                for item in parse_list(text):
                    if "key" in item:
                        merged[prefix + str(item["key"])] = str(item.get("value", ""))
            cache[row] = json.dumps(merged, ensure_ascii=False) if merged else None
        out.append(cache[row])
    return pa.array(out, pa.string())


def _amount_text(amount: object) -> str | None:
    try:
        return format(Decimal(repr(amount) if isinstance(amount, float) else str(amount)), "f")
    except InvalidOperation:
        return None


def _credit_rows(credits: pa.Array) -> tuple[list[int], dict[str, list[str | None]]]:
    parents: list[int] = []
    fields: dict[str, list[str | None]] = {"amount": [], "name": [], "id": [], "type": [], "full_name": []}
    for index, text in enumerate(credits.to_pylist()):
        for credit in parse_list(text):
            parents.append(index)
            fields["amount"].append(_amount_text(credit.get("amount")))
            for key in ("name", "id", "type", "full_name"):
                value = credit.get(key)
                fields[key].append(None if value is None else str(value))
    return parents, fields


def _with_credits(mapped: MappedBatch, columns: SourceColumns) -> MappedBatch:
    parents, fields = _credit_rows(columns.text("credits"))
    if not parents:
        return mapped
    index = pa.array(parents, pa.int64())
    count = len(parents)
    amount = pa.array(fields["amount"], pa.string())
    extra = {name: pc.take(values, index) for name, values in mapped.columns.items()}
    extra.update(
        {
            "charge_category": constant("Credit", count),
            "billed_cost": amount,
            "effective_cost": amount,
            "charge_description": pa.array(fields["name"], pa.string()),
        }
    )
    for name in _CREDIT_BLANKS:
        extra[name] = constant(None, count)
    extensions = [
        json.dumps(
            {f"x_credit_{key}": fields[key][i] for key in ("id", "type", "full_name") if fields[key][i]}
        )
        for i in range(count)
    ]
    columns.ctx.expand(index)
    joined = {name: pa.concat_arrays([values, extra[name]]) for name, values in mapped.columns.items()}
    base_extensions = mapped.extensions if mapped.extensions is not None else constant(None, columns.length)
    return MappedBatch(
        columns=joined,
        provider=constant("gcp", columns.length + count),
        extensions=pa.concat_arrays([base_extensions, pa.array(extensions, pa.string())]),
        sources=mapped.sources,
    )


def map_batch(columns: SourceColumns) -> MappedBatch:
    """FOCUS-named columns of a GCP billing export batch, plus one Credit row per credit."""
    n = columns.length
    text = columns.text
    period_start, period_end = _invoice_months(text("invoice.month"))
    service = text("service.description")
    cost = text("cost")
    mapped: dict[str, pa.Array] = {
        "availability_zone": text("location.zone"),
        "billed_cost": cost,
        "billing_account_id": text("billing_account_id"),
        "billing_currency": text("currency"),
        "billing_period_start": period_start,
        "billing_period_end": period_end,
        "charge_category": pc.fill_null(lookup(text("cost_type"), _CATEGORY, "Usage"), "Usage"),
        "charge_description": text("sku.description"),
        "charge_frequency": constant("Usage-Based", n),
        "charge_period_start": text("usage_start_time"),
        "charge_period_end": text("usage_end_time"),
        "consumed_quantity": text("usage.amount"),
        "consumed_unit": text("usage.unit"),
        "effective_cost": cost,
        "invoice_issuer_name": constant("Google Cloud", n),
        "list_cost": text("cost_at_list"),
        "pricing_quantity": text("usage.amount_in_pricing_units"),
        "pricing_unit": text("usage.pricing_unit"),
        "provider_name": constant("Google Cloud", n),
        "publisher_name": pc.fill_null(text("seller_name"), "Google Cloud"),
        "region_id": pc.coalesce(text("location.region"), text("location.location")),
        "resource_id": text("resource.global_name"),
        "resource_name": text("resource.name"),
        "service_category": pc.fill_null(lookup(service, GCP_SERVICE_CATEGORIES, "Other"), "Other"),
        "service_name": service,
        "sku_id": text("sku.id"),
        "sub_account_id": text("project.id"),
        "sub_account_name": text("project.name"),
        "tags": _labels(
            [text("labels"), text("system_labels"), text("project.labels")], ["", "", "project:"]
        ),
    }
    columns.mark_used(["credits"])
    extensions = columns.extensions()
    sources = columns.source_names(_SOURCES)
    return _with_credits(MappedBatch(mapped, constant("gcp", n), extensions, sources=sources), columns)
