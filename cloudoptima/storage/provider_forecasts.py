"""Reads and writes of ``provider_forecasts``: each account's latest forecast made by its cloud.

Contract (the caller owns the transaction; nothing here commits; every query names the organisation):

- ``save(connection, organization_id, cloud_account_id, forecast, fetched_at)`` replaces the account's
  stored forecast with ``forecast`` (its period runs from its first point's day to the day after its last);
  ``forecast=None`` (the cloud offers none for the account) deletes it, so a stale forecast is never shown.
- ``for_accounts(connection, organization_id, cloud_account_ids=None)`` returns the stored forecasts of the
  organisation (of those accounts when given), ordered by account, each with its account's provider and
  name.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, bindparam, text


@dataclass(frozen=True)
class ForecastDay:
    """One day of a cloud's forecast: its mean and, when the cloud gives them, the interval's bounds."""

    day: date
    mean: Decimal
    lower: Decimal | None = None
    upper: Decimal | None = None


@dataclass(frozen=True)
class StoredProviderForecast:
    """One account's stored cloud forecast for ``[start, end)``."""

    cloud_account_id: uuid.UUID
    provider: str
    account_identifier: str
    account_name: str
    source: str
    currency: str
    start: date
    end: date
    total: Decimal
    points: tuple[ForecastDay, ...]
    fetched_at: datetime


def save(
    connection: Connection,
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID,
    forecast: tuple[str, str, Decimal, Sequence[ForecastDay]] | None,
    fetched_at: datetime,
) -> None:
    """Replace (or delete, for ``None``) the account's stored forecast, given as ``(source, currency,
    total, days)`` (see module contract)."""
    params = {"org": organization_id, "account": cloud_account_id}
    connection.execute(
        text("DELETE FROM provider_forecasts WHERE organization_id = :org AND cloud_account_id = :account"),
        params,
    )
    if forecast is None or not forecast[3]:
        return
    source, currency, total, forecast_days = forecast
    days = [point.day for point in forecast_days]
    points = [
        {
            "day": point.day.isoformat(),
            "mean": str(point.mean),
            "lower": None if point.lower is None else str(point.lower),
            "upper": None if point.upper is None else str(point.upper),
        }
        for point in forecast_days
    ]
    connection.execute(
        text(
            "INSERT INTO provider_forecasts (cloud_account_id, organization_id, source, currency, period_start, "
            "period_end, total, points, fetched_at) VALUES (:account, :org, :source, :currency, :start, :end, "
            ":total, CAST(:points AS JSONB), :fetched_at)"
        ),
        {
            **params,
            "source": source,
            "currency": currency,
            "start": min(days),
            "end": max(days) + timedelta(days=1),
            "total": total,
            "points": json.dumps(points),
            "fetched_at": fetched_at,
        },
    )


def for_accounts(
    connection: Connection,
    organization_id: uuid.UUID,
    cloud_account_ids: Sequence[uuid.UUID] | None = None,
) -> list[StoredProviderForecast]:
    """The organisation's stored cloud forecasts (of ``cloud_account_ids`` when given)."""
    where = "f.organization_id = :org"
    params: dict[str, object] = {"org": organization_id}
    statement = (
        "SELECT f.cloud_account_id, a.provider, coalesce(a.account_name, a.account_identifier), f.source, f.currency, f.period_start, f.period_end, "
        "f.total, f.points, f.fetched_at, a.account_identifier FROM provider_forecasts f JOIN cloud_accounts a "
        "ON a.id = f.cloud_account_id AND a.organization_id = f.organization_id WHERE "
    )
    query = text(statement + where + " ORDER BY 3, f.cloud_account_id")
    if cloud_account_ids is not None:
        if not cloud_account_ids:
            return []
        query = text(
            statement + where + " AND f.cloud_account_id IN :accounts ORDER BY 3, f.cloud_account_id"
        ).bindparams(bindparam("accounts", expanding=True))
        params["accounts"] = list(cloud_account_ids)
    out = []
    for row in connection.execute(query, params):
        points = tuple(
            ForecastDay(
                day=date.fromisoformat(p["day"]),
                mean=Decimal(p["mean"]),
                lower=None if p["lower"] is None else Decimal(p["lower"]),
                upper=None if p["upper"] is None else Decimal(p["upper"]),
            )
            for p in row[8]
        )
        out.append(
            StoredProviderForecast(
                cloud_account_id=row[0],
                provider=str(row[1]),
                account_identifier=str(row[10]),
                account_name=str(row[2]),
                source=str(row[3]),
                currency=str(row[4]),
                start=row[5],
                end=row[6],
                total=Decimal(row[7]),
                points=points,
                fetched_at=row[9],
            )
        )
    return out
