"""``CollectAll`` batches (``collection.accounts``): one account's trouble never costs the others.

Real Temporal dev server, in-process worker, real Postgres. Faults are injected at the cloud edge (a wrapper
over the sandbox provider) or by holding the per-account collection lock from the test's own connection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.services.collection import CollectionService, collection_lock_key
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import CloudAccount
from cloudoptima_workflows.collection.activities import CollectionActivities, _BatchProgress
from cloudoptima_workflows.collection.inputs import (
    AccountOutcome,
    CollectAllInput,
    CollectAllResult,
    CollectBatchInput,
)
from cloudoptima_workflows.collection.workflows import CollectAccountWorkflow, CollectAllWorkflow
from cloudoptima_workflows.connection import DATA_CONVERTER
from tests.workflows.collection_support import (
    INITIAL_DAYS,
    KEY,
    TODAY,
    Tenant,
    account_input,
    counts,
    create_store,
    create_tenant,
    drop_tenant,
    with_collection_worker,
)


class BreakFirstInventory(ProviderRegistry):
    """Sandbox providers whose first inventory read of ``account`` raises an unexpected (non-provider) error;
    records every cost read."""

    def __init__(self, account: str | None = None) -> None:
        super().__init__(CredentialCipher(KEY))
        self.account = account
        self.broken = False
        self.cost_reads: list[str] = []
        self._lock = threading.Lock()

    def for_account(self, row: Any) -> Any:
        return _Faulty(super().for_account(row), self, row.account_identifier)


class _Faulty:
    def __init__(self, inner: Any, registry: BreakFirstInventory, account: str) -> None:
        self._inner, self._registry, self._account = inner, registry, account

    def costs(self, start: Any, end: Any) -> Any:
        with self._registry._lock:
            self._registry.cost_reads.append(self._account)
        return self._inner.costs(start, end)

    def inventory(self) -> Any:
        registry = self._registry
        with registry._lock:
            fail = self._account == registry.account and not registry.broken
            registry.broken = registry.broken or fail
        if fail:
            raise RuntimeError("connection reset by the cloud SDK (injected)")
        return self._inner.inventory()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SandboxEstateStore:
    return create_store(tmp_path_factory.mktemp("collect-batches"))


@pytest.fixture
def tenants(engine: Engine, store: SandboxEstateStore) -> Iterator[tuple[Tenant, Tenant]]:
    denied = store.estate().accounts[1].account_id
    settings = {denied: {"account_id": "999999999999"}}  # credentials the cloud refuses
    faulty = create_tenant(engine, store, extra_settings=settings)
    clean = create_tenant(engine, store, extra_settings=settings)
    yield faulty, clean
    drop_tenant(engine, faulty)
    drop_tenant(engine, clean)


def _params(tenant: Tenant, **extra: Any) -> CollectAllInput:
    values: dict[str, Any] = {
        "kind": "sandbox",
        "organization_id": str(tenant.organization_id),
        "max_concurrency": 1,  # 3 accounts // 1 → one batch holding all three
        "analyse": False,
        "initial_days": INITIAL_DAYS,
        "heartbeat_seconds": 10,
        "today": TODAY.isoformat(),
    }
    return CollectAllInput(**{**values, **extra})


async def test_one_batch_reports_each_account_and_an_unexpected_error_gets_its_own_retried_collection(
    temporal_env: WorkflowEnvironment,
    engine: Engine,
    store: SandboxEstateStore,
    tenants: tuple[Tenant, Tenant],
) -> None:
    faulty, clean = tenants
    ok, denied, broken = (account.account_id for account in store.estate().accounts)
    providers = BreakFirstInventory(broken)

    async def collect(tenant: Tenant, queue: str) -> CollectAllResult:
        result: CollectAllResult = await temporal_env.client.execute_workflow(
            CollectAllWorkflow.run, _params(tenant), id=f"collect-all-{uuid.uuid4()}", task_queue=queue
        )
        return result

    result = await with_collection_worker(
        temporal_env, engine, providers, lambda queue: collect(faulty, queue)
    )
    healthy = BreakFirstInventory()
    reference = await with_collection_worker(
        temporal_env, engine, healthy, lambda queue: collect(clean, queue)
    )

    assert sorted(result.succeeded) == sorted(str(faulty.accounts[a]) for a in (ok, broken))
    assert len(result.failed) == 1 and result.failed[0].startswith(
        f"{faulty.accounts[denied]}: CredentialsError"
    )
    assert "999999999999" in result.failed[0] and not result.skipped and not result.incomplete
    # The broken account was collected again by its own child workflow; the others were not.
    child = temporal_env.client.get_workflow_handle(f"collect-account-{faulty.accounts[broken]}")
    assert (await child.describe()).status == WorkflowExecutionStatus.COMPLETED
    with pytest.raises(RPCError):
        await temporal_env.client.get_workflow_handle(f"collect-account-{faulty.accounts[ok]}").describe()
    # Its costs were read twice (batch, then child) and replaced, not duplicated: the data equals a clean run.
    assert providers.cost_reads.count(broken) == 2 * healthy.cost_reads.count(broken) > 0
    assert providers.cost_reads.count(ok) == healthy.cost_reads.count(ok) > 0
    assert counts(engine, faulty.organization_id) == counts(engine, clean.organization_id)
    assert (result.cost_rows, result.resources, result.principals) == (
        reference.cost_rows,
        reference.resources,
        reference.principals,
    )
    with session_factory(engine)() as session:
        statuses = {
            row.account_identifier: row.status
            for row in session.query(CloudAccount).filter_by(organization_id=faulty.organization_id)
        }
    assert statuses == {ok: "active", denied: "error", broken: "active"}


def _hold_lock(engine: Engine, cloud_account_id: uuid.UUID) -> Any:
    connection = engine.connect()
    key = collection_lock_key(cloud_account_id)
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
    connection.commit()
    return connection


async def test_an_account_being_collected_elsewhere_is_skipped_in_a_batch_and_waited_for_alone(
    temporal_env: WorkflowEnvironment,
    engine: Engine,
    store: SandboxEstateStore,
    tenants: tuple[Tenant, Tenant],
) -> None:
    tenant, _ = tenants
    busy = store.estate().accounts[0].account_id
    single = account_input(tenant, busy)
    holder = _hold_lock(engine, tenant.accounts[busy])

    def release() -> None:
        # A pooled connection keeps session locks when returned to the pool: release them explicitly.
        if not holder.closed:
            holder.execute(text("SELECT pg_advisory_unlock_all()"))
            holder.commit()
            holder.close()

    async def scenario(queue: str) -> tuple[CollectAllResult, str, Any]:
        client = temporal_env.client
        everyone: CollectAllResult = await client.execute_workflow(
            CollectAllWorkflow.run, _params(tenant), id=f"collect-all-{uuid.uuid4()}", task_queue=queue
        )
        handle = await client.start_workflow(
            CollectAccountWorkflow.run, single, id=f"collect-one-{uuid.uuid4()}", task_queue=queue
        )
        refusal = ""
        for _ in range(200):  # the first attempt is refused; the retry policy waits before the next
            pending = (await handle.describe()).raw_description.pending_activities
            if pending and pending[0].HasField("last_failure"):
                refusal = pending[0].last_failure.message
                break
            await asyncio.sleep(0.05)
        release()
        return everyone, refusal, await handle.result()

    try:
        everyone, refusal, collected = await with_collection_worker(
            temporal_env, engine, BreakFirstInventory(), scenario
        )
    finally:
        release()
    assert everyone.skipped == [str(tenant.accounts[busy])]
    assert len(everyone.succeeded) == 1 and len(everyone.failed) == 1  # the third account's credentials
    assert f"another collection of cloud account {tenant.accounts[busy]} is running" in refusal
    assert collected.cost_rows > 0 and collected.last_sync_at is not None


def test_a_retried_batch_skips_the_accounts_it_finished_and_keeps_input_order(
    engine: Engine, store: SandboxEstateStore, tenants: tuple[Tenant, Tenant]
) -> None:
    tenant, _ = tenants
    providers = BreakFirstInventory()
    activities = CollectionActivities(CollectionService(engine, providers.for_account))
    first, denied, third = (account.account_id for account in store.estate().accounts)
    batch = CollectBatchInput(accounts=[account_input(tenant, account) for account in (first, denied, third)])
    # What an earlier attempt heartbeated: the denied account (second in the batch) was finished.
    finished = AccountOutcome(
        cloud_account_id=str(tenant.accounts[denied]),
        status="failed",
        reason="CredentialsError: earlier attempt",
    )
    # As the server hands it back: through the data converter (JSON), not the Python object.
    converter = DATA_CONVERTER.payload_converter
    details = converter.from_payloads(converter.to_payloads([_BatchProgress(done=[finished])]))
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(
        environment.info,
        heartbeat_details=details,
        heartbeat_timeout=None,
    )
    result = environment.run(activities.accounts, batch)

    assert [outcome.cloud_account_id for outcome in result.outcomes] == [
        str(tenant.accounts[account]) for account in (first, denied, third)
    ]
    assert [outcome.status for outcome in result.outcomes] == ["collected", "failed", "collected"]
    assert result.outcomes[1] == finished
    assert denied not in providers.cost_reads and {first, third} <= set(providers.cost_reads)
    assert all(
        o.steps is not None and o.steps.finish is not None for o in (result.outcomes[0], result.outcomes[2])
    )
