"""Inputs and results of the maintenance workflows (pydantic messages, see
``cloudoptima_workflows.message``)."""

from __future__ import annotations

from cloudoptima_workflows.message import Message


class CleanupInput(Message):
    """Purge bookkeeping that expired more than ``grace_days`` ago."""

    grace_days: int = 1


class CleanupResult(Message):
    revoked_tokens_deleted: int
    refresh_tokens_deleted: int
    audit_logs_pruned: int = 0
    """Audit rows deleted under the organisations' ``audit_retention_days`` (all organisations)."""
    report_artifacts_pruned: int = 0
    """Expired report files deleted from the report store (``cloudoptima.services.report_retention``)."""
    export_runs_pruned: int = 0
    """Cost export runs older than the retention deleted, with their folder files
    (``cloudoptima.services.export_retention``)."""


class AuditPruneResult(Message):
    """Audit rows deleted per organisation (only those that lost rows) and in total."""

    pruned: dict[str, int]
    total: int
