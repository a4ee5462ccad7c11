"""What the observability tests share: the metric names a real Temporal SDK worker exports (scraped once)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from cloudoptima.embedded.ports import free_port
from cloudoptima_workflows.connection import connect
from cloudoptima_workflows.telemetry import runtime_with_metrics
from tests.observability.tiny import EchoOnce, FailOnce, echo


@pytest_asyncio.fixture(scope="session")
async def temporal_sdk_metrics(temporal_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """The Prometheus text of the SDK exporter of a worker that ran one workflow with one activity and one
    workflow that failed."""
    port = free_port()
    runtime = runtime_with_metrics("127.0.0.1", port)
    target = temporal_env.client.service_client.config.target_host
    client = await connect(target, namespace=temporal_env.client.namespace, runtime=runtime)
    queue = f"sdk-metrics-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[EchoOnce, FailOnce],
        activities=[echo],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        answer = await client.execute_workflow(
            EchoOnce.run, "hi", id=f"echo-{uuid.uuid4()}", task_queue=queue
        )
        assert answer == "hi"
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(
                FailOnce.run, "on purpose", id=f"fail-{uuid.uuid4()}", task_queue=queue
            )
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    response.raise_for_status()
    yield response.text


def series_names(exposition: str) -> set[str]:
    """Every sample name in a Prometheus text exposition (``_bucket``/``_sum``/``_count``/``_total`` included)."""
    return {sample.name for family in text_string_to_metric_families(exposition) for sample in family.samples}
