"""The Azure SQL part of the live Azure estate: databases on a SQL server in the fake ARM with
``cpu_percent`` and ``connection_successful`` Azure Monitor data.

- waste: an idle General Purpose ``GP_Gen5_2`` database (no connection in 30 days of hourly data, CPU
  ~1.5 %) → ``idle_database`` (no provider action: Azure SQL databases cannot be stopped);
- look-alikes: an idle database tagged ``do-not-optimize``, an idle database with 3 days of metrics (too
  young to judge), a busy one (CPU ~60 %, many connections; protected).

No oversized database is planted: the price catalogue knows no Azure SQL vCore family, so no resize is
proposed for Azure SQL (a known gap). The saving is the connector's own list price
(:func:`pricing.sql_database_monthly`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from cloudoptima_evals.live_databases import database_load
from cloudoptima_evals.live_scoring import HOURS, LiveEstate, Planted

SERVER = "live-sql"


def plant_sql(
    tenant: Any, group: str, location: str, estate: LiveEstate, now: datetime, rng: np.random.Generator
) -> None:
    """Seed the fake ``tenant`` with the SQL databases (module docstring); append the truth to ``estate``."""
    from cloudoptima.clouds.azure import pricing
    from cloudoptima_evals.fakes.azure import sql

    hour0 = now.replace(minute=0, second=0, microsecond=0)

    def database(label: str, kind: str, *, tags: dict[str, str] | None = None,
                 metric_hours: int = HOURS) -> str:  # fmt: skip
        made = sql.add_sql_database(tenant, group, SERVER, label, location, tags=tags,
                                    age_days=metric_hours / 24 + 1)  # fmt: skip
        cpu, connections = database_load(rng, kind, metric_hours)
        start = hour0 - timedelta(hours=metric_hours)
        sql.plant(tenant, made, "cpu_percent", start, list(cpu))
        sql.plant(tenant, made, "connection_successful", start, list(connections))
        return made

    idle = database("live-idle-db", "idle")
    price = pricing.sql_database_monthly("GeneralPurpose", "GP_Gen5_2", 2)
    estate.planted.append(Planted(idle, "live-idle-db", "idle_database", list_price_usd=price))
    tagged = database("live-tagged-idle-db", "idle", tags={"do-not-optimize": "true"})
    estate.planted.append(Planted(tagged, "live-tagged-idle-db", None, protected=True))
    young = database("live-new-idle-db", "idle", metric_hours=3 * 24)
    estate.planted.append(Planted(young, "live-new-idle-db", None, protected=True))
    busy = database("live-busy-db", "busy")
    estate.planted.append(Planted(busy, "live-busy-db", None, protected=True))
