"""The worker command as the containers run it: ``cloudoptima worker --queues Q --health-port P`` in production
mode turns healthy on /healthz against the real Postgres, Redis and Temporal (in a Temporal namespace of its own,
so it takes no other test's tasks) and exits 0 on SIGTERM. (The gateway's command is the one ``cloudoptima up``
and the browser tests already run; its probe paths are checked against the app's routes in test_compose/test_k8s.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from cloudoptima.embedded.ports import free_port
from cloudoptima_workflows.health import HEALTH_PATH
from tests.deploy.deploy_support import ROOT

CLOUDOPTIMA = str(Path(sys.executable).parent / "cloudoptima")
START_DEADLINE = 240.0
"""How long a process may take to become healthy on a loaded 2-core machine (a wait, not an assertion)."""


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> httpx.Response:
    """Poll ``url`` until it answers 200; fail with the process log if the process exits or never gets there."""
    deadline = time.monotonic() + START_DEADLINE
    last: httpx.Response | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited {process.returncode} before {url} answered:\n{log.read_text()[-3000:]}")
        try:
            last = httpx.get(url, headers={"Host": "localhost"}, timeout=5)
            if last.status_code == 200:
                return last
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} never answered 200 (last {last and last.text}):\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("did not stop within 120 s of SIGTERM")
    return int(process.returncode)


@pytest.fixture
async def namespace(temporal_env: WorkflowEnvironment) -> str:
    name = f"deploy-{uuid.uuid4().hex[:12]}"
    await temporal_env.client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=name,
            workflow_execution_retention_period=Duration(seconds=int(timedelta(days=1).total_seconds())),
        )
    )
    return name


@pytest.fixture
def production_env(
    temporal_env: WorkflowEnvironment, pg_url: str, redis_url: str, namespace: str, tmp_path: Path
) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CLOUDOPTIMA_", "JWT_"))},
        "CLOUDOPTIMA_MODE": "production",
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": namespace,
        "JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        "CLOUDOPTIMA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "CLOUDOPTIMA_STATE_DIR": str(tmp_path / "state"),
        "CLOUDOPTIMA_SCHEDULES": "false",
        "TRUSTED_HOSTS": '["localhost"]',
        "CORS_ORIGINS": '["http://localhost:8000"]',
        "PYTHONPATH": str(ROOT),
    }


def test_the_worker_command_turns_healthy_and_stops_on_sigterm(
    production_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()  # below the ephemeral range: no outgoing connection can take it first
    log = tmp_path / "worker.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [
                CLOUDOPTIMA,
                "worker",
                "--queues",
                "remediation",
                "--health-port",
                str(port),
                "--health-host",
                "127.0.0.1",
            ],
            env=production_env,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        healthy = _wait_for(f"http://127.0.0.1:{port}{HEALTH_PATH}", process, log)
        assert healthy.json() == {"status": "healthy", "queues": ["remediation"]}
    finally:
        code = _stop(process)
    assert code == 0, log.read_text()[-3000:]
