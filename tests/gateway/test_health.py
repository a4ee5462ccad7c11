"""The gateway shell: health checks hit real dependencies; metrics, request ids and security headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from temporalio.testing import WorkflowEnvironment

from cloudoptima.embedded.ports import free_port
from cloudoptima.settings import Settings
from cloudoptima_gateway.app import create_app


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, redis_url: str, temporal_env: WorkflowEnvironment) -> Settings:
    address = temporal_env.client.service_client.config.target_host
    return Settings(state_dir=tmp_path, database_url=pg_url, redis_url=redis_url, temporal_address=address)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_detailed_health_checks_every_dependency(client: TestClient) -> None:
    response = client.get("/health/detailed")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "healthy"
    assert set(body["checks"]) == {"database", "redis", "temporal"}
    assert body["checks"]["database"]["version"].startswith("18")
    assert all(check["status"] == "healthy" for check in body["checks"].values())


def test_unreachable_redis_is_reported(settings: Settings) -> None:
    broken = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    with TestClient(create_app(broken)) as client:
        response = client.get("/health/detailed")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["status"] == "unhealthy"
    assert "error" in checks["redis"]
    assert checks["database"]["status"] == "healthy"


def test_metrics_request_id_and_security_headers(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "abc123"})
    assert response.json() == {"status": "healthy"}
    assert response.headers["X-Request-ID"] == "abc123"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    generated = client.get("/health").headers["X-Request-ID"]
    assert len(generated) == 32
    metrics = client.get("/metrics").text
    assert 'cloudoptima_http_requests_total{method="GET",route="/health",status="200"}' in metrics


def test_untrusted_host_is_rejected(client: TestClient) -> None:
    assert client.get("/health", headers={"host": "evil.example"}).status_code == 400
