"""The organisation's cost forecast (seed ``/costs/forecast``) over its daily totals in ``cost_daily``.

Contract: ``forecast_organisation`` reads up to ``history_days`` days before ``today`` (exclusive) of the
organisation's billed cost in one currency (the given one, else the only one present; several present and
none given raises ``CostQueryError``), fills days without rows inside the history with zero, and runs
``forecast_costs``. No history returns ``None`` (nothing to forecast from).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Connection, text

from cloudoptima.analytics.forecasting import forecast_costs
from cloudoptima.domain.analytics import ForecastModelName, ForecastResult
from cloudoptima.domain.costs import CostQueryError

DEFAULT_HISTORY_DAYS = 365


@dataclass(frozen=True)
class OrganisationForecast:
    currency: str
    result: ForecastResult | None


def daily_totals(
    connection: Connection, organization_id: uuid.UUID, currency: str, start: date, end: date
) -> dict[date, Decimal]:
    rows = connection.execute(
        text(
            "SELECT usage_date, sum(billed_cost) FROM cost_daily WHERE organization_id = :org "
            "AND billing_currency = :currency AND usage_date >= :d0 AND usage_date < :d1 GROUP BY 1"
        ),
        {"org": organization_id, "currency": currency, "d0": start, "d1": end},
    ).all()
    return {row[0]: Decimal(row[1]) for row in rows}


def forecast_organisation(
    connection: Connection,
    organization_id: uuid.UUID,
    *,
    today: date,
    days_ahead: int = 30,
    confidence_level: float = 0.95,
    currency: str | None = None,
    history_days: int = DEFAULT_HISTORY_DAYS,
    model: ForecastModelName = "auto",
) -> OrganisationForecast:
    """See module contract."""
    start = today - timedelta(days=history_days)
    found = [
        str(r[0])
        for r in connection.execute(
            text(
                "SELECT DISTINCT billing_currency FROM cost_daily WHERE organization_id = :org "
                "AND usage_date >= :d0 AND usage_date < :d1 ORDER BY 1"
            ),
            {"org": organization_id, "d0": start, "d1": today},
        )
    ]
    if currency is None and len(found) > 1:
        raise CostQueryError(
            f"costs are in several currencies ({', '.join(found)}); pass currency= to choose one"
        )
    chosen = (currency or (found[0] if found else "USD")).upper()
    totals = daily_totals(connection, organization_id, chosen, start, today)
    if not totals:
        return OrganisationForecast(currency=chosen, result=None)
    first = min(totals)
    series = [(first + timedelta(days=n), Decimal(0)) for n in range((today - first).days)]
    filled = [(day, totals.get(day, zero)) for day, zero in series]
    result = forecast_costs(filled, days_ahead=days_ahead, confidence_level=confidence_level, model=model)
    return OrganisationForecast(currency=chosen, result=result)
