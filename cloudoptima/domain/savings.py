"""Realised savings (#22): what the bill says a completed recommendation saved, and the ledger built on it.

Models only (no I/O); the measurement is :mod:`cloudoptima.services.realised_savings`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

DAYS_PER_MONTH = Decimal("30.4375")
"""A month of the ledger: 365.25 / 12 days. Realised monthly = (before daily average − after daily average) × this."""


class MeasurementStatus(StrEnum):
    """``measured``: both windows are in the bill; ``measuring``: the after window has not ended or the bill
    does not reach its last day yet; ``unmeasurable``: no resource id, no cost before the change, or more than
    one billing currency."""

    MEASURED = "measured"
    MEASURING = "measuring"
    UNMEASURABLE = "unmeasurable"


class Confidence(StrEnum):
    """``high``: the resource billed on every day of the before window and its daily cost there had a
    coefficient of variation (population standard deviation / mean) ≤ 0.10; ``medium``: every day billed and
    CV ≤ 0.30; ``low``: otherwise."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PriceBasisKind(StrEnum):
    """Which unit price an after-window price key was measured at (see
    :mod:`cloudoptima.services.savings_netting`): ``before_window`` (the key billed before the change),
    ``first_after_day`` (a key new after the change: a resize's new size, a kept snapshot — its price on its
    first billed day after the change) or ``not_netted`` (no quantity in the bill: counted as billed)."""

    BEFORE_WINDOW = "before_window"
    FIRST_AFTER_DAY = "first_after_day"
    NOT_NETTED = "not_netted"


class PriceBasis(_Model):
    """The price one after-window price key (``SkuPriceId``, else ``SkuId``, else the meter, ``|`` the pricing
    unit) was measured at, and what its price change added to the after window's bill per month."""

    price_key: str
    basis: PriceBasisKind
    reference_unit_price: Decimal | None
    after_unit_price: Decimal | None
    """Σ cost / Σ quantity of the key's after-window lines (None: no quantity)."""
    effect_monthly: Decimal
    """Positive when the price rose (netted out of ``realised_monthly``)."""


class Measurement(_Model):
    """Before/after comparison of one completed recommendation's resources (all amounts in ``currency``).

    Windows are UTC days, end exclusive: before ``[change_day − N, change_day)``, after
    ``[change_day + 1, change_day + 1 + N)`` (the change day itself is skipped). A change applied by hand that
    is only known to have happened after an earlier collection has its before window end that collection's
    day instead: ``[before_start, before_start + N)``."""

    status: MeasurementStatus
    reason: str | None = None
    currency: str | None = None
    change_day: date | None = None
    before_start: date | None = None
    after_start: date | None = None
    window_days: int
    before_daily: Decimal | None = None
    """Σ cost of the before window / days the resources billed in it (a per-month price counted at
    ``cost × days of its billing period / 30.4375``: :mod:`cloudoptima.services.savings_netting`)."""
    after_daily: Decimal | None = None
    """Σ cost of the after window at the reference prices, replacement resources included, / N (a day without
    a cost row cost nothing: a deleted resource)."""
    realised_daily: Decimal | None = None
    realised_monthly: Decimal | None = None
    """``realised_daily × 30.4375``, rounded to cents half-even."""
    estimated_monthly: Decimal | None = None
    error_percent: Decimal | None = None
    """``(realised − estimated) / estimated × 100`` to 2 places: negative when the estimate was too high."""
    confidence: Confidence | None = None
    before_cv: Decimal | None = None
    days_billed_before: int = 0
    price_effect_monthly: Decimal | None = None
    """What unit-price changes between the windows added to the after window's bill, per month (positive:
    prices rose). Not part of ``realised_monthly``: the after window is priced at the reference prices;
    the unnetted difference would be ``realised_monthly − price_effect_monthly``."""
    replacement_ids: list[str] = []
    """Resources that exist because of the change (a kept snapshot, a successor with a new id); their
    after-window cost counts against the saving."""
    replacement_monthly: Decimal | None = None
    """The replacement resources' after-window daily cost × 30.4375 (at reference prices), inside
    ``after_daily``."""
    prices: list[PriceBasis] = []


class LedgerRow(_Model):
    recommendation_id: uuid.UUID
    rule_id: str | None
    title: str
    status: str
    applied_at: datetime | None
    resource_ids: list[str]
    estimated_monthly: Decimal | None
    measurement: Measurement


class LedgerBucket(_Model):
    """One lifecycle bucket: how many recommendations and their estimated (and realised) monthly sums."""

    count: int
    estimated_monthly: Decimal
    realised_monthly: dict[str, Decimal] = {}
    """Per billing currency; only the ``realised`` bucket has amounts."""
    owners: dict[str, int] = {}
    """Only the ``accepted`` bucket: how many each owner holds, by the owner's e-mail (sorted)."""
    overdue: int = 0
    """Only the ``accepted`` bucket: how many are past their due date (``due_date`` before ``as_of``'s UTC day)."""


class MonthSavings(_Model):
    """The completed recommendations of one UTC month of their change (``applied_at``)."""

    month: str
    """``YYYY-MM``."""
    completed: int
    measured: int
    estimated_monthly: Decimal
    """Σ estimates of the measured ones (comparable with ``realised_monthly``)."""
    realised_monthly: dict[str, Decimal]
    """Per billing currency."""


class SavingsLedger(_Model):
    """``GET /v1/savings``: buckets ``open`` (active, scheduled), ``accepted`` (owned, with a due date; its
    owners and overdue count), ``applying`` (an execution is changing the cloud), ``applied`` (completed, not yet measured or unmeasurable) and ``realised`` (completed and
    measured); ``months`` per month of the change, oldest first; rows are the completed recommendations,
    latest applied first, paged."""

    as_of: datetime
    window_days: int
    buckets: dict[str, LedgerBucket]
    months: list[MonthSavings]
    total: int
    limit: int
    offset: int
    items: list[LedgerRow]


class RuleAccuracy(_Model):
    """How far one rule's estimates were from what the bill showed, over its measured recommendations."""

    rule_id: str | None
    measured: int
    measuring: int
    estimated_monthly: Decimal
    realised_monthly: Decimal
    mean_error_percent: Decimal | None
    """Mean of the signed ``error_percent`` of measured items with an estimate (bias, not spread)."""
    mean_absolute_error_percent: Decimal | None
    flagged: bool
    """``|mean_error_percent| > 25`` over at least 3 measured items: the rule's estimates are systematically off."""
    price_effect_monthly: Decimal = Decimal(0)
    """Σ ``price_effect_monthly`` of the measured items (netted out of ``realised_monthly``)."""
    replacement_monthly: Decimal = Decimal(0)
    """Σ ``replacement_monthly`` of the measured items (counted against ``realised_monthly``)."""


class RuleAccuracyReport(_Model):
    as_of: datetime
    window_days: int
    flag_threshold_percent: Decimal
    flag_min_measured: int
    rules: list[RuleAccuracy]
