"""Inputs and results of the maintenance workflows (pydantic messages, see
``cloudoptima_workflows.message``)."""

from __future__ import annotations

from datetime import datetime

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


class RetentionInput(Message):
    """The daily retention (``cloudoptima.services.retention``): days kept per family (the schedule writes
    them from the settings; audit uses each organisation's own setting), a dry run that only counts, and
    ``at``, the time to apply it as of (None: the workflow's clock)."""

    cost_rows_days: int = 1095
    utilisation_days: int = 93
    notifications_days: int = 180
    chat_checkpoints_days: int = 90
    dry_run: bool = False
    at: datetime | None = None


class RetentionFamilyInput(RetentionInput):
    """One family's prune at ``now`` (the workflow fixes it once for every family)."""

    family: str
    now: datetime


class RetentionFamilyResult(Message):
    """What one family's prune removed (or would remove): rows (threads for chat checkpoints), the dropped
    partitions and the cutoff."""

    family: str
    cutoff: datetime
    removed: int
    partitions: list[str] = []
    dry_run: bool = False


class RetentionResult(Message):
    """Every family's result, in the service's family order."""

    families: list[RetentionFamilyResult]
