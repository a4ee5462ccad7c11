"""``CollectAll`` when a batch (``collection.accounts``) leaves a step pending: the workflow retries it as its
own activity, then records the sync; the data equals a clean collection. The provider fails at the cloud edge
(a strict wrapper over the sandbox provider: the first cost read of each account is throttled)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.protocol import CredentialsError, ThrottledError
from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.security.encryption import CredentialCipher
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import CloudAccount
from cloudoptima_workflows.collection.inputs import CollectAllInput, CollectAllResult
from cloudoptima_workflows.collection.workflows import CollectAllWorkflow
from tests.workflows.collection_support import (
    INITIAL_DAYS,
    KEY,
    TODAY,
    Tenant,
    counts,
    create_store,
    create_tenant,
    drop_tenant,
    with_collection_worker,
)


class ThrottleFirstCostRead(ProviderRegistry):
    """Sandbox providers whose first cost read per account (across instances) raises ThrottledError."""

    def __init__(self) -> None:
        super().__init__(CredentialCipher(KEY))
        self.throttled: set[str] = set()
        self.reads: list[tuple[str, date, date]] = []
        self._lock = threading.Lock()

    def for_account(self, row: Any) -> Any:
        return _Throttled(super().for_account(row), self, row.account_identifier)


class _Throttled:
    def __init__(self, inner: Any, registry: ThrottleFirstCostRead, account: str) -> None:
        self._inner, self._registry, self._account = inner, registry, account

    def costs(self, start: date, end: date) -> Any:
        registry = self._registry
        with registry._lock:
            registry.reads.append((self._account, start, end))
            first = self._account not in registry.throttled
            registry.throttled.add(self._account)
        if first:
            raise ThrottledError("throttled (injected)")
        return self._inner.costs(start, end)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SandboxEstateStore:
    return create_store(tmp_path_factory.mktemp("collect-pending"))


@pytest.fixture
def tenants(engine: Engine, store: SandboxEstateStore) -> Iterator[tuple[Tenant, Tenant]]:
    flaky, clean = create_tenant(engine, store), create_tenant(engine, store)
    yield flaky, clean
    drop_tenant(engine, flaky)
    drop_tenant(engine, clean)


async def _collect_all(
    env: WorkflowEnvironment, engine: Engine, tenant: Tenant, providers: Any, concurrency: int = 3
) -> CollectAllResult:
    async def collect(queue: str) -> CollectAllResult:
        result: CollectAllResult = await env.client.execute_workflow(
            CollectAllWorkflow.run,
            CollectAllInput(
                kind="sandbox",
                organization_id=str(tenant.organization_id),
                max_concurrency=concurrency,
                analyse=False,
                initial_days=INITIAL_DAYS,
                heartbeat_seconds=10,
                today=TODAY.isoformat(),
            ),
            id=f"collect-all-{uuid.uuid4()}",
            task_queue=queue,
        )
        return result

    return await with_collection_worker(env, engine, providers, collect, threads=8)


@pytest.mark.parametrize("concurrency", [3, 1], ids=["batches-of-1", "one-batch-of-3"])
async def test_a_pending_cost_window_is_retried_as_its_own_activity(
    temporal_env: WorkflowEnvironment, engine: Engine, tenants: tuple[Tenant, Tenant], concurrency: int
) -> None:
    flaky, clean = tenants
    throttling = ThrottleFirstCostRead()
    result = await _collect_all(temporal_env, engine, flaky, throttling, concurrency)
    reference = await _collect_all(temporal_env, engine, clean, ProviderRegistry(CredentialCipher(KEY)))

    assert len(result.succeeded) == 3 and not result.failed and not result.incomplete
    assert result.cost_rows == reference.cost_rows == counts(engine, clean.organization_id)["cost_data"]
    assert (result.resources, result.principals) == (reference.resources, reference.principals)
    # Per account: the throttled first window, the other window, then the first window again (its retry).
    for account in flaky.accounts:
        windows = [(start, end) for who, start, end in throttling.reads if who == account]
        assert len(windows) == 3 and windows[0] == windows[2] != windows[1]
    assert counts(engine, flaky.organization_id) == counts(engine, clean.organization_id)
    with session_factory(engine)() as session:
        synced = session.scalars(
            select(CloudAccount.last_sync_at).where(CloudAccount.organization_id == flaky.organization_id)
        ).all()
    assert len(synced) == 3 and all(synced)


def test_the_heartbeat_detail_round_trips_into_what_a_retry_resumes_from() -> None:
    """A retried ``collection.account`` reads its last heartbeat back through the data converter."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from cloudoptima.services.collection import (
        AccountCollection,
        CostStep,
        FinishStep,
        InventoryStep,
        StepFailure,
        plan_windows,
    )
    from cloudoptima_workflows.connection import DATA_CONVERTER

    plan = plan_windows(TODAY, None, initial_days=INITIAL_DAYS, restate_days=3, window_days=7)
    (start, end) = plan.windows[1]
    state = AccountCollection(
        plan=plan,
        costs=[CostStep(start=start, end=end, rows=12, replaced=0, billed_total=Decimal("1.234567"))],
        inventory=InventoryStep(resources=5, complete=False, failures=["compute/eu: down"]),
        failures=[StepFailure(step="costs", reason="throttled", retryable=True, window=plan.windows[0])],
        finish=FinishStep(
            last_sync_at=datetime(2026, 11, 5, 12, tzinfo=UTC), monthly_spend=Decimal("10.00"), events=2
        ),
    )
    converter = DATA_CONVERTER.payload_converter
    (decoded,) = converter.from_payloads(converter.to_payloads([state]))
    steps = AccountCollection.model_validate(decoded)
    assert steps.pending[0].window is not None and steps.pending[0].window.start == plan.windows[0][0]
    assert steps == state, "the whole progress round trips, failures included (written as failed/pending)"
    resumed = steps.resumed()
    assert resumed == AccountCollection(
        plan=plan, costs=state.costs, inventory=state.inventory, finish=state.finish
    ), "a retry resumes from the collected steps; failures (and the forecast) are not carried"


class ThrottleThenDenyCostRead(ProviderRegistry):
    """Sandbox providers whose first cost read per account is throttled and its retry denied ``billing.read``
    (the other windows read normally)."""

    def __init__(self) -> None:
        super().__init__(CredentialCipher(KEY))
        self.windows: dict[str, list[tuple[date, date]]] = {}
        self._lock = threading.Lock()

    def for_account(self, row: Any) -> Any:
        return _ThrottledThenDenied(super().for_account(row), self, row.account_identifier)


class _ThrottledThenDenied:
    def __init__(self, inner: Any, registry: ThrottleThenDenyCostRead, account: str) -> None:
        self._inner, self._registry, self._account = inner, registry, account

    def costs(self, start: date, end: date) -> Any:
        with self._registry._lock:
            seen = self._registry.windows.setdefault(self._account, [])
            first = seen[0] if seen else (start, end)
            attempt = seen.count((start, end))
            seen.append((start, end))
        if (start, end) == first and attempt == 0:
            raise ThrottledError("throttled (injected)")
        if (start, end) == first:
            raise CredentialsError(f"account {self._account} lacks billing.read", permission="billing.read")
        return self._inner.costs(start, end)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_a_retried_step_denied_a_permission_is_a_permission_problem_not_an_error(
    temporal_env: WorkflowEnvironment, engine: Engine, tenants: tuple[Tenant, Tenant]
) -> None:
    flaky, _clean = tenants
    denying = ThrottleThenDenyCostRead()
    result = await _collect_all(temporal_env, engine, flaky, denying, concurrency=3)
    assert len(result.succeeded) == 3 and not result.failed and not result.incomplete
    # Per account: the throttled window, the other one, then the throttled one again (denied as its own step).
    assert all(len(w) == 3 and w[0] == w[2] != w[1] for w in denying.windows.values())
    with session_factory(engine)() as session:
        rows = session.scalars(
            select(CloudAccount).where(CloudAccount.organization_id == flaky.organization_id)
        ).all()
    assert {row.status for row in rows} == {"degraded"}
    assert all(
        [p["message"] for p in row.permission_problems] == ["missing permission billing.read for costs"]
        for row in rows
    )
    assert all(row.last_sync_at is None for row in rows)  # a cost window is missing: the next run re-reads it
