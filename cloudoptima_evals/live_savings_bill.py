"""The bill of the realised-savings estate (``cloudoptima_evals/live_savings.py``): what AWS's Data Exports would
deliver for the account as a FOCUS 1.2 CSV, one file per billing period, written from AWS's public on-demand
prices and AWS's billing rules — not from the product's price tables or its sandbox generator.

Contract:

- :data:`PRICES` are AWS's public us-east-1 on-demand list prices (Linux, shared tenancy): EC2 per instance
  hour, EBS per GB-month of provisioned gp2 storage, EBS snapshots per GB-month of data stored (standard
  tier), data transfer out to the internet per GB (first 10 TB a month; the account's free 100 GB are taken
  by other traffic).
- A :class:`Billed` resource is a sequence of :class:`Span` pieces: from ``start`` (inclusive) to ``end``
  (exclusive, None = still billing), a price key and a quantity (instances: 1; volumes and snapshots: GB).
  Instances are billed per second (AWS Linux on-demand), so a day holds the hours the span covers in it;
  storage is billed per GB-month, prorated by the hours of the calendar month the day is in (``hours that
  day / hours in the month``), as AWS does.
- :class:`PriceCut` lowers one price key from a UTC instant on (AWS has cut EC2 prices this way): every
  span of that key is billed at the cut price from then.
- ``egress_mean_gb`` is a resource's mean internet data transfer per day (GB); each day sends ±25 % around
  it, drawn from ``noise_seed`` and the day (the same seed, the same bill), billed under the instance id as
  AWS bills ``DataTransfer-Out-Bytes`` — the day-to-day noise of the bill. :func:`expected` is the same
  resource with its mean egress every day (what the truth uses).
- :func:`focus_csv` writes the rows of one billing period (a calendar month) from its first day up to
  ``through`` (exclusive): one row per resource, day and charge (usage, data transfer), ``ResourceId`` as
  AWS bills it (``i-…``, ``vol-…``, and for snapshots the snapshot ARN). Amounts are rounded to 10 decimal
  places, as Data Exports prints them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np

ACCOUNT = "123456789012"
REGION = "us-east-1"
EGRESS = "data-transfer-out"
PRICES: dict[str, Decimal] = {
    "m5.large": Decimal("0.096"),
    "m5.xlarge": Decimal("0.192"),
    "m5.2xlarge": Decimal("0.384"),
    "gp2": Decimal("0.10"),
    "snapshot": Decimal("0.05"),
    EGRESS: Decimal("0.09"),
}
"""AWS public on-demand prices, us-east-1 (see module contract)."""
_DESCRIPTION = {
    "gp2": "$0.10 per GB-month of General Purpose SSD (gp2) provisioned storage - US East (Northern Virginia)",
    "snapshot": "$0.05 per GB-Month of snapshot data stored - US East (Northern Virginia)",
    EGRESS: "$0.090 per GB - first 10 TB / month data transfer out beyond the global free tier",
}
_PLACES = Decimal("0.0000000001")
HEADER = [
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
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
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
]


@dataclass(frozen=True)
class Span:
    """A resource billed at ``price_key`` × ``quantity`` from ``start`` to ``end`` (None: still billing)."""

    start: datetime
    end: datetime | None
    price_key: str
    quantity: Decimal = Decimal(1)


@dataclass(frozen=True)
class PriceCut:
    """``price_key`` costs ``factor`` × its list price from ``start`` on."""

    price_key: str
    start: datetime
    factor: Decimal


@dataclass
class Billed:
    """One billed resource: its id as AWS bills it, a name, its spans and its daily egress (see contract)."""

    resource_id: str
    name: str
    spans: list[Span]
    egress_mean_gb: Decimal | None = None
    noise_seed: int | None = None

    def egress_gb(self, day: date) -> Decimal:
        """GB sent to the internet on ``day`` (0 without egress)."""
        if self.egress_mean_gb is None:
            return Decimal(0)
        if self.noise_seed is None:
            return self.egress_mean_gb
        draw = np.random.default_rng((self.noise_seed, day.toordinal())).uniform(0.75, 1.25)
        return (self.egress_mean_gb * Decimal(str(round(float(draw), 4)))).quantize(Decimal("0.001"))


def expected(resource: Billed) -> Billed:
    """``resource`` sending its mean egress every day (no noise)."""
    return replace(resource, spans=list(resource.spans), noise_seed=None)


def _overlap_hours(start: datetime, end: datetime | None, day: date) -> Decimal:
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    lo, hi = max(start, day_start), min(end or day_start + timedelta(days=1), day_start + timedelta(days=1))
    return Decimal(max(0, int((hi - lo).total_seconds()))) / 3600


def _month_hours(day: date) -> Decimal:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Decimal((following - first).days * 24)


def price_on(key: str, when: datetime, cuts: list[PriceCut]) -> Decimal:
    """The price of ``key`` at ``when`` (a cut applies from its start)."""
    factor = Decimal(1)
    for cut in cuts:
        if cut.price_key == key and when >= cut.start:
            factor *= cut.factor
    return PRICES[key] * factor


def _span_day(
    span: Span, day: date, cuts: list[PriceCut], month_hours: Decimal | None = None
) -> tuple[Decimal, Decimal, Decimal]:
    """(hours billed that day, usage quantity, cost) of ``span`` on ``day``; prices fixed within a UTC day;
    storage prorated over ``month_hours`` (default: the hours of ``day``'s calendar month)."""
    hours = _overlap_hours(span.start, span.end, day)
    unit = price_on(span.price_key, datetime(day.year, day.month, day.day, tzinfo=UTC), cuts)
    if span.price_key in ("gp2", "snapshot"):
        quantity = span.quantity * hours / (month_hours or _month_hours(day))  # GB-months
    else:
        quantity = hours * span.quantity
    return hours, quantity, unit * quantity


MEAN_MONTH_HOURS = Decimal("730.5")
"""Hours of a mean month (365.25 × 24 / 12): a GB-month costs its price whatever the month's length."""


def daily_cost(
    resource: Billed, day: date, cuts: list[PriceCut], month_hours: Decimal | None = None
) -> Decimal:
    """What ``resource`` costs on ``day`` (all its charges), unrounded; with ``month_hours``, its storage as
    if ``day`` were in a month of that many hours (:data:`MEAN_MONTH_HOURS`: a day of a mean month)."""
    total = sum((_span_day(span, day, cuts, month_hours)[2] for span in resource.spans), Decimal(0))
    if resource.egress_mean_gb is not None and any(
        _overlap_hours(s.start, s.end, day) for s in resource.spans
    ):
        total += resource.egress_gb(day) * price_on(
            EGRESS, datetime(day.year, day.month, day.day, tzinfo=UTC), cuts
        )
    return total


def _row(resource: Billed, day: date, key: str, quantity: Decimal, unit: Decimal) -> list[str]:
    """One FOCUS row; list and billed prices are equal (on-demand, no discount; a price cut lowers both)."""
    period_start = day.replace(day=1)
    period_end = (period_start + timedelta(days=32)).replace(day=1)
    cost = (unit * quantity).quantize(_PLACES)
    if key == EGRESS:
        category, service, sub, unit_name, rtype = (
            "Networking",
            "AWS Data Transfer",
            "Other (Networking)",
            "GB",
            "Instance",
        )
        description = _DESCRIPTION[EGRESS]
    elif key in ("gp2", "snapshot"):
        category, service, sub = "Storage", "Amazon Elastic Compute Cloud", "Block Storage"
        unit_name, rtype, description = "GB-Mo", "Volume" if key == "gp2" else "Snapshot", _DESCRIPTION[key]
    else:
        category, service, sub, unit_name, rtype = (
            "Compute",
            "Amazon Elastic Compute Cloud",
            "Virtual Machines",
            "Hrs",
            "Instance",
        )
        description = f"${PRICES[key]} per On Demand Linux {key} Instance Hour"
    values = {
        "AvailabilityZone": f"{REGION}a",
        "BilledCost": str(cost),
        "BillingAccountId": ACCOUNT,
        "BillingAccountName": "live-savings-eval",
        "BillingAccountType": "Billing Account",
        "BillingCurrency": "USD",
        "BillingPeriodEnd": f"{period_end.isoformat()}T00:00:00Z",
        "BillingPeriodStart": f"{period_start.isoformat()}T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargeDescription": description,
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodEnd": f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z",
        "ChargePeriodStart": f"{day.isoformat()}T00:00:00Z",
        "ConsumedQuantity": str(quantity.quantize(_PLACES)),
        "ConsumedUnit": unit_name,
        "ContractedCost": str(cost),
        "ContractedUnitPrice": str(unit),
        "EffectiveCost": str(cost),
        "InvoiceId": f"INV-{period_start:%Y%m}",
        "InvoiceIssuerName": "Amazon Web Services, Inc.",
        "ListCost": str(cost),
        "ListUnitPrice": str(unit),
        "PricingCategory": "Standard",
        "PricingCurrency": "USD",
        "PricingQuantity": str(quantity.quantize(_PLACES)),
        "PricingUnit": unit_name,
        "ProviderName": "AWS",
        "PublisherName": "AWS",
        "RegionId": REGION,
        "RegionName": "US East (N. Virginia)",
        "ResourceId": resource.resource_id,
        "ResourceName": resource.name,
        "ResourceType": rtype,
        "ServiceCategory": category,
        "ServiceName": service,
        "ServiceSubcategory": sub,
        "SkuId": f"SKU-{key}",
        "SkuPriceId": f"SKU-{key}-OD",
        "SubAccountId": ACCOUNT,
        "SubAccountName": "live-savings-eval",
        "SubAccountType": "Account",
        "Tags": "{}",
    }
    return [values[name] for name in HEADER]


def focus_csv(resources: list[Billed], period: date, through: date, cuts: list[PriceCut]) -> bytes:
    """The FOCUS 1.2 export of the billing period starting ``period`` (a month's first day), days before
    ``through`` only (a month-to-date export when ``through`` falls inside the month)."""
    if period.day != 1:
        raise ValueError(f"period {period} is not the first day of a month")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    end = min(through, (period + timedelta(days=32)).replace(day=1))
    day = period
    while day < end:
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        for resource in resources:
            for span in resource.spans:
                hours, quantity, _cost = _span_day(span, day, cuts)
                if hours:
                    unit = price_on(span.price_key, midnight, cuts)
                    writer.writerow(_row(resource, day, span.price_key, quantity, unit))
            if resource.egress_mean_gb is not None and any(
                _overlap_hours(s.start, s.end, day) for s in resource.spans
            ):
                gb = resource.egress_gb(day)
                unit = price_on(EGRESS, midnight, cuts)
                writer.writerow(_row(resource, day, EGRESS, gb, unit))
        day += timedelta(days=1)
    return out.getvalue().encode()
