"""Collection on a real Temporal dev server with an in-process worker, the real database and Redis.

To regenerate the replay histories under ``tests/workflows/histories/`` (after an intended change to the
collection workflows' code paths), run::

    CLOUDOPTIMA_RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows/test_collection_workflow.py -k end_to_end

and commit the JSON files; ``test_workflow_replay.py`` replays them on every run (``history_recording.py``
says how every other golden history is recorded).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.services.events import EventPublisher, channel
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import CloudAccount, Recommendation
from cloudoptima_workflows.collection.inputs import (
    CollectAccountResult,
    CollectAllInput,
    CollectAllResult,
)
from cloudoptima_workflows.collection.workflows import CollectAccountWorkflow, CollectAllWorkflow
from cloudoptima_workflows.queues import COLLECTION, PROCESSING
from cloudoptima_workflows.worker import WorkerDeps, build_workers
from tests.workflows.collection_support import (
    INITIAL_DAYS,
    TODAY,
    Tenant,
    account_input,
    counts,
    create_store,
    create_tenant,
    drain_events,
    drop_tenant,
    registry,
)
from tests.workflows.history_recording import record_history, recording


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SandboxEstateStore:
    return create_store(tmp_path_factory.mktemp("collect-workflow"))


@pytest.fixture
def tenant(engine: Engine, store: SandboxEstateStore) -> Iterator[Tenant]:
    created = create_tenant(engine, store)
    yield created
    drop_tenant(engine, created)


@asynccontextmanager
async def running_worker(client: Client, engine: Engine, redis_url: str) -> AsyncIterator[dict[str, str]]:
    """Collection + processing workers on fresh queue names (isolated from other tests)."""
    names = {
        COLLECTION: f"collection-{uuid.uuid4().hex[:8]}",
        PROCESSING: f"processing-{uuid.uuid4().hex[:8]}",
    }
    publisher = EventPublisher.from_url(redis_url)
    deps = WorkerDeps(
        engine=engine, sessions=session_factory(engine), providers=registry(), publish=publisher
    )
    with ThreadPoolExecutor(8) as executor:
        workers = build_workers(
            client, deps, [COLLECTION, PROCESSING], executor, queue_names=names, max_concurrent_activities=8
        )
        async with workers[0], workers[1]:
            yield names
    publisher.close()


def _params(tenant: Tenant, queues: dict[str, str], **extra: Any) -> CollectAllInput:
    return CollectAllInput(
        kind="sandbox",
        organization_id=str(tenant.organization_id),
        max_concurrency=2,
        initial_days=INITIAL_DAYS,
        heartbeat_seconds=10,
        today=TODAY.isoformat(),
        analysis_task_queue=queues[PROCESSING],
        **extra,
    )


async def test_end_to_end_collection_is_idempotent_and_publishes(
    temporal_env: WorkflowEnvironment, engine: Engine, redis_url: str, tenant: Tenant
) -> None:
    client = temporal_env.client
    subscriber = redis.Redis.from_url(redis_url).pubsub()
    subscriber.subscribe(channel(tenant.organization_id))
    async with running_worker(client, engine, redis_url) as queues:
        handle = await client.start_workflow(
            CollectAllWorkflow.run,
            _params(tenant, queues),
            id=f"collect-all-{uuid.uuid4()}",
            task_queue=queues[COLLECTION],
        )
        first: CollectAllResult = await handle.result()
        analysis = client.get_workflow_handle(f"analyse-organisation-{tenant.organization_id}")
        analysed = await analysis.result()
        once = counts(engine, tenant.organization_id)

        if recording():
            single = await client.start_workflow(
                CollectAccountWorkflow.run,
                account_input(tenant, next(iter(tenant.accounts))),
                id=f"collect-one-{uuid.uuid4()}",
                task_queue=queues[COLLECTION],
            )
            await single.result()
            once = counts(engine, tenant.organization_id)  # a repeated collection changes nothing
            recordings = (
                ("collect_all", handle),
                ("collect_account", single),
                ("analyse_organisation", analysis),
            )
            for name, recorded in recordings:
                await record_history(recorded, name)

        second: CollectAllResult = await client.execute_workflow(
            CollectAllWorkflow.run,
            _params(tenant, queues, analyse=False),
            id=f"collect-all-{uuid.uuid4()}",
            task_queue=queues[COLLECTION],
        )
    twice = counts(engine, tenant.organization_id)

    assert first.accounts == 3 and len(first.succeeded) == 3 and not first.failed and not first.skipped
    assert first.analyses_started == [str(tenant.organization_id)]
    assert len(second.succeeded) == 3
    assert once["cost_data"] > 0 and once["resources"] > 0 and once["iam_principals"] > 0
    assert once["billed"] == once["daily_billed"] > 0
    assert twice == once

    with session_factory(engine)() as session:
        accounts = session.scalars(
            select(CloudAccount).where(CloudAccount.organization_id == tenant.organization_id)
        ).all()
        recommendations = session.scalars(
            select(Recommendation).where(Recommendation.organization_id == tenant.organization_id)
        ).all()
    assert all(a.last_sync_at is not None and a.status == "active" and a.monthly_spend for a in accounts)
    assert analysed["recommendations"]["found"] == len(recommendations) > 0

    events = drain_events(subscriber)
    subscriber.close()
    by_type: dict[str, int] = {}
    for event in events:
        assert event["organization_id"] == str(tenant.organization_id)
        by_type[event["type"]] = by_type.get(event["type"], 0) + 1
    synced = 6 + recording()  # 3 accounts collected twice (+ the recording's single collection)
    assert by_type["cost_updates"] == synced and by_type["resource_changes"] == synced
    assert by_type.get("recommendations") == 1


async def test_rejected_credentials_mark_the_account_and_fail_without_retry(
    temporal_env: WorkflowEnvironment, engine: Engine, redis_url: str, store: SandboxEstateStore
) -> None:
    denied = store.estate().accounts[1].account_id
    tenant = create_tenant(engine, store, extra_settings={denied: {"account_id": "999999999999"}})
    client = temporal_env.client
    try:
        async with running_worker(client, engine, redis_url) as queues:
            with pytest.raises(WorkflowFailureError) as raised:
                await client.execute_workflow(
                    CollectAccountWorkflow.run,
                    account_input(tenant, denied),
                    id=f"collect-denied-{uuid.uuid4()}",
                    task_queue=queues[COLLECTION],
                )
            cause = raised.value.cause
            assert isinstance(cause, ApplicationError)
            assert (
                cause.type == "CredentialsError" and cause.non_retryable and "999999999999" in cause.message
            )

            everyone: CollectAllResult = await client.execute_workflow(
                CollectAllWorkflow.run,
                _params(tenant, queues, analyse=False),
                id=f"collect-all-{uuid.uuid4()}",
                task_queue=queues[COLLECTION],
            )
        with session_factory(engine)() as session:
            row = session.get(CloudAccount, tenant.accounts[denied])
        assert row is not None and row.status == "error"
        assert row.verification_error is not None and "999999999999" in row.verification_error
        # The errored account is no longer collectable; the two others are collected.
        assert everyone.accounts == 2 and len(everyone.succeeded) == 2
    finally:
        drop_tenant(engine, tenant)


async def test_a_failing_account_is_listed_and_does_not_stop_the_others(
    temporal_env: WorkflowEnvironment, engine: Engine, redis_url: str, store: SandboxEstateStore
) -> None:
    denied = store.estate().accounts[2].account_id
    tenant = create_tenant(engine, store, extra_settings={denied: {"account_id": "999999999999"}})
    client = temporal_env.client
    try:
        async with running_worker(client, engine, redis_url) as queues:
            result: CollectAllResult = await client.execute_workflow(
                CollectAllWorkflow.run,
                _params(tenant, queues, analyse=False),
                id=f"collect-all-{uuid.uuid4()}",
                task_queue=queues[COLLECTION],
            )
            child: CollectAccountResult = await client.execute_workflow(
                CollectAccountWorkflow.run,
                account_input(tenant, next(iter(tenant.accounts))),
                id=f"collect-one-{uuid.uuid4()}",
                task_queue=queues[COLLECTION],
            )
        assert len(result.succeeded) == 2
        assert len(result.failed) == 1 and result.failed[0].startswith(str(tenant.accounts[denied]))
        assert "999999999999" in result.failed[0]
        assert child.failed_steps == [] and child.cost_rows > 0 and child.principals > 0
    finally:
        drop_tenant(engine, tenant)


async def test_a_denied_permission_degrades_the_account_and_the_other_steps_collect(
    temporal_env: WorkflowEnvironment, engine: Engine, redis_url: str, store: SandboxEstateStore
) -> None:
    denied = store.estate().accounts[0].account_id
    tenant = create_tenant(engine, store, extra_settings={denied: {"denied_permissions": ["billing.read"]}})
    client = temporal_env.client
    try:
        async with running_worker(client, engine, redis_url) as queues:
            one: CollectAccountResult = await client.execute_workflow(
                CollectAccountWorkflow.run,
                account_input(tenant, denied),
                id=f"collect-degraded-{uuid.uuid4()}",
                task_queue=queues[COLLECTION],
            )
            everyone: CollectAllResult = await client.execute_workflow(
                CollectAllWorkflow.run,
                _params(tenant, queues, analyse=False),
                id=f"collect-all-{uuid.uuid4()}",
                task_queue=queues[COLLECTION],
            )
        assert one.permission_problems == ["missing permission billing.read for costs"]
        assert one.cost_rows == 0 and one.resources > 0 and one.principals > 0 and one.failed_steps == []
        assert len(everyone.succeeded) == 3 and not everyone.failed  # degraded accounts are still collected
        with session_factory(engine)() as session:
            row = session.get(CloudAccount, tenant.accounts[denied])
            assert row is not None and row.status == "degraded" and row.last_sync_at is None
            assert [p["message"] for p in row.permission_problems] == one.permission_problems
    finally:
        drop_tenant(engine, tenant)
