"""Business and worker metrics, recorded where the work happens and exposed by the gateway and the worker.

Contract:

* Every metric lives in :data:`REGISTRY`, one per process: the gateway's ``GET /metrics`` serves it next to its
  HTTP metrics, the worker's ``GET /metrics`` (on ``--health-port``) serves it alone. A metric counts what
  *this* process did: Prometheus sums the series of all gateway and worker instances.
* Names: the spec's two (``cost_data_points_collected_total``, ``active_organizations``; the latter is a
  scrape-time gauge of the gateway, :mod:`cloudoptima.services.operator_gauges`) and ``cloudoptima_*``.
* Labels are bounded sets only: the provider (``aws``, ``azure``, ``gcp``, ``sandbox``, ``billing_file``),
  the billing-file format, a channel kind, an outcome, a cache name. Never an organisation, account, resource
  or user id: those are unbounded (one series per tenant would grow Prometheus with the customer base), and
  the spec's ``active_organizations`` is itself an unlabelled count. Per-account numbers (rows and duration
  of one account's collection) are recorded as histogram *observations* per account run, not as labels.
* Recording is one call per unit of work (an account run, an ingest run, an analysis run, a delivery, a cache
  read), never per row: the helpers below take the run's totals.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY: Final = CollectorRegistry(auto_describe=True)
"""The process-wide registry of the metrics below (not prometheus_client's global one)."""

ROW_BUCKETS: Final = (0, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000)
DURATION_BUCKETS: Final = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

COST_DATA_POINTS: Final = Counter(
    "cost_data_points_collected_total",
    "Cost rows written by collection (provider = the cloud) and billing-file ingestion (billing_file)",
    ["provider"],
    registry=REGISTRY,
)
COLLECTION_DURATION: Final = Histogram(
    "cloudoptima_collection_duration_seconds",
    "Wall time of one account's collection run (every step), by provider",
    ["provider"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
COLLECTION_ROWS: Final = Histogram(
    "cloudoptima_collection_rows",
    "Cost rows written by one account's collection run, by provider",
    ["provider"],
    buckets=ROW_BUCKETS,
    registry=REGISTRY,
)
COLLECTION_FAILURES: Final = Counter(
    "cloudoptima_collection_step_failures_total",
    "Collection steps that failed or were denied a permission in an account run, by provider",
    ["provider"],
    registry=REGISTRY,
)
INGEST_ROWS: Final = Counter(
    "cloudoptima_ingest_rows_total",
    "Billing-file rows accepted by ingestion (rate() of it is the ingest rows/s), by format",
    ["format"],
    registry=REGISTRY,
)
INGEST_QUARANTINED: Final = Counter(
    "cloudoptima_ingest_quarantined_rows_total",
    "Billing-file rows quarantined by validation, by format",
    ["format"],
    registry=REGISTRY,
)
INGEST_DURATION: Final = Histogram(
    "cloudoptima_ingest_duration_seconds",
    "Wall time of one committed ingest run, by format",
    ["format"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
ANOMALIES: Final = Counter(
    "cloudoptima_anomalies_total",
    "Anomaly incidents written by detection runs, by outcome (created, updated, resolved)",
    ["outcome"],
    registry=REGISTRY,
)
RECOMMENDATIONS: Final = Counter(
    "cloudoptima_recommendations_total",
    "Recommendations written by analysis runs, by outcome (created, updated, reactivated, expired, suppressed)",
    ["outcome"],
    registry=REGISTRY,
)
NOTIFICATION_FAILURES: Final = Counter(
    "cloudoptima_notification_failures_total",
    "Failed notification delivery attempts, by channel kind and whether the delivery was given up (dead)",
    ["kind", "final"],
    registry=REGISTRY,
)
NOTIFICATIONS_DELIVERED: Final = Counter(
    "cloudoptima_notifications_delivered_total",
    "Notifications delivered, by channel kind",
    ["kind"],
    registry=REGISTRY,
)
CACHE_REQUESTS: Final = Counter(
    "cloudoptima_cache_requests_total",
    "Read-through cache lookups by cache and result (hit, miss): the hit ratio is hit / all",
    ["cache", "result"],
    registry=REGISTRY,
)


def record_collection(provider: str, *, seconds: float, rows: int, failed_steps: int) -> None:
    """One account's collection run: its duration, the cost rows it wrote and its failed steps."""
    COLLECTION_DURATION.labels(provider).observe(seconds)
    COLLECTION_ROWS.labels(provider).observe(rows)
    COST_DATA_POINTS.labels(provider).inc(rows)
    if failed_steps:
        COLLECTION_FAILURES.labels(provider).inc(failed_steps)


def record_ingest(fmt: str, *, seconds: float, accepted: int, quarantined: int) -> None:
    """One committed ingest run: rows accepted (also cost data points) and quarantined, and its duration."""
    INGEST_ROWS.labels(fmt).inc(accepted)
    INGEST_QUARANTINED.labels(fmt).inc(quarantined)
    INGEST_DURATION.labels(fmt).observe(seconds)
    COST_DATA_POINTS.labels("billing_file").inc(accepted)


def record_outcomes(counter: Counter, outcomes: dict[str, int]) -> None:
    """Add a run's outcome counts (zeros are skipped, so an idle run writes nothing)."""
    for outcome, count in outcomes.items():
        if count:
            counter.labels(outcome).inc(count)
