"""ScheduledCostExport: deterministic. One run of an export schedule: one activity runs and records the export
for the last full period before the run's due time (``TemporalScheduledStartTime``, else the workflow's start).

RunCostExport: deterministic. One run queued through ``POST /v1/exports/run``: one activity runs and records it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from cloudoptima_workflows.exports.inputs import (
        ExportRunOutcome,
        QueuedExportInput,
        ScheduledExportInput,
        ScheduledExportRunInput,
    )
    from cloudoptima_workflows.exports.interface import ExportActivityInterface

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


@workflow.defn(name="ScheduledCostExport")
class ScheduledCostExportWorkflow:
    """Runs the export due now; returns the recorded run's outcome (``run_id`` None: schedule deleted)."""

    @workflow.run
    async def run(self, params: ScheduledExportInput) -> ExportRunOutcome:
        due = workflow.info().typed_search_attributes.get(SCHEDULED_START) or workflow.now()
        outcome: ExportRunOutcome = await workflow.execute_activity_method(
            ExportActivityInterface.run_scheduled_export,
            ScheduledExportRunInput(
                schedule_id=params.schedule_id, organization_id=params.organization_id, now=due
            ),
            start_to_close_timeout=timedelta(hours=1),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        return outcome


@workflow.defn(name="RunCostExport")
class RunCostExportWorkflow:
    """Runs a queued export run; returns its recorded outcome (``run_id`` None: the run no longer exists)."""

    @workflow.run
    async def run(self, params: QueuedExportInput) -> ExportRunOutcome:
        outcome: ExportRunOutcome = await workflow.execute_activity_method(
            ExportActivityInterface.run_queued_export,
            params,
            start_to_close_timeout=timedelta(hours=1),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        return outcome
