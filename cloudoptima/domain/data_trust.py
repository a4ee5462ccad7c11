"""Cost-data trust (#21): reconciliation of stored costs with the provider's own totals, and freshness.

Contract:
- :class:`TrustPolicy`: the tolerance is the larger of ``tolerance_percent`` % of the provider total and
  ``tolerance_amount`` currency units (defaults 0.01 % and 0.01); a billing month is still *restating* until
  ``restatement_days`` days after it ends, and the last ``restatement_days`` days before ``now`` are open to
  restatement. Default 3 days, a choice, not a sourced number: the team's reference (finops-facts §3.3) only
  says Azure cost data lands 8–24 h late and states no restatement window. An organisation sets its own
  (``trust_*`` organisation settings, :func:`policy_of_settings`); a request may override them.
- One :class:`Reconciliation` per account key (provider, billing account, cloud account) and currency of a
  billing month. ``our_total`` is Σ of the stored rows on ``basis`` (``billed`` = FOCUS BilledCost: AWS CUR's
  unblended cost, Azure's actual cost, GCP's cost); ``provider_total`` is the provider's own number on the
  same basis (for files: the file's ΣBilledCost per billing period, which FOCUS ties to the invoice), or null
  when no provider number is known (``unavailable_reason`` says why). For collected accounts the provider
  total is the cloud's own monthly total recorded at collection (AWS Cost Explorer MONTHLY UnblendedCost).
  The comparison is always like with like on ``billed`` (``comparison`` says which two numbers);
  ``other_bases`` show the other bases: ``effective`` (amortised: commitments spread, discounts applied),
  ``list`` (public prices) and, for AWS, ``blended`` (the provider's number only: we store no blended cost).
  ``delta = our_total - provider_total``; ``delta_percent`` is relative to the provider total (null when it
  is 0 or unknown). Money is exact ``Decimal``.
- ``status``: ``mismatch`` (|delta| > tolerance), ``provider_total_unavailable``, ``restating`` (month not
  closed), else ``reconciled``. ``findings`` name dropped days, the missing first or last days of a closed
  billing month (``missing_edge_day``: the billing period says which days must exist) and duplicated files.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CostBasis = Literal["billed", "effective", "list", "blended"]
ReconciliationStatus = Literal["reconciled", "mismatch", "provider_total_unavailable", "restating"]
FindingKind = Literal["dropped_day", "missing_edge_day", "duplicate_file"]
DataOrigin = Literal["file", "collection"]


class TrustPolicy(BaseModel):
    """Tolerance and restatement window (module contract)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tolerance_percent: Decimal = Field(default=Decimal("0.01"), ge=0, le=100)
    tolerance_amount: Decimal = Field(default=Decimal("0.01"), ge=0, le=Decimal("1e12"))
    restatement_days: int = Field(default=3, ge=0, le=62)

    def tolerance(self, provider_total: Decimal) -> Decimal:
        """The allowed |delta| for ``provider_total``: the larger of the percentage and the amount."""
        return max(abs(provider_total) * self.tolerance_percent / 100, self.tolerance_amount)


class AccountKey(BaseModel):
    """Which account the numbers belong to."""

    model_config = ConfigDict(frozen=True)

    provider: str
    billing_account_id: str
    cloud_account_id: uuid.UUID | None = None


class TrustFinding(BaseModel):
    """A dropped day (``day``), missing first or last days of a closed month (``day`` the first of them,
    ``days`` all), or a duplicated file (``files``, ``double_counted``)."""

    kind: FindingKind
    message: str
    day: date | None = None
    days: list[date] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    double_counted: bool = False


class BasisTotals(BaseModel):
    """Our total and the provider's on another cost basis (``effective`` = amortised after discounts,
    ``list`` = at list prices, ``blended`` = AWS blended rates); informative: the status is decided on
    ``billed``. ``our_total`` is null on a basis we do not store (blended); ``provider_source`` names where
    the provider's number came from."""

    basis: CostBasis
    our_total: Decimal | None
    provider_total: Decimal | None
    delta: Decimal | None
    provider_source: str | None = None


class Reconciliation(BaseModel):
    """One account × billing month × currency (module contract)."""

    account: AccountKey
    month: str
    currency: str
    origin: DataOrigin
    basis: CostBasis = "billed"
    provider_basis: str
    provider_source: str | None
    comparison: str = Field(default="", description="which two numbers are compared, on which basis")
    unavailable_reason: str | None = Field(default=None, description="why there is no provider total")
    our_total: Decimal
    provider_total: Decimal | None
    delta: Decimal | None
    delta_percent: Decimal | None
    tolerance: Decimal | None
    status: ReconciliationStatus
    month_closed: bool
    first_day: date | None
    last_day: date | None
    findings: list[TrustFinding] = Field(default_factory=list)
    invoice_ids: list[str] = Field(default_factory=list, description="invoices the file's rows name (≤ 20)")
    other_bases: list[BasisTotals] = Field(default_factory=list)


class ReconciliationReport(BaseModel):
    """The reconciliation of one billing month."""

    month: str
    as_of: datetime
    policy: TrustPolicy
    accounts: list[Reconciliation]


class AccountFreshness(BaseModel):
    """When an account's data last arrived, its latest usage day, and the days still open to restatement."""

    account: AccountKey
    origin: DataOrigin
    basis: CostBasis = "billed"
    basis_source: str = Field(default="", description="what the stored billed cost is, from this source")
    last_arrived_at: datetime | None
    latest_usage_day: date | None
    restating_from: date
    restating_days: list[date]


class FreshnessReport(BaseModel):
    """Freshness of every account of an organisation."""

    as_of: datetime
    restatement_days: int
    accounts: list[AccountFreshness]


class PeriodTrust(BaseModel):
    """Which days of ``[start, end)`` a chart should warn about, and why (``reasons`` by day)."""

    start: date
    end: date
    unreconciled_days: list[date]
    reasons: dict[date, list[str]]


def policy_of_settings(
    tolerance_percent: Decimal | None, tolerance_amount: Decimal | None, restatement_days: int | None
) -> TrustPolicy:
    """The policy from an organisation's ``trust_*`` settings (None: the default)."""
    values: dict[str, object] = {
        "tolerance_percent": tolerance_percent,
        "tolerance_amount": tolerance_amount,
        "restatement_days": restatement_days,
    }
    return TrustPolicy.model_validate({k: v for k, v in values.items() if v is not None})
