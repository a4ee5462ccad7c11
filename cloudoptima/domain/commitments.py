"""Commitments seen in the billing data: utilisation and coverage per day (#22).

Definitions (FOCUS 1.2, /work/shared/reference/finops-facts.md §6.1 "Per CommitmentDiscountId: Σ EffectiveCost(Usage)
= Σ BilledCost(Purchase) = Σ over Used + Unused", and the value lists ``CommitmentDiscountStatus = Used | Unused``,
``PricingCategory = Standard | Dynamic | Committed | Other``):

- **Utilisation** of one commitment = used / (used + unused), over its ``ChargeCategory = Usage`` rows with
  ``CommitmentDiscountStatus`` ``Used`` or ``Unused``: by cost on ``EffectiveCost`` (the amortised commitment
  cost), and by quantity on ``CommitmentDiscountQuantity`` where the rows give it. ``None`` when the
  denominator is zero or absent (no basis: e.g. a file whose covered rows carry a zero EffectiveCost).
- **Coverage** = committed-priced eligible cost / eligible cost, on ``ListCost`` (the on-demand equivalent: the
  committed rows' EffectiveCost is discounted, so it would understate what the commitment covers). Eligible
  rows: ``ChargeCategory = Usage``, not an ``Unused`` commitment row (that is the commitment's own idle
  portion, not usage), of a (ProviderName, ServiceCategory) pair in which at least one committed-priced row
  appears in the requested period. Committed-priced: ``PricingCategory = Committed`` or
  ``CommitmentDiscountStatus = Used``.

A row's day is the UTC date of its ``ChargePeriodStart``. Periods are ``[start_date, end_date)``. Money is
exact (the stored digits summed); percentages are rounded half-up to 2 decimals. Amounts are grouped by
``BillingCurrency`` (never summed across currencies).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from cloudoptima.domain.owned_commitments import InventoryRead, OwnedCommitmentView


class Commitment(BaseModel):
    """A commitment (``CommitmentDiscountId``) seen in the billing data, with its totals over the period asked.

    ``committed_cost`` = used_cost + unused_cost (EffectiveCost of its Used and Unused usage rows);
    ``purchase_billed_cost`` = Σ BilledCost of its Purchase rows; ``first_seen``/``last_seen`` the first and last
    day a row carrying the id starts on.
    """

    commitment_id: str
    name: str | None
    provider: str
    category: str | None
    type: str | None
    unit: str | None
    currency: str
    first_seen: date
    last_seen: date
    used_cost: Decimal
    unused_cost: Decimal
    committed_cost: Decimal
    purchase_billed_cost: Decimal
    used_quantity: Decimal | None
    unused_quantity: Decimal | None
    utilisation_percent: Decimal | None
    quantity_utilisation_percent: Decimal | None
    expires_at: datetime | None = None  # from the SDK inventory (``owned``) when it lists this commitment


class NotDerivable(BaseModel):
    """Commitment charges seen in the period whose export carries no used/unused split, so no utilisation is
    given for them (``reason`` says why); ``commitment_fee_cost`` = Σ BilledCost of the commitment fee rows,
    ``discount_credit_cost`` = Σ BilledCost of the commitment discount credits (negative)."""

    provider: str
    currency: str
    reason: str
    commitment_fee_cost: Decimal
    discount_credit_cost: Decimal


class CommitmentList(BaseModel):
    """``GET /v1/commitments``: ``start_date``/``end_date`` are None when the whole billing history was read.

    ``owned``: the commitments the providers' APIs list (the SDK inventory), joined with the billing figures
    of the same period; ``inventory`` is ``billing_data+provider_api`` when any is owned; ``inventory_reads``
    the last inventory read of each connected account (``unavailable: <permission>`` when not allowed)."""

    start_date: date | None
    end_date: date | None
    commitments: list[Commitment]
    inventory: str = "billing_data"
    owned: list[OwnedCommitmentView] = []
    not_derivable: list[NotDerivable] = []
    inventory_reads: list[InventoryRead] = []


class UtilisationDay(BaseModel):
    """One commitment on one day (module definitions)."""

    day: date
    commitment_id: str
    currency: str
    used_cost: Decimal
    unused_cost: Decimal
    utilisation_percent: Decimal | None
    used_quantity: Decimal | None
    unused_quantity: Decimal | None
    quantity_utilisation_percent: Decimal | None


class UtilisationTotal(BaseModel):
    """One commitment over the whole period."""

    commitment_id: str
    currency: str
    used_cost: Decimal
    unused_cost: Decimal
    utilisation_percent: Decimal | None
    used_quantity: Decimal | None
    unused_quantity: Decimal | None
    quantity_utilisation_percent: Decimal | None


class UtilisationReport(BaseModel):
    """``not_derivable``: commitments seen in the bill without a utilisation basis (when no commitment_id)."""

    start_date: date
    end_date: date
    commitment_id: str | None
    days: list[UtilisationDay]
    totals: list[UtilisationTotal]
    not_derivable: list[NotDerivable] = []


class CoverageDay(BaseModel):
    """Coverage on one day in one currency (module definitions)."""

    day: date
    currency: str
    covered_cost: Decimal
    eligible_cost: Decimal
    coverage_percent: Decimal | None


class CoverageTotal(BaseModel):
    currency: str
    covered_cost: Decimal
    eligible_cost: Decimal
    coverage_percent: Decimal | None


class CoverageReport(BaseModel):
    """``eligible_services`` lists the ``provider/service category`` pairs counted as eligible."""

    start_date: date
    end_date: date
    basis: str = "ListCost"
    eligible_services: list[str]
    days: list[CoverageDay]
    totals: list[CoverageTotal]
