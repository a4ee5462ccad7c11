"""ScheduledCostExport on a real Temporal dev server and database: the run due now is exported and recorded
(the period before it in the schedule's zone), a second run at the same due time is not repeated, and a
deleted schedule runs nothing."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from cloudoptima.services.cost_export_schedules import ExportSchedules, ExportsConfig
from cloudoptima.services.report_schedules import scheduled_period
from cloudoptima.storage.models import Organization
from cloudoptima.storage.tenancy import scope
from cloudoptima_workflows.exports.activities import ExportActivities
from cloudoptima_workflows.exports.inputs import (
    ExportRunOutcome,
    ScheduledExportInput,
    ScheduledExportRunInput,
)
from cloudoptima_workflows.exports.workflows import ScheduledCostExportWorkflow
from tests.workflows.history_recording import record_history

CREATED = datetime(2031, 5, 1, tzinfo=UTC)


async def test_scheduled_export_runs_and_records_the_period_before_it(
    temporal_env: WorkflowEnvironment, engine: Engine, tmp_path: Path
) -> None:
    org = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            Organization.__table__.insert().values(
                id=org, name="export-wf", subscription_tier="free", settings={}
            )
        )
    config = ExportsConfig(root=tmp_path)
    with Session(engine) as session:
        schedules = ExportSchedules(scope(session, org), org, config)
        view = schedules.create(
            dataset="daily",
            format="parquet",
            partition="month",
            destination={"kind": "folder", "path": "wf"},
            recurrence=ExportSchedules.recurrence(
                {"frequency": "daily", "time": "02:00", "timezone": "Asia/Tokyo"}
            ),
            now=CREATED,
        )
        session.commit()
    queue = f"exports-{uuid.uuid4().hex[:8]}"
    activities = ExportActivities(engine, config)
    try:
        with ThreadPoolExecutor(2) as executor:
            async with Worker(
                temporal_env.client,
                task_queue=queue,
                workflows=[ScheduledCostExportWorkflow],
                activities=activities.all(),
                activity_executor=executor,
            ):
                handle = await temporal_env.client.start_workflow(
                    ScheduledCostExportWorkflow.run,
                    ScheduledExportInput(schedule_id=str(view.id), organization_id=str(org)),
                    id=f"export-test-{uuid.uuid4()}",
                    task_queue=queue,
                    result_type=ExportRunOutcome,
                )
                outcome = await handle.result()
                await record_history(handle, "scheduled_cost_export")
                started = (await handle.describe()).start_time
        assert outcome.status == "succeeded" and outcome.error is None and outcome.run_id is not None
        with Session(engine) as session:
            run = ExportSchedules(scope(session, org), org, config).run(uuid.UUID(outcome.run_id))
        start, end = scheduled_period("daily", "Asia/Tokyo", run.started_at)
        assert (run.period_start, run.period_end) == (start, end) and run.schedule_id == view.id
        assert abs((run.started_at - started).total_seconds()) < 3600  # due time = the workflow's start
        folder = tmp_path / str(org) / "wf" / "daily" / f"{start.isoformat()}_{end.isoformat()}"
        assert json.loads((folder / "manifest.json").read_text())["rows"] == 0
        # Asked again for the same due time (an activity retry), the recorded run is returned, not repeated.
        again = activities.run_scheduled_export(
            ScheduledExportRunInput(schedule_id=str(view.id), organization_id=str(org), now=run.started_at)
        )
        assert again.run_id == outcome.run_id
        gone = activities.run_scheduled_export(
            ScheduledExportRunInput(
                schedule_id=str(uuid.uuid4()), organization_id=str(org), now=run.started_at
            )
        )
        assert gone.run_id is None
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM cost_export_runs WHERE organization_id = :org"), {"org": org}
            )
            connection.execute(
                text("DELETE FROM cost_export_schedules WHERE organization_id = :org"), {"org": org}
            )
            connection.execute(text("DELETE FROM organizations WHERE id = :org"), {"org": org})
