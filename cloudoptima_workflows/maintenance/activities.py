"""Maintenance activities: database I/O through the kernel's storage layer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from cloudoptima.reports.store import ReportStore
from cloudoptima.services.audit_retention import prune_all
from cloudoptima.services.cost_export_schedules import ExportsConfig
from cloudoptima.services.export_retention import prune_old_exports
from cloudoptima.services.report_retention import prune_expired_artifacts
from cloudoptima.services.retention import FAMILIES, RetentionPolicy
from cloudoptima.services.retention import run as run_retention
from cloudoptima.storage.base import utcnow
from cloudoptima.storage.models import RefreshToken, RevokedToken
from cloudoptima_workflows.maintenance.inputs import (
    AuditPruneResult,
    CleanupInput,
    CleanupResult,
    RetentionFamilyInput,
    RetentionFamilyResult,
)
from cloudoptima_workflows.maintenance.interface import MaintenanceActivityInterface


class MaintenanceActivities(MaintenanceActivityInterface):
    """Activities bound to a session factory (wired in ``worker.main``), a clock, the report store (None:
    no report artifacts are pruned, e.g. a worker without the reports configuration) and the exports
    configuration (None: no export runs are pruned); ``retention_allow_short`` is the platform's
    ``RETENTION_ALLOW_SHORT`` (an organisation's audit retention below 365 days applies only with it)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        now: Callable[[], datetime] = utcnow,
        *,
        report_store: ReportStore | None = None,
        exports: ExportsConfig | None = None,
        retention_allow_short: bool = False,
    ) -> None:
        self._sessions = sessions
        self._now = now
        self._report_store = report_store
        self._exports = exports
        self._retention_allow_short = retention_allow_short

    @activity.defn(name="maintenance.purge_expired_tokens")
    def purge_expired_tokens(self, params: CleanupInput) -> CleanupResult:
        """Delete revoked access-token ids and refresh tokens that expired before the grace window, then
        the files of reports expired at the activities' clock (their rows stay, without ``artifact_key``;
        ``cloudoptima.services.report_retention``), then the export runs older than the exports' retention
        with their folder files, manifest first (``cloudoptima.services.export_retention``). Done inside this activity, so the Cleanup workflow's
        commands (and its golden history) are unchanged."""
        cutoff = utcnow() - timedelta(days=params.grace_days)
        with self._sessions() as session, session.begin():
            revoked = session.execute(delete(RevokedToken).where(RevokedToken.expires_at < cutoff))
            refresh = session.execute(delete(RefreshToken).where(RefreshToken.expires_at < cutoff))
        artifacts = (
            prune_expired_artifacts(self._sessions, self._report_store, now=self._now())
            if self._report_store is not None
            else {}
        )
        exports = (
            prune_old_exports(self._sessions, self._exports, now=self._now())
            if self._exports is not None
            else {}
        )
        return CleanupResult(
            revoked_tokens_deleted=int(revoked.rowcount or 0),  # type: ignore[attr-defined]
            refresh_tokens_deleted=int(refresh.rowcount or 0),  # type: ignore[attr-defined]
            report_artifacts_pruned=sum(artifacts.values()),
            export_runs_pruned=sum(exports.values()),
        )

    @activity.defn(name="maintenance.prune_audit_logs")
    def prune_audit_logs(self, params: CleanupInput) -> AuditPruneResult:
        """Delete each organisation's audit rows older than its ``audit_retention_days``, in batches; each
        organisation that lost rows gets an ``audit_logs.pruned`` row with the count
        (``cloudoptima.services.audit_retention``)."""
        pruned = prune_all(self._sessions, now=self._now(), allow_short=self._retention_allow_short)
        return AuditPruneResult(pruned=pruned, total=sum(pruned.values()))

    @activity.defn(name="maintenance.retention_family")
    def retention_family(self, params: RetentionFamilyInput) -> RetentionFamilyResult:
        """Prune (or, ``dry_run``, count) one retention family at ``params.now``
        (``cloudoptima.services.retention.run``); batches commit as they go, so a retry resumes."""
        family = next((f for f in FAMILIES if f == params.family), None)
        if family is None:
            raise ApplicationError(
                f"family: unknown {params.family!r}; expected one of {', '.join(FAMILIES)}",
                non_retryable=True,
            )
        policy = RetentionPolicy(
            cost_rows_days=params.cost_rows_days,
            utilisation_days=params.utilisation_days,
            notifications_days=params.notifications_days,
            chat_checkpoints_days=params.chat_checkpoints_days,
            allow_short=self._retention_allow_short,
        )
        done = run_retention(self._sessions, family, policy, now=params.now, dry_run=params.dry_run)
        return RetentionFamilyResult(
            family=done.family,
            cutoff=done.cutoff,
            removed=done.removed,
            partitions=list(done.partitions),
            dry_run=done.dry_run,
        )
