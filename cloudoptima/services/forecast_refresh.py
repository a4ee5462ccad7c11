"""Daily refresh of an organisation's stored cost forecast (``cost_forecasts``, one row per currency).

Contract: ``refresh_forecasts(session, org, today, ...)`` reads the organisation's daily billed cost of the
``history_days`` before ``today`` (``[today - history_days, today)``; days without rows inside the span are zero
spend) from ``cost_daily``, forecasts ``days_ahead`` days from ``today`` per currency with ``forecast_costs``,
and upserts one row per currency (the latest forecast replaces the previous one). Currencies with fewer than
``min_days`` days of history are skipped. The caller commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cloudoptima.analytics.forecasting import forecast_costs
from cloudoptima.domain.analytics import ForecastModelName
from cloudoptima.storage.models import CostForecast


@dataclass(frozen=True)
class RefreshedForecast:
    currency: str
    model: str
    total: Decimal
    start: date
    end: date


def refresh_forecasts(
    session: Session,
    organization_id: uuid.UUID,
    today: date,
    *,
    history_days: int = 90,
    days_ahead: int = 30,
    min_days: int = 14,
    model: ForecastModelName = "auto",
) -> list[RefreshedForecast]:
    """Forecast and store per currency (see the module contract)."""
    rows = session.execute(
        text(
            "SELECT billing_currency, usage_date, sum(billed_cost) FROM cost_daily "
            "WHERE organization_id = :org AND usage_date >= :d0 AND usage_date < :d1 "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        {"org": organization_id, "d0": today - timedelta(days=history_days), "d1": today},
    ).all()
    by_currency: dict[str, dict[date, Decimal]] = {}
    for currency, day, amount in rows:
        by_currency.setdefault(str(currency), {})[day] = Decimal(amount)
    refreshed: list[RefreshedForecast] = []
    for currency, history in sorted(by_currency.items()):
        first = min(history)
        span = (today - first).days
        if span < min_days:
            continue
        series = [
            (first + timedelta(days=n), history.get(first + timedelta(days=n), Decimal(0)))
            for n in range(span)
        ]
        result = forecast_costs(series, days_ahead=days_ahead, model=model)
        end = today + timedelta(days=days_ahead)
        values = {
            "id": uuid.uuid4(),
            "organization_id": organization_id,
            "currency": currency,
            "model": str(result.model),
            "start_date": today,
            "end_date": end,
            "total": result.total,
            "points": [
                {
                    "date": p.date.isoformat(),
                    "predicted": str(p.predicted),
                    "lower": str(p.lower),
                    "upper": str(p.upper),
                }
                for p in result.points
            ],
            "history_days": span,
            "generated_at": datetime.now(UTC),
        }
        statement = insert(CostForecast).values(values)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["organization_id", "currency"],
                set_={
                    k: statement.excluded[k] for k in values if k not in ("id", "organization_id", "currency")
                },
            )
        )
        refreshed.append(RefreshedForecast(currency, str(result.model), result.total, today, end))
    return refreshed
