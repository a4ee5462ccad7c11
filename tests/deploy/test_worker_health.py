"""The worker's ``GET /healthz`` (what docker-compose.yml and deploy/k8s probe) against a real Temporal dev
server and a real polling ``temporalio`` worker: 503 until Temporal answered, 200 while polling, 503 once the
answer is stale, Temporal is unreachable or the worker stopped. The clock is pinned (no wall-clock waits)."""

from __future__ import annotations

import asyncio
import socket
import uuid

import httpx
import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima_workflows.health import HEALTH_PATH, WorkerHealth
from cloudoptima_workflows.worker import main as worker_main


@activity.defn
async def noop() -> None:
    """Something to register: a worker polls only queues it serves (no workflow sandbox to build)."""


class PinnedClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_healthz_follows_the_worker_and_temporal(temporal_env: WorkflowEnvironment) -> None:
    worker = Worker(temporal_env.client, task_queue=f"health-{uuid.uuid4()}", activities=[noop])
    task = asyncio.create_task(worker.run(), name="queue health")
    clock = PinnedClock()
    health = WorkerHealth(
        [worker], temporal_env.client.service_client.check_health, clock, stale_after=30, tasks=[task]
    )
    server = await health.serve("127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            first = await http.get(HEALTH_PATH)
            assert first.status_code == 503
            assert first.json()["reasons"] == ["temporal not checked yet"]

            assert await health.check_once() is True
            ok = await http.get(HEALTH_PATH)
            assert ok.status_code == 200, ok.text
            assert ok.json() == {"status": "healthy", "queues": [worker.task_queue]}
            assert (await http.head(HEALTH_PATH)).status_code == 200

            clock.now += 31
            stale = await http.get(HEALTH_PATH)
            assert stale.status_code == 503
            assert stale.json()["reasons"] == ["temporal last answered 31s ago (limit 30s)"]

            assert (await http.get("/health")).status_code == 404
            assert (await http.post(HEALTH_PATH)).status_code == 405

            await health.check_once()
            assert (await http.get(HEALTH_PATH)).status_code == 200
            await worker.shutdown()
            await task
            stopped = await http.get(HEALTH_PATH)
            assert stopped.status_code == 503
            assert f"worker on queue {worker.task_queue} is not running" in stopped.json()["reasons"]
            assert "worker task queue health has ended" in stopped.json()["reasons"]
    finally:
        server.close()
        await server.wait_closed()
        if not task.done():
            await worker.shutdown()


async def test_an_unreachable_temporal_is_reported_with_its_error(temporal_env: WorkflowEnvironment) -> None:
    unreachable = await Client.connect(f"127.0.0.1:{_closed_port()}", lazy=True)
    worker = Worker(temporal_env.client, task_queue="never-polled", activities=[noop])
    clock = PinnedClock()
    health = WorkerHealth([worker], unreachable.service_client.check_health, clock, check_every=2)
    assert await health.check_once() is False
    healthy, body = health.report()
    assert not healthy
    assert body["reasons"][0] == "worker on queue never-polled is not running"
    assert body["reasons"][1].startswith("temporal not checked yet: ")
    assert health.last_temporal_error is not None


@pytest.mark.parametrize("port", ["0", "70000"])
def test_the_worker_refuses_a_health_port_out_of_range(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        worker_main(["--queues", "collection", "--health-port", port])
    assert exit_info.value.code == 2
    assert f"--health-port must be between 1 and 65535, got {port}" in capsys.readouterr().err
