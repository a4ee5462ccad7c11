"""Gauges read from the database when Prometheus scrapes the gateway: the state of the platform as a whole.

Contract:

* :class:`OperatorGauges` is a prometheus_client collector; each ``collect()`` runs one read-only query over
  all organisations (an operator's aggregate: counts and sums only, no tenant's rows or ids leave it) and
  yields:

  - ``active_organizations`` (the spec's name): organisations with at least one active user;
  - ``cloudoptima_pending_approvals``: remediations waiting for an approval decision;
  - ``cloudoptima_pending_approval_oldest_age_seconds``: how long the oldest of them has waited (0 when none),
    measured against the caller's ``now``;
  - ``cloudoptima_open_anomalies``: anomalies in state ``active``;
  - ``cloudoptima_open_recommendations`` and ``cloudoptima_open_recommendation_savings_monthly``: live
    recommendations and the sum of their estimated monthly savings (each organisation's own currency,
    summed as numbers: a float only here, for a dashboard; the API's Decimal figures are the truth).

* Labels: none (bounded by construction). A database that does not answer yields no sample and logs a
  warning, so ``/metrics`` itself keeps answering (Prometheus then marks the series stale).
* Only the gateway registers it (one query per scrape, not per request); the worker does not, so the
  platform's gauges are never counted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from cloudoptima.domain.remediation.plans import RemediationState

log = logging.getLogger("cloudoptima.metrics")

_QUERY = text(
    """
    SELECT
      (SELECT count(DISTINCT organization_id) FROM users WHERE is_active) AS active_orgs,
      (SELECT count(*) FROM policy_executions WHERE status = :pending) AS pending,
      (SELECT min(started_at) FROM policy_executions WHERE status = :pending) AS oldest,
      (SELECT count(*) FROM anomalies WHERE status = 'active') AS anomalies,
      (SELECT count(*) FROM recommendations WHERE status IN ('active', 'accepted')) AS recs,
      (SELECT coalesce(sum(estimated_savings_monthly), 0) FROM recommendations
        WHERE status IN ('active', 'accepted')) AS savings
    """
)


class OperatorGauges(Collector):
    """The platform gauges above, read from ``engine()`` at each scrape (called then, so a lazily made engine
    stays lazy); ``now`` is the caller's clock."""

    def __init__(self, engine: Callable[[], Engine], now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now

    def describe(self) -> Iterator[Metric]:
        """Declare the families without touching the database (prometheus_client calls it on register)."""
        return iter(_families())

    def collect(self) -> Iterator[Metric]:
        try:
            with self._engine().connect() as connection:
                row = connection.execute(_QUERY, {"pending": RemediationState.PENDING_APPROVAL.value}).one()
        except SQLAlchemyError as exc:
            log.warning("operator gauges not read: %s", exc)
            return
        active, pending, oldest_age, anomalies, recs, savings = _families()
        active.add_metric([], row.active_orgs)
        pending.add_metric([], row.pending)
        age = (self._now() - row.oldest).total_seconds() if row.oldest is not None else 0.0
        oldest_age.add_metric([], max(age, 0.0))
        anomalies.add_metric([], row.anomalies)
        recs.add_metric([], row.recs)
        savings.add_metric([], float(row.savings))
        yield from (active, pending, oldest_age, anomalies, recs, savings)


def _families() -> tuple[GaugeMetricFamily, ...]:
    return (
        GaugeMetricFamily("active_organizations", "Organisations with at least one active user"),
        GaugeMetricFamily("cloudoptima_pending_approvals", "Remediations waiting for an approval decision"),
        GaugeMetricFamily(
            "cloudoptima_pending_approval_oldest_age_seconds",
            "Seconds the oldest remediation waiting for approval has waited (0 when none)",
        ),
        GaugeMetricFamily("cloudoptima_open_anomalies", "Anomalies in state active"),
        GaugeMetricFamily("cloudoptima_open_recommendations", "Recommendations active or accepted"),
        GaugeMetricFamily(
            "cloudoptima_open_recommendation_savings_monthly",
            "Sum of the estimated monthly savings of open recommendations (organisations' own currencies)",
        ),
    )
