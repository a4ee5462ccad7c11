"""Cleanup workflow: deterministic; its only I/O is the activities (expired auth bookkeeping, then the
audit retention prune), and the daily retention of every table family."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from cloudoptima_workflows.maintenance.inputs import (
        AuditPruneResult,
        CleanupInput,
        CleanupResult,
        RetentionFamilyInput,
        RetentionFamilyResult,
        RetentionInput,
        RetentionResult,
    )
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


RETENTION_FAMILIES = ("cost_rows", "utilisation", "audit", "notifications", "chat_checkpoints")
"""The families in ``cloudoptima.services.retention.FAMILIES`` order (kept here so the workflow imports no
I/O module; ``tests/workflows/test_retention_workflow.py`` checks the two agree)."""


@workflow.defn(name="Retention")
class RetentionWorkflow:
    """The daily retention: one activity per family (each retried on its own, visible in the history), all
    at one instant (``params.at`` or the workflow's clock)."""

    @workflow.run
    async def run(self, params: RetentionInput) -> RetentionResult:
        now = params.at or workflow.now()
        results: list[RetentionFamilyResult] = []
        for family in RETENTION_FAMILIES:
            done: RetentionFamilyResult = await workflow.execute_activity_method(
                MaintenanceActivityInterface.retention_family,
                RetentionFamilyInput(**params.model_dump(), family=family, now=now),
                start_to_close_timeout=timedelta(minutes=30),
                retry_policy=RetryPolicy(maximum_attempts=5, backoff_coefficient=2.0),
            )
            results.append(done)
        return RetentionResult(families=results)
