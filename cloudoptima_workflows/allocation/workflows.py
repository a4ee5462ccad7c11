"""ReallocateCosts workflow: deterministic; one activity per month of history (each its own transaction, so a
crash resumes at the month it stopped), then one activation that switches readers to the new version
atomically. Rerunning writes the same rows (each month is delete-then-insert) and activates the same version.
"""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from cloudoptima_workflows.allocation.inputs import (
        ActivateResult,
        MonthInput,
        MonthResult,
        ReallocateInput,
        ReallocateResult,
    )
    from cloudoptima_workflows.allocation.interface import AllocationActivityInterface

_RETRY = RetryPolicy(maximum_attempts=5, backoff_coefficient=2.0)


@workflow.defn(name="ReallocateCosts")
class ReallocateCostsWorkflow:
    @workflow.run
    async def run(self, params: ReallocateInput) -> ReallocateResult:
        months: list[date] = await workflow.execute_activity_method(
            AllocationActivityInterface.months,
            params,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=_RETRY,
        )
        rows = 0
        for month in months:
            result: MonthResult = await workflow.execute_activity_method(
                AllocationActivityInterface.allocate_month,
                MonthInput(
                    organization_id=params.organization_id,
                    dimension_id=params.dimension_id,
                    version=params.version,
                    month=month,
                ),
                start_to_close_timeout=timedelta(minutes=30),
                retry_policy=_RETRY,
            )
            rows += result.rows
        activated: ActivateResult = await workflow.execute_activity_method(
            AllocationActivityInterface.activate,
            params,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=_RETRY,
        )
        return ReallocateResult(months=len(months), rows=rows, active=activated.active)
