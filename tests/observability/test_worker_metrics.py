"""The worker's metrics: the Temporal SDK exporter (``--temporal-metrics-port``) of a real worker that ran a
workflow, and the business metrics on the worker's ``GET /metrics`` (``--health-port``)."""

from __future__ import annotations

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from cloudoptima.observability.metrics import REGISTRY, record_ingest
from cloudoptima_workflows.health import METRICS_PATH, WorkerHealth
from cloudoptima_workflows.telemetry import runtime_with_metrics
from cloudoptima_workflows.worker import main as worker_main
from tests.observability.conftest import series_names


def test_the_sdk_exports_workflow_activity_and_poll_metrics_per_queue(temporal_sdk_metrics: str) -> None:
    names = series_names(temporal_sdk_metrics)
    for name in (
        "temporal_workflow_completed_total",
        "temporal_activity_execution_latency_bucket",
        "temporal_workflow_task_schedule_to_start_latency_bucket",
        "temporal_workflow_task_queue_poll_succeed_total",
        "temporal_worker_task_slots_available",
    ):
        assert name in names, sorted(names)
    assert 'task_queue="sdk-metrics-' in temporal_sdk_metrics


def test_a_taken_port_is_named() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"127.0.0.1:{port}"):
            runtime_with_metrics("127.0.0.1", port)


async def test_worker_metrics_endpoint_serves_the_business_registry(
    temporal_env: WorkflowEnvironment,
) -> None:
    before = REGISTRY.get_sample_value("cloudoptima_ingest_rows_total", {"format": "focus-test"}) or 0.0
    record_ingest("focus-test", seconds=0.5, accepted=7, quarantined=2)
    health = WorkerHealth([], temporal_env.client.service_client.check_health, lambda: 0.0)
    server = await health.serve("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}{METRICS_PATH}")
    finally:
        server.close()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert f'cloudoptima_ingest_rows_total{{format="focus-test"}} {before + 7}' in response.text
    assert 'cloudoptima_ingest_quarantined_rows_total{format="focus-test"}' in response.text
    assert "cost_data_points_collected_total" in response.text


def test_worker_cli_checks_the_temporal_metrics_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        worker_main(["--temporal-metrics-port", "70000"])
    assert "--temporal-metrics-port must be between 1 and 65535, got 70000" in capsys.readouterr().err
