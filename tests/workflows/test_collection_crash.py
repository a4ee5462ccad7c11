"""Crash test: a worker process is killed with SIGKILL in the middle of a CollectAll run; a new worker process
finishes it, and the organisation's data equals that of a clean run (nothing duplicated, nothing lost).

The workers are real ``python -m cloudoptima_workflows.worker --queues collection`` processes pointed at the
test's Postgres, Redis and Temporal dev server through their environment variables.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import CostRow
from cloudoptima_workflows.collection.inputs import CollectAllInput, CollectAllResult
from cloudoptima_workflows.collection.workflows import CollectAllWorkflow
from cloudoptima_workflows.queues import COLLECTION
from tests.workflows.collection_support import (
    INITIAL_DAYS,
    KEY,
    TODAY,
    Tenant,
    counts,
    create_store,
    create_tenant,
    drop_tenant,
)

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = 4


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SandboxEstateStore:
    return create_store(tmp_path_factory.mktemp("collect-crash"), accounts=ACCOUNTS)


@pytest.fixture
def tenants(engine: Engine, store: SandboxEstateStore) -> Iterator[tuple[Tenant, Tenant]]:
    crashed, clean = create_tenant(engine, store), create_tenant(engine, store)
    yield crashed, clean
    drop_tenant(engine, crashed)
    drop_tenant(engine, clean)


def start_worker(
    env: WorkflowEnvironment, pg_url: str, redis_url: str, state: Path, log: Path
) -> subprocess.Popen[bytes]:
    variables = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "CLOUDOPTIMA_ENCRYPTION_KEY": KEY,
        "CLOUDOPTIMA_STATE_DIR": str(state),
        "CLOUDOPTIMA_SCHEDULES": "false",
        "PYTHONPATH": str(ROOT),
    }
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "cloudoptima_workflows.worker", "--queues", COLLECTION],
            cwd=ROOT,
            env=variables,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def _cost_rows(engine: Engine, organization_id: uuid.UUID) -> int:
    with session_factory(engine)() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(CostRow).where(CostRow.organization_id == organization_id)
            )
            or 0
        )


def _blocked_by(engine: Engine, pid: int) -> bool:
    """Whether some database session is waiting for a lock that session ``pid`` holds."""
    with engine.connect() as connection:
        waiting = connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
            {"pid": pid},
        ).scalar_one()
    return int(waiting) > 0


def _params(tenant: Tenant) -> CollectAllInput:
    return CollectAllInput(
        kind="sandbox",
        organization_id=str(tenant.organization_id),
        max_concurrency=1,
        analyse=False,
        initial_days=INITIAL_DAYS,
        heartbeat_seconds=3,
        today=TODAY.isoformat(),
    )


async def test_killed_worker_is_replaced_and_the_result_equals_a_clean_run(
    temporal_env: WorkflowEnvironment,
    engine: Engine,
    pg_url: str,
    redis_url: str,
    tenants: tuple[Tenant, Tenant],
    tmp_path: Path,
) -> None:
    crashed, clean = tenants
    client = temporal_env.client
    log = tmp_path / "workers.log"
    first = start_worker(temporal_env, pg_url, redis_url, tmp_path, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        handle = await client.start_workflow(
            CollectAllWorkflow.run, _params(crashed), id=f"crash-{uuid.uuid4()}", task_queue=COLLECTION
        )
        # The kill must land mid-collection, whatever the machine's speed: the test holds the crashed
        # organisation's account rows (FOR NO KEY UPDATE: foreign-key checks of the rows written still pass),
        # so the first account's collection writes its costs and then waits to record its sync. The worker is
        # killed while it waits; the locks are released before the replacement starts.
        with engine.connect() as locker:
            holding = locker.begin()
            locker.execute(
                text("SELECT id FROM cloud_accounts WHERE organization_id = :org FOR NO KEY UPDATE"),
                {"org": crashed.organization_id},
            )
            locker_pid = locker.execute(text("SELECT pg_backend_pid()")).scalar_one()
            for _ in range(1200):
                if (_blocked_by(engine, locker_pid) and _cost_rows(engine, crashed.organization_id) > 0) or (
                    first.poll() is not None
                ):
                    break
                await asyncio.sleep(0.05)
            assert first.poll() is None, log.read_text()
            assert _blocked_by(engine, locker_pid), "the worker never reached the first account's sync"
            first.send_signal(signal.SIGKILL)
            first.wait()
            description = await handle.describe()
            assert description.status == WorkflowExecutionStatus.RUNNING, "the kill must land mid-collection"
            partial = counts(engine, crashed.organization_id)
            holding.rollback()

        second = start_worker(temporal_env, pg_url, redis_url, tmp_path, log)
        recovered: CollectAllResult = await asyncio.wait_for(handle.result(), timeout=120)
        reference: CollectAllResult = await asyncio.wait_for(
            client.execute_workflow(
                CollectAllWorkflow.run, _params(clean), id=f"clean-{uuid.uuid4()}", task_queue=COLLECTION
            ),
            timeout=120,
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    assert len(recovered.succeeded) == len(reference.succeeded) == ACCOUNTS
    assert not recovered.failed and not recovered.skipped
    after, expected = counts(engine, crashed.organization_id), counts(engine, clean.organization_id)
    assert 0 < partial["cost_data"] < expected["cost_data"]
    assert after == expected
