"""The Cloud SQL part of the live GCP estate: instances in the fake Cloud SQL Admin API with
``cloudsql_database`` CPU and connection series in the fake Cloud Monitoring.

- waste: an idle ``db-custom-2-7680`` (no connection in 30 days of hourly data, CPU ~1.5 %) →
  ``idle_database``; an oversized ``db-custom-4-15360`` (clients connected, CPU ~10 %, peak ≤ 18 %) →
  ``rightsize_database`` to ``db-custom-2-7680``;
- look-alikes: an idle instance labelled ``do-not-optimize``, an idle instance with 3 days of metrics (too
  young to judge), a busy one (CPU ~60 %, many connections; protected).

Savings are the connector's own Cloud SQL list prices (:func:`pricing.cloud_sql_monthly`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from cloudoptima_evals.live_databases import database_load
from cloudoptima_evals.live_scoring import HOURS, LiveEstate, Planted

REGION = "us-central1"
_CPU = "cloudsql.googleapis.com/database/cpu/utilization"
_CONNECTIONS = "cloudsql.googleapis.com/database/network/connections"


def plant_cloud_sql(state: Any, estate: LiveEstate, now: datetime, rng: np.random.Generator) -> None:
    """Seed the fake project ``state`` with the Cloud SQL instances (module docstring); append the truth."""
    from cloudoptima.clouds.gcp import pricing

    hour0 = now.replace(minute=0, second=0, microsecond=0)

    def database(label: str, tier: str, kind: str, *, labels: dict[str, str] | None = None,
                 metric_hours: int = HOURS) -> str:  # fmt: skip
        made: str = state.add_sql_instance(
            label, REGION, tier, labels=labels, created=now - timedelta(hours=metric_hours + 24)
        )
        cpu, connections = database_load(rng, kind, metric_hours)
        start = hour0 - timedelta(hours=metric_hours)
        state.add_cloud_sql_series(label, _CPU, start, list(cpu / 100))
        state.add_cloud_sql_series(label, _CONNECTIONS, start, list(connections), integer=True)
        return made

    def monthly(tier: str) -> Decimal:
        return pricing.cloud_sql_monthly(tier, *pricing.cloud_sql_shape(tier), regional=False)

    idle = database("live-idle-db", "db-custom-2-7680", "idle")
    estate.planted.append(
        Planted(idle, "live-idle-db", "idle_database", list_price_usd=monthly("db-custom-2-7680"))
    )
    big = database("live-oversized-db", "db-custom-4-15360", "oversized")
    saving = monthly("db-custom-4-15360") - monthly("db-custom-2-7680")
    estate.planted.append(Planted(big, "live-oversized-db", "rightsize_database", list_price_usd=saving))
    tagged = database("live-tagged-idle-db", "db-custom-2-7680", "idle", labels={"do-not-optimize": "true"})
    estate.planted.append(Planted(tagged, "live-tagged-idle-db", None, protected=True))
    young = database("live-new-idle-db", "db-custom-2-7680", "idle", metric_hours=3 * 24)
    estate.planted.append(Planted(young, "live-new-idle-db", None, protected=True))
    busy = database("live-busy-db", "db-custom-2-7680", "busy")
    estate.planted.append(Planted(busy, "live-busy-db", None, protected=True))
