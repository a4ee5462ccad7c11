"""The numbers of one digest, read from the services the REST API answers with.

Contract:
- :func:`digest_figures` returns :class:`DigestFigures` for one user and period: spend from
  ``CostAnalytics.overview`` (``/v1/costs/overview``) in the organisation's currency (the currency of its
  costs; with several, the one with the most spend in the period, the others listed), new anomalies
  (``AnomalyService.list``, detected in the period) with their summed impact, open savings per month
  (``RecommendationService.list`` of active recommendations), budgets ``at_risk`` / ``exceeded``
  (``BudgetService.evaluate`` as ``/v1/budgets``, inside a savepoint that is rolled back so the digest changes
  no alert state), and approvals waiting for the user's role (as ``/v1/approvals``). Money is ``Decimal``;
  each figure carries the absolute link to its API.
- Every query is scoped to the organisation; ``now`` comes from the caller and must carry a time zone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.domain.budgets import BudgetStatus
from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.services.anomalies import AnomalyService
from cloudoptima.services.approvals import ApprovalService
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.digests.schedule import DigestError, DigestPeriod, aware
from cloudoptima.services.price_catalog import price_catalog_for
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.remediation import RemediationService
from cloudoptima.storage.models import User

DEFAULT_CURRENCY = "USD"
_MAX_ROWS = 10_000


@dataclass(frozen=True)
class DigestFigures:
    """The numbers of one digest (all from the API's services; see module)."""

    currency: str
    spend: Decimal
    previous_spend: Decimal
    change_percent: Decimal | None
    other_currencies: dict[str, Decimal]
    new_anomalies: int
    anomaly_impact: Decimal
    open_recommendations: int
    open_savings_monthly: Decimal
    budgets_at_risk: list[str]
    budgets_exceeded: list[str]
    approvals_waiting: int
    links: dict[str, str] = field(default_factory=dict)

    def payload(self, period: DigestPeriod) -> dict[str, Any]:
        """JSON of the figures (money and dates as strings)."""
        return {
            "frequency": period.frequency,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "timezone": period.timezone,
            "currency": self.currency,
            "spend": str(self.spend),
            "previous_spend": str(self.previous_spend),
            "change_percent": None if self.change_percent is None else str(self.change_percent),
            "other_currencies": {k: str(v) for k, v in self.other_currencies.items()},
            "new_anomalies": self.new_anomalies,
            "anomaly_impact": str(self.anomaly_impact),
            "open_recommendations": self.open_recommendations,
            "open_savings_monthly": str(self.open_savings_monthly),
            "budgets_at_risk": self.budgets_at_risk,
            "budgets_exceeded": self.budgets_exceeded,
            "approvals_waiting": self.approvals_waiting,
            "links": self.links,
        }


def _no_providers(cloud_account_id: uuid.UUID) -> CloudProviderClient:
    raise LookupError(f"the digest reads approvals only; no provider for account {cloud_account_id}")


def digest_figures(
    session: Session,
    organization_id: uuid.UUID,
    user: User,
    period: DigestPeriod,
    *,
    now: datetime,
    base_url: str,
) -> DigestFigures:
    """The digest's numbers for ``user`` and ``period`` (see module)."""
    now = aware(now)
    if user.organization_id != organization_id:
        raise DigestError("user", "is not a user of this organisation")
    base = base_url.rstrip("/")
    org = organization_id

    analytics = CostAnalytics.for_organisation(session.connection(), org)
    prev_start, _ = period.previous
    totals: dict[str, tuple[Decimal, Decimal, Decimal | None]] = {}
    for currency in analytics.currencies(prev_start, period.end) or [DEFAULT_CURRENCY]:
        overview = analytics.overview(
            period.start, period.end, granularity="daily", currency=currency, breakdown_limit=1
        )
        comparison = overview.period_comparison
        totals[currency] = (overview.total_cost, comparison.previous_period, comparison.change_percent)
    chosen = sorted(totals, key=lambda c: (-totals[c][0], c))[0]
    spend, previous, change = totals[chosen]

    detected = [
        row
        for row in AnomalyService(session, org, now=lambda: now).list(limit=_MAX_ROWS)
        if period.starts_at <= row.detected_at < period.ends_at
    ]
    recommendations = RecommendationService(
        session, org, price_catalog_for(session, org), now=lambda: now
    ).list(status=RecommendationStatus.ACTIVE, sort_by="savings", limit=_MAX_ROWS)

    at_risk: list[str] = []
    exceeded: list[str] = []
    budgets = BudgetService(session, org, now=lambda: now, forecast_model="fast")
    today = now.date()
    savepoint = session.begin_nested()
    try:
        for budget in budgets.list():
            as_of = min(max(today, budget.start_date), budget.end_date - timedelta(days=1))
            status = budgets.evaluate(budget.id, as_of).status
            if status is BudgetStatus.EXCEEDED:
                exceeded.append(budget.name)
            elif status is BudgetStatus.AT_RISK:
                at_risk.append(budget.name)
    finally:
        savepoint.rollback()

    pending = RemediationService(session, org, _no_providers, now=lambda: now).pending_approvals(limit=500)
    own_too = ApprovalService(session, org, now=lambda: now).settings().allow_self_approval
    waiting = [
        p for p in pending if user.role in p.approver_roles and (own_too or p.requested_by != str(user.id))
    ]
    query = urlencode({"start_date": period.start.isoformat(), "end_date": period.end.isoformat()})
    return DigestFigures(
        currency=chosen,
        spend=spend,
        previous_spend=previous,
        change_percent=change,
        other_currencies={c: totals[c][0] for c in sorted(totals) if c != chosen},
        new_anomalies=len(detected),
        anomaly_impact=sum((row.impact_amount or Decimal(0) for row in detected), Decimal(0)),
        open_recommendations=len(recommendations),
        open_savings_monthly=sum(
            (row.estimated_savings_monthly or Decimal(0) for row in recommendations), Decimal(0)
        ),
        budgets_at_risk=sorted(at_risk),
        budgets_exceeded=sorted(exceeded),
        approvals_waiting=len(waiting),
        links={
            "spend": f"{base}/v1/costs/overview?{query}&currency={chosen}",
            "anomalies": f"{base}/v1/costs/anomalies",
            "recommendations": f"{base}/v1/recommendations",
            "budgets": f"{base}/v1/budgets",
            "approvals": f"{base}/v1/approvals",
        },
    )
