"""Daily FOCUS 1.2 cost rows of a sandbox estate, streamed per account.

Contract of every row (``iter_cost_rows``):

- one row per resource, UTC day and billed SKU (a resource changes SKU at most at an action, so a day has
  two rows only when a resize happened that day); days on which a resource bills nothing have no row;
- ``ChargePeriodStart``/``ChargePeriodEnd`` are ``YYYY-MM-DDT00:00:00Z`` of the day and the next day
  (end-exclusive); ``BillingPeriodStart``/``End`` are the month's first day and the next month's;
- ``ChargeCategory = Usage``, ``PricingCategory = Standard``, ``BillingCurrency = USD``;
- ``BilledCost = EffectiveCost = ListCost = ContractedCost`` as decimal strings with exactly 6 decimals;
  ``ListCost = round(ListUnitPrice × PricingQuantity, 6)`` (``Hours``: quantity = billable hours;
  ``GB-Mo``: quantity = GB × hours / (24 × days in month), itself given with 10 decimals);
- ``ConsumedQuantity``/``ConsumedUnit`` equal the pricing ones; ``Tags`` is a compact JSON object;
- empty string means null (FOCUS columns that do not apply: commitments, capacity reservations, …).
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from cloudoptima.clouds.sandbox.estate import BillingSegment, Estate
from cloudoptima.clouds.sandbox.providers import IDENTITIES, REGION_NAMES, service
from cloudoptima.domain.inventory import CloudAccount, Resource, ResourceKind

FOCUS_COLUMNS: tuple[str, ...] = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
)
"""The 57 FOCUS 1.2 columns, in the specification's (alphabetical) order."""

_COL = {name: index for index, name in enumerate(FOCUS_COLUMNS)}
_CHARGE_START = _COL["ChargePeriodStart"]
_CHARGE_END = _COL["ChargePeriodEnd"]
_COST = Decimal("0.000001")
_QTY = Decimal("0.0000000001")
_DAY = timedelta(days=1)
_COST_COLUMNS = ("BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "PricingCurrencyEffectiveCost")
_PRICE_COLUMNS = (
    "ContractedUnitPrice",
    "ListUnitPrice",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyListUnitPrice",
)


@dataclass(frozen=True)
class DailyCharge:
    """What one segment of one resource bills on one UTC day."""

    resource_id: str
    day: date
    segment: BillingSegment
    hours: Decimal
    quantity: Decimal
    cost: Decimal


def iso_z(moment: date) -> str:
    """``YYYY-MM-DDT00:00:00Z`` of a date (FOCUS date/time format)."""
    return f"{moment.isoformat()}T00:00:00Z"


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def billable_hours(segment: BillingSegment, day: date) -> Decimal:
    """Hours of ``day`` (UTC) that ``segment`` bills, honouring its schedule."""
    if segment.schedule == "weekdays" and day.weekday() >= 5:
        return Decimal(0)
    lo = max(segment.start, day_start(day))
    hi = day_start(day) + _DAY if segment.end is None else min(segment.end, day_start(day) + _DAY)
    seconds = int((hi - lo).total_seconds())
    if seconds <= 0:
        return Decimal(0)
    return Decimal(seconds) / Decimal(3600) if seconds % 3600 else Decimal(seconds // 3600)


def charge(resource_id: str, segment: BillingSegment, day: date) -> DailyCharge | None:
    """The charge of ``segment`` on ``day``, or ``None`` when it bills nothing that day."""
    hours = billable_hours(segment, day)
    if hours == 0:
        return None
    if segment.unit == "Hours":
        quantity = (segment.size * hours).quantize(_QTY, rounding=ROUND_HALF_EVEN).normalize()
        raw = segment.unit_price * segment.size * hours
    else:
        month_hours = Decimal(24 * calendar.monthrange(day.year, day.month)[1])
        exact = segment.size * hours / month_hours
        quantity = exact.quantize(_QTY, rounding=ROUND_HALF_EVEN)
        raw = segment.unit_price * exact
    cost = raw.quantize(_COST, rounding=ROUND_HALF_EVEN)
    return DailyCharge(resource_id, day, segment, hours, quantity, cost)


def resource_charges(estate: Estate, resource_id: str, start: date, end: date) -> Iterator[DailyCharge]:
    """Every charge of one resource on the days ``[start, end)``, day by day."""
    segments = estate.segments.get(resource_id, ())
    day = start
    while day < end:
        for segment in segments:
            item = charge(resource_id, segment, day)
            if item is not None:
                yield item
        day += _DAY


def daily_costs(estate: Estate, resource_id: str) -> dict[date, Decimal]:
    """Total cost per day of one resource over the estate window (days without cost are absent)."""
    totals: dict[date, Decimal] = {}
    for item in resource_charges(estate, resource_id, estate.spec.start, estate.spec.end):
        totals[item.day] = totals.get(item.day, Decimal(0)) + item.cost
    return totals


def _csv_field(value: str) -> str:
    """``value`` as a CSV field (quoted only when it holds a comma, quote or line break)."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _template(account: CloudAccount, resource: Resource) -> list[str]:
    identity = IDENTITIES[account.provider]
    label = service(resource.provider, resource.kind)
    row = [""] * len(FOCUS_COLUMNS)
    zonal = resource.kind in (ResourceKind.COMPUTE_INSTANCE, ResourceKind.DISK)
    values = {
        "AvailabilityZone": f"{resource.region}-a" if zonal else "",
        "BillingAccountId": account.billing_account_id,
        "BillingAccountName": account.billing_account_name,
        "BillingAccountType": identity.billing_account_type,
        "BillingCurrency": "USD",
        "ChargeCategory": "Usage",
        "ChargeFrequency": "Usage-Based",
        "InvoiceIssuerName": identity.invoice_issuer_name,
        "PricingCategory": "Standard",
        "PricingCurrency": "USD",
        "ProviderName": identity.provider_name,
        "PublisherName": identity.publisher_name,
        "RegionId": resource.region,
        "RegionName": REGION_NAMES.get(resource.region, resource.region),
        "ResourceId": resource.resource_id,
        "ResourceName": resource.name,
        "ResourceType": label.resource_type,
        "ServiceCategory": label.category,
        "ServiceName": label.name,
        "ServiceSubcategory": label.subcategory,
        "SubAccountId": account.account_id,
        "SubAccountName": account.name,
        "SubAccountType": identity.sub_account_type,
        "Tags": json.dumps(resource.tags, sort_keys=True, separators=(",", ":")),
    }
    for name, value in values.items():
        row[_COL[name]] = value
    return row


def _fill(template: list[str], item: DailyCharge, billing_account_id: str) -> list[str]:
    """The row of ``item`` except its charge period (which changes every day)."""
    row = template.copy()
    segment, day = item.segment, item.day
    month_start = day.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    cost = f"{item.cost:f}"
    price = f"{segment.unit_price:f}"
    quantity = f"{item.quantity:f}"
    for name in _COST_COLUMNS:
        row[_COL[name]] = cost
    for name in _PRICE_COLUMNS:
        row[_COL[name]] = price
    row[_COL["BillingPeriodStart"]] = iso_z(month_start)
    row[_COL["BillingPeriodEnd"]] = iso_z(next_month)
    row[_COL["ChargeDescription"]] = segment.description
    row[_COL["ConsumedQuantity"]] = quantity
    row[_COL["PricingQuantity"]] = quantity
    row[_COL["ConsumedUnit"]] = segment.unit
    row[_COL["PricingUnit"]] = segment.unit
    row[_COL["InvoiceId"]] = f"INV-{billing_account_id}-{month_start:%Y%m}"
    row[_COL["SkuId"]] = segment.sku_id
    row[_COL["SkuMeter"]] = segment.usage_type
    row[_COL["SkuPriceId"]] = f"{segment.sku_id}.OnDemand"
    return row


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _account_rows(
    estate: Estate, account_id: str, start: date | None, end: date | None, *, escaped: bool
) -> Iterator[list[str]]:
    account = estate.account(account_id)
    lo = estate.spec.start if start is None else start
    hi = estate.spec.end if end is None else end
    entries: list[tuple[str, list[str], BillingSegment, int, int, bool]] = []
    for resource in estate.account_resources(account_id):
        template = _template(account, resource)
        for segment in estate.segments.get(resource.resource_id, ()):
            stop = _epoch(segment.end) if segment.end is not None else 2**62
            weekdays = segment.schedule == "weekdays"
            entries.append((resource.resource_id, template, segment, _epoch(segment.start), stop, weekdays))
    month_cache: dict[tuple[int, int], list[str]] = {}
    month = (0, 0)
    day = lo
    while day < hi:
        if (day.year, day.month) != month:
            month, month_cache = (day.year, day.month), {}
        day_lo = _epoch(day_start(day))
        day_hi = day_lo + 86400
        weekend = day.weekday() >= 5
        period_start, period_end = iso_z(day), iso_z(day + _DAY)
        for index, (resource_id, template, segment, seg_lo, seg_hi, weekdays) in enumerate(entries):
            if seg_lo >= day_hi or seg_hi <= day_lo or (weekdays and weekend):
                continue
            key = (index, min(seg_hi, day_hi) - max(seg_lo, day_lo))
            base = month_cache.get(key)
            if base is None:
                item = charge(resource_id, segment, day)
                if item is None:
                    continue
                base = _fill(template, item, account.billing_account_id)
                if escaped:
                    base = [_csv_field(value) for value in base]
                month_cache[key] = base
            row = base.copy()
            row[_CHARGE_START] = period_start
            row[_CHARGE_END] = period_end
            yield row
        day += _DAY


def iter_cost_rows(
    estate: Estate, account_id: str, start: date | None = None, end: date | None = None
) -> Iterator[tuple[str, ...]]:
    """FOCUS rows (values in ``FOCUS_COLUMNS`` order) of one account, ordered by day then inventory order.

    ``start``/``end`` default to the estate window; a later window (e.g. after actions) is allowed.
    """
    for row in _account_rows(estate, account_id, start, end, escaped=False):
        yield tuple(row)


def iter_cost_lines(
    estate: Estate, account_id: str, start: date | None = None, end: date | None = None
) -> Iterator[tuple[str, str]]:
    """The rows of ``iter_cost_rows`` as ``(YYYY-MM of the charge day, CSV line without terminator)``.

    Quoting follows RFC 4180 (a field is quoted only when it holds a comma, quote or line break).
    """
    for row in _account_rows(estate, account_id, start, end, escaped=True):
        yield row[_CHARGE_START][:7], ",".join(row)


def row_dict(row: tuple[str, ...]) -> dict[str, str]:
    """A row as ``{column: value}``."""
    return dict(zip(FOCUS_COLUMNS, row, strict=True))
