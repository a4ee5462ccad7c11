"""The forecast step: the cloud's own cost forecast of the account's next ``FORECAST_DAYS`` days, stored in
place of its previous one (none offered: the previous one is removed). Best effort: the caller records a
failure and never retries it."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.services.collection.context import CollectionContext
from cloudoptima.services.collection.results import AccountRef, ForecastStep
from cloudoptima.storage import provider_forecasts

FORECAST_DAYS = 30  # the cloud's own forecast is fetched for the 30 days from the collection's day on


def collect_provider_forecast(
    context: CollectionContext,
    ref: AccountRef,
    provider: CloudProviderClient,
    today: date,
    connection: Connection | None,
) -> ForecastStep:
    """Fetch the cloud's forecast of ``[today, today + FORECAST_DAYS)`` and store it in place of the
    account's previous one (none offered: the previous one is removed)."""
    forecast = provider.forecast(today, today + timedelta(days=FORECAST_DAYS))
    stored = None
    if forecast is not None and forecast.points:
        days = [provider_forecasts.ForecastDay(p.day, p.mean, p.lower, p.upper) for p in forecast.points]
        stored = (forecast.source, forecast.currency, forecast.total, days)
    with context.tenant(ref, connection) as session:
        provider_forecasts.save(
            session.connection(), ref.organization_id, ref.cloud_account_id, stored, context.now()
        )
    if stored is None:
        return ForecastStep(source=None, total=None, currency=None, days=0)
    return ForecastStep(source=stored[0], total=stored[2], currency=stored[1], days=len(stored[3]))
