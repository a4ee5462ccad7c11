"""ReallocateCosts on a real Temporal dev server and database: every month of history is allocated with the
new version, the version is activated, and a rerun writes the same rows."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine, text
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.services.allocation.dimensions import AllocationDimensions
from cloudoptima.services.allocation.queries import cost_by_allocation
from cloudoptima.storage.engine import session_factory
from cloudoptima_workflows.allocation.activities import AllocationActivities
from cloudoptima_workflows.allocation.inputs import ReallocateInput, ReallocateResult
from cloudoptima_workflows.allocation.workflows import ReallocateCostsWorkflow
from tests.services.allocation_support import Row, allocated, load, new_org
from tests.workflows.history_recording import record_history

NOW = datetime(2031, 5, 1, tzinfo=UTC)


async def test_reallocate_costs_allocates_every_month_activates_and_reruns_identically(
    temporal_env: WorkflowEnvironment, engine: Engine
) -> None:
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        connection = session.connection()
        org = new_org(connection)
        load(
            connection,
            org,
            [
                Row(date(2031, 2, 27), Decimal("1.01"), tags={"Team": "Web"}),
                Row(date(2031, 3, 5), Decimal("2.02"), tags={"team": "web"}),
                Row(date(2031, 4, 9), Decimal("3.03")),
                Row(date(2031, 4, 9), Decimal("0.10"), service="Support"),
            ],
        )
        service = AllocationDimensions(session, org)
        dimension = service.create("team", "owning team", NOW)
        view, _ = service.save_rules(
            dimension.id,
            {
                "rules": [{"value_from_tag": "team"}],
                "shared": [
                    {
                        "name": "support",
                        "match": {"services": ["Support"]},
                        "method": "even",
                        "targets": ["web", "ops"],
                    }
                ],
            },
            None,
            NOW,
        )
    params = ReallocateInput(
        organization_id=str(org), dimension_id=str(dimension.id), version=view.latest_version
    )
    queue = f"allocation-{uuid.uuid4().hex[:8]}"
    try:
        with ThreadPoolExecutor(4) as executor:
            async with Worker(
                temporal_env.client,
                task_queue=queue,
                workflows=[ReallocateCostsWorkflow],
                activities=[
                    *(
                        getattr(AllocationActivities(sessions, lambda: NOW), name)
                        for name in ("months", "allocate_month", "activate")
                    )
                ],
                activity_executor=executor,
            ):
                results: list[ReallocateResult] = []
                for run in range(2):
                    handle = await temporal_env.client.start_workflow(
                        ReallocateCostsWorkflow.run,
                        params,
                        id=f"reallocate-test-{uuid.uuid4()}",
                        task_queue=queue,
                        result_type=ReallocateResult,
                    )
                    results.append(await handle.result())
                    if run == 0:
                        await record_history(handle, "reallocate_costs")
                        with engine.connect() as connection:
                            first = allocated(connection, org, dimension.id, view.latest_version)
        assert results[0] == results[1] == ReallocateResult(months=3, rows=5, active=True)
        with engine.connect() as connection:
            assert allocated(connection, org, dimension.id, view.latest_version) == first
            [usd] = cost_by_allocation(
                connection, org, "team", date(2031, 2, 1), date(2031, 5, 1), reconcile=True
            ).currencies
        assert [(v.value, v.cost) for v in usd.values] == [
            ("web", Decimal("3.08")),
            ("unallocated", Decimal("3.03")),
            ("ops", Decimal("0.05")),
        ]
        assert usd.pending == 0 and usd.total_cost == Decimal("6.16")
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM cost_data WHERE organization_id = :org"), {"org": org})
            connection.execute(text("DELETE FROM organizations WHERE id = :org"), {"org": org})
