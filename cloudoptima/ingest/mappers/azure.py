"""Azure cost exports: EA and MCA, actual and amortised, PascalCase and camelCase, legacy v1 usage details.

Follows the FinOps Foundation focus_converters rules (``conversion_rules/azure.csv``) with these deliberate
differences:
- ChargePeriodStart = ``Date`` (or v1 ``UsageDateTime``) and ChargePeriodEnd = that day + 1 (rows are
  daily; the rules take the billing-period start, which makes every row span weeks).
- BillingPeriodEnd = ``BillingPeriodEndDate`` + 1 day (Azure gives the last day inclusive; FOCUS ends are
  exclusive).
- PricingCategory uses FOCUS 1.x values: OnDemand -> Standard, Spot -> Dynamic,
  Reservation/SavingsPlan -> Committed, other non-empty values -> Other.
- ChargeFrequency: OneTime -> One-Time, Recurring, UsageBased -> Usage-Based, unknown -> null (the rules'
  ``Other`` is not a FOCUS value). ChargeType Refund -> Adjustment (as the rules' default).
- Columns are matched case-insensitively, so camelCase (``costInBillingCurrency``) and PascalCase
  headers are the same; BilledCost = CostInBillingCurrency, else Cost (EA), else PreTaxCost (v1).
- EffectiveCost = BilledCost (as the rules): an amortised export therefore carries amortised cost in both.
- ListCost = ``PayGCostInBillingCurrency`` when the export has it.
- CommitmentDiscountStatus (a row with a benefit id): ChargeType UnusedReservation/UnusedSavingsPlan -> Unused,
  Usage (or no ChargeType column) -> Used; other charge types (Purchase, Refund …) -> null.
- Tags: the export's JSON; the EA form without braces (``"a": "b","c": "d"``) is wrapped in ``{}``.
Dates in ``M/D/YYYY`` are parsed as US month/day/year.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from cloudoptima.ingest.service_categories import AZURE_SERVICE_CATEGORIES
from cloudoptima.ingest.source_columns import MappedBatch, SourceColumns, constant, lookup
from cloudoptima.ingest.timestamps import parse_timestamps, shift_days

_CATEGORY = {
    "Usage": "Usage",
    "Purchase": "Purchase",
    "Tax": "Tax",
    "UnusedReservation": "Usage",
    "UnusedSavingsPlan": "Usage",
    "Refund": "Adjustment",
    "Adjustment": "Adjustment",
    "Credit": "Credit",
    "RoundingAdjustment": "Adjustment",
}
_FREQUENCY = {"OneTime": "One-Time", "Recurring": "Recurring", "UsageBased": "Usage-Based"}
_PRICING = {
    "OnDemand": "Standard",
    "Spot": "Dynamic",
    "Reservation": "Committed",
    "SavingsPlan": "Committed",
    "Savings Plan": "Committed",
}

_COST = ("CostInBillingCurrency", "Cost", "PreTaxCost")
_DAY = ("Date", "UsageDateTime")
_QUANTITY = ("Quantity", "UsageQuantity")
_SOURCES: dict[str, tuple[str, ...]] = {
    "billed_cost": _COST,
    "effective_cost": _COST,
    "billing_account_id": ("BillingAccountId",),
    "billing_currency": ("BillingCurrencyCode", "BillingCurrency", "Currency"),
    "billing_period_start": ("BillingPeriodStartDate",),
    "billing_period_end": ("BillingPeriodEndDate",),
    "charge_category": ("ChargeType",),
    "charge_frequency": ("Frequency",),
    "charge_period_start": _DAY,
    "charge_period_end": _DAY,
    "consumed_quantity": _QUANTITY,
    "pricing_quantity": _QUANTITY,
    "contracted_unit_price": ("EffectivePrice", "ResourceRate"),
    "list_cost": ("PayGCostInBillingCurrency",),
    "list_unit_price": ("PayGPrice",),
    "pricing_category": ("PricingModel",),
    "sub_account_id": ("SubscriptionId", "SubscriptionGuid"),
    "tags": ("Tags",),
}


def _tags(tags: pa.Array) -> pa.Array:
    braced = pc.starts_with(tags, "{")
    wrapped = pc.binary_join_element_wise("{", tags, "}", "")
    return pc.if_else(pc.fill_null(braced, True), tags, wrapped)


def _commitment(columns: SourceColumns) -> dict[str, pa.Array]:
    benefit = pc.coalesce(columns.text("benefitId"), columns.text("ReservationId"))
    lowered = pc.utf8_lower(benefit)
    is_reservation = pc.or_(
        pc.match_substring(lowered, "/microsoft.capacity/"),
        pc.and_(pc.is_valid(benefit), pc.invert(pc.match_substring(lowered, "/"))),
    )
    is_savings = pc.match_substring(lowered, "/microsoft.billingbenefits/")
    null = pa.scalar(None, pa.string())
    charge_type = pc.utf8_lower(columns.text("ChargeType"))
    unused = pc.is_in(charge_type, pa.array(["unusedreservation", "unusedsavingsplan"]))
    if columns.name_of("ChargeType") is None:
        usage = pc.is_valid(benefit)  # no ChargeType column: every row is usage
    else:
        usage = pc.is_in(charge_type, pa.array(["usage"]))
    status = pc.if_else(unused, "Unused", pc.if_else(usage, "Used", null))
    return {
        "commitment_discount_status": pc.if_else(pc.is_valid(benefit), status, null),
        "commitment_discount_id": benefit,
        "commitment_discount_name": pc.coalesce(columns.text("benefitName"), columns.text("ReservationName")),
        "commitment_discount_category": pc.if_else(
            is_savings, "Spend", pc.if_else(is_reservation, "Usage", null)
        ),
        "commitment_discount_type": pc.if_else(
            is_savings, "Savings Plan", pc.if_else(is_reservation, "Reservation", null)
        ),
    }


def map_batch(columns: SourceColumns) -> MappedBatch:
    """FOCUS-named columns of an Azure cost export batch (see module docstring)."""
    n = columns.length
    text = columns.text
    ctx = columns.ctx
    day_name = columns.name_of("Date", "UsageDateTime") or "Date"
    day = parse_timestamps(text("Date", "UsageDateTime"), ctx, day_name)
    period_start_name = columns.name_of("BillingPeriodStartDate") or "BillingPeriodStartDate"
    period_end_name = columns.name_of("BillingPeriodEndDate") or "BillingPeriodEndDate"
    cost = text("CostInBillingCurrency", "Cost", "PreTaxCost")
    charge_type = columns.get("ChargeType")
    consumed_service = text("ConsumedService")
    pricing_model = text("PricingModel")
    mapped: dict[str, pa.Array] = {
        "availability_zone": text("AvailabilityZone"),
        "billed_cost": cost,
        "billing_account_id": text("BillingAccountId"),
        "billing_account_name": text("BillingAccountName"),
        "billing_currency": text("BillingCurrencyCode", "BillingCurrency", "Currency"),
        "billing_period_start": parse_timestamps(text("BillingPeriodStartDate"), ctx, period_start_name),
        "billing_period_end": shift_days(
            parse_timestamps(text("BillingPeriodEndDate"), ctx, period_end_name), 1
        ),
        "charge_category": constant("Usage", n)
        if charge_type is None
        else lookup(charge_type, _CATEGORY, None),
        "charge_description": text("ProductName", "Product", "MeterName"),
        "charge_frequency": lookup(text("Frequency"), _FREQUENCY, None),
        "charge_period_start": day,
        "charge_period_end": shift_days(day, 1),
        "consumed_quantity": text("Quantity", "UsageQuantity"),
        "consumed_unit": text("UnitOfMeasure"),
        "contracted_unit_price": text("EffectivePrice", "ResourceRate"),
        "effective_cost": cost,
        "invoice_id": text("InvoiceId"),
        "invoice_issuer_name": constant("Microsoft", n),
        "list_cost": text("PayGCostInBillingCurrency"),
        "list_unit_price": text("PayGPrice"),
        "pricing_category": lookup(pricing_model, _PRICING, "Other"),
        "pricing_quantity": text("Quantity", "UsageQuantity"),
        "pricing_unit": text("UnitOfMeasure"),
        "provider_name": constant("Microsoft", n),
        "publisher_name": pc.fill_null(text("PublisherName"), "Microsoft"),
        "region_id": text("ResourceLocation"),
        "region_name": text("MeterRegion"),
        "resource_id": text("ResourceId", "InstanceId", "InstanceName"),
        "resource_name": text("ResourceName"),
        "resource_type": text("ResourceType"),
        "service_category": pc.fill_null(
            lookup(consumed_service, AZURE_SERVICE_CATEGORIES, "Other"), "Other"
        ),
        "service_name": pc.coalesce(consumed_service, text("MeterCategory")),
        "sku_id": text("MeterId"),
        "sku_price_id": text("PartNumber"),
        "sub_account_id": text("SubscriptionId", "SubscriptionGuid"),
        "sub_account_name": text("SubscriptionName"),
        "tags": _tags(text("Tags")),
        **_commitment(columns),
    }
    return MappedBatch(
        columns=mapped,
        provider=constant("azure", n),
        extensions=columns.extensions(),
        sources=columns.source_names(_SOURCES),
    )
