"""Cleanup workflow: deterministic; its only I/O is the activities (expired auth bookkeeping, then the
audit retention prune)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from cloudoptima_workflows.maintenance.inputs import AuditPruneResult, CleanupInput, CleanupResult
    from cloudoptima_workflows.maintenance.interface import MaintenanceActivityInterface


@workflow.defn(name="Cleanup")
class CleanupWorkflow:
    @workflow.run
    async def run(self, params: CleanupInput) -> CleanupResult:
        result: CleanupResult = await workflow.execute_activity_method(
            MaintenanceActivityInterface.purge_expired_tokens,
            params,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_attempts=5, backoff_coefficient=2.0),
        )
        if workflow.patched("audit-retention"):
            audit: AuditPruneResult = await workflow.execute_activity_method(
                MaintenanceActivityInterface.prune_audit_logs,
                params,
                start_to_close_timeout=timedelta(minutes=30),
                retry_policy=RetryPolicy(maximum_attempts=5, backoff_coefficient=2.0),
            )
            result = result.model_copy(update={"audit_logs_pruned": audit.total})
        return result
