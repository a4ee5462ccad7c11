"""AWS Cost and Usage Report (legacy ``lineItem/UnblendedCost`` and CUR 2.0 ``line_item_unblended_cost``).

Follows the FinOps Foundation focus_converters rules (``conversion_rules/aws-cur.csv`` and ``aws.csv``);
both header styles resolve to the same columns because names are matched spelling-insensitively.
Deliberate differences from those rules, each because FOCUS 1.x changed since they were written:
- LineItemType ``Credit`` -> ChargeCategory ``Credit`` (FOCUS 1.0 added it; the rules say Adjustment);
  ``Refund`` -> ``Adjustment``.
- ChargeFrequency: usage line types -> ``Usage-Based``, ``Fee``/``SavingsPlanUpfrontFee`` -> ``One-Time``,
  ``RIFee``/``SavingsPlanRecurringFee``/``Tax`` -> ``Recurring`` (the rules map every Anniversary bill row
  to Recurring, which mislabels usage).
- ListCost = ``pricing/publicOnDemandCost`` (AWS's own product of rate and amount, kept exact); 0 on
  ``SavingsPlanNegation`` rows (see ``aws_commitments``).
- ServiceName = ``product/ProductName`` when present, else ``lineItem/ProductCode``.
- Discount line types and ``SavingsPlanNegation`` are flagged ``negative_ok`` (negative by nature).
BilledCost = NetUnblendedCost when present, else UnblendedCost; EffectiveCost follows the rules' CASE.
Tags: ``resourceTags/*`` (``resource_tags_*``) columns, keyed by the name after the prefix.
Commitments (RI / Savings Plan columns, Used status, quantities and the derived Unused rows that carry the
fee rows' unused part): ``cloudoptima.ingest.mappers.aws_commitments``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.mappers.aws_commitments import commitment_columns, with_unused_rows
from cloudoptima.ingest.service_categories import AWS_SERVICE_CATEGORIES
from cloudoptima.ingest.source_columns import (
    MappedBatch,
    SourceColumns,
    coalesce,
    constant,
    json_objects,
    lookup,
)

_CATEGORY = {
    "Tax": "Tax",
    "Fee": "Purchase",
    "SavingsPlanUpfrontFee": "Purchase",
    "RIFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
    "Usage": "Usage",
    "SavingsPlanCoveredUsage": "Usage",
    "SavingsPlanNegation": "Usage",
    "DiscountedUsage": "Usage",
    "BundledDiscount": "Usage",
    "Discount": "Usage",
    "PrivateRateDiscount": "Usage",
    "EdpDiscount": "Usage",
    "Credit": "Credit",
    "Refund": "Adjustment",
}
_FREQUENCY = {
    "Fee": "One-Time",
    "SavingsPlanUpfrontFee": "One-Time",
    "RIFee": "Recurring",
    "SavingsPlanRecurringFee": "Recurring",
    "Tax": "Recurring",
    "Credit": "One-Time",
    "Refund": "One-Time",
}
_NEGATIVE_BY_NATURE = (
    "SavingsPlanNegation",
    "BundledDiscount",
    "Discount",
    "PrivateRateDiscount",
    "EdpDiscount",
)
_PURCHASE_OPTION = {
    "On-Demand": "Standard",
    "OnDemand": "Standard",
    "Dedicated Hosts": "Standard",
    "Reserved Instances": "Committed",
    "Reserved": "Committed",
    "Spot Instances": "Dynamic",
    "Spot": "Dynamic",
}
_TAG_PREFIXES = ("resourceTags/", "resource_tags_")
_SOURCES: dict[str, tuple[str, ...]] = {
    "billed_cost": ("lineItem/NetUnblendedCost", "lineItem/UnblendedCost"),
    "effective_cost": ("lineItem/UnblendedCost",),
    "billing_account_id": ("bill/PayerAccountId",),
    "billing_currency": ("lineItem/CurrencyCode",),
    "billing_period_start": ("bill/BillingPeriodStartDate",),
    "billing_period_end": ("bill/BillingPeriodEndDate",),
    "charge_category": ("lineItem/LineItemType",),
    "charge_frequency": ("lineItem/LineItemType",),
    "charge_period_start": ("lineItem/UsageStartDate",),
    "charge_period_end": ("lineItem/UsageEndDate",),
    "consumed_quantity": ("lineItem/UsageAmount",),
    "pricing_quantity": ("lineItem/UsageAmount",),
    "contracted_unit_price": ("lineItem/UnblendedRate",),
    "list_cost": ("pricing/publicOnDemandCost",),
    "list_unit_price": ("pricing/publicOnDemandRate",),
    "pricing_category": ("product/PurchaseOption", "pricing/term"),
    "region_id": ("product/regionCode", "product/region"),
    "sub_account_id": ("lineItem/UsageAccountId",),
    "tags": ("resourceTags/",),
}


def _combine(left: pa.Array, right: pa.Array, sign: int) -> pa.Array:
    """Exact ``left + sign * right`` of decimal text (nulls count as 0)."""
    results: list[str | None] = []
    for a, b in zip(left.to_pylist(), right.to_pylist(), strict=True):
        try:
            total = Decimal(a or 0) + sign * Decimal(b or 0)
        except InvalidOperation:
            results.append(None)
            continue
        results.append(format(total, "f"))
    return pa.array(results, pa.string())


def _effective_cost(columns: SourceColumns, line_type: pa.Array, unblended: pa.Array) -> pa.Array:
    """EffectiveCost per the Foundation's CASE over LineItemType."""
    text = columns.text

    def where(kind: str) -> pa.Array:
        return pc.fill_null(pc.equal(line_type, kind), False)

    zero = pa.scalar("0", pa.string())
    result = unblended
    reservation_arn = text("reservation/ReservationARN")
    fee_with_ri = pc.and_(where("Fee"), pc.fill_null(pc.is_valid(reservation_arn), False))
    result = pc.if_else(fee_with_ri, zero, result)
    ri_fee = where("RIFee")
    if pc.any(ri_fee).as_py():
        unused = _combine(
            text("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"),
            text("reservation/UnusedRecurringFee"),
            1,
        )
        result = pc.if_else(ri_fee, unused, result)
    result = pc.if_else(where("DiscountedUsage"), text("reservation/EffectiveCost"), result)
    result = pc.if_else(pc.or_(where("SavingsPlanUpfrontFee"), where("SavingsPlanNegation")), zero, result)
    sp_fee = where("SavingsPlanRecurringFee")
    if pc.any(sp_fee).as_py():
        unused = _combine(text("savingsPlan/TotalCommitmentToDate"), text("savingsPlan/UsedCommitment"), -1)
        result = pc.if_else(sp_fee, unused, result)
    covered = where("SavingsPlanCoveredUsage")
    return pc.if_else(covered, text("savingsPlan/SavingsPlanEffectiveCost"), result)


def _tags(columns: SourceColumns) -> pa.Array:
    names: list[str] = []
    keys: list[str] = []
    for prefix in _TAG_PREFIXES:
        for name in columns.starting_with(prefix):
            names.append(name)
            keys.append(name[len(prefix) :])
    return json_objects(keys, [columns.column(name) for name in names], columns.length)


def map_batch(columns: SourceColumns) -> MappedBatch:
    """FOCUS-named columns of a CUR batch (see module docstring)."""
    n = columns.length
    text = columns.text
    line_type = text("lineItem/LineItemType")
    unblended = text("lineItem/UnblendedCost")
    product_code = text("lineItem/ProductCode")
    usage_amount = text("lineItem/UsageAmount")
    usage_like = lookup(line_type, dict.fromkeys(_CATEGORY, "Usage-Based") | _FREQUENCY, None)
    purchase = coalesce(columns.get("product/PurchaseOption"), columns.get("pricing/term"))
    pricing = lookup(purchase, _PURCHASE_OPTION, "Other") if purchase is not None else text()
    mapped: dict[str, pa.Array] = {
        "availability_zone": text("lineItem/AvailabilityZone"),
        "billed_cost": coalesce(columns.get("lineItem/NetUnblendedCost"), unblended) or unblended,
        "billing_account_id": text("bill/PayerAccountId"),
        "billing_account_name": text("bill/PayerAccountName"),
        "billing_currency": text("lineItem/CurrencyCode"),
        "billing_period_start": text("bill/BillingPeriodStartDate"),
        "billing_period_end": text("bill/BillingPeriodEndDate"),
        "charge_category": lookup(line_type, _CATEGORY, None),
        "charge_description": text("lineItem/LineItemDescription"),
        "charge_frequency": usage_like,
        "charge_period_start": text("lineItem/UsageStartDate"),
        "charge_period_end": text("lineItem/UsageEndDate"),
        "consumed_quantity": usage_amount,
        "consumed_unit": text("pricing/unit"),
        "contracted_unit_price": text("lineItem/UnblendedRate"),
        "effective_cost": _effective_cost(columns, line_type, unblended),
        "invoice_id": text("bill/InvoiceId"),
        "invoice_issuer_name": pc.fill_null(text("bill/InvoicingEntity"), "Amazon Web Services, Inc."),
        "list_unit_price": text("pricing/publicOnDemandRate"),
        "pricing_quantity": usage_amount,
        "pricing_unit": text("pricing/unit"),
        "provider_name": constant("AWS", n),
        "publisher_name": pc.fill_null(text("lineItem/LegalEntity"), "Amazon Web Services, Inc."),
        "region_id": coalesce(columns.get("product/regionCode"), columns.get("product/region")) or text(),
        "region_name": text("product/location"),
        "resource_id": text("lineItem/ResourceId"),
        "service_category": pc.fill_null(lookup(product_code, AWS_SERVICE_CATEGORIES, "Other"), "Other"),
        "service_name": pc.coalesce(text("product/ProductName"), product_code),
        "sku_id": text("product/sku"),
        "sku_price_id": pc.coalesce(text("pricing/RateCode"), text("pricing/RateId")),
        "sub_account_id": text("lineItem/UsageAccountId"),
        "sub_account_name": text("lineItem/UsageAccountName"),
        "tags": _tags(columns),
        **commitment_columns(columns, line_type, pricing, text("pricing/publicOnDemandCost")),
    }
    negative_ok = pc.fill_null(pc.is_in(line_type, value_set=pa.array(_NEGATIVE_BY_NATURE)), False)
    batch = MappedBatch(
        columns=mapped,
        provider=constant("aws", n),
        extensions=columns.extensions(),
        negative_ok=negative_ok,
        sources=columns.source_names(_SOURCES),
    )
    return with_unused_rows(batch, columns, line_type)
