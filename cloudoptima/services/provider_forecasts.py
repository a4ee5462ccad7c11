"""The clouds' own forecasts beside CloudOptima's: for each connected account whose cloud offers one (AWS
Cost Explorer, Azure Cost Management), the cloud's total and ours over the same days.

Contract (``compare(connection, organization_id, scope, today, confidence_level, model)``):
- Cloud forecasts cover whole accounts, so a scope naming services or a budget has none (an empty list);
  otherwise the stored forecasts (``storage.provider_forecasts``, refreshed by every collection) of the
  accounts in the scope — of its provider, and of its account ids when given — are compared.
- The compared days are the cloud's forecast days from ``today`` on (days already past are dropped); a
  forecast with none left is skipped. Ours is ``forecast_organisation`` scoped to that one account, in the
  cloud forecast's currency, summed over the same days (with our interval's bounds summed alike).
- ``difference_percent`` = (ours − cloud) / cloud × 100, ``None`` when the cloud's total is 0 or we have no
  history for the account.
REST (``GET /v1/costs/forecast``, field ``provider_forecasts``) and the live evals call it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection

from cloudoptima.domain.analytics import ForecastModelName
from cloudoptima.services.cost_forecast import forecast_organisation
from cloudoptima.services.cost_scope import ForecastScope
from cloudoptima.storage import provider_forecasts


@dataclass(frozen=True)
class ForecastComparison:
    """One account's cloud forecast and ours over the same days."""

    cloud_account_id: uuid.UUID
    account: str
    account_name: str
    provider: str
    source: str
    currency: str
    start: date
    end: date
    provider_total: Decimal
    ours_total: Decimal | None
    ours_lower: Decimal | None
    ours_upper: Decimal | None
    difference_percent: float | None
    fetched_at: datetime


def compare(
    connection: Connection,
    organization_id: uuid.UUID,
    scope: ForecastScope,
    *,
    today: date,
    confidence_level: float = 0.95,
    model: ForecastModelName = "auto",
) -> list[ForecastComparison]:
    """The comparisons of the accounts in ``scope`` (see module contract)."""
    if scope.services or scope.budget is not None:
        return []
    out = []
    for stored in provider_forecasts.for_accounts(connection, organization_id):
        if scope.provider and stored.provider != scope.provider:
            continue
        if scope.accounts and stored.account_identifier not in scope.accounts:
            continue
        days = [p for p in stored.points if p.day >= today]
        if not days:
            continue
        start, end = days[0].day, days[-1].day
        provider_total = sum((p.mean for p in days), Decimal(0))
        ours = forecast_organisation(
            connection,
            organization_id,
            today=today,
            days_ahead=(end - today).days + 1,
            confidence_level=confidence_level,
            currency=stored.currency,
            model=model,
            scope=ForecastScope(cloud_account_ids=(str(stored.cloud_account_id),)),
        ).result
        ours_total = ours_lower = ours_upper = None
        difference = None
        if ours is not None:
            wanted = {p.day for p in days}
            kept = [p for p in ours.points if p.date in wanted]
            ours_total = sum((p.predicted for p in kept), Decimal(0))
            ours_lower = sum((p.lower for p in kept), Decimal(0))
            ours_upper = sum((p.upper for p in kept), Decimal(0))
            if provider_total != 0:
                difference = round(float((ours_total - provider_total) / provider_total * 100), 2)
        out.append(
            ForecastComparison(
                cloud_account_id=stored.cloud_account_id,
                account=stored.account_identifier,
                account_name=stored.account_name,
                provider=stored.provider,
                source=stored.source,
                currency=stored.currency,
                start=start,
                end=end + timedelta(days=1),
                provider_total=provider_total,
                ours_total=ours_total,
                ours_lower=ours_lower,
                ours_upper=ours_upper,
                difference_percent=difference,
                fetched_at=stored.fetched_at,
            )
        )
    return out
