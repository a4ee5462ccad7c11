"""OCI cost reports (``lineItem/*``, ``product/*``, ``usage/*``, ``cost/*``, ``tags/*``).

Follows the FinOps Foundation focus_converters rules (``conversion_rules/oci.csv``) except:
- BilledCost = EffectiveCost = ``cost/myCost``. The rules take BilledCost from ``cost/myCostOverage``,
  which is empty on most rows; myCost is what the tenancy is charged (the golden total is Σ myCost).
- ChargeCategory = Usage; ``lineItem/isCorrection = true`` rows get ChargeClass ``Correction``.
- ChargeFrequency = Usage-Based; ServiceCategory from our small OCI table (``Other`` when unknown).
- ContractedUnitPrice = ``cost/unitPrice``; ``cost/myCostOverage`` and the rest go to ``extensions``.
BillingPeriodStart/End are the UTC calendar month of the usage interval start. ``tags/*`` columns become
Tags keyed by the name after ``tags/``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.service_categories import OCI_SERVICE_CATEGORIES
from cloudoptima.ingest.source_columns import MappedBatch, SourceColumns, constant, json_objects, lookup
from cloudoptima.ingest.timestamps import parse_timestamps

_SOURCES: dict[str, tuple[str, ...]] = {
    "billed_cost": ("cost/myCost",),
    "effective_cost": ("cost/myCost",),
    "billing_account_id": ("cost/subscriptionId",),
    "billing_currency": ("cost/currencyCode",),
    "billing_period_start": ("lineItem/intervalUsageStart",),
    "billing_period_end": ("lineItem/intervalUsageStart",),
    "charge_period_start": ("lineItem/intervalUsageStart",),
    "charge_period_end": ("lineItem/intervalUsageEnd",),
    "consumed_quantity": ("usage/billedQuantity",),
    "pricing_quantity": ("usage/billedQuantity",),
    "contracted_unit_price": ("cost/unitPrice",),
    "sub_account_id": ("lineItem/tenantId",),
    "tags": ("tags/",),
}


def month_bounds(start: pa.Array) -> tuple[pa.Array, pa.Array]:
    """First instant of the UTC month of each timestamp, and of the following month."""
    first = pc.floor_temporal(start, unit="month")
    return first, pc.ceil_temporal(pc.add(first, pa.scalar(86_400_000_000, pa.duration("us"))), unit="month")


def map_batch(columns: SourceColumns) -> MappedBatch:
    """FOCUS-named columns of an OCI cost report batch (see module docstring)."""
    n = columns.length
    text = columns.text
    start_name = columns.name_of("lineItem/intervalUsageStart") or "lineItem/intervalUsageStart"
    start = parse_timestamps(text("lineItem/intervalUsageStart"), columns.ctx, start_name)
    month_start, month_end = month_bounds(start)
    cost = text("cost/myCost")
    correction = pc.equal(pc.utf8_lower(text("lineItem/isCorrection")), "true")
    service = text("product/service")
    tag_names = columns.starting_with("tags/")
    tags = json_objects(
        [name[len("tags/") :] for name in tag_names], [columns.column(name) for name in tag_names], n
    )
    mapped: dict[str, pa.Array] = {
        "availability_zone": text("product/availabilityDomain"),
        "billed_cost": cost,
        "billing_account_id": text("cost/subscriptionId"),
        "billing_currency": text("cost/currencyCode"),
        "billing_period_start": month_start,
        "billing_period_end": month_end,
        "charge_category": constant("Usage", n),
        "charge_class": pc.if_else(
            pc.fill_null(correction, False), "Correction", pa.scalar(None, pa.string())
        ),
        "charge_description": text("product/Description"),
        "charge_frequency": constant("Usage-Based", n),
        "charge_period_start": start,
        "charge_period_end": text("lineItem/intervalUsageEnd"),
        "consumed_quantity": text("usage/billedQuantity"),
        "consumed_unit": text("cost/skuUnitDescription"),
        "contracted_unit_price": text("cost/unitPrice"),
        "effective_cost": cost,
        "invoice_issuer_name": constant("Oracle", n),
        "pricing_quantity": text("usage/billedQuantity"),
        "pricing_unit": text("cost/skuUnitDescription"),
        "provider_name": constant("Oracle", n),
        "publisher_name": constant("Oracle", n),
        "region_id": text("product/region"),
        "resource_id": text("product/resourceId"),
        "service_category": pc.fill_null(lookup(service, OCI_SERVICE_CATEGORIES, "Other"), "Other"),
        "service_name": service,
        "sku_id": text("cost/productSku"),
        "sub_account_id": text("lineItem/tenantId"),
        "tags": tags,
    }
    return MappedBatch(
        columns=mapped,
        provider=constant("oci", n),
        extensions=columns.extensions(),
        sources=columns.source_names(_SOURCES),
    )
