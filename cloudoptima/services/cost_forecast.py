"""Cost forecasts (seed ``/costs/forecast``) over daily totals in ``cost_daily``: the organisation's, or
those of a scope — a provider, accounts, services, a budget's scope (``services.cost_scope.ForecastScope``).

Contract: ``forecast_organisation`` reads up to ``history_days`` days before ``today`` (exclusive) of the
billed cost in ``scope`` (default: the whole organisation) in one currency (the given one, else the only
one present in the scope; several present and none given raises ``CostQueryError``), fills days without
rows inside the history with zero, and runs ``forecast_costs``. No history returns ``None`` (nothing to
forecast from). REST, the MCP ``cost_forecast`` tool and chat all call it.
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
from cloudoptima.services.cost_scope import ForecastScope, forecast_scope_sql

DEFAULT_HISTORY_DAYS = 365


@dataclass(frozen=True)
class OrganisationForecast:
    currency: str
    result: ForecastResult | None


def daily_totals(
    connection: Connection,
    organization_id: uuid.UUID,
    currency: str,
    start: date,
    end: date,
    scope: ForecastScope | None = None,
) -> dict[date, Decimal]:
    """Billed cost per day of ``[start, end)`` in ``scope`` (days without rows are absent)."""
    where, params = forecast_scope_sql(scope or ForecastScope())
    rows = connection.execute(
        text(
            "SELECT usage_date, sum(billed_cost) FROM cost_daily WHERE organization_id = :org "
            f"AND billing_currency = :currency AND usage_date >= :d0 AND usage_date < :d1 AND {where} GROUP BY 1"
        ),
        {"org": organization_id, "currency": currency, "d0": start, "d1": end, **params},
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
    scope: ForecastScope | None = None,
) -> OrganisationForecast:
    """See module contract."""
    start = today - timedelta(days=history_days)
    where, params = forecast_scope_sql(scope or ForecastScope())
    found = [
        str(r[0])
        for r in connection.execute(
            text(
                "SELECT DISTINCT billing_currency FROM cost_daily WHERE organization_id = :org "
                f"AND usage_date >= :d0 AND usage_date < :d1 AND {where} ORDER BY 1"
            ),
            {"org": organization_id, "d0": start, "d1": today, **params},
        )
    ]
    if currency is None and len(found) > 1:
        raise CostQueryError(
            f"costs are in several currencies ({', '.join(found)}); pass currency= to choose one"
        )
    chosen = (currency or (found[0] if found else "USD")).upper()
    totals = daily_totals(connection, organization_id, chosen, start, today, scope)
    if not totals:
        return OrganisationForecast(currency=chosen, result=None)
    first = min(totals)
    series = [(first + timedelta(days=n), Decimal(0)) for n in range((today - first).days)]
    filled = [(day, totals.get(day, zero)) for day, zero in series]
    result = forecast_costs(filled, days_ahead=days_ahead, confidence_level=confidence_level, model=model)
    return OrganisationForecast(currency=chosen, result=result)
