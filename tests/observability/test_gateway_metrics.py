"""The gateway's ``GET /metrics`` serves its HTTP metrics, the scrape-time gauges read from the real database
and the business metrics this process recorded, in one Prometheus exposition; its JSON access line names the
request and, once authenticated, the organisation."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from cloudoptima.observability.log_context import json_handler
from cloudoptima.observability.metrics import record_ingest
from cloudoptima.settings import Settings
from cloudoptima_gateway.app import create_app
from tests.gateway.conftest import make_org
from tests.observability.conftest import series_names


def test_gateway_metrics_serve_http_gauges_and_business_metrics(
    tmp_path: Path, pg_url: str, redis_url: str, temporal_env: WorkflowEnvironment
) -> None:
    address = temporal_env.client.service_client.config.target_host
    settings = Settings(
        state_dir=tmp_path, database_url=pg_url, redis_url=redis_url, temporal_address=address
    )
    record_ingest("gateway-test", seconds=1.0, accepted=3, quarantined=0)
    with TestClient(create_app(settings)) as client:
        client.get("/health")
        response = client.get("/metrics")
    assert response.status_code == 200
    names = series_names(response.text)
    for name in (
        "cloudoptima_http_requests_total",
        "active_organizations",
        "cloudoptima_pending_approvals",
        "cloudoptima_pending_approval_oldest_age_seconds",
        "cloudoptima_open_recommendation_savings_monthly",
        "cloudoptima_ingest_rows_total",
    ):
        assert name in names, name
    assert 'cloudoptima_ingest_rows_total{format="gateway-test"} 3.0' in response.text


def test_gateway_access_line_names_the_request_and_the_authenticated_organisation(
    tmp_path: Path, pg_url: str, redis_url: str, engine: Engine, temporal_env: WorkflowEnvironment
) -> None:
    address = temporal_env.client.service_client.config.target_host
    settings = Settings(
        state_dir=tmp_path, database_url=pg_url, redis_url=redis_url, temporal_address=address
    )
    org = make_org(engine, settings, name="access-log")
    stream = io.StringIO()
    with TestClient(create_app(settings)) as client:
        access = logging.getLogger("cloudoptima.gateway.access")
        handler = json_handler(stream)
        access.addHandler(handler)
        try:
            assert client.get(
                "/v1/organization", headers={**org.headers("viewer"), "X-Request-ID": "r-42"}
            ).is_success
            client.get("/health", headers={"X-Request-ID": "r-43"})
        finally:
            access.removeHandler(handler)
    records = {r["request_id"]: r for r in map(json.loads, stream.getvalue().splitlines())}
    assert records["r-42"]["organization_id"] == str(org.id) and records["r-42"]["status"] == 200
    assert records["r-43"]["organization_id"] == "-"  # no caller authenticated
