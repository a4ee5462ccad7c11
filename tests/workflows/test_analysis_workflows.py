"""The scheduled analysis workflows on a real Temporal dev server: budgets fire once per period and publish,
forecasts are stored per currency, and AnalyseAll runs one analysis per organisation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
import redis
from sqlalchemy import Engine, select
from temporalio.testing import WorkflowEnvironment

from cloudoptima.clouds.sandbox.state import SandboxEstateStore
from cloudoptima.domain.budgets import AlertThreshold, BudgetSpec
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.events import EventPublisher, channel
from cloudoptima.services.inbox import Inbox
from cloudoptima.storage.engine import session_factory
from cloudoptima.storage.models import Budget, CostForecast
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_workflows.analysis.inputs import AnalyseAllInput, FanOutResult
from cloudoptima_workflows.analysis.workflows import (
    AnalyseAllWorkflow,
    EvaluateBudgetsWorkflow,
    RefreshForecastsWorkflow,
)
from cloudoptima_workflows.collection.inputs import CollectAllInput
from cloudoptima_workflows.collection.workflows import CollectAllWorkflow
from cloudoptima_workflows.queues import COLLECTION, ML, PROCESSING
from cloudoptima_workflows.worker import WorkerDeps, build_workers
from tests.workflows.collection_support import (
    TODAY,
    Tenant,
    create_store,
    create_tenant,
    drain_events,
    drop_tenant,
    registry,
)
from tests.workflows.history_recording import record_history
from tests.workflows.test_remediation_harness import add_user


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SandboxEstateStore:
    return create_store(tmp_path_factory.mktemp("analysis-workflows"))


@pytest.fixture
def tenant(engine: Engine, store: SandboxEstateStore) -> Iterator[Tenant]:
    created = create_tenant(engine, store)
    yield created
    drop_tenant(engine, created)


async def test_budgets_forecasts_and_analysis_after_collection(
    temporal_env: WorkflowEnvironment, engine: Engine, redis_url: str, tenant: Tenant
) -> None:
    client = temporal_env.client
    org = str(tenant.organization_id)
    names = {queue: f"{queue}-{uuid.uuid4().hex[:8]}" for queue in (COLLECTION, PROCESSING, ML)}
    with tenant_session(session_factory(engine), tenant.organization_id) as session:
        budget = BudgetService(session, tenant.organization_id).create(
            BudgetSpec(
                name="tiny",
                amount=Decimal("10"),
                start_date=date(2026, 1, 1),
                end_date=date(2027, 1, 1),
                alerts=[AlertThreshold(threshold=Decimal("80"))],
            )
        )
        budget_id = budget.id
        admin = add_user(session, tenant.organization_id, "admin").id
        viewer = add_user(session, tenant.organization_id, "viewer").id
    subscriber = redis.Redis.from_url(redis_url).pubsub()
    subscriber.subscribe(channel(tenant.organization_id))
    publisher = EventPublisher.from_url(redis_url)
    deps = WorkerDeps(
        engine=engine, sessions=session_factory(engine), providers=registry(), publish=publisher
    )
    only = AnalyseAllInput(today=TODAY.isoformat(), organization_id=org)
    with ThreadPoolExecutor(8) as executor:
        workers = build_workers(
            client,
            deps,
            [COLLECTION, PROCESSING, ML],
            executor,
            queue_names=names,
            max_concurrent_activities=8,
        )
        async with workers[0], workers[1], workers[2]:
            await client.execute_workflow(
                CollectAllWorkflow.run,
                CollectAllInput(
                    kind="sandbox",
                    organization_id=org,
                    analyse=False,
                    initial_days=30,
                    today=TODAY.isoformat(),
                ),
                id=f"collect-{uuid.uuid4()}",
                task_queue=names[COLLECTION],
            )
            evaluated = await client.start_workflow(
                EvaluateBudgetsWorkflow.run, only, id=f"budgets-{uuid.uuid4()}", task_queue=names[PROCESSING]
            )
            budgets: FanOutResult = await evaluated.result()
            await record_history(evaluated, "evaluate_budgets")
            again: FanOutResult = await client.execute_workflow(
                EvaluateBudgetsWorkflow.run, only, id=f"budgets-{uuid.uuid4()}", task_queue=names[PROCESSING]
            )
            refreshed = await client.start_workflow(
                RefreshForecastsWorkflow.run, only, id=f"forecasts-{uuid.uuid4()}", task_queue=names[ML]
            )
            forecasts: FanOutResult = await refreshed.result()
            await record_history(refreshed, "refresh_forecasts")
            everything = await client.start_workflow(
                AnalyseAllWorkflow.run, only, id=f"analyse-all-{uuid.uuid4()}", task_queue=names[PROCESSING]
            )
            analysed: FanOutResult = await everything.result()
            await record_history(everything, "analyse_all")
    publisher.close()

    assert budgets == again == forecasts == analysed == FanOutResult(succeeded=[org], failed=[])
    with session_factory(engine)() as session:
        row = session.get(Budget, budget_id)
        stored = session.scalars(
            select(CostForecast).where(CostForecast.organization_id == tenant.organization_id)
        ).all()
    assert row is not None and row.last_evaluation is not None
    assert Decimal(row.last_evaluation["current_spend"]) > Decimal("10")
    assert [f.currency for f in stored] == ["USD"]
    assert stored[0].start_date == TODAY and len(stored[0].points) == 30 and stored[0].total > 0

    types = [event["type"] for event in drain_events(subscriber)]
    subscriber.close()
    # The threshold fires once per period: two evaluations, one alert event.
    assert types.count("budget_alerts") == 1
    # ... and the admin's inbox keeps it (once), announced to the admin alone.
    assert types.count("notifications") == 1
    with tenant_session(session_factory(engine), tenant.organization_id) as session:
        inbox = Inbox(session, tenant.organization_id)
        [notice] = inbox.list(admin).items
        assert inbox.list(viewer).items == []
    assert notice.event_type == "budget.alert" and notice.payload["budget_id"] == str(budget_id)
    assert notice.payload["threshold"] == "80" and notice.link == f"/v1/budgets/{budget_id}"
    assert types.count("forecasts") == 1
