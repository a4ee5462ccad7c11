"""GenerateReport and ScheduledReport workflows: deterministic.

GenerateReport: one activity generates the report at the workflow's time; if its delivery is email or s3, a
second one delivers it, retried with exponential backoff (30 s, doubling, at most
:data:`DELIVERY_ATTEMPTS` attempts; the last attempt records the failure on the row). If an activity runs out
of attempts without recording its outcome (a crash, a timeout), a third one records the failure, so a report
never stays ``generating`` or ``pending`` for ever.

ScheduledReport: one run of a report schedule (records the report for the period before its due time, then
runs GenerateReport as a child; see the class).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from cloudoptima_workflows.reports.inputs import (
        DeliverReportInput,
        GenerateReportInput,
        RecordReportFailureInput,
        ReportOutcome,
        ReportStepInput,
        ScheduledReportInput,
        ScheduledRunInput,
        ScheduledRunOutcome,
        report_workflow_id,
    )
    from cloudoptima_workflows.reports.interface import ReportActivityInterface
    from cloudoptima_workflows.reports.scheduled_interface import ScheduledReportActivityInterface

DELIVERY_ATTEMPTS = 4


def _reason(exc: ActivityError) -> str:
    cause = exc.cause
    return str(cause) if cause is not None and str(cause) else str(exc)


@workflow.defn(name="GenerateReport")
class GenerateReportWorkflow:
    @workflow.run
    async def run(self, params: GenerateReportInput) -> ReportOutcome:
        step = ReportStepInput(
            report_id=params.report_id, organization_id=params.organization_id, now=workflow.now()
        )
        try:
            outcome: ReportOutcome = await workflow.execute_activity_method(
                ReportActivityInterface.generate,
                step,
                start_to_close_timeout=timedelta(minutes=15),
                retry_policy=RetryPolicy(maximum_attempts=3),
            )
        except ActivityError as exc:
            return await self._record(step, "generate", _reason(exc))
        if outcome.status != "completed" or outcome.delivery_status != "pending":
            return outcome
        try:
            return await workflow.execute_activity_method(
                ReportActivityInterface.deliver,
                DeliverReportInput(
                    report_id=params.report_id,
                    organization_id=params.organization_id,
                    now=workflow.now(),
                    max_attempts=DELIVERY_ATTEMPTS,
                ),
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=30),
                    backoff_coefficient=2.0,
                    maximum_attempts=DELIVERY_ATTEMPTS,
                ),
            )
        except ActivityError as exc:
            return await self._record(step, "deliver", _reason(exc))

    async def _record(self, step: ReportStepInput, stage: str, reason: str) -> ReportOutcome:
        workflow.logger.warning("report %s: %s failed: %s", step.report_id, stage, reason)
        result: ReportOutcome = await workflow.execute_activity_method(
            ReportActivityInterface.record_failure,
            RecordReportFailureInput(
                report_id=step.report_id,
                organization_id=step.organization_id,
                now=workflow.now(),
                stage="generate" if stage == "generate" else "deliver",
                reason=reason,
            ),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_attempts=5),
        )
        return result


SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
"""Set by Temporal on a workflow a schedule started: the time the run was due (or triggered)."""


@workflow.defn(name="ScheduledReport")
class ScheduledReportWorkflow:
    """One run of a report schedule: an activity records the report for the period before the run's due
    time (``TemporalScheduledStartTime``, else the workflow's start), then the ``GenerateReport`` child
    generates and delivers it on the same queue. Returns the child's outcome, or None when the schedule no
    longer exists."""

    @workflow.run
    async def run(self, params: ScheduledReportInput) -> ReportOutcome | None:
        due = workflow.info().typed_search_attributes.get(SCHEDULED_START) or workflow.now()
        recorded: ScheduledRunOutcome = await workflow.execute_activity_method(
            ScheduledReportActivityInterface.request_scheduled_run,
            ScheduledRunInput(
                schedule_id=params.schedule_id, organization_id=params.organization_id, now=due
            ),
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_attempts=5),
        )
        if recorded.report_id is None:
            return None
        outcome: ReportOutcome = await workflow.execute_child_workflow(
            GenerateReportWorkflow.run,
            GenerateReportInput(report_id=recorded.report_id, organization_id=params.organization_id),
            id=report_workflow_id(recorded.report_id),
        )
        return outcome
