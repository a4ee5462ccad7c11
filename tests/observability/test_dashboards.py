"""The Grafana dashboards in ``deploy/grafana/dashboards`` query only metrics the code really exports: the
gateway's registry (HTTP metrics and the scrape-time gauges), the business metrics of
:mod:`cloudoptima.observability.metrics`, and the names a real Temporal SDK worker exported (scraped)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from cloudoptima.observability.metrics import REGISTRY
from cloudoptima.services.operator_gauges import OperatorGauges
from cloudoptima_gateway.observability import Metrics
from tests.observability.conftest import series_names

DASHBOARDS = Path(__file__).parents[2] / "deploy" / "grafana" / "dashboards"
OURS = re.compile(
    r"\b(?:cloudoptima_[a-z_]+|temporal_[a-z_]+|cost_data_points_collected_total|active_organizations)\b"
)
"""Metric names we export (the Temporal *server*'s own metrics, e.g. ``service_requests``, are not ours)."""
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def _registry_names(registry: CollectorRegistry) -> set[str]:
    return {f.name + suffix for f in registry.collect() for suffix in SUFFIXES.get(f.type, ("",))}


def exported(engine: Engine, temporal_sdk_metrics: str) -> set[str]:
    gateway = Metrics().registry
    gateway.register(OperatorGauges(lambda: engine, lambda: datetime.now(UTC)))
    return _registry_names(gateway) | _registry_names(REGISTRY) | series_names(temporal_sdk_metrics)


def test_every_dashboard_query_names_exported_metrics(engine: Engine, temporal_sdk_metrics: str) -> None:
    names = exported(engine, temporal_sdk_metrics)
    assert {"active_organizations", "cost_data_points_collected_total"} <= names  # the spec's names
    paths = sorted(DASHBOARDS.glob("*.json"))
    assert {"operator.json", "finops.json"} <= {p.name for p in paths}
    for path in paths:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"]), path.name
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                expr = target["expr"]
                assert expr.count("(") == expr.count(")"), f"{path.name}: {panel['title']}: {expr}"
                unknown = sorted(set(OURS.findall(expr)) - names)
                assert unknown == [], f"{path.name}: {panel['title']} queries unexported {unknown}"


def test_the_operator_and_finops_dashboards_cover_their_subjects() -> None:
    def queried(name: str) -> str:
        dashboard = json.loads((DASHBOARDS / name).read_text(encoding="utf-8"))
        return " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])

    operator = queried("operator.json")
    for metric in (
        "cloudoptima_http_request_duration_seconds_bucket",
        "temporal_activity_execution_latency_bucket",
        "temporal_workflow_task_schedule_to_start_latency_bucket",
        "cloudoptima_pending_approval_oldest_age_seconds",
        "cloudoptima_ingest_rows_total",
        "cloudoptima_ingest_quarantined_rows_total",
        "cloudoptima_notification_failures_total",
        "cloudoptima_cache_requests_total",
    ):
        assert metric in operator, metric
    finops = queried("finops.json")
    for metric in (
        "cost_data_points_collected_total",
        "active_organizations",
        "cloudoptima_anomalies_total",
        "cloudoptima_recommendations_total",
        "cloudoptima_open_recommendation_savings_monthly",
    ):
        assert metric in finops, metric
